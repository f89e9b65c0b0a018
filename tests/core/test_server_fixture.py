import pytest

from s3cred_tui.core.errors import CredentialsInvalid, translate


def test_enforcement_accepts_admin_and_refuses_unknown_keys(server_account):
    server_account.enforce()
    s3 = server_account.client("s3")
    s3.create_bucket(Bucket="fixture-check")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fixture-check"]
    with pytest.raises(Exception) as caught:
        server_account.server.client("s3").list_buckets()
    assert isinstance(translate(caught.value), CredentialsInvalid)


def test_reset_forgets_everything(server_account):
    server_account.client("s3").create_bucket(Bucket="gone-after-reset")
    server_account.server.reset()
    assert server_account.server.client("s3").list_buckets()["Buckets"] == []
