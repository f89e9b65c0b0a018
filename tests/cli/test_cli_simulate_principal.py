"""`simulate` says everything the evaluator can: the caller, no identity policy, the resource's
account, boundary, session and bucket policies, multi-valued context keys."""

from __future__ import annotations

import json

import pytest

from s3cred_tui import cli
from s3cred_tui.cli.common import EXIT_DENIED, EXIT_OK, EXIT_USAGE

ACCOUNT, OTHER = "111122223333", "444455556666"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
STRANGER = f"arn:aws:iam::{OTHER}:user/stranger"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/uploader/job-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/uploader"
OBJECT = "arn:aws:s3:::bkt/reports/a.csv"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path, name: str, *statements: dict) -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return str(path)


def grant(principal: str, action: str = "s3:GetObject") -> dict:
    return {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": action, "Resource": "arn:aws:s3:::bkt/*"}


ALLOW_GET = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}


def test_a_bucket_policy_naming_the_principal_grants_with_no_identity_policy(capsys, tmp_path):
    bucket = write(tmp_path, "bucket.json", grant(ALICE))
    code, out, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy", "--principal", ALICE,
                       "--resource-policy-file", bucket, "--json")
    record = json.loads(out)
    assert code == EXIT_OK and record["decision"] == "Allow" and record["principal_arn"] == ALICE
    assert record["deciding"][0]["policy"].startswith("resource policy")

    code, out, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy",
                       "--principal", f"arn:aws:iam::{ACCOUNT}:user/bob", "--resource-policy-file", bucket)
    assert code == EXIT_DENIED and out.startswith("Deny (implicit")


def test_across_accounts_both_sides_must_allow(capsys, tmp_path):
    bucket = write(tmp_path, "bucket.json", grant(STRANGER))
    identity = write(tmp_path, "identity.json", ALLOW_GET)
    common = ["simulate", "s3:GetObject", OBJECT, "--principal", STRANGER, "--resource-account", ACCOUNT]
    code, out, _ = run(capsys, *common, "--no-identity-policy", "--resource-policy-file", bucket)
    assert code == EXIT_DENIED and "cross-account" in out
    code, out, _ = run(capsys, *common, "--policy-file", identity)
    assert code == EXIT_DENIED and "no resource policy" in out
    code, out, _ = run(capsys, *common, "--policy-file", identity, "--resource-policy-file", bucket)
    assert code == EXIT_OK and out.startswith("Allow")
    # The same grant within one account needs no identity policy.
    code, _, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--principal", STRANGER, "--resource-account", OTHER,
                     "--no-identity-policy", "--resource-policy-file", bucket)
    assert code == EXIT_OK


def test_the_principal_supplies_principal_arn_for_a_role_session(capsys, tmp_path):
    only_the_role = write(tmp_path, "identity.json", {**ALLOW_GET, "Condition": {"ArnEquals": {"aws:PrincipalArn": ROLE}}})
    code, out, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--policy-file", only_the_role, "--principal", SESSION)
    assert code == EXIT_OK, out
    code, _, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--policy-file", only_the_role, "--principal", ALICE)
    assert code == EXIT_DENIED


def test_the_root_user_is_allowed_unless_denied(capsys, tmp_path):
    root = f"arn:aws:iam::{ACCOUNT}:root"
    code, out, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy", "--principal", root)
    assert code == EXIT_OK and "root user" in out
    deny = write(tmp_path, "bucket.json", {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::bkt/*"})
    code, out, _ = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy", "--principal", root,
                       "--resource-policy-file", deny)
    assert code == EXIT_DENIED and out.startswith("Deny (explicit")


def test_boundary_session_policy_and_multi_valued_context(capsys, tmp_path):
    identity = write(tmp_path, "identity.json", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    boundary = write(tmp_path, "boundary.json", {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"})
    session = write(tmp_path, "session.json", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/reports/*"})
    tagged = write(tmp_path, "tags.json", {**ALLOW_GET, "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}})
    base = ["simulate", "s3:GetObject", OBJECT, "--principal", SESSION]
    assert run(capsys, *base, "--policy-file", identity, "--boundary-file", boundary, "--session-policy-file", session)[0] == EXIT_OK
    code, out, _ = run(capsys, "simulate", "s3:PutObject", OBJECT, "--principal", SESSION, "--policy-file", identity,
                       "--boundary-file", boundary)
    assert code == EXIT_DENIED and "permissions boundary" in out
    assert run(capsys, *base, "--policy-file", tagged, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=cost")[0] == EXIT_OK
    assert run(capsys, *base, "--policy-file", tagged, "--context", "aws:TagKeys=team", "--context", "aws:TagKeys=secret")[0] == EXIT_DENIED


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--principal", "alice"], "--principal takes an IAM or STS ARN"),
        (["--principal", "arn:aws:s3:::bkt"], "--principal takes an IAM or STS ARN"),
        (["--resource-account", "acme"], "12-digit account ID"),
    ],
    ids=["not-an-arn", "not-a-principal", "bad-account"],
)
def test_bad_principal_or_account_is_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy", *argv)
    assert code == EXIT_USAGE and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1 and fragment in err and "Traceback" not in err


def test_no_identity_policy_excludes_the_other_sources(capsys, tmp_path):
    identity = write(tmp_path, "identity.json", ALLOW_GET)
    code, _, err = run(capsys, "simulate", "s3:GetObject", OBJECT, "--no-identity-policy", "--policy-file", identity)
    assert code == EXIT_USAGE and "not allowed with" in err
