"""AWS's second opinion (core/aws_checks.py): IAM's policy simulator and Access Analyzer.

moto implements neither, so AWS's side is botocore's Stubber, with response shapes from the AWS
API reference (SimulateCustomPolicy's EvaluationResults, ValidatePolicy's findings,
CheckAccessNotGranted / CheckNoNewAccess results). Stubber also checks every request against the
real service model, so the requests asserted here are ones AWS accepts.
"""

from __future__ import annotations

import json

import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from s3cred_tui.core import aws_checks
from s3cred_tui.core.aws_checks import CheckStatus, CheckSubject
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.policies import S3_READ_ONLY_POLICY_ARN, policy_for
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext, SessionConfig

BUCKET = "alpha-bucket"
PREFIX = "reports/"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
INSIDE = f"{BUCKET_ARN}/{PREFIX}s3cred-probe-object"
OUTSIDE = f"{BUCKET_ARN}/reports-outside/s3cred-probe-object"
OTHER_ARN = "arn:aws:s3:::s3cred-tui-other-bucket"
OTHER_OBJECT = f"{OTHER_ARN}/s3cred-probe-object"
READ_ONLY = policy_for([BUCKET], AccessLevel.READ_ONLY, PREFIX)
MATCHED = [
    {
        "SourcePolicyId": "PolicyInputList.1",
        "SourcePolicyType": "none",
        "StartPosition": {"Line": 1, "Column": 40},
        "EndPosition": {"Line": 1, "Column": 230},
    }
]


class Recorder:
    def __init__(self):
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def ctx():
    return AwsContext(SessionConfig(region="us-east-1"))


@pytest.fixture
def iam(ctx):
    with Stubber(ctx.iam) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def analyzer(ctx):
    with Stubber(ctx.client("accessanalyzer")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


def result(action: str, resource: str, decision: str, statements=(), missing=()) -> dict:
    out = {"EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision, "MatchedStatements": list(statements)}
    if missing:
        out["MissingContextValues"] = list(missing)
    return out


def simulated(*results: dict) -> dict:
    return {"EvaluationResults": list(results), "IsTruncated": False}


def expect_read_only_matrix(
    iam: Stubber, *, list_outside: str = "implicitDeny", extra: dict | None = None, other_extra: dict | None = None
) -> None:
    """AWS's answers for the read-only matrix of BUCKET at PREFIX, in the order the calls go out
    (one call per resource and context). `list_outside` lets a test make AWS disagree; `extra`
    are parameters every call about BUCKET must carry, `other_extra` those about the other bucket."""
    policy_text = json.dumps(READ_ONLY, separators=(",", ":"))

    def params(actions, resource, prefix=None):
        out = {"PolicyInputList": [policy_text], "ActionNames": actions, "ResourceArns": [resource]}
        out.update((other_extra if resource.startswith(OTHER_ARN) else extra) or {})
        if prefix is not None:
            out["ContextEntries"] = [{"ContextKeyName": "s3:prefix", "ContextKeyValues": [prefix], "ContextKeyType": "string"}]
        return out

    outside_statements = MATCHED if list_outside == "allowed" else ()
    calls = [
        (params(["s3:ListBucket"], BUCKET_ARN, PREFIX), [result("s3:ListBucket", BUCKET_ARN, "allowed", MATCHED)]),
        (params(["s3:ListBucket"], BUCKET_ARN, "reports-outside/"),
         [result("s3:ListBucket", BUCKET_ARN, list_outside, outside_statements)]),
        (params(["s3:ListBucket"], BUCKET_ARN), [result("s3:ListBucket", BUCKET_ARN, "implicitDeny")]),
        (params(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], INSIDE), [
            result("s3:GetObject", INSIDE, "allowed", MATCHED),
            result("s3:PutObject", INSIDE, "implicitDeny"),
            result("s3:DeleteObject", INSIDE, "implicitDeny"),
        ]),
        (params(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], OUTSIDE), [
            result("s3:GetObject", OUTSIDE, "implicitDeny"),
            result("s3:PutObject", OUTSIDE, "implicitDeny"),
            result("s3:DeleteObject", OUTSIDE, "implicitDeny"),
        ]),
        (params(["s3:ListBucket"], OTHER_ARN), [result("s3:ListBucket", OTHER_ARN, "implicitDeny")]),
        (params(["s3:GetObject"], OTHER_OBJECT), [result("s3:GetObject", OTHER_OBJECT, "implicitDeny")]),
    ]
    for expected, results in calls:
        iam.add_response("simulate_custom_policy", simulated(*results), expected)


