"""Plans: validated before any AWS call, accurate about the account, and honest about blockers."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from moto import mock_aws

from s3cred_tui.core import policies
from s3cred_tui.core.errors import CredentialsExpired, CredentialsInvalid, ValidationError
from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.plan import (
    DEFAULT_ROLE_NAME,
    WAIT_FOR_KEY_ACTION,
    WAIT_FOR_KEY_TITLE,
    build_plan,
    user_policy_name,
)
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.tags import CREATED_BY_TAG

ACCOUNT = "123456789012"
USER = Identity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE", "user", "alice")
ROOT = Identity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "root", "root")
SESSION = Identity(
    ACCOUNT,
    f"arn:aws:sts::{ACCOUNT}:assumed-role/admin/bob",
    "AROAADMIN:bob",
    "assumed-role",
    "admin",
)


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket="data-lake")
        yield context


class NoAws:
    """A context whose every AWS call fails the test."""

    region = "us-east-1"

    def __getattr__(self, name):
        raise AssertionError(f"an AWS client ({name}) was used before validation finished")

    def client(self, *args, **kwargs):
        raise AssertionError("an AWS client was used before validation finished")


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (CredentialRequest(buckets=()), "buckets"),
        (CredentialRequest(buckets=("Data_Lake",)), "buckets"),
        (CredentialRequest(buckets=("data-lake",), prefix="/reports"), "prefix"),
        (CredentialRequest(buckets=("data-lake",), prefix="rep*"), "prefix"),
        (CredentialRequest(buckets=("data-lake",), duration_seconds=3600), "duration"),
        (CredentialRequest(buckets=("data-lake",), username="bad name!"), "username"),
        (CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE, duration_seconds=60), "duration"),
        (CredentialRequest(buckets=tuple(f"bucket-number-{i:03d}-with-a-long-name" for i in range(40))), "policy"),
    ],
    ids=["no-bucket", "bad-bucket", "leading-slash", "wildcard", "duration-on-permanent", "bad-user", "short", "huge"],
)
def test_bad_requests_are_refused_before_any_aws_call(request_, field):
    with pytest.raises(ValidationError) as caught:
        build_plan(NoAws(), request_, identity=USER)
    assert caught.value.field == field


def _recorded_operations(ctx) -> list[str]:
    calls: list[str] = []
    for client in (ctx.s3, ctx.iam, ctx.sts):
        client.meta.events.register("before-call", lambda model, **_: calls.append(model.name))
    return calls


def test_permanent_plan_lists_every_call_and_reads_only(ctx):
    calls = _recorded_operations(ctx)
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), access=AccessLevel.READ_ONLY, prefix="reports"), USER)
    assert plan.ok
    assert [s.action for s in plan.steps] == [
        "iam:CreateUser",
        "iam:PutUserPolicy",
        "iam:CreateAccessKey",
        WAIT_FOR_KEY_ACTION,
    ]
    assert plan.steps[-1].title == WAIT_FOR_KEY_TITLE
    assert all(op.startswith(("Get", "List", "Head")) for op in calls), calls
    assert ctx.iam.list_users()["Users"] == []

    create_user = plan.steps[0].params
    assert create_user["UserName"] == "s3.read-only.data-lake"
    assert create_user["Tags"] == [CREATED_BY_TAG]
    assert create_user["PermissionsBoundary"] == policies.BOUNDARY_FOR_LEVEL[AccessLevel.READ_ONLY]
    assert plan.steps[1].params["PolicyName"] == user_policy_name(AccessLevel.READ_ONLY)
    assert plan.steps[1].policy == policies.policy_for(("data-lake",), AccessLevel.READ_ONLY, "reports/")

    text = plan.describe()
    for step in plan.steps:
        assert step.action in text
    policy_lines = [line.rstrip() for line in policies.policy_json(plan.steps[1].policy).splitlines()]
    text_lines = [line.rstrip() for line in text.splitlines()]
    start = text_lines.index("       " + policy_lines[0])
    assert [line[7:] for line in text_lines[start : start + len(policy_lines)]] == policy_lines
    assert "arn:aws:s3:::data-lake/reports/*" in text
    assert "bucket data-lake exists in us-east-1" in text
    assert "user s3.read-only.data-lake does not exist" in text

    as_dict = json.loads(json.dumps(plan.to_dict()))
    assert as_dict["ok"] is True
    assert [s["action"] for s in as_dict["steps"]] == [s.action for s in plan.steps]
    assert as_dict["steps"][1]["policy"] == plan.steps[1].policy


def test_no_permissions_boundary_when_turned_off(ctx):
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), permissions_boundary=False), USER)
    assert "PermissionsBoundary" not in plan.steps[0].params


def test_existing_user_is_a_blocker_unless_reused(ctx):
    ctx.iam.create_user(UserName="reports-reader")
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), username="reports-reader"), USER)
    assert not plan.ok
    assert any("reports-reader exists; choose another name or reuse it" in b for b in plan.blockers)

    reused = build_plan(
        ctx, CredentialRequest(buckets=("data-lake",), username="reports-reader", reuse_existing_user=True), USER
    )
    assert reused.ok
    assert [s.action for s in reused.steps] == ["iam:PutUserPolicy", "iam:CreateAccessKey", WAIT_FOR_KEY_ACTION]


def test_reused_user_with_two_keys_is_blocked(ctx):
    ctx.iam.create_user(UserName="busy")
    ctx.iam.create_access_key(UserName="busy")
    ctx.iam.create_access_key(UserName="busy")
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), username="busy", reuse_existing_user=True), USER)
    assert not plan.ok
    assert any("2 access keys" in b and "at most 2" in b for b in plan.blockers)


def test_reused_user_keeps_its_policies_and_counts_them_against_the_limit(ctx):
    ctx.iam.create_user(UserName="crowded")
    name = user_policy_name(AccessLevel.READ_WRITE)
    padding = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "x" * 1800}]}
    ctx.iam.put_user_policy(UserName="crowded", PolicyName=name, PolicyDocument=json.dumps(padding))
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), username="crowded", reuse_existing_user=True), USER)
    assert not plan.ok
    assert any("2,048" in b and "other inline" in b for b in plan.blockers)
    put = next(s for s in plan.steps if s.action == "iam:PutUserPolicy")
    assert put.params["PolicyName"] != name  # never overwrite the user's own policy


def test_missing_bucket_is_a_blocker_or_a_creation_step(ctx):
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake", "not-there-yet")), USER)
    assert any("not-there-yet does not exist" in b for b in plan.blockers)

    creating = build_plan(
        ctx,
        CredentialRequest(buckets=("not-there-yet",), create_buckets=True, bucket_region="eu-west-1"),
        USER,
    )
    assert creating.ok
    create, tag = creating.steps[0], creating.steps[1]
    assert create.action == "s3:CreateBucket"
    assert create.params["CreateBucketConfiguration"] == {"LocationConstraint": "eu-west-1"}
    assert tag.action == "s3:PutBucketTagging"
    assert tag.params["Tagging"]["TagSet"] == [CREATED_BY_TAG]

    in_virginia = build_plan(
        ctx, CredentialRequest(buckets=("not-there-yet",), create_buckets=True, bucket_region="us-east-1"), USER
    )
    assert "CreateBucketConfiguration" not in in_virginia.steps[0].params


def _raise_on(client, operation: str, code: str, status: int = 400):
    def fail(**kwargs):
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}, operation
        )

    return fail


def test_expired_token_is_not_reported_as_a_missing_bucket(ctx, monkeypatch):
    monkeypatch.setattr(ctx.s3, "head_bucket", _raise_on(ctx.s3, "HeadBucket", "ExpiredToken"))
    with pytest.raises(CredentialsExpired):
        build_plan(ctx, CredentialRequest(buckets=("data-lake",)), USER)


def test_forbidden_head_with_dead_credentials_surfaces_the_credentials(ctx, monkeypatch):
    # HEAD answers carry no error code: a bare 403 is checked against STS.
    monkeypatch.setattr(ctx.s3, "head_bucket", _raise_on(ctx.s3, "HeadBucket", "403", 403))
    monkeypatch.setattr(ctx.sts, "get_caller_identity", _raise_on(ctx.sts, "GetCallerIdentity", "InvalidClientTokenId", 403))
    with pytest.raises(CredentialsInvalid):
        build_plan(ctx, CredentialRequest(buckets=("data-lake",)), USER)


def test_forbidden_head_with_good_credentials_is_a_warning(ctx, monkeypatch):
    monkeypatch.setattr(ctx.s3, "head_bucket", _raise_on(ctx.s3, "HeadBucket", "403", 403))
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",)), USER)
    assert plan.ok
    assert any("Cannot confirm bucket data-lake" in w for w in plan.warnings)


# ---------------------------------------------------------------- assume role


def _role_request(**kwargs) -> CredentialRequest:
    return CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE, **kwargs)


def test_root_cannot_assume_a_role(ctx):
    plan = build_plan(ctx, _role_request(), ROOT)
    assert any("root user cannot assume a role" in b and "federation token" in b for b in plan.blockers)


def test_missing_role_is_created_trusting_the_caller(ctx):
    plan = build_plan(ctx, _role_request(duration_seconds=7200), USER)
    assert plan.ok
    assert [s.action for s in plan.steps] == ["iam:CreateRole", "iam:AttachRolePolicy", "sts:AssumeRole"]
    create, attach, assume = plan.steps
    assert create.params["RoleName"] == DEFAULT_ROLE_NAME
    assert create.params["MaxSessionDuration"] == 7200
    assert create.policy == policies.trust_policy_for(USER.arn)
    assert attach.params["PolicyArn"] == policies.ROLE_MANAGED_POLICY_ARN
    assert assume.params["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{DEFAULT_ROLE_NAME}"
    assert assume.params["DurationSeconds"] == 7200
    assert len(assume.params["RoleSessionName"]) <= 64
    assert assume.policy == policies.policy_for(("data-lake",), AccessLevel.READ_WRITE)


def _make_role(ctx, name, trust_principal, ours, max_session=3600, attach=True):
    tags = [CREATED_BY_TAG] if ours else []
    ctx.iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(policies.trust_policy_for(trust_principal)),
        MaxSessionDuration=max_session,
        Tags=tags,
    )
    if attach:
        ctx.iam.attach_role_policy(RoleName=name, PolicyArn=policies.ROLE_MANAGED_POLICY_ARN)


def test_our_drifted_role_is_repaired(ctx_with_managed_policies):
    """Repair re-attaches the managed policy and lengthens sessions of a role that trusts only
    the caller; it never touches the trust policy (see the trust tests below)."""
    ctx = ctx_with_managed_policies
    _make_role(ctx, DEFAULT_ROLE_NAME, USER.arn, ours=True, attach=False)
    plan = build_plan(ctx, _role_request(duration_seconds=7200), USER)
    assert plan.ok, plan.blockers
    assert [s.action for s in plan.steps] == [
        "iam:AttachRolePolicy",
        "iam:UpdateRole",
        "sts:AssumeRole",
    ]
    assert plan.steps[1].params["MaxSessionDuration"] == 7200


def test_ready_role_needs_only_assume_role(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies
    _make_role(ctx, DEFAULT_ROLE_NAME, USER.arn, ours=True)
    plan = build_plan(ctx, _role_request(), USER)
    assert plan.ok
    assert [s.action for s in plan.steps] == ["sts:AssumeRole"]
    assert any("is ready" in f for f in plan.facts)


def test_someone_elses_wrong_role_is_refused_not_changed(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies
    _make_role(ctx, "their-role", f"arn:aws:iam::{ACCOUNT}:user/someone-else", ours=False)
    plan = build_plan(ctx, _role_request(role_name="their-role"), USER)
    assert not plan.ok
    assert any("not created by s3cred-tui" in b for b in plan.blockers)
    assert not any(s.action.startswith("iam:") for s in plan.steps)


def test_role_chaining_over_an_hour_is_blocked(ctx):
    plan = build_plan(ctx, _role_request(duration_seconds=7200), SESSION)
    assert any("role chaining at 1 hour" in b for b in plan.blockers)
    one_hour = build_plan(ctx, _role_request(duration_seconds=3600), SESSION)
    assert one_hour.ok
    # The trust policy names the role, not the session.
    assert one_hour.steps[0].policy == policies.trust_policy_for(f"arn:aws:iam::{ACCOUNT}:role/admin")


# ---------------------------------------------------------------- existing roles: trust decides


def _role_with_trust(ctx, name, trust, ours=True):
    ctx.iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[CREATED_BY_TAG] if ours else [],
    )
    ctx.iam.attach_role_policy(RoleName=name, PolicyArn=policies.ROLE_MANAGED_POLICY_ARN)


def _trust(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trusting(principal, **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra}


@pytest.mark.parametrize(
    ("trust", "reason"),
    [
        (_trust(_trusting("*")), 'anyone (Principal "*")'),
        (_trust(_trusting({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})), f"every principal in your account {ACCOUNT}"),
        (_trust(_trusting({"AWS": ACCOUNT})), f"every principal in your account {ACCOUNT}"),
        (
            _trust(_trusting({"AWS": [USER.arn, f"arn:aws:iam::{ACCOUNT}:user/mallory"]})),
            f"another principal, arn:aws:iam::{ACCOUNT}:user/mallory",
        ),
        (
            _trust(_trusting({"AWS": USER.arn}, Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})),
            "Condition (aws:MultiFactorAuthPresent) that cannot be checked",
        ),
        (_trust(_trusting({"AWS": USER.arn}), _trusting({"Service": "ec2.amazonaws.com"})), "the AWS service ec2.amazonaws.com"),
        (_trust(_trusting({"AWS": f"arn:aws:iam::{ACCOUNT}:user/someone-else"})), f"does not let {USER.arn} assume it"),
    ],
    ids=["star", "account-root", "bare-account-id", "caller-and-another", "condition", "service", "someone-else"],
)
def test_our_role_is_reused_only_when_it_trusts_exactly_the_caller(ctx_with_managed_policies, trust, reason):
    """A `created-by` tag is no authority: the role is refused, with the reason, and never rewritten."""
    ctx = ctx_with_managed_policies
    _role_with_trust(ctx, DEFAULT_ROLE_NAME, trust, ours=True)
    plan = build_plan(ctx, _role_request(), USER)
    assert not plan.ok
    (blocker,) = plan.blockers
    assert blocker.startswith(f"Role {DEFAULT_ROLE_NAME} (created by s3cred-tui) cannot be reused: ")
    assert reason in blocker
    assert f"choose another role name (for example {DEFAULT_ROLE_NAME}-2, which is free)" in blocker
    assert [s.action for s in plan.steps] == ["sts:AssumeRole"]  # no iam:UpdateAssumeRolePolicy, nothing else


def test_the_suggested_role_name_is_free(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies
    _role_with_trust(ctx, DEFAULT_ROLE_NAME, _trust(_trusting("*")))
    _role_with_trust(ctx, f"{DEFAULT_ROLE_NAME}-2", _trust(_trusting({"AWS": USER.arn})))
    plan = build_plan(ctx, _role_request(), USER)
    assert f"(for example {DEFAULT_ROLE_NAME}-3, which is free)" in plan.blockers[0]
    suggested = build_plan(ctx, _role_request(role_name=f"{DEFAULT_ROLE_NAME}-3"), USER)
    assert suggested.ok and suggested.steps[0].action == "iam:CreateRole"


def test_a_deny_for_someone_else_leaves_the_role_reusable(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies
    mallory = f"arn:aws:iam::{ACCOUNT}:user/mallory"
    trust = _trust(_trusting({"AWS": USER.arn}), {"Effect": "Deny", "Principal": {"AWS": mallory}, "Action": "sts:AssumeRole"})
    _role_with_trust(ctx, DEFAULT_ROLE_NAME, trust, ours=False)
    plan = build_plan(ctx, _role_request(), USER)
    assert plan.ok, plan.blockers
    assert [s.action for s in plan.steps] == ["sts:AssumeRole"]
    assert any("trusts only you, and is ready" in f for f in plan.facts)


def test_a_deny_of_the_caller_makes_the_role_unusable(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies
    trust = _trust(_trusting({"AWS": USER.arn}), {"Effect": "Deny", "Principal": {"AWS": USER.arn}, "Action": "sts:AssumeRole"})
    _role_with_trust(ctx, DEFAULT_ROLE_NAME, trust)
    plan = build_plan(ctx, _role_request(), USER)
    assert not plan.ok
    assert f"stops {USER.arn} from assuming it" in plan.blockers[0]


def test_an_assumed_role_caller_is_told_every_session_of_its_role_can_assume_the_helper(ctx_with_managed_policies):
    ctx = ctx_with_managed_policies

    def told(plan):
        return any(f"signed in through role {SESSION.principal_arn}" in w and "every session of it" in w for w in plan.warnings)

    new_role = build_plan(ctx, _role_request(), SESSION)
    assert new_role.ok and new_role.steps[0].action == "iam:CreateRole"
    assert told(new_role), new_role.warnings
    _role_with_trust(ctx, DEFAULT_ROLE_NAME, policies.trust_policy_for(SESSION.principal_arn))
    reused = build_plan(ctx, _role_request(), SESSION)
    assert reused.ok and [s.action for s in reused.steps] == ["sts:AssumeRole"]
    assert told(reused), reused.warnings
    assert not told(build_plan(ctx, _role_request(role_name="for-a-user"), USER))


# ---------------------------------------------------------------- custom policies are reviewed

ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TIGHT_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data-lake/reports/*"}],
}


def _custom(policy, **kwargs) -> CredentialRequest:
    return CredentialRequest(buckets=("data-lake",), access=AccessLevel.CUSTOM, custom_policy=policy, **kwargs)


def test_a_broad_custom_policy_is_blocked_until_acknowledged(ctx):
    plan = build_plan(ctx, _custom(ADMIN_POLICY, permissions_boundary=False), USER)
    assert not plan.ok
    (blocker,) = plan.blockers
    assert blocker.startswith("Custom policy: full administrator (every action on every resource). ")
    assert "every action on every resource (* on *)" in blocker and "--allow-broad" in blocker
    assert plan.needs_broad_acknowledgement and plan.ok_once_acknowledged
    assert "Custom policy: full administrator" in plan.describe()
    assert plan.to_dict()["policy_review"]["broad"] == list(plan.policy_review.broad)

    plan.acknowledge_broad_policy()
    assert plan.ok and not plan.needs_broad_acknowledgement and not plan.ok_once_acknowledged
    assert plan.request.allow_broad
    assert any(w.startswith("Acknowledged: the policy grants more than the named buckets") for w in plan.warnings)
    assert plan.steps[1].policy == ADMIN_POLICY  # the steps still send the policy the person wrote


def test_a_broad_policy_with_another_blocker_is_not_ok_once_acknowledged(ctx):
    plan = build_plan(ctx, CredentialRequest(buckets=("no-such-bucket",), access=AccessLevel.CUSTOM, custom_policy=ADMIN_POLICY), USER)
    assert plan.needs_broad_acknowledgement
    assert not plan.ok_once_acknowledged  # the missing bucket blocks it whatever the answer


def test_allow_broad_in_the_request_is_the_acknowledgement(ctx):
    plan = build_plan(ctx, _custom(ADMIN_POLICY, allow_broad=True), USER)
    assert plan.ok, plan.blockers
    assert any(w.startswith("Acknowledged:") for w in plan.warnings)
    assert plan.to_dict()["request"]["allow_broad"] is True


def test_a_tight_custom_policy_is_reviewed_and_passes(ctx):
    plan = build_plan(ctx, _custom(TIGHT_POLICY), USER)
    assert plan.ok, plan.blockers
    assert plan.policy_review is not None and plan.policy_review.broad == ()
    assert plan.policy_review.headline == "Custom policy: read on s3://data-lake/reports/"
    assert not any("parliament" in w for w in plan.warnings)


def test_parliament_findings_become_warnings(ctx):
    typo = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::data-lake/*"}]}
    plan = build_plan(ctx, _custom(typo), USER)
    assert plan.ok
    assert any(w.startswith("Policy lint (parliament): LOW UNKNOWN_ACTION") for w in plan.warnings)


def test_broad_extra_statements_are_reviewed_and_warned_about(ctx):
    extra = {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), extra_statements=(extra,)), USER)
    assert plan.ok, plan.blockers  # asked for by name, on top of a generated policy
    assert not plan.needs_broad_acknowledgement
    assert any(
        w.startswith("The extra statements grant more than the named buckets:") and "IAM/STS actions (iam:PassRole)" in w
        for w in plan.warnings
    )


def test_a_generated_policy_needs_no_review(ctx):
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",)), USER)
    assert plan.policy_review is None and plan.ok


# ---------------------------------------------------------------- federation token


def _federation_request(**kwargs) -> CredentialRequest:
    return CredentialRequest(buckets=("data-lake",), kind=CredentialKind.FEDERATION_TOKEN, **kwargs)


def test_federation_token_for_an_iam_user(ctx):
    plan = build_plan(ctx, _federation_request(duration_seconds=43200), USER)
    assert plan.ok
    (step,) = plan.steps
    assert step.action == "sts:GetFederationToken"
    assert len(step.params["Name"]) <= 32
    assert step.params["DurationSeconds"] == 43200
    assert step.policy == policies.policy_for(("data-lake",), AccessLevel.READ_WRITE)


def test_federation_token_refused_for_roles_and_long_root_tokens(ctx):
    assert not build_plan(ctx, _federation_request(), SESSION).ok
    assert not build_plan(ctx, _federation_request(duration_seconds=7200), ROOT).ok
    assert build_plan(ctx, _federation_request(duration_seconds=3600), ROOT).ok
