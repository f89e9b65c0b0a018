"""The real command line, `python -m s3cred_tui ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import pytest

from s3cred_tui.core.errors import AccessDenied, translate

pytestmark = pytest.mark.e2e

BUCKET = "e2e-data"


def s3cred(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "s3cred_tui", *argv],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def account(server_account):
    s3 = server_account.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in ("reports/2024/a.csv", "reports/2025/b.csv", "private/c.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
    return server_account


def test_demo_whoami():
    result = s3cred("--demo", "whoami")
    assert result.returncode == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["name"] == "demo-admin"
    assert identity["account"] == "123456789012"
    assert "demo account" in result.stderr


def test_demo_create_prints_credentials_only_on_stdout():
    result = s3cred("--demo", "create", "acme-data-lake", "--read-only", "--prefix", "reports", "--format", "json")
    assert result.returncode == 0, result.stderr
    creds = json.loads(result.stdout)
    assert set(creds) == {"AccessKeyId", "SecretAccessKey"}
    assert creds["SecretAccessKey"] not in result.stderr
    assert "Create IAM user s3.read-only.acme-data-lake" in result.stderr
    assert "Traceback" not in result.stderr


def test_listing_through_aws_endpoint_url_streams_valid_json(account):
    result = s3cred("list-bucket", BUCKET, "--page-size", "1", env=account.env())
    assert result.returncode == 0, result.stderr
    assert [o["Key"] for o in json.loads(result.stdout)] == ["private/c.txt", "reports/2024/a.csv", "reports/2025/b.csv"]

    keys_only = {name: value for name, value in account.env().items() if name != "AWS_ENDPOINT_URL"}
    result = s3cred("list-buckets", "--nl", "--endpoint-url", account.endpoint_url, env=keys_only)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["Name"] for line in result.stdout.splitlines()] == [BUCKET]


def test_create_then_use_the_key_with_enforcement_on(account):
    result = s3cred("create", BUCKET, "--read-only", "--prefix", "reports/2024", env=account.env())
    assert result.returncode == 0, result.stderr
    creds = json.loads(result.stdout)
    account.enforce()
    s3 = boto3.client(
        "s3",
        endpoint_url=account.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
    )
    assert s3.get_object(Bucket=BUCKET, Key="reports/2024/a.csv")["Body"].read() == b"reports/2024/a.csv"
    for key in ("reports/2025/b.csv", "private/c.txt"):
        with pytest.raises(Exception) as refused:
            s3.get_object(Bucket=BUCKET, Key=key)
        assert isinstance(translate(refused.value), AccessDenied)


def test_access_denied_exits_1_with_one_line(account):
    iam = account.client("iam")
    iam.create_user(UserName="nobody-much")
    key = iam.create_access_key(UserName="nobody-much")["AccessKey"]
    account.enforce()
    env = {**account.env(), "AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    result = s3cred("list-users", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: Access denied (iam:ListUsers)")
    assert result.stderr.count("\n") == 1
    assert key["SecretAccessKey"] not in result.stderr


@pytest.mark.parametrize(
    "argv",
    [["list-bucket"], ["create", BUCKET, "--duration", "2 weeks"], ["policy", "UPPER"], ["no-such-command"]],
)
def test_bad_arguments_exit_2_with_one_line(argv):
    result = s3cred(*argv)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["policy", "e2e-data", "--read-only"], ["simulate", "s3:GetObject", "arn:aws:s3:::e2e-data/a", "--bucket", "e2e-data"]],
)
def test_commands_that_need_no_account_do_not_import_boto3(argv):
    """Help and the offline commands answer at once: boto3 is imported only by commands that call AWS."""
    code = (
        "import sys\n"
        "from s3cred_tui.__main__ import main\n"
        f"status = main({argv!r})\n"
        "assert status in (0, 3), status\n"
        "assert 'boto3' not in sys.modules, 'boto3 imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout


def test_commands_do_not_import_textual():
    code = (
        "import sys\n"
        "from s3cred_tui.cli import main\n"
        "assert main(['policy', 'e2e-data', '--read-only']) == 0\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["Version"] == "2012-10-17"