def expect_no_findings(analyzer: Stubber, document=READ_ONLY) -> None:
    analyzer.add_response(
        "validate_policy",
        {"findings": []},
        {"policyDocument": json.dumps(document, separators=(",", ":")), "policyType": "IDENTITY_POLICY", "locale": "EN"},
    )


def read_only_subject() -> CheckSubject:
    return aws_checks.subject_for_request(READ_ONLY, [BUCKET], AccessLevel.READ_ONLY, PREFIX)


# -- the simulator's matrix ------------------------------------------------------------------------


def test_aws_agrees_with_the_offline_evaluator_row_by_row(ctx, iam, analyzer):
    expect_read_only_matrix(iam)
    expect_no_findings(analyzer)

    report = aws_checks.run_aws_checks(ctx, read_only_subject(), sleep=Recorder())

    simulation = report.simulation
    assert simulation.status is CheckStatus.DONE
    assert len(simulation.rows) == 11
    assert all(row.agrees for row in simulation.rows)
    assert report.disagreements == []
    inside = simulation.rows[0]
    assert inside.request.label.startswith("list inside the prefix")
    assert inside.aws_decision == "allowed" and inside.offline_decision == "allowed"
    assert inside.aws_reason == "allowed by the generated policy (line 1)"
    assert "ListObjectsInBucket" in inside.offline_reason
    assert simulation.summary == "IAM policy simulator: AWS agrees with the offline evaluator on 11 of 11 requests"


def test_a_disagreement_is_reported_with_both_reasons(ctx, iam, analyzer):
    expect_read_only_matrix(iam, list_outside="allowed")
    expect_no_findings(analyzer)

    report = aws_checks.run_aws_checks(ctx, read_only_subject(), sleep=Recorder())

    [row] = report.disagreements
    assert row.request.label.startswith("list outside the prefix")
    assert (row.offline_decision, row.aws_decision) == ("implicitDeny", "allowed")
    assert "condition StringLike s3:prefix" in row.offline_reason
    assert row.aws_reason == "allowed by the generated policy (line 1)"
    assert "DISAGREES" in report.simulation.summary and "1 of 11" in report.simulation.summary
    text = "\n".join(report.lines())
    assert "DISAGREE  list outside the prefix" in text
    assert "offline: implicitDeny: " in text and "AWS:     allowed: allowed by" in text
    assert aws_checks.DISAGREEMENT_NOTE in text
    assert report.to_dict()["simulation"]["disagree"] == 1


def test_the_per_resource_answer_is_read_when_aws_aggregates(ctx, iam):
    """AWS now returns one EvaluationResult per action, its top level the most restrictive over
    every resource: the decision for a resource is in ResourceSpecificResults."""
    request = aws_checks.SimulatedRequest("read inside", "s3:GetObject", INSIDE)
    iam.add_response(
        "simulate_custom_policy",
        {
            "EvaluationResults": [
                {
                    "EvalActionName": "s3:GetObject",
                    "EvalResourceName": "*",
                    "EvalDecision": "implicitDeny",
                    "ResourceSpecificResults": [
                        {"EvalResourceName": OUTSIDE, "EvalResourceDecision": "implicitDeny"},
                        {"EvalResourceName": INSIDE, "EvalResourceDecision": "allowed", "MatchedStatements": MATCHED},
                    ],
                }
            ],
            "IsTruncated": False,
        },
        {"PolicyInputList": ANY, "ActionNames": ["s3:GetObject"], "ResourceArns": [INSIDE]},
    )

    check = aws_checks.compare_with_aws(ctx, [request], [("the policy", READ_ONLY)])

    [row] = check.rows
    assert row.aws_decision == "allowed" and row.agrees


