"""`AwsContext.read_client_data`: the files a first client needs are read ahead, with no client
made and no credentials resolved; the clients made afterwards read no file."""

from __future__ import annotations

import botocore.loaders
import pytest

from s3cred_tui.core.session import AwsContext, SessionConfig

CONFIG = SessionConfig(region="eu-west-1", endpoint_url="http://127.0.0.1:9", access_key_id="AKIAEXAMPLE", secret_access_key="x")


def test_client_data_is_read_ahead_without_credentials_and_the_clients_then_read_no_file(monkeypatch):
    aws = AwsContext(CONFIG)

    def no_credentials_yet(*args, **kwargs):
        raise AssertionError("credentials resolved while reading client data")

    monkeypatch.setattr(aws._session, "get_credentials", no_credentials_yet)
    aws.read_client_data(("sts", "iam", "s3"))
    monkeypatch.undo()

    def no_more_files(self, file_path):
        raise AssertionError(f"read {file_path} after reading ahead")

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", no_more_files)
    assert aws.s3.meta.service_model.service_name == "s3"
    assert aws.iam.meta.service_model.service_name == "iam"
    assert aws.sts.meta.service_model.service_name == "sts"


def test_a_service_botocore_does_not_know_is_left_for_the_client_to_report():
    aws = AwsContext(CONFIG)
    aws.read_client_data(("no-such-service",))  # nothing raised here
    with pytest.raises(Exception, match="no-such-service"):
        aws.client("no-such-service")
