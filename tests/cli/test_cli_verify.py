"""`probe` and `simulate` on the command line, in-process (`cli.main([...])`) against the threaded
moto server, plus one run of the real command in a subprocess.

moto ignores Condition blocks, so the probe's ListBucket rows limited by `s3:prefix` are only
checked for being marked; what the condition itself does is checked with `simulate`.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from s3cred_tui import cli
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.request import AccessLevel

BUCKET = "verify-data"
OTHER = "verify-other"
OBJECTS = ("reports/2024/a.csv", "reports-private/secret.txt", "root.txt")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def account(server_account, monkeypatch):
    """Two buckets on the threaded server; the process acts as the administrator."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server_account.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server_account.admin.secret_access_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server_account.endpoint_url)
    s3 = server_account.client("s3")
    for bucket in (BUCKET, OTHER):
        s3.create_bucket(Bucket=bucket)
    for key in OBJECTS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object(Bucket=OTHER, Key="private.txt", Body=b"x")
    return server_account


def make_key(account, policy: dict, user: str = "probed") -> dict:
    iam = account.client("iam")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="scope", PolicyDocument=json.dumps(policy))
    return iam.create_access_key(UserName=user)["AccessKey"]


def bucket_keys(account) -> set[str]:
    return {o["Key"] for o in account.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])}


# ---------------------------------------------------------------------------
# probe


def test_probe_of_a_generated_key_is_green_and_exits_0(account, capsys, monkeypatch):
    key = make_key(account, policy_for([BUCKET], AccessLevel.READ_ONLY))
    monkeypatch.setenv(cli.PROBE_SECRET_ENV, key["SecretAccessKey"])
    before = bucket_keys(account)
    account.enforce()
    code, out, err = run(
        capsys, "probe", BUCKET, "--read-only", "--other-bucket", OTHER, "--access-key-id", key["AccessKeyId"]
    )
    account.enforce(False)

    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0].split() == list(cli.PROBE_COLUMNS)
    # list, read, write and delete in the bucket, then list and read in the other bucket
    assert lines[-1] == "6 of 6 agree"
    assert "DIFFERS" not in out and "unclear" not in out
    assert f"Probing key {key['AccessKeyId']}" in err
    assert key["SecretAccessKey"] not in out + err
    assert bucket_keys(account) == before


def test_probe_with_a_prefix_marks_condition_rows_and_explains_once(account, capsys, monkeypatch):
    key = make_key(account, policy_for([BUCKET], AccessLevel.READ_WRITE, "reports/"))
    monkeypatch.setenv(cli.PROBE_SECRET_ENV, key["SecretAccessKey"])
    before = bucket_keys(account)
    account.enforce()
    code, out, err = run(capsys, "probe", BUCKET, "--prefix", "reports", "--access-key-id", key["AccessKeyId"], "--json")
    account.enforce(False)

    document = json.loads(out)
    assert document["prefix"] == "reports/"
    rows = document["results"]
    by_condition = [r for r in rows if r["decided_by_condition"]]
    assert {(r["check"], r["where"]) for r in by_condition} == {("list", "outside"), ("list", "root")}
    # Everything AWS decides without a Condition agrees with the policy create would make.
    assert all(r["agrees"] for r in rows if not r["decided_by_condition"]), rows
    # moto ignores the s3:prefix condition and lets these listings through: they differ here,
    # the command says so, and exits 1 rather than claiming a proof it did not get.
    assert all(r["observed"] == "allowed" and r["verdict"] == "DIFFERS" for r in by_condition)
    assert code == 1
    assert err.strip().endswith(f"{len(rows) - 2} of {len(rows)} agree; 2 differ (2 decided by a Condition, marked *)")
    assert bucket_keys(account) == before

    account.enforce()
    code, out, err = run(capsys, "probe", BUCKET, "--prefix", "reports", "--access-key-id", key["AccessKeyId"])
    account.enforce(False)
    assert code == 1
    assert out.count(cli.CONDITION_NOTE) == 1
    assert "outside*" in out and "root*" in out
    assert key["SecretAccessKey"] not in out + err