def test_boundary_bucket_policy_caller_and_pages_are_sent(ctx, iam):
    """The boundary goes in PermissionsBoundaryPolicyInputList, the bucket policy in ResourcePolicy
    with the user as CallerArn, and a truncated answer is followed by Marker."""
    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]}
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}],
    }
    user = "arn:aws:iam::123456789012:user/s3.read-only.alpha-bucket"
    request = aws_checks.SimulatedRequest(
        "read inside", "s3:GetObject", INSIDE, resource_policy=("bucket policy of alpha-bucket", bucket_policy)
    )
    expected = {
        "PolicyInputList": [json.dumps(READ_ONLY, separators=(",", ":"))],
        "ActionNames": ["s3:GetObject"],
        "ResourceArns": [INSIDE],
        "PermissionsBoundaryPolicyInputList": [json.dumps(boundary, separators=(",", ":"))],
        "ResourcePolicy": json.dumps(bucket_policy, separators=(",", ":")),
        "CallerArn": user,
    }
    iam.add_response("simulate_custom_policy", {"EvaluationResults": [], "IsTruncated": True, "Marker": "page-2"}, expected)
    denied = [{"SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "resource",
               "StartPosition": {"Line": 1, "Column": 1}, "EndPosition": {"Line": 3, "Column": 1}}]
    iam.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", INSIDE, "explicitDeny", denied)),
        dict(expected, Marker="page-2"),
    )

    check = aws_checks.compare_with_aws(
        ctx, [request], [("the generated policy", READ_ONLY)], boundary=("permissions boundary", boundary), caller_arn=user
    )

    [row] = check.rows
    assert row.aws_decision == "explicitDeny" and row.offline_decision == "explicitDeny" and row.agrees
    assert row.aws_reason == "denied explicitly by bucket policy of alpha-bucket (lines 1-3)"


def test_missing_context_and_the_boundary_detail_are_in_aws_reason(ctx, iam):
    request = aws_checks.SimulatedRequest("list", "s3:ListBucket", BUCKET_ARN)
    iam.add_response(
        "simulate_custom_policy",
        simulated({**result("s3:ListBucket", BUCKET_ARN, "implicitDeny", missing=["s3:prefix"]),
                   "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": False}}),
    )

    [row] = aws_checks.compare_with_aws(ctx, [request], [("p", READ_ONLY)]).rows

    assert row.aws_reason == (
        "no statement allows it (implicit deny); the permissions boundary does not allow it; "
        "context keys AWS had no value for: s3:prefix"
    )


def test_context_types_follow_the_global_keys(ctx, iam):
    """aws:SecureTransport is a boolean and aws:SourceIp an ip for the simulator, a repeated key a list."""
    request = aws_checks.SimulatedRequest(
        "get", "s3:GetObject", INSIDE,
        {"aws:SecureTransport": "true", "aws:SourceIp": "203.0.113.7", "s3:ExistingObjectTag/team": ["a", "b"]},
    )
    iam.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", INSIDE, "allowed", MATCHED)),
        {
            "PolicyInputList": ANY,
            "ActionNames": ["s3:GetObject"],
            "ResourceArns": [INSIDE],
            "ContextEntries": [
                {"ContextKeyName": "aws:SecureTransport", "ContextKeyValues": ["true"], "ContextKeyType": "boolean"},
                {"ContextKeyName": "aws:SourceIp", "ContextKeyValues": ["203.0.113.7"], "ContextKeyType": "ip"},
                {"ContextKeyName": "s3:ExistingObjectTag/team", "ContextKeyValues": ["a", "b"], "ContextKeyType": "stringList"},
            ],
        },
    )

    [row] = aws_checks.compare_with_aws(ctx, [request], [("p", READ_ONLY)]).rows

    assert row.agrees


# -- Access Analyzer: ValidatePolicy -------------------------------------------------------------

FINDINGS_PAGE_1 = {
    "findings": [
        {
            "findingDetails": "Add a value to the empty string in the Resource element.",
            "findingType": "SUGGESTION",
            "issueCode": "EMPTY_STRING_RESOURCE",
            "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-suggestion-empty-string-resource",
            "locations": [
                {
                    "path": [{"value": "Statement"}, {"index": 0}, {"value": "Resource"}, {"index": 1}],
                    "span": {"start": {"line": 7, "column": 8, "offset": 140}, "end": {"line": 7, "column": 10, "offset": 142}},
                }
            ],
        },
        {
            "findingDetails": "Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive.",
            "findingType": "SECURITY_WARNING",
            "issueCode": "PASS_ROLE_WITH_STAR_IN_RESOURCE",
            "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-security-warning-pass-role-with-star-in-resource",
            "locations": [
                {
                    "path": [{"key": "Statement"}, {"index": 1}, {"key": "Resource"}],
                    "span": {"start": {"line": 12, "column": 19, "offset": 300}, "end": {"line": 12, "column": 22, "offset": 303}},
                }
            ],
        },
    ],
    "nextToken": "more",
}
FINDINGS_PAGE_2 = {
    "findings": [
        {
            "findingDetails": "The action s3:GetObjekt does not exist.",
            "findingType": "ERROR",
            "issueCode": "INVALID_ACTION",
            "learnMoreLink": "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-error-invalid-action",
            "locations": [],
        }
    ]
}


