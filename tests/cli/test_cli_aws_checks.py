"""`--aws-checks` (and `--aws-paid-checks`) on `policy`, `create --dry-run` and `simulate`.

AWS's side is botocore's Stubber, attached to each client the command's own AwsContext makes
(moto implements neither IAM's simulator nor Access Analyzer); `create --dry-run` reads the
account from moto, so there the core function is replaced and what it is given is checked.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from s3cred_tui import cli
from s3cred_tui.core import aws_checks
from s3cred_tui.core.aws_checks import AwsChecksReport, CheckStatus, SimulationCheck
from s3cred_tui.core.policies import S3_READ_ONLY_POLICY_ARN
from s3cred_tui.core.session import AwsContext
from tests.core.test_aws_checks import (
    BUCKET,
    INSIDE,
    MATCHED,
    READ_ONLY,
    expect_no_findings,
    expect_read_only_matrix,
    result,
    simulated,
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def aws(monkeypatch):
    """`aws["iam"](stubber)` queues what IAM answers, `aws["accessanalyzer"](stubber)` Access Analyzer's;
    each client the command makes is stubbed as it is made, and any other call fails the test."""
    plans: dict = {}
    stubbers: list[Stubber] = []
    original = AwsContext.client

    def stubbed_client(self, service, region=None):
        client = original(self, service, region)
        if service in plans and not getattr(client, "_test_stubbed", False):
            stubber = Stubber(client)
            plans[service](stubber)
            stubber.activate()
            client._test_stubbed = True
            stubbers.append(stubber)
        return client

    monkeypatch.setattr(AwsContext, "client", stubbed_client)
    yield plans
    for stubber in stubbers:
        stubber.assert_no_pending_responses()


def test_policy_prints_the_policy_alone_on_stdout_and_the_checks_on_stderr(capsys, aws):
    aws["iam"] = lambda stubber: expect_read_only_matrix(stubber, list_outside="allowed")
    aws["accessanalyzer"] = expect_no_findings

    code, out, err = run(capsys, "policy", BUCKET, "--read-only", "--prefix", "reports", "--aws-checks")

    assert code == 0  # an optional check never changes the outcome
    assert json.loads(out) == READ_ONLY
    assert "IAM policy simulator: AWS DISAGREES with the offline evaluator on 1 of 11 requests" in err
    assert "DISAGREE  list outside the prefix (s3://alpha-bucket/reports-outside/)" in err
    assert aws_checks.DISAGREEMENT_NOTE in err
    assert "Access Analyzer ValidatePolicy (the generated policy): no findings" in err
    assert "charged checks: not run, since AWS charges for them (1 charged Access Analyzer call, about $0.002" in err


def test_paid_checks_state_their_cost_and_prove_the_level(capsys, aws):
    def analyzer(stubber):
        expect_no_findings(stubber)
        stubber.add_response(
            "check_access_not_granted",
            {"result": "PASS", "message": "The policy document does not grant access to perform the listed actions."},
            {"policyDocument": ANY, "access": ANY, "policyType": "IDENTITY_POLICY"},
        )

    aws["iam"] = expect_read_only_matrix
    aws["accessanalyzer"] = analyzer

    code, _out, err = run(
        capsys, "policy", BUCKET, "--read-only", "--prefix", "reports/", "--aws-checks", "--aws-paid-checks"
    )

    assert code == 0
    assert "Running Access Analyzer's charged checks: 1 charged Access Analyzer call, about $0.002;" in err
    assert "CheckAccessNotGranted: Grants no write, delete or bucket administration: PASS (proven)" in err
    assert "not run" not in err


def test_access_denied_is_one_line_per_check_and_the_policy_still_prints(capsys, aws):
    aws["iam"] = lambda s: s.add_client_error("simulate_custom_policy", "AccessDenied", "not authorized", 403)
    aws["accessanalyzer"] = lambda s: s.add_client_error("validate_policy", "AccessDeniedException", "no", 403)

    code, out, err = run(capsys, "policy", BUCKET, "--read-only", "--aws-checks")

    assert code == 0 and json.loads(out)["Version"] == "2012-10-17"
    assert "IAM policy simulator: not permitted: your identity needs iam:SimulateCustomPolicy for this check" in err
    assert "not permitted: your identity needs access-analyzer:ValidatePolicy for this check" in err


def test_a_non_aws_endpoint_says_not_available_without_calling_it(capsys):
    # Nothing listens on this port: a call would fail loudly instead of saying "not available".
    code, out, err = run(capsys, "policy", BUCKET, "--aws-checks", "--endpoint-url", "http://127.0.0.1:9")

    assert code == 0 and json.loads(out)
    assert err.strip().splitlines()[-1] == (
        "AWS checks: not available at this endpoint (http://127.0.0.1:9): IAM's policy simulator and "
        "Access Analyzer exist only on AWS"
    )


def test_simulate_compares_its_request_with_aws_in_json(capsys, aws, tmp_path):
    aws["iam"] = lambda s: s.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", INSIDE, "allowed", MATCHED)),
        {"PolicyInputList": [json.dumps(READ_ONLY, separators=(",", ":"))], "ActionNames": ["s3:GetObject"],
         "ResourceArns": [INSIDE]},
    )
    aws["accessanalyzer"] = expect_no_findings

    code, out, _err = run(
        capsys, "simulate", "s3:GetObject", INSIDE, "--bucket", BUCKET, "--read-only", "--prefix", "reports/",
        "--aws-checks", "--json",
    )

    assert code == 0
    record = json.loads(out)
    assert record["decision"] == "Allow"
    checks = record["aws_checks"]
    [row] = checks["simulation"]["rows"]
    assert (row["offline"], row["aws"], row["agrees"]) == ("allowed", "allowed", True)
    assert checks["validations"][0]["status"] == "done"


def test_simulate_with_a_session_policy_is_not_compared_and_says_why(capsys, aws, tmp_path):
    session = tmp_path / "session.json"
    session.write_text(json.dumps(READ_ONLY))
    aws["iam"] = lambda s: None  # no simulator call may be made
    aws["accessanalyzer"] = lambda s: [expect_no_findings(s), expect_no_findings(s)]

    code, _out, err = run(
        capsys, "simulate", "s3:GetObject", INSIDE, "--bucket", BUCKET, "--read-only", "--prefix", "reports/",
        "--session-policy-file", str(session), "--aws-checks",
    )

    assert code == 0
    assert "IAM policy simulator: not compared: AWS's simulator takes no session policy" in err
    assert "ValidatePolicy (generated policy (alpha-bucket, read-only, prefix reports/)): no findings" in err
    assert f"ValidatePolicy (session policy {session}): no findings" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["create", BUCKET, "--aws-checks"], "--aws-checks asks AWS about the plan of a --dry-run"),
        (["policy", BUCKET, "--aws-paid-checks"], "--aws-paid-checks adds charged checks to --aws-checks"),
        (["create", BUCKET, "--dry-run", "--aws-paid-checks"], "--aws-paid-checks adds charged checks to --aws-checks"),
    ],
)
def test_misused_options_are_one_line_errors(capsys, argv, message):
    code, out, err = run(capsys, *argv)

    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_create_dry_run_checks_the_plan_with_its_boundary_and_user(capsys, monkeypatch):
    seen = {}

    def fake_run(ctx, subject, *, paid=False, **_):
        seen["subject"], seen["paid"] = subject, paid
        return AwsChecksReport(SimulationCheck(CheckStatus.DONE, "", ()), ())

    monkeypatch.setattr(aws_checks, "run_aws_checks", fake_run)
    with mock_aws():
        AwsContext().s3.create_bucket(Bucket=BUCKET)
        code, out, _err = run(capsys, "create", BUCKET, "--read-only", "--prefix", "reports", "--dry-run", "--json",
                             "--aws-checks")

    assert code == 0
    plan = json.loads(out)
    assert plan["aws_checks"]["simulation"]["status"] == "done"
    subject = seen["subject"]
    assert subject.boundary_arn == S3_READ_ONLY_POLICY_ARN
    assert subject.caller_arn.endswith(f":user/s3.read-only.{BUCKET}")
    assert subject.read_bucket_policies and subject.prefix == "reports/" and seen["paid"] is False


def test_create_dry_run_text_puts_the_checks_on_stderr(capsys):
    """On moto (no simulator, no Access Analyzer) the checks say so once and the plan prints as ever."""
    with mock_aws():
        AwsContext().s3.create_bucket(Bucket=BUCKET)
        code, out, err = run(capsys, "create", BUCKET, "--read-only", "--dry-run", "--aws-checks")

    assert code == 0
    assert out.startswith("Plan: permanent credentials, read-only access to alpha-bucket.")
    assert "AWS checks: not available at this endpoint: it does not implement iam:SimulateCustomPolicy" in err
