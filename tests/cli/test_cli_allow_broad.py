"""`--allow-broad`: a custom policy that grants more than the named buckets is refused without it."""

from __future__ import annotations

import json

import pytest

from s3cred_tui import cli

BUCKET = "broad-data"
# Nothing listens here: a command that reached AWS would fail with a connection error instead.
NO_AWS = "http://127.0.0.1:9"

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TIGHT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"}],
}
BROAD = {
    "admin": ADMIN,
    "s3-star": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
    "iam-star": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]},
    "not-action": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]},
    "other-bucket": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::someone-elses/*"}],
    },
}


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def policy_file(tmp_path, document) -> str:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.mark.parametrize("name", list(BROAD))
def test_create_refuses_a_broad_policy_in_one_line_before_any_aws_call(capsys, tmp_path, name):
    path = policy_file(tmp_path, BROAD[name])
    code, out, err = run(capsys, "create", BUCKET, "--policy", path, "--no-permissions-boundary", "--endpoint-url", NO_AWS)
    assert code == 2
    assert out == ""
    assert err.startswith("error: the --policy file grants more than the named buckets (Custom policy: ")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "so it needs --allow-broad: Statement 1 " in err


def test_the_refusal_lists_every_reason(capsys, tmp_path):
    two = {"Version": "2012-10-17", "Statement": [*BROAD["iam-star"]["Statement"], *BROAD["other-bucket"]["Statement"]]}
    code, _, err = run(capsys, "create", BUCKET, "--policy", policy_file(tmp_path, two), "--dry-run", "--endpoint-url", NO_AWS)
    assert code == 2
    assert "Statement 1 allows IAM/STS actions (iam:*)" in err
    assert "Statement 2 grants S3 actions on resources outside the named buckets (arn:aws:s3:::someone-elses/*)" in err


def test_policy_checks_a_policy_file_offline(capsys, tmp_path):
    path = policy_file(tmp_path, ADMIN)
    code, out, err = run(capsys, "policy", BUCKET, "--policy", path)
    assert (code, out) == (2, "")
    assert err.startswith("error: the --policy file grants more than the named buckets (Custom policy: full administrator")

    code, out, err = run(capsys, "policy", BUCKET, "--policy", path, "--allow-broad")
    assert code == 0
    assert json.loads(out) == ADMIN
    lines = err.splitlines()
    assert lines[0] == "Custom policy: full administrator (every action on every resource)"
    assert lines[-1].startswith("warning: accepted with --allow-broad: the policy grants more than the named buckets:")


def test_policy_shows_what_a_tight_policy_grants_and_its_findings(capsys, tmp_path):
    code, out, err = run(capsys, "policy", BUCKET, "--policy", policy_file(tmp_path, TIGHT))
    assert code == 0
    assert json.loads(out) == TIGHT
    assert err == f"Custom policy: read on s3://{BUCKET}/reports/\n"

    typo = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}
    code, _, err = run(capsys, "policy", BUCKET, "--policy", policy_file(tmp_path, typo))
    assert code == 0
    assert "warning: policy lint (parliament): LOW UNKNOWN_ACTION (line 6): Unknown action" in err


def test_policy_warns_about_broad_extra_statements(capsys):
    extra = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    code, out, err = run(capsys, "policy", BUCKET, "--statement", json.dumps(extra))
    assert code == 0
    assert json.loads(out)["Statement"][-1] == extra
    assert "warning: the policy grants more than the named buckets: Statement 3 allows IAM/STS actions (iam:PassRole)" in err


@pytest.fixture
def account(server_account, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server_account.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server_account.admin.secret_access_key)
    server_account.client("s3").create_bucket(Bucket=BUCKET)
    return server_account


@pytest.mark.e2e
def test_create_with_allow_broad_makes_the_key_and_says_what_it_accepted(account, capsys, tmp_path):
    path = policy_file(tmp_path, BROAD["s3-star"])
    code, out, err = run(
        capsys, "create", BUCKET, "--policy", path, "--username", "broad", "--allow-broad", "--endpoint-url", account.endpoint_url
    )
    assert code == 0, err
    assert json.loads(out)["AccessKeyId"]
    assert "warning: Acknowledged: the policy grants more than the named buckets: Statement 1 allows s3:* on *" in err
    document = account.client("iam").get_user_policy(UserName="broad", PolicyName="s3cred-tui.custom")["PolicyDocument"]
    assert document == BROAD["s3-star"]


@pytest.mark.e2e
def test_create_with_a_tight_policy_needs_no_flag(account, capsys, tmp_path):
    code, _, err = run(
        capsys, "create", BUCKET, "--policy", policy_file(tmp_path, TIGHT), "--username", "tight", "--endpoint-url", account.endpoint_url
    )
    assert code == 0, err
    assert "grants more than the named buckets" not in err