def test_findings_come_most_severe_first_with_links_and_places(ctx, analyzer):
    document = {"Version": "2012-10-17", "Statement": []}
    base = {"policyDocument": json.dumps(document, separators=(",", ":")), "policyType": "IDENTITY_POLICY", "locale": "EN"}
    analyzer.add_response("validate_policy", FINDINGS_PAGE_1, base)
    analyzer.add_response("validate_policy", FINDINGS_PAGE_2, dict(base, nextToken="more"))

    check = aws_checks.validate_with_aws(ctx, "the custom policy", document)

    assert check.status is CheckStatus.DONE
    assert [f.finding_type for f in check.findings] == ["ERROR", "SECURITY_WARNING", "SUGGESTION"]
    error, warning, suggestion = check.findings
    assert error.text == "error INVALID_ACTION: The action s3:GetObjekt does not exist."
    assert warning.locations == ("Statement[1].Resource (line 12)",)
    assert suggestion.locations == ("Statement[0].Resource[1] (line 7)",)
    assert warning.learn_more_link.endswith("pass-role-with-star-in-resource")
    assert check.summary == "Access Analyzer ValidatePolicy (the custom policy): 1 error, 1 security warning, 1 suggestion"
    assert check.to_dict()["findings"][0]["learn_more_link"] == error.learn_more_link


def test_a_bucket_policy_is_validated_as_an_s3_resource_policy(ctx, analyzer):
    document = {"Version": "2012-10-17", "Statement": []}
    analyzer.add_response(
        "validate_policy",
        {"findings": []},
        {
            "policyDocument": ANY,
            "policyType": "RESOURCE_POLICY",
            "locale": "EN",
            "validatePolicyResourceType": "AWS::S3::Bucket",
        },
    )

    check = aws_checks.validate_with_aws(ctx, "bucket policy", document, "RESOURCE_POLICY", resource_type="AWS::S3::Bucket")

    assert check.summary == "Access Analyzer ValidatePolicy (bucket policy): no findings"


# -- degrading: not permitted, throttled, not available ------------------------------------------


def test_access_denied_names_the_permission_and_the_flow_goes_on(ctx, iam, analyzer):
    iam.add_client_error(
        "simulate_custom_policy", "AccessDenied", "User: arn:aws:iam::123456789012:user/bob is not authorized", 403
    )
    analyzer.add_client_error("validate_policy", "AccessDeniedException", "not authorized", 403)

    report = aws_checks.run_aws_checks(ctx, read_only_subject(), sleep=Recorder())

    assert report.simulation.status is CheckStatus.NOT_PERMITTED
    assert report.simulation.message == "not permitted: your identity needs iam:SimulateCustomPolicy for this check"
    [validation] = report.validations
    assert validation.status is CheckStatus.NOT_PERMITTED
    assert "access-analyzer:ValidatePolicy" in validation.message
    assert not report.unavailable


def test_throttling_is_retried_with_backoff(ctx, analyzer):
    for _ in range(2):
        analyzer.add_client_error("validate_policy", "ThrottlingException", "Rate exceeded", 429)
    analyzer.add_response("validate_policy", {"findings": []})
    pause = Recorder()

    check = aws_checks.validate_with_aws(ctx, "p", READ_ONLY, sleep=pause)

    assert check.status is CheckStatus.DONE
    assert pause.delays == [0.5, 1.0]


def test_throttling_that_does_not_stop_is_reported_after_bounded_attempts(ctx, iam):
    for _ in range(aws_checks.THROTTLE_ATTEMPTS):
        iam.add_client_error("simulate_custom_policy", "Throttling", "Rate exceeded", 400)
    pause = Recorder()

    check = aws_checks.compare_with_aws(
        ctx, [aws_checks.SimulatedRequest("l", "s3:ListBucket", BUCKET_ARN)], [("p", READ_ONLY)], sleep=pause
    )

    assert check.status is CheckStatus.THROTTLED
    assert "iam:SimulateCustomPolicy" in check.message and "3 attempts" in check.message
    assert pause.delays == [0.5, 1.0]


