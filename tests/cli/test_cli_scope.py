"""`--prefix` repeated, `--key` and `--list-keys` on the command line; a KMS bucket in a dry run."""

from __future__ import annotations

import json

import pytest

from s3cred_tui import cli
from s3cred_tui.core.simulate import RequestContext, evaluate
from s3cred_tui.demo.seed import register_aws_managed_policies

BUCKET = "scope-data"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _allowed(policy: dict, action: str, resource: str, context: dict | None = None) -> bool:
    return evaluate(RequestContext(action, resource, context or {}), [("cli", policy)]).allowed


@pytest.fixture
def account(server_account, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server_account.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server_account.admin.secret_access_key)
    register_aws_managed_policies()
    server_account.client("s3").create_bucket(Bucket=BUCKET)
    return server_account


def test_policy_with_several_prefixes(capsys):
    code, out, err = run(capsys, "policy", BUCKET, "--read-only", "--prefix", "reports", "--prefix", "exports/")
    assert code == 0 and err == ""
    policy = json.loads(out)
    assert policy["Statement"][0]["Condition"] == {"StringLike": {"s3:prefix": ["reports/*", "exports/*"]}}
    assert _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/exports/x")
    assert not _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports-private/x")


def test_policy_with_exact_keys(capsys):
    code, out, err = run(capsys, "policy", BUCKET, "--read-only", "--key", "reports/2024.csv", "--key", "odd*name")
    assert code == 0 and err == ""
    policy = json.loads(out)
    assert f"arn:aws:s3:::{BUCKET}/odd${{*}}name" in out
    assert "s3:ListBucket" not in out
    assert _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/2024.csv")
    assert not _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/oddXname")
    code, out, _ = run(capsys, "policy", BUCKET, "--read-only", "--key", "reports/2024.csv", "--list-keys")
    assert code == 0 and '"reports/2024.csv"' in out and "s3:ListBucket" in out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["policy", BUCKET, "--read-only", "--list-keys"], "needs at least one key"),
        (["policy", BUCKET, "--write-only", "--key", "k", "--list-keys"], "only for levels that read"),
        (["policy", BUCKET, "--key", ""], "cannot be empty"),
        (["policy", BUCKET, "--prefix", "a/", "--prefix", "/b"], "start with /"),
        (["policy", BUCKET, "--policy", "{}", "--key", "k"], "--key"),
        (["create", BUCKET, "--key", "k", "--probe"], "--key"),
        (["create", BUCKET, "--prefix", "a", "--prefix", "b", "--dry-run", "--aws-checks"], "several prefixes"),
    ],
)
def test_bad_scope_arguments_are_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err, err


def test_create_dry_run_with_prefixes_and_keys(account, capsys):
    code, out, err = run(
        capsys, "create", BUCKET, "--read-only", "--prefix", "a", "--prefix", "b", "--key", "top.csv",
        "--dry-run", "--json", "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    plan = json.loads(out)
    assert plan["request"]["prefixes"] == ["a/", "b/"] and plan["request"]["keys"] == ["top.csv"]
    [put] = [step for step in plan["steps"] if step["action"] == "iam:PutUserPolicy"]
    policy = put["policy"]
    for key, allowed in (("a/x", True), ("b/y", True), ("top.csv", True), ("c/z", False), ("top.csv.bak", False)):
        assert _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/{key}") is allowed, key


def test_create_dry_run_on_a_kms_bucket_explains_the_key_grant(account, capsys):
    key = account.client("kms").create_key()["KeyMetadata"]["Arn"]
    account.client("s3").put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]
        },
    )
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--dry-run", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert f"customer-managed KMS key {key}" in out
    assert "kms:Decrypt" in out and "kms:ViaService" in out


# ---------------------------------------------------------------- --grant-account

OTHER_ACCOUNT = "111122223333"


def test_grant_account_dry_run_shows_the_diff_and_changes_nothing(account, capsys):
    code, out, err = run(
        capsys, "create", BUCKET, "--read-only", "--prefix", "backups", "--grant-account", OTHER_ACCOUNT,
        "--dry-run", "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    assert "+++ bucket policy after" in out and f"arn:aws:iam::{OTHER_ACCOUNT}:root" in out
    assert "must also allow its principal" in out
    s3 = account.client("s3")
    with pytest.raises(s3.exceptions.ClientError):
        s3.get_bucket_policy(Bucket=BUCKET)


def test_grant_account_applies_and_prints_the_other_sides_policy(account, capsys):
    code, out, err = run(
        capsys, "create", BUCKET, "--read-only", "--prefix", "backups", "--grant-account", OTHER_ACCOUNT,
        "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    theirs = json.loads(out)
    assert _allowed(theirs, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/backups/x")
    written = json.loads(account.client("s3").get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert {s["Principal"]["AWS"] for s in written["Statement"]} == {f"arn:aws:iam::{OTHER_ACCOUNT}:root"}
    assert "Granted" in err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [(["--duration", "1h"], "--duration"), (["--probe"], "--probe"), (["--write-only"], None)],
)
def test_grant_account_refuses_credential_options(capsys, extra, fragment):
    if fragment is None:
        code, out, err = run(capsys, "create", BUCKET, "--grant-account", "12", *extra)
        assert code == 2 and "12-digit" in err and err.count("\n") == 1
        return
    code, out, err = run(capsys, "create", BUCKET, "--grant-account", OTHER_ACCOUNT, *extra)
    assert code == 2 and out == "" and fragment in err and err.count("\n") == 1


def test_grant_account_via_role_creates_a_role_with_an_external_id(account, capsys):
    code, out, err = run(
        capsys, "create", BUCKET, "--read-only", "--grant-account", OTHER_ACCOUNT, "--via-role",
        "--role-name", "backup-vendor", "--external-id", "cust-0042", "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["RoleArn"].endswith(":role/backup-vendor") and result["ExternalId"] == "cust-0042"
    assert result["OtherAccountPolicy"]["Statement"][0]["Resource"] == result["RoleArn"]
    trust = account.client("iam").get_role(RoleName="backup-vendor")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": "cust-0042"}}


def test_via_role_needs_grant_account(capsys):
    code, out, err = run(capsys, "create", BUCKET, "--via-role")
    assert code == 2 and "--grant-account" in err and err.count("\n") == 1


def test_revoke_grant_removes_only_the_grant(account, capsys):
    s3 = account.client("s3")
    mine = {"Sid": "Mine", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": f"arn:aws:s3:::{BUCKET}"}
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [mine]}))
    code, _, err = run(capsys, "create", BUCKET, "--grant-account", OTHER_ACCOUNT, "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert len(json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]) > 1
    code, out, err = run(capsys, "revoke-grant", BUCKET, "--account", OTHER_ACCOUNT, "--dry-run", "--endpoint-url", account.endpoint_url)
    assert code == 0 and "--- bucket policy now" in out
    code, _, err = run(capsys, "revoke-grant", BUCKET, "--account", OTHER_ACCOUNT, "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"] == [mine]