def test_probe_flags_an_over_broad_key_and_exits_1(account, capsys):
    too_broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::*", "arn:aws:s3:::*/*"]}],
    }
    key = make_key(account, too_broad)
    account.enforce()
    # The person passed the secret as an option: their choice, and it is still never echoed.
    code, out, err = run(
        capsys, "probe", BUCKET, "--read-only", "--prefix", "reports/", "--other-bucket", OTHER,
        "--access-key-id", key["AccessKeyId"], "--secret-access-key", key["SecretAccessKey"], "--json",
    )
    account.enforce(False)

    assert code == 1
    rows = json.loads(out)["results"]
    differs = {(r["check"], r["where"]) for r in rows if r["verdict"] == "DIFFERS"}
    assert {("write", "inside"), ("write", "outside"), ("read", "outside"), ("delete", "inside")} <= differs
    assert {("list", "other-bucket"), ("read", "other-bucket")} <= differs
    assert key["SecretAccessKey"] not in out + err
    assert not any(".s3cred-probe" in k for k in bucket_keys(account)), "probe objects must be removed"


def test_probe_reads_the_json_create_prints_from_a_file_and_from_stdin(account, capsys, monkeypatch, tmp_path):
    code, created, err = run(capsys, "create", BUCKET, "--write-only", "--prefix", "reports", "--format", "json")
    assert code == 0, err
    secret = json.loads(created)["SecretAccessKey"]
    path = tmp_path / "creds.json"
    path.write_text(created)

    account.enforce()
    code, out, err = run(capsys, "probe", BUCKET, "--write-only", "--prefix", "reports", "--credentials-file", str(path))
    assert code == 0, out + err  # write-only lists nothing, so no row depends on a Condition
    assert out.splitlines()[-1].endswith("agree") and "DIFFERS" not in out
    monkeypatch.setattr(sys, "stdin", io.StringIO(created))
    code, out_stdin, err_stdin = run(
        capsys, "probe", BUCKET, "--write-only", "--prefix", "reports", "--credentials-file", "-"
    )
    account.enforce(False)
    assert code == 0, out_stdin + err_stdin
    assert secret not in out + err + out_stdin + err_stdin


def test_probe_wrong_secret_fails_with_one_line_and_no_secret(account, capsys, monkeypatch):
    key = make_key(account, policy_for([BUCKET], AccessLevel.READ_ONLY))
    wrong = "wrong" + key["SecretAccessKey"][5:]
    monkeypatch.setenv(cli.PROBE_SECRET_ENV, wrong)
    account.enforce()
    code, out, err = run(capsys, "probe", BUCKET, "--access-key-id", key["AccessKeyId"], "--timeout", "0.1")
    account.enforce(False)
    assert code == 1
    assert out == ""
    assert_one_line_error(err.splitlines()[-1] + "\n")
    assert wrong not in err and key["SecretAccessKey"] not in err


@pytest.mark.parametrize(
    "argv, document, fragment",
    [
        (["probe", BUCKET], None, "--credentials-file"),
        (["probe", BUCKET, "--access-key-id", "AKIAEXAMPLE"], None, "S3CRED_PROBE_SECRET_ACCESS_KEY"),
        (["probe", BUCKET, "--credentials-file", "-", "--access-key-id", "AKIAEXAMPLE"], None, "leave out --access-key-id"),
        (["probe", BUCKET, "--credentials-file", "-"], "aws_secret_access_key = SECRETVALUE123", "is not JSON"),
        (["probe", BUCKET, "--credentials-file", "-"], '{"SecretAccessKey": "SECRETVALUE123"}', "has no AccessKeyId"),
        (["probe", BUCKET, "--other-bucket", BUCKET, "--access-key-id", "A"], None, "--other-bucket"),
        (["probe", "Bad_Bucket", "--access-key-id", "A"], None, "Bad_Bucket"),
        (["probe", BUCKET, "--read-only", "--write-only"], None, "not allowed with"),
    ],
)
def test_probe_bad_arguments_exit_2_without_echoing_the_secret(capsys, monkeypatch, argv, document, fragment):
    monkeypatch.delenv(cli.PROBE_SECRET_ENV, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(document or ""))
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, fragment)
    assert "SECRETVALUE123" not in err


def test_create_with_probe_keeps_stdout_for_the_credentials(account, capsys):
    account.enforce()  # the administrator's key keeps working; the new key is held to its policy
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--probe")
    account.enforce(False)
    assert code == 0, err
    creds = json.loads(out)  # stdout is the credentials and nothing else
    assert set(creds) == {"AccessKeyId", "SecretAccessKey"}
    assert "check" in err and "verdict" in err
    # 4 rows in the bucket, plus 2 in another bucket of the account that the key must not reach.
    assert err.rstrip().endswith("6 of 6 agree")
    assert creds["SecretAccessKey"] not in err


@pytest.mark.parametrize(
    "extra, fragment",
    [(["--dry-run"], "--dry-run"), (["--prefix", "r*", "--prefix-pattern"], "--prefix-pattern")],
)
def test_create_probe_refuses_what_it_cannot_check_before_creating(account, capsys, extra, fragment):
    users_before = account.client("iam").list_users()["Users"]
    code, out, err = run(capsys, "create", BUCKET, "--probe", *extra)
    assert code == 2
    assert_one_line_error(err, fragment)
    assert account.client("iam").list_users()["Users"] == users_before


# ---------------------------------------------------------------------------
# simulate


READ_REPORTS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ReadReports", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"},
        {
            "Sid": "NoPlainHttp",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ],
}


@pytest.fixture
def policy_file(tmp_path):
    path = tmp_path / "read-reports.json"
    path.write_text(json.dumps(READ_REPORTS))
    return str(path)


def test_simulate_allow_names_the_deciding_statement(capsys, policy_file):
    code, out, err = run(
        capsys, "simulate", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/a.csv",
        "--policy-file", policy_file, "--context", "aws:SecureTransport=true",
    )
    assert code == 0, err
    assert out.splitlines()[0] == "Allow"
    assert f"Allow  policy file {policy_file}  Sid ReadReports  (statement [0])" in out
    assert "reason: s3:GetObject on" in out


def test_simulate_denies_with_exit_3_explicit_and_implicit(capsys, policy_file):
    code, out, _ = run(
        capsys, "simulate", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/a.csv",
        "--policy-file", policy_file, "--context", "aws:SecureTransport=false", "--json",
    )
    assert code == cli.EXIT_DENIED == 3
    record = json.loads(out)
    assert record["decision"] == "Deny" and record["evaluation"] == "ExplicitDeny"
    assert record["deciding"] == [{"policy": f"policy file {policy_file}", "sid": "NoPlainHttp", "effect": "Deny", "index": 1}]

    code, out, _ = run(capsys, "simulate", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/private/a.csv", "--policy-file", policy_file)
    assert code == 3
    assert out.startswith("Deny (implicit")
    assert "deciding statements" not in out


@pytest.mark.parametrize(
    "document, fragment",
    [
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
          "Condition": {"StringFuzzy": {"s3:prefix": "x"}}}]}, "StringFuzzy"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "s3:*", "Resource": "*"}]}, "Perhaps"),
        ("not json at all {", "not valid JSON"),
    ],
)
def test_simulate_malformed_policy_exits_2(capsys, tmp_path, document, fragment):
    path = tmp_path / "bad.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    code, out, err = run(capsys, "simulate", "s3:GetObject", "arn:aws:s3:::b/k", "--policy-file", str(path))
    assert code == 2
    assert out == ""
    assert_one_line_error(err, fragment)


def test_simulate_bucket_uses_the_generated_prefix_condition(capsys):
    common = ["simulate", "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", "--bucket", BUCKET, "--read-only", "--prefix", "reports"]
    code, out, _ = run(capsys, *common, "--context", "s3:prefix=reports/")
    assert code == 0, out
    assert "generated policy" in out and "Allow" in out.splitlines()[0]

    code, out, _ = run(capsys, *common, "--context", "s3:prefix=reports-private/")
    assert code == 3
    assert "s3:prefix" in out  # the reason points at the condition that did not hold

    code, out, _ = run(capsys, "simulate", "s3:PutObject", f"arn:aws:s3:::{BUCKET}/reports/x", *common[3:])
    assert code == 3  # read-only


def test_simulate_repeated_context_keys_become_a_list(capsys, tmp_path):
    assert cli.parse_context(["aws:TagKeys=team", "aws:tagkeys=cost", "s3:prefix=a=b"]) == {
        "aws:TagKeys": ["team", "cost"],
        "s3:prefix": "a=b",
    }
    only_known_tags = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "*",
                       "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}}],
    }
    path = tmp_path / "tags.json"
    path.write_text(json.dumps(only_known_tags))
    argv = ["simulate", "s3:PutObjectTagging", "arn:aws:s3:::b/k", "--policy-file", str(path)]
    assert run(capsys, *argv, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=cost")[0] == 0
    assert run(capsys, *argv, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=owner")[0] == 3


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["simulate", "s3:GetObject", "arn:aws:s3:::b/k"], "one of the arguments --policy-file --user --bucket"),
        (["simulate", "s3:GetObject", "arn:aws:s3:::b/k", "--bucket", "b", "--user", "u"], "not allowed with"),
        (["simulate", "s3:GetObject", "arn:aws:s3:::b/k", "--user", "u", "--read-only"], "needs --bucket"),
        (["simulate", "s3:GetObject", "arn:aws:s3:::b/k", "--bucket", "b", "--context", "novalue"], "key=value"),
        (["simulate", "GetObject", "arn:aws:s3:::b/k", "--bucket", BUCKET], "s3:GetObject"),
        (["simulate", "s3:GetObject", "arn:aws:s3:::b/k", "--bucket", "b"], "Bucket name 'b'"),
    ],
)
def test_simulate_bad_arguments_exit_2(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert_one_line_error(err, fragment)


def seed_user(account) -> None:
    iam = account.client("iam")
    iam.create_user(UserName="analyst")
    iam.put_user_policy(
        UserName="analyst",
        PolicyName="read-reports",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"}]}),
    )
    arn = iam.create_policy(
        PolicyName="no-private",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoPrivate", "Effect": "Deny", "Action": "s3:*", "Resource": f"arn:aws:s3:::{BUCKET}/reports/private/*"}]}),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName="analyst", PolicyArn=arn)
    iam.create_group(GroupName="uploaders")
    iam.put_group_policy(
        GroupName="uploaders",
        PolicyName="upload",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "Upload", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{OTHER}/${{aws:username}}/*"}]}),
    )
    iam.add_user_to_group(GroupName="uploaders", UserName="analyst")


def test_simulate_user_combines_inline_attached_and_group_policies(account, capsys):
    seed_user(account)
    sim = ["simulate", "--user", "analyst"]
    code, out, err = run(capsys, *sim, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/a.csv")
    assert code == 0, err
    assert "inline read-reports  Sid Read" in out

    code, out, _ = run(capsys, *sim, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/private/a.csv")
    assert code == 3
    assert "managed no-private  Sid NoPrivate" in out

    # The group grant uses ${aws:username}: --user makes the request as the user's own ARN.
    code, out, _ = run(capsys, *sim, "s3:PutObject", f"arn:aws:s3:::{OTHER}/analyst/x")
    assert code == 0, out
    assert "group uploaders inline upload  Sid Upload" in out
    assert run(capsys, *sim, "s3:PutObject", f"arn:aws:s3:::{OTHER}/someone-else/x")[0] == 3

    code, _, err = run(capsys, "simulate", "--user", "nobody-here", "s3:GetObject", "arn:aws:s3:::b/k")
    assert code == 1
    assert_one_line_error(err)


def test_simulate_user_applies_its_permissions_boundary(account, capsys, monkeypatch):
    seed_user(account)
    # moto does not keep a user's PermissionsBoundary, so the user's detail is given one here;
    # the boundary document itself is fetched from the server with get_policy/get_policy_version.
    from dataclasses import replace

    from s3cred_tui.core import inventory

    real_user_details = inventory.user_details
    boundary = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    monkeypatch.setattr(
        inventory, "user_details", lambda ctx, name: replace(real_user_details(ctx, name), boundary_arn=boundary)
    )
    code, out, _ = run(capsys, "simulate", "--user", "analyst", "s3:PutObject", f"arn:aws:s3:::{OTHER}/analyst/x")
    assert code == 3
    assert "permissions boundary does not" in out
    code, out, _ = run(capsys, "simulate", "--user", "analyst", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/a.csv")
    assert code == 0
    assert f"permissions boundary {boundary}" in out


def test_simulate_session_and_resource_policies(capsys, tmp_path, policy_file):
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/2024/*"}]}))
    base = ["simulate", "s3:GetObject", "--policy-file", policy_file, "--session-policy-file", str(session)]
    assert run(capsys, *base, f"arn:aws:s3:::{BUCKET}/reports/2024/a.csv")[0] == 0
    code, out, _ = run(capsys, *base, f"arn:aws:s3:::{BUCKET}/reports/2025/a.csv")
    assert code == 3 and "session policy does not" in out

    bucket_policy = tmp_path / "bucket.json"
    bucket_policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"}]}))
    code, out, _ = run(
        capsys, "simulate", "s3:GetObject", f"arn:aws:s3:::{BUCKET}/reports/a.csv",
        "--policy-file", policy_file, "--resource-policy-file", str(bucket_policy),
    )
    assert code == 3 and f"resource policy {bucket_policy}  Sid NoDeletes" in out


# ---------------------------------------------------------------------------
# The real command, in a subprocess


@pytest.mark.e2e
def test_probe_subprocess_reads_stdin_and_never_prints_the_secret(account):
    key = make_key(account, policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/"))
    account.enforce()
    result = subprocess.run(
        [sys.executable, "-m", "s3cred_tui", "probe", BUCKET, "--read-only", "--prefix", "reports",
         "--other-bucket", OTHER, "--credentials-file", "-"],
        input=json.dumps({"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}),
        env={**os.environ, **account.env()},
        capture_output=True,
        text=True,
        timeout=120,
    )
    account.enforce(False)
    # Only the two Condition rows differ under moto (see the in-process tests).
    assert result.returncode == 1, result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.endswith("2 differ (2 decided by a Condition, marked *)"), result.stdout
    assert cli.CONDITION_NOTE in result.stdout
    assert key["SecretAccessKey"] not in result.stdout + result.stderr