def test_a_non_aws_endpoint_is_not_asked_at_all(monkeypatch):
    ctx = AwsContext(SessionConfig(region="us-east-1", endpoint_url="http://127.0.0.1:9000"))
    # Any call would fail loudly: a Stubber with nothing queued refuses every request.
    with Stubber(ctx.iam), Stubber(ctx.client("accessanalyzer")):
        report = aws_checks.run_aws_checks(ctx, read_only_subject(), paid=True)

    assert report.unavailable.startswith("not available at this endpoint (http://127.0.0.1:9000)")
    assert report.lines() == [f"AWS checks: {report.unavailable}"]
    assert report.simulation.status is CheckStatus.UNAVAILABLE and report.proofs == ()


def test_an_endpoint_that_lacks_the_operations_is_unavailable_quietly():
    """moto (the tests' AWS) implements neither API: said once, as not available."""
    with mock_aws():
        ctx = AwsContext(SessionConfig(region="us-east-1"))
        report = aws_checks.run_aws_checks(ctx, read_only_subject())

    assert report.unavailable == "not available at this endpoint: it does not implement iam:SimulateCustomPolicy"
    assert len(report.lines()) == 1


def test_an_unknown_operation_answer_is_unavailable(ctx, analyzer):
    analyzer.add_client_error("validate_policy", "UnknownOperationException", "", 400)

    check = aws_checks.validate_with_aws(ctx, "p", READ_ONLY)

    assert check.status is CheckStatus.UNAVAILABLE
    assert "access-analyzer:ValidatePolicy" in check.message


# -- charged checks ------------------------------------------------------------------------------


def test_charged_checks_are_off_by_default_and_their_cost_is_stated(ctx, iam, analyzer):
    expect_read_only_matrix(iam)
    expect_no_findings(analyzer)

    report = aws_checks.run_aws_checks(ctx, read_only_subject(), sleep=Recorder())

    assert report.proofs == ()
    assert report.proofs_note.startswith("not run, since AWS charges for them (1 charged Access Analyzer call, about $0.002;")
    assert report.proofs_note.endswith("they prove the policy grants no write, delete or bucket administration")
    assert aws_checks.PRICING_URL in report.proofs_note


def test_read_only_is_proven_to_grant_no_write_or_delete(ctx, iam, analyzer):
    expect_read_only_matrix(iam)
    expect_no_findings(analyzer)
    analyzer.add_response(
        "check_access_not_granted",
        {"result": "PASS", "message": "The policy document does not grant access to perform the listed actions.", "reasons": []},
        {
            "policyDocument": json.dumps(READ_ONLY, separators=(",", ":")),
            "access": [{"actions": list(aws_checks.WRITE_DELETE_ACTIONS + aws_checks.ADMIN_ACTIONS)}],
            "policyType": "IDENTITY_POLICY",
        },
    )

    report = aws_checks.run_aws_checks(ctx, read_only_subject(), paid=True, sleep=Recorder())

    [proof] = report.proofs
    assert proof.passed is True and proof.status is CheckStatus.DONE
    assert proof.summary.startswith("Grants no write, delete or bucket administration: PASS (proven)")
    assert report.proofs_note == ""


def test_write_only_is_checked_for_reads_and_a_fail_gives_the_statement(ctx, analyzer):
    policy = policy_for([BUCKET], AccessLevel.WRITE_ONLY, PREFIX)
    subject = aws_checks.subject_for_request(policy, [BUCKET], AccessLevel.WRITE_ONLY, PREFIX)
    [spec] = aws_checks.proofs_for(subject)
    assert "s3:GetObject" in spec.actions and "s3:ListBucket" in spec.actions and "s3:PutObject" not in spec.actions
    analyzer.add_response(
        "check_access_not_granted",
        {
            "result": "FAIL",
            "message": "The policy document grants access to perform one or more of the listed actions.",
            "reasons": [{"description": "One or more of the listed actions in the statement is granted.",
                         "statementIndex": 0, "statementId": "WriteObjects"}],
        },
    )

    proof = aws_checks.run_proof(ctx, spec)

    assert proof.passed is False
    assert proof.reasons == ("WriteObjects: One or more of the listed actions in the statement is granted.",)


