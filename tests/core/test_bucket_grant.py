"""Bucket-policy grants to another account: merge by Sid, diff, rollback to the exact previous
document (moto, decorator mode), and the cross-account decision with the offline evaluator
(moto does not evaluate bucket-policy allows)."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from parliament import analyze_policy_string

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.bucket_grant import (
    BucketGrantRequest,
    build_grant_plan,
    grant_sid_base,
    grant_statements,
    merge_grant,
    other_account_policy,
    principal_arn_for,
    without_grant,
)
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.journal import perform_undo
from s3cred_tui.core.policies import policy_json
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.simulate import RequestContext, evaluate

OTHER = "111122223333"
OTHER_ROLE = f"arn:aws:iam::{OTHER}:role/backup"
BUCKET = "grant-bucket"

# An existing policy with other statements, in its own odd formatting: kept byte for byte on rollback.
EXISTING = (
    '{"Version": "2012-10-17",   "Id": "Mine", "Statement": [\n'
    '  {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",'
    ' "Resource": ["arn:aws:s3:::grant-bucket", "arn:aws:s3:::grant-bucket/*"],'
    ' "Condition": {"Bool": {"aws:SecureTransport": "false"}}},\n'
    '  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject",'
    ' "Resource": "arn:aws:s3:::grant-bucket/public-share/*"}\n]}'
)


def _decide(bucket_policy: dict, identity_policy: dict | None, action: str, resource: str, context: dict | None = None):
    return evaluate(
        RequestContext(action, resource, context or {}, principal_arn=OTHER_ROLE),
        [("theirs", identity_policy)] if identity_policy else [],
        resource_policy=("bucket policy", bucket_policy),
        resource_account="123456789012",
    )


# ---------------------------------------------------------------- pure


def test_principal_forms():
    assert principal_arn_for(OTHER) == f"arn:aws:iam::{OTHER}:root"
    assert principal_arn_for(OTHER_ROLE) == OTHER_ROLE
    for bad in ("*", "1234", "arn:aws:iam::111122223333:group/x", "arn:aws:s3:::bucket", ""):
        with pytest.raises(ValidationError) as caught:
            principal_arn_for(bad)
        assert caught.value.field == "grant"


def test_cross_account_needs_both_sides_and_stays_in_the_prefix():
    statements = grant_statements(BUCKET, AccessLevel.READ_ONLY, OTHER_ROLE, prefixes=["backups/"])
    bucket_policy = merge_grant(None, statements)
    theirs = other_account_policy([BUCKET], AccessLevel.READ_ONLY, prefixes=["backups/"])
    inside = f"arn:aws:s3:::{BUCKET}/backups/db.dump"
    assert _decide(bucket_policy, theirs, "s3:GetObject", inside).allowed
    assert not _decide(bucket_policy, None, "s3:GetObject", inside).allowed  # their side must allow too
    assert not _decide(bucket_policy, theirs, "s3:GetObject", f"arn:aws:s3:::{BUCKET}/backups-old/x").allowed
    assert not _decide(bucket_policy, theirs, "s3:PutObject", inside).allowed
    assert _decide(bucket_policy, theirs, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": "backups/"}).allowed
    assert not _decide(bucket_policy, theirs, "s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": ""}).allowed
    # Another bucket of this account is not granted by this bucket's policy.
    other_bucket = evaluate(
        RequestContext("s3:GetObject", "arn:aws:s3:::another/backups/x", principal_arn=OTHER_ROLE),
        [("theirs", other_account_policy(["another"], AccessLevel.READ_ONLY, prefixes=["backups/"]))],
        resource_policy=("bucket policy", {"Version": "2012-10-17", "Statement": []}),
        resource_account="123456789012",
    )
    assert not other_bucket.allowed


def test_a_grant_to_a_role_does_not_cover_another_principal_of_that_account():
    bucket_policy = merge_grant(None, grant_statements(BUCKET, AccessLevel.READ_ONLY, OTHER_ROLE))
    theirs = other_account_policy([BUCKET], AccessLevel.READ_ONLY)
    decision = evaluate(
        RequestContext("s3:GetObject", f"arn:aws:s3:::{BUCKET}/x", principal_arn=f"arn:aws:iam::{OTHER}:role/other"),
        [("theirs", theirs)],
        resource_policy=("bucket policy", bucket_policy),
        resource_account="123456789012",
    )
    assert not decision.allowed


def test_merge_keeps_other_statements_and_replaces_only_its_own():
    first = merge_grant(EXISTING, grant_statements(BUCKET, AccessLevel.READ_WRITE, OTHER_ROLE, prefixes=["a/"]))
    original = json.loads(EXISTING)
    assert first["Id"] == "Mine"
    assert first["Statement"][:2] == original["Statement"]
    # Granting again (narrower) replaces the earlier grant; nothing else moves.
    second = merge_grant(json.dumps(first), grant_statements(BUCKET, AccessLevel.WRITE_ONLY, OTHER_ROLE, prefixes=["a/"]))
    assert second["Statement"][:2] == original["Statement"]
    ours = [s for s in second["Statement"] if s.get("Sid", "").startswith(grant_sid_base(OTHER_ROLE))]
    assert [s["Sid"][len(grant_sid_base(OTHER_ROLE)) :] for s in ours] == ["WriteObjects"]
    # Removing the grant restores the rest untouched.
    assert without_grant(json.dumps(second), OTHER_ROLE)["Statement"] == original["Statement"]
    assert without_grant(json.dumps(merge_grant(None, ours)), OTHER_ROLE) is None


@pytest.mark.parametrize("level", [AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE])
def test_parliament_finds_nothing_in_the_grant(level):
    document = merge_grant(None, grant_statements(BUCKET, level, OTHER_ROLE, prefixes=["a/"], keys=["k.csv"]))
    findings = analyze_policy_string(policy_json(document)).findings
    assert findings == [], [str(f) for f in findings]


# ---------------------------------------------------------------- moto


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket=BUCKET)
        context.s3.create_bucket(Bucket="second-bucket")
        yield context


def _policy_text(ctx: AwsContext, bucket: str) -> str | None:
    try:
        return ctx.s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except ctx.s3.exceptions.ClientError:
        return None


def test_plan_shows_a_diff_facts_and_the_other_sides_policy(ctx):
    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=EXISTING)
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER, AccessLevel.READ_WRITE, prefixes=("in/",)))
    assert plan.ok, plan.blockers
    text = plan.describe()
    assert "+" in plan.diffs[BUCKET] and grant_sid_base(f"arn:aws:iam::{OTHER}:root") in plan.diffs[BUCKET]
    assert "Object Ownership" in text and "Block Public Access" in text
    assert any("BucketOwnerEnforced" in warning for warning in plan.warnings)
    assert "must also allow its principal" in text
    assert _policy_text(ctx, BUCKET) == EXISTING  # planning changes nothing


def test_apply_merges_and_a_failure_restores_the_exact_previous_policy(ctx):
    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=EXISTING)
    assert _policy_text(ctx, BUCKET) == EXISTING
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET, "second-bucket"), OTHER_ROLE, AccessLevel.READ_ONLY))
    ctx.s3.delete_bucket(Bucket="second-bucket")  # the second step fails
    result = apply_plan(ctx, plan, journal=False)
    assert not result.ok and result.completed == [plan.steps[0].title]
    assert len(result.undone) == 1  # the first bucket's policy was changed, then put back
    assert _policy_text(ctx, BUCKET) == EXISTING  # byte for byte


def test_apply_then_undo_deletes_a_policy_that_was_not_there(ctx):
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER_ROLE, AccessLevel.READ_ONLY))
    result = apply_plan(ctx, plan, journal=False)
    assert result.ok and result.credentials is None
    written = json.loads(_policy_text(ctx, BUCKET))
    assert all(s["Principal"] == {"AWS": OTHER_ROLE} for s in written["Statement"])
    step = plan.steps[0]
    perform_undo(ctx, step.kind.takes_back(step, {}))
    assert _policy_text(ctx, BUCKET) is None


def test_a_policy_changed_after_planning_is_not_overwritten(ctx):
    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=EXISTING)
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY))
    changed = EXISTING.replace("Mine", "Changed")
    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=changed)
    result = apply_plan(ctx, plan, journal=False)
    assert not result.ok and "changed since the plan" in result.error.message
    assert _policy_text(ctx, BUCKET) == changed


def test_own_account_is_refused(ctx):
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET,), "123456789012", AccessLevel.READ_ONLY))
    assert not plan.ok and "this account" in plan.blockers[0]


def test_revoke_removes_only_the_grant_and_a_failure_puts_it_back(ctx):
    from s3cred_tui.core.bucket_grant import build_revoke_plan

    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=EXISTING)
    assert apply_plan(ctx, build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER_ROLE)), journal=False).ok
    granted = _policy_text(ctx, BUCKET)
    revoke = build_revoke_plan(ctx, [BUCKET], OTHER_ROLE)
    assert "-" in revoke.diffs[BUCKET] and "must also allow" not in revoke.describe()
    assert apply_plan(ctx, revoke, journal=False).ok
    assert json.loads(_policy_text(ctx, BUCKET))["Statement"] == json.loads(EXISTING)["Statement"]
    # Nothing left to revoke: no step.
    assert build_revoke_plan(ctx, [BUCKET], OTHER_ROLE).steps == []
    # A revoke whose run fails is undone: the granted text comes back exactly.
    ctx.s3.put_bucket_policy(Bucket=BUCKET, Policy=granted)
    assert apply_plan(ctx, build_grant_plan(ctx, BucketGrantRequest(("second-bucket",), OTHER_ROLE)), journal=False).ok
    plan = build_revoke_plan(ctx, [BUCKET, "second-bucket"], OTHER_ROLE)
    assert len(plan.steps) == 2
    ctx.s3.delete_bucket_policy(Bucket="second-bucket")
    ctx.s3.delete_bucket(Bucket="second-bucket")  # the second step fails
    result = apply_plan(ctx, plan, journal=False)
    assert not result.ok and len(result.undone) == 1
    assert _policy_text(ctx, BUCKET) == granted


def test_revoking_the_only_statements_deletes_the_policy_and_undo_restores_it(ctx):
    from s3cred_tui.core.bucket_grant import build_revoke_plan

    assert apply_plan(ctx, build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER_ROLE)), journal=False).ok
    granted = _policy_text(ctx, BUCKET)
    revoke = build_revoke_plan(ctx, [BUCKET], OTHER_ROLE)
    assert revoke.steps[0].action == "s3:DeleteBucketPolicy"
    assert apply_plan(ctx, revoke, journal=False).ok
    assert _policy_text(ctx, BUCKET) is None
    step = revoke.steps[0]
    perform_undo(ctx, step.kind.takes_back(step, {}))
    assert _policy_text(ctx, BUCKET) == granted


def test_a_kms_bucket_warns_that_the_key_policy_must_allow_the_other_account(ctx):
    key = ctx.client("kms").create_key()["KeyMetadata"]["Arn"]
    ctx.s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]},
    )
    plan = build_grant_plan(ctx, BucketGrantRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY))
    assert any(key in warning and "key's policy" in warning for warning in plan.warnings)


def test_the_revoke_command_is_ready_to_paste():
    from s3cred_tui.core.bucket_grant import BucketGrantRequest, GrantPlan
    from s3cred_tui.core.third_party_role import ThirdPartyRolePlan, ThirdPartyRoleRequest

    grant = GrantPlan(
        request=BucketGrantRequest(buckets=("a-bucket", "b-bucket"), principal="111122223333"),
        principal_arn="arn:aws:iam::111122223333:root",
        identity=None,
        other_account_policy={},
    )
    assert grant.revoke_command == "s3cred-tui revoke-grant a-bucket b-bucket --account arn:aws:iam::111122223333:root"
    role = ThirdPartyRolePlan(
        request=ThirdPartyRoleRequest(buckets=("a-bucket",), principal="111122223333"),
        principal_arn="arn:aws:iam::111122223333:root",
        role_name="backup-service",
        role_arn="arn:aws:iam::123456789012:role/backup-service",
        external_id="x",
        identity=None,
        permissions={},
    )
    # One argument, quoted: `cleanup` takes "KIND NAME" as one word.
    assert role.revoke_command == "s3cred-tui cleanup 'role backup-service'"
