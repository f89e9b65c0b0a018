"""Every apply step, for every kind of plan, fails in turn with every fault; after each, the
account holds exactly what the tool reported.

The proxy sits between the tool and the threaded moto server; the account is read straight
from moto. moto's federation tokens are dummy keys (DOMAIN.md): only the calls matter here.
The whole matrix is `slow`; a slice with every fault kind and every plan kind runs by default.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.journal import unfinished_runs
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import APPLY_TIMEOUTS, AwsContext, SessionConfig
from s3cred_tui.core.tags import CREATED_BY_TAG
from tests.faults.account import snapshot, unreported_changes
from tests.faults.proxy import KINDS, Fault

pytestmark = pytest.mark.e2e

EXISTING_BUCKET = "fault-existing"
NEW_BUCKET = "fault-new-bucket"
BUCKET_REGION = "eu-west-1"  # outside us-east-1 a repeated CreateBucket answers BucketAlreadyOwnedByYou
USER = "fault-user"
HANG_SECONDS = 15.0
TRANSIENT = {"throttling", "server-error", "reset", "lost-response", "hang"}  # longer than the client's read timeout, so the client gives up first

PLAN_STEPS = {
    "permanent": [
        "s3:CreateBucket",
        "s3:PutBucketTagging",
        "iam:CreateUser",
        "iam:PutUserPolicy",
        "iam:CreateAccessKey",
        "sts:GetCallerIdentity",
    ],
    "permanent-reused-user": ["s3:CreateBucket", "s3:PutBucketTagging", "iam:PutUserPolicy", "iam:CreateAccessKey", "sts:GetCallerIdentity"],
    "assume-role": ["s3:CreateBucket", "s3:PutBucketTagging", "iam:CreateRole", "iam:AttachRolePolicy", "sts:AssumeRole"],
    "federation-token": ["s3:CreateBucket", "s3:PutBucketTagging", "sts:GetFederationToken"],
}

# One fault of each kind, spread over the plan kinds and the steps that create something.
DEFAULT_SLICE = {
    ("permanent", "s3:CreateBucket", "lost-response"),
    ("permanent", "iam:CreateUser", "lost-response"),
    ("permanent", "iam:CreateUser", "hang"),
    ("permanent", "iam:PutUserPolicy", "throttling"),
    ("permanent", "iam:CreateAccessKey", "lost-response"),
    ("permanent", "iam:CreateAccessKey", "limit-exceeded"),
    ("permanent", "sts:GetCallerIdentity", "reset"),
    ("permanent-reused-user", "iam:CreateAccessKey", "hang"),
    ("permanent-reused-user", "iam:PutUserPolicy", "access-denied"),
    ("assume-role", "iam:CreateRole", "lost-response"),
    ("assume-role", "iam:AttachRolePolicy", "reset"),
    ("assume-role", "sts:AssumeRole", "server-error"),
    ("assume-role", "s3:PutBucketTagging", "access-denied"),
    ("federation-token", "sts:GetFederationToken", "access-denied"),
    ("federation-token", "s3:CreateBucket", "hang"),
}


def _cases():
    for plan_kind, actions in PLAN_STEPS.items():
        for action in actions:
            for kind in KINDS:
                marks = () if (plan_kind, action, kind) in DEFAULT_SLICE else (pytest.mark.slow,)
                yield pytest.param(plan_kind, action, kind, id=f"{plan_kind}-{action}-{kind}", marks=marks)


def _request(plan_kind: str) -> CredentialRequest:
    kind = {
        "permanent": CredentialKind.PERMANENT,
        "permanent-reused-user": CredentialKind.PERMANENT,
        "assume-role": CredentialKind.ASSUME_ROLE,
        "federation-token": CredentialKind.FEDERATION_TOKEN,
    }[plan_kind]
    return CredentialRequest(
        buckets=(EXISTING_BUCKET, NEW_BUCKET),
        access=AccessLevel.READ_WRITE,
        prefix="reports",
        kind=kind,
        create_buckets=True,
        bucket_region=BUCKET_REGION,
        username=USER if kind is CredentialKind.PERMANENT else None,
        reuse_existing_user=plan_kind == "permanent-reused-user",
        duration_seconds=None if kind is CredentialKind.PERMANENT else 3600,
    )


def _prepare(server_account, plan_kind: str) -> None:
    server_account.client("s3").create_bucket(Bucket=EXISTING_BUCKET)
    if plan_kind == "permanent-reused-user":
        iam = server_account.client("iam")
        iam.create_user(UserName=USER, Tags=[dict(CREATED_BY_TAG)])
        iam.create_access_key(UserName=USER)


def _context(server_account, endpoint_url: str) -> AwsContext:
    """What `create` applies with (`ctx.for_apply()`), its timeouts shortened so a hang costs 2 s."""
    config = SessionConfig(
        region="us-east-1",
        endpoint_url=endpoint_url,
        access_key_id=server_account.admin.access_key_id,
        secret_access_key=server_account.admin.secret_access_key,
        timeouts=replace(APPLY_TIMEOUTS, connect=2.0, read=2.0),
    )
    return AwsContext(config).for_apply()


@pytest.mark.parametrize("plan_kind", list(PLAN_STEPS))
def test_the_matrix_covers_every_step_of_each_plan(server_account, plan_kind):
    _prepare(server_account, plan_kind)
    plan = build_plan(server_account.context(), _request(plan_kind))
    assert plan.ok, plan.blockers
    assert [step.action for step in plan.steps] == PLAN_STEPS[plan_kind]


@pytest.mark.parametrize(("plan_kind", "action", "kind"), list(_cases()))
def test_account_holds_exactly_what_apply_reported(server_account, fault_proxy, record_property, plan_kind, action, kind):
    _prepare(server_account, plan_kind)
    before = snapshot(server_account.client)
    ctx = _context(server_account, fault_proxy.endpoint_url)
    plan = build_plan(ctx, _request(plan_kind))
    assert plan.ok, plan.blockers
    service, operation = action.split(":")
    fault = fault_proxy.add(Fault(service, operation, kind, hang_seconds=HANG_SECONDS))

    result = apply_plan(ctx, plan)

    problems = unreported_changes(before, snapshot(server_account.client), plan, result)
    record_property("fault_case", f"{plan_kind}/{action}/{kind}")
    record_property("fault_injected", fault.fired)
    record_property("fault_clean", not problems)
    record_property("fault_problems", "; ".join(problems))
    assert fault.fired, f"the fault never fired: {[c for c in fault_proxy.calls]}"
    assert result.ok or result.error is not None
    assert problems == [], (result.error, result.not_undone)
    # The journal goes with a clean end or a complete rollback, and stays only for what is reported left.
    assert len(unfinished_runs()) == (1 if result.journal_path else 0)
    assert not result.journal_path or result.not_undone
    if kind in TRANSIENT:
        # One lost, hung or refused-for-now call is retried and reconciled: the run still succeeds.
        assert result.ok, result.error


# ---------------------------------------------------------------- somebody else, between plan and apply


@pytest.mark.parametrize("plan_kind", ["permanent", "assume-role"])
def test_a_same_named_user_or_role_made_by_somebody_else_is_refused_and_kept(server_account, plan_kind):
    _prepare(server_account, plan_kind)
    ctx = _context(server_account, server_account.endpoint_url)
    plan = build_plan(server_account.context(), _request(plan_kind))
    iam = server_account.client("iam")
    if plan_kind == "permanent":
        iam.create_user(UserName=USER, Tags=[dict(CREATED_BY_TAG)])  # even our own tag is not this run's marker
        what, name = "User", USER
    else:
        name = plan.steps[2].params["RoleName"]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}')
        what = "Role"
    before = snapshot(server_account.client)

    result = apply_plan(ctx, plan)

    assert not result.ok
    assert result.error.message.startswith(f"{what} {name} was created by somebody else after the plan was made")
    assert snapshot(server_account.client) == before  # theirs kept, our new bucket removed
    assert result.undone == [f"Delete bucket {NEW_BUCKET}"]


def test_a_bucket_made_in_the_account_between_plan_and_apply_is_not_taken_for_ours(server_account):
    _prepare(server_account, "federation-token")
    plan = build_plan(server_account.context(), _request("federation-token"))
    server_account.client("s3", BUCKET_REGION).create_bucket(
        Bucket=NEW_BUCKET, CreateBucketConfiguration={"LocationConstraint": BUCKET_REGION}
    )
    before = snapshot(server_account.client)

    result = apply_plan(_context(server_account, server_account.endpoint_url), plan)

    assert not result.ok and result.undone == []
    assert f"Bucket {NEW_BUCKET} was created in this account after the plan was made" in result.error.message
    assert snapshot(server_account.client) == before