def test_a_custom_policy_is_proven_against_the_generated_one(ctx, analyzer):
    custom = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*"}]}
    subject = aws_checks.subject_for_request(custom, [BUCKET], AccessLevel.CUSTOM)
    reference = policy_for([BUCKET], AccessLevel.READ_WRITE, "")
    assert subject.reference_policy == reference
    analyzer.add_response(
        "check_no_new_access",
        {
            "result": "FAIL",
            "message": "The modified permissions grant new access compared to your existing policy.",
            "reasons": [{"description": "New access in the statement with index: 0.", "statementIndex": 0}],
        },
        {
            "newPolicyDocument": json.dumps(custom, separators=(",", ":")),
            "existingPolicyDocument": json.dumps(reference, separators=(",", ":")),
            "policyType": "IDENTITY_POLICY",
        },
    )

    [proof] = [aws_checks.run_proof(ctx, spec) for spec in aws_checks.proofs_for(subject)]

    assert proof.operation == "CheckNoNewAccess" and proof.passed is False
    assert proof.reasons == ("statement [0]: New access in the statement with index: 0.",)


def test_cost_text_counts_calls():
    assert aws_checks.paid_cost_text(2).startswith("2 charged Access Analyzer calls, about $0.004")
    assert aws_checks.paid_cost_text(0) == "no charged check applies"


# -- a whole plan: boundary and bucket policy read from the account ------------------------------


def test_a_plan_is_checked_with_its_boundary_bucket_policy_and_user(ctx):
    with mock_aws():
        ctx = AwsContext(SessionConfig(region="us-east-1"))
        ctx.s3.create_bucket(Bucket=BUCKET)
        plan = build_plan(ctx, CredentialRequest(buckets=(BUCKET,), access=AccessLevel.READ_ONLY, prefix=PREFIX,
                                                 kind=CredentialKind.PERMANENT))
    subject = aws_checks.subject_for_plan(plan)
    assert subject.boundary_arn == S3_READ_ONLY_POLICY_ARN
    assert subject.caller_arn == f"arn:aws:iam::{plan.identity.account}:user/s3.read-only.{BUCKET}"
    assert subject.read_bucket_policies

    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"{BUCKET_ARN}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}
    boundary_text = json.dumps(boundary, separators=(",", ":"))
    ctx = AwsContext(SessionConfig(region="us-east-1"))
    with Stubber(ctx.iam) as iam, Stubber(ctx.s3) as s3, Stubber(ctx.client("accessanalyzer")) as analyzer:
        iam.add_response("get_policy", {"Policy": {"DefaultVersionId": "v3"}}, {"PolicyArn": S3_READ_ONLY_POLICY_ARN})
        iam.add_response("get_policy_version", {"PolicyVersion": {"Document": json.dumps(boundary), "VersionId": "v3"}},
                         {"PolicyArn": S3_READ_ONLY_POLICY_ARN, "VersionId": "v3"})
        s3.add_response("get_bucket_policy", {"Policy": json.dumps(bucket_policy)}, {"Bucket": BUCKET})
        both = {"PermissionsBoundaryPolicyInputList": [boundary_text], "CallerArn": subject.caller_arn}
        expect_read_only_matrix(
            iam,
            extra=dict(both, ResourcePolicy=json.dumps(bucket_policy, separators=(",", ":"))),
            other_extra=both,  # the other bucket has no bucket policy
        )
        analyzer.add_response("validate_policy", {"findings": []})

        report = aws_checks.run_aws_checks(ctx, subject, sleep=Recorder())

        for stubber in (iam, s3, analyzer):
            stubber.assert_no_pending_responses()
    assert report.simulation.status is CheckStatus.DONE
    assert all(row.agrees for row in report.simulation.rows)
    assert report.simulation.rows[0].request.resource_policy[0] == "bucket policy of alpha-bucket"
    assert report.simulation.notes == ()


def test_a_session_is_simulated_without_the_bucket_policy_and_says_so(ctx, iam, analyzer):
    subject = aws_checks.CheckSubject(
        READ_ONLY, (BUCKET,), AccessLevel.READ_ONLY, PREFIX,
        bucket_policies={BUCKET: {"Version": "2012-10-17", "Statement": []}},
    )
    expect_read_only_matrix(iam)
    expect_no_findings(analyzer)

    report = aws_checks.run_aws_checks(ctx, subject, sleep=Recorder())

    assert report.simulation.status is CheckStatus.DONE
    assert report.simulation.notes == (
        (
            "bucket policies left out: AWS's simulator weighs a bucket policy only for an IAM user as the caller, "
            "and these credentials are a session"
        ),
    )


