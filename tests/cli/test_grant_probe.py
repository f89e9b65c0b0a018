"""Cross-account, end to end: `create --grant-account` adds the bucket-policy grant, the other
account attaches the policy the command printed, and `probe --prefix P --read-only` run with
the other account's key finds exactly the grant's level and prefix.

Where this runs: the embedded demo account (`demo/authorizer.py` decides every request with the
offline evaluator: the caller's identity policies, the bucket policy and the bucket's owner).
moto's own authorization cannot test a grant across accounts: it ignores bucket-policy allows and
the bucket owner, so on the plain threaded server a role of another account with no grant at all
reads the bucket (`test_plain_moto_lets_another_account_in_without_any_grant` measures it).

A second account is reached as in moto: assuming a role whose ARN names it. Creating that role
is the other account's own business (its administrator), so it is made on moto's backend.
"""

from __future__ import annotations

import io
import json

import boto3
import pytest
from moto.iam.models import iam_backends

from s3cred_tui import cli
from s3cred_tui.core.bucket_grant import other_account_policy
from s3cred_tui.demo.account import start_demo

OTHER = "111122223333"
OTHER_ROLE = "backup"
BUCKET = "acme-data-lake"  # a demo bucket with reports/ and a reports-private/ sibling


@pytest.fixture
def demo(monkeypatch):
    with start_demo() as account:
        config = account.config
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", config.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", config.secret_access_key)
        yield account


def run(capsys, demo, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli.main([*argv, "--endpoint-url", demo.endpoint_url])
    out, err = capsys.readouterr()
    return code, out, err


def other_accounts_key(demo, identity_policy: dict | None) -> str:
    """The other account's role (trusting this account, holding `identity_policy`), assumed:
    its temporary key as the JSON `probe --credentials-file -` reads."""
    this_account = boto3.client(
        "sts",
        endpoint_url=demo.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=demo.config.access_key_id,
        aws_secret_access_key=demo.config.secret_access_key,
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{this_account.get_caller_identity()['Account']}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    backend = iam_backends[OTHER]["aws"]
    backend.create_role(OTHER_ROLE, json.dumps(trust), "/", None, "the other account's backup role", [], None)
    if identity_policy is not None:
        backend.put_role_policy(OTHER_ROLE, "bucket-access", json.dumps(identity_policy))
    credentials = this_account.assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/{OTHER_ROLE}", RoleSessionName="probe")
    return json.dumps(credentials, default=str)  # the shape `aws sts assume-role` prints


def probe_rows(out: str) -> dict[tuple[str, str], tuple[str, str]]:
    document = json.loads(out)
    return {(row["check"], row["where"]): (row["expected"], row["observed"]) for row in document["results"]}


def test_the_probe_with_the_other_accounts_key_finds_exactly_the_grant(demo, capsys, monkeypatch):
    code, out, err = run(capsys, demo, "create", BUCKET, "--grant-account", OTHER, "--prefix", "reports/", "--read-only")
    assert code == 0, err
    printed = json.loads(out)  # what the command tells the other account to attach
    assert printed == other_account_policy([BUCKET], "read-only", prefixes=("reports/",))
    key = other_accounts_key(demo, printed)

    code, out, err = run(
        capsys, demo, "probe", BUCKET, "--prefix", "reports/", "--read-only", "--credentials-file", "-", "--json",
        stdin=key, monkeypatch=monkeypatch,
    )
    rows = probe_rows(out)
    assert code == 0, (err, rows)
    assert json.loads(out)["all_agree"]
    assert rows[("list", "inside")] == ("allowed", "allowed")
    assert rows[("read", "inside")] == ("allowed", "allowed")
    assert rows[("read", "outside")] == ("denied", "denied"), "the reports-private/ sibling stays out of reach"
    assert rows[("list", "outside")] == ("denied", "denied")
    assert rows[("write", "inside")] == ("denied", "denied")
    assert rows[("read", "other-bucket")] == ("denied", "denied"), "another bucket of this account"

    # Taken back: the same key (its own side unchanged) reaches nothing.
    code, _, err = run(capsys, demo, "revoke-grant", BUCKET, "--account", OTHER)
    assert code == 0, err
    code, out, _ = run(
        capsys, demo, "probe", BUCKET, "--prefix", "reports/", "--read-only", "--credentials-file", "-", "--json",
        stdin=key, monkeypatch=monkeypatch,
    )
    assert code == 1
    assert probe_rows(out)[("read", "inside")] == ("allowed", "denied")


def test_without_the_other_sides_policy_the_grant_alone_gives_nothing(demo, capsys, monkeypatch):
    code, _, err = run(capsys, demo, "create", BUCKET, "--grant-account", OTHER, "--prefix", "reports/", "--read-only")
    assert code == 0, err
    key = other_accounts_key(demo, identity_policy=None)
    code, out, _ = run(
        capsys, demo, "probe", BUCKET, "--prefix", "reports/", "--read-only", "--credentials-file", "-", "--json",
        stdin=key, monkeypatch=monkeypatch,
    )
    rows = probe_rows(out)
    assert code == 1
    assert rows[("list", "inside")] == ("allowed", "denied")
    assert rows[("read", "inside")] == ("allowed", "denied")


def test_plain_moto_lets_another_account_in_without_any_grant(server_account):
    """Why the tests above use the demo account: moto itself ignores the bucket owner's side."""
    s3 = server_account.client("s3")
    s3.create_bucket(Bucket="no-grant-bucket")
    s3.put_object(Bucket="no-grant-bucket", Key="reports/a.csv", Body=b"x")
    this_account = server_account.client("sts").get_caller_identity()["Account"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{this_account}:root"}, "Action": "sts:AssumeRole"}],
    }
    backend = iam_backends[OTHER]["aws"]
    backend.create_role(OTHER_ROLE, json.dumps(trust), "/", None, "", [], None)
    backend.put_role_policy(OTHER_ROLE, "theirs", json.dumps(other_account_policy(["no-grant-bucket"], "read-only")))
    server_account.enforce()
    try:
        credentials = server_account.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{OTHER}:role/{OTHER_ROLE}", RoleSessionName="probe"
        )["Credentials"]
        theirs = boto3.client(
            "s3",
            endpoint_url=server_account.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        # AWS would refuse (no bucket policy names the other account); moto answers the object.
        assert theirs.head_object(Bucket="no-grant-bucket", Key="reports/a.csv")["ContentLength"] == 1
    finally:
        server_account.enforce(False)
