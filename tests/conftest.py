"""Shared fixtures: a clean AWS environment and the threaded moto server.

moto keeps one emulated AWS per process, shared by decorator mode and the threaded
server, so every fixture here leaves it reset and with IAM enforcement off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from moto import mock_aws

from s3cred_tui.core import policies
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.demo.seed import register_aws_managed_policies
from s3cred_tui.demo.server import AdminKey, MotoServer


@pytest.fixture(autouse=True)
def clean_aws_env(monkeypatch, tmp_path):
    """No test may see the developer's real AWS configuration."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ENDPOINT_URL_IAM",
        "AWS_ENDPOINT_URL_STS",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Apply journals (core/journal.py) go to the test's own directory, never the user's.
    monkeypatch.setenv("S3CRED_TUI_STATE_DIR", str(tmp_path / "state"))


@pytest.fixture(autouse=True)
def terminal_without_clipboard_doubt(monkeypatch):
    """Copying behaves the same inside or outside the developer's tmux or macOS Terminal
    (`ui.clipboard.clipboard_support`); tests of those terminals set the variables themselves."""
    for name in ("TMUX", "TMUX_PANE", "TERM_PROGRAM"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def ctx_with_managed_policies(monkeypatch):
    """moto can load all ~1,300 AWS-managed policies, at seconds per test; one stand-in is enough."""
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket="data-lake")
        stand_in = context.iam.create_policy(
            PolicyName="AmazonS3FullAccess",
            PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
            ),
        )["Policy"]["Arn"]
        monkeypatch.setattr(policies, "ROLE_MANAGED_POLICY_ARN", stand_in)
        yield context


@pytest.fixture(scope="session")
def moto_server():
    with MotoServer() as server:
        yield server


@dataclass
class ServerAccount:
    """The threaded server, reset, with an administrator whose key survives enforcement."""

    server: MotoServer
    admin: AdminKey

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    def config(self, region: str = "us-east-1") -> SessionConfig:
        return SessionConfig(
            region=region,
            endpoint_url=self.endpoint_url,
            access_key_id=self.admin.access_key_id,
            secret_access_key=self.admin.secret_access_key,
        )

    def context(self, region: str = "us-east-1") -> AwsContext:
        return AwsContext(self.config(region))

    def client(self, service: str, region: str = "us-east-1"):
        return self.server.client(service, self.admin, region)

    def key_with_policy(self, policy: dict, user: str = "probe-user") -> Credentials:
        """A new IAM user holding only `policy` inline, and its access key."""
        iam = self.client("iam")
        iam.create_user(UserName=user)
        iam.put_user_policy(UserName=user, PolicyName="scope", PolicyDocument=json.dumps(policy))
        created = iam.create_access_key(UserName=user)["AccessKey"]
        return Credentials(created["AccessKeyId"], created["SecretAccessKey"], user_name=user)

    def enforce(self, on: bool = True) -> None:
        self.server.enforce_auth(on)

    def env(self) -> dict[str, str]:
        """Environment for a subprocess acting as the administrator against this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.admin.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.admin.secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }


@pytest.fixture
def server_account(moto_server):
    """A fresh emulated account on the threaded server (enforcement off until `enforce()`)."""
    moto_server.reset()
    # As in AWS, the managed policies s3cred-tui attaches (AmazonS3FullAccess...) exist.
    register_aws_managed_policies()
    account = ServerAccount(moto_server, moto_server.create_admin())
    yield account
    moto_server.reset()