# -- one request (the simulate command) ----------------------------------------------------------


def test_one_request_with_a_role_caller_is_compared_without_it_and_says_so(ctx, iam, analyzer):
    from s3cred_tui.core.simulate import RequestContext

    role_session = "arn:aws:sts::123456789012:assumed-role/reader/alice"
    iam.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", INSIDE, "allowed", MATCHED)),
        {"PolicyInputList": ANY, "ActionNames": ["s3:GetObject"], "ResourceArns": [INSIDE]},  # no CallerArn
    )
    expect_no_findings(analyzer)

    report = aws_checks.check_request_with_aws(
        ctx, RequestContext("s3:GetObject", INSIDE, {}, role_session), [("the policy", READ_ONLY)], sleep=Recorder()
    )

    [row] = report.simulation.rows
    assert row.agrees
    assert report.simulation.notes == (
        f"compared without the caller {role_session}: AWS's simulator takes only an IAM user as the caller",
    )
    assert report.validations[0].summary == "Access Analyzer ValidatePolicy (the policy): no findings"


def test_one_request_with_a_bucket_policy_sends_the_user_and_validates_the_bucket_policy(ctx, iam, analyzer):
    from s3cred_tui.core.simulate import RequestContext

    user = "arn:aws:iam::123456789012:user/alice"
    bucket_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user}, "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}]}
    allowed_by_bucket = [{"SourcePolicyId": "ResourcePolicy", "SourcePolicyType": "resource",
                          "StartPosition": {"Line": 1, "Column": 1}, "EndPosition": {"Line": 1, "Column": 90}}]
    iam.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", OUTSIDE, "allowed", allowed_by_bucket)),
        {"PolicyInputList": ANY, "ActionNames": ["s3:GetObject"], "ResourceArns": [OUTSIDE],
         "ResourcePolicy": json.dumps(bucket_policy, separators=(",", ":")), "CallerArn": user},
    )
    expect_no_findings(analyzer)
    analyzer.add_response("validate_policy", {"findings": []}, {
        "policyDocument": ANY, "policyType": "RESOURCE_POLICY", "locale": "EN", "validatePolicyResourceType": "AWS::S3::Bucket"})

    report = aws_checks.check_request_with_aws(
        ctx, RequestContext("s3:GetObject", OUTSIDE, {}, user), [("the policy", READ_ONLY)],
        resource_policy=("bucket policy", bucket_policy), sleep=Recorder(),
    )

    [row] = report.simulation.rows
    assert row.agrees and row.aws_reason == "allowed by bucket policy (line 1)"
    assert [v.status for v in report.validations] == [CheckStatus.DONE, CheckStatus.DONE]


def test_one_request_with_a_session_policy_is_not_compared(ctx, iam, analyzer):
    from s3cred_tui.core.simulate import RequestContext

    expect_no_findings(analyzer)
    expect_no_findings(analyzer)

    report = aws_checks.check_request_with_aws(
        ctx, RequestContext("s3:GetObject", INSIDE), [("the policy", READ_ONLY)],
        session_policy=("session policy", READ_ONLY), sleep=Recorder(),
    )

    assert report.simulation.status is CheckStatus.SKIPPED
    assert "takes no session policy" in report.simulation.message


def test_policies_go_to_aws_as_ascii_json(ctx, iam):
    """IAM's policy parameters take U+0020-U+00FF only: other characters of a key travel as \\u escapes."""
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, "日本/")
    sent = json.dumps(policy, separators=(",", ":"))
    assert "\\u65e5\\u672c" in sent and sent.isascii()
    resource = f"{BUCKET_ARN}/日本/s3cred-probe-object"
    iam.add_response(
        "simulate_custom_policy",
        simulated(result("s3:GetObject", resource, "allowed", MATCHED)),
        {"PolicyInputList": [sent], "ActionNames": ["s3:GetObject"], "ResourceArns": [resource]},
    )

    [row] = aws_checks.compare_with_aws(ctx, [aws_checks.SimulatedRequest("read", "s3:GetObject", resource)], [("p", policy)]).rows

    assert row.agrees
