"""What s3cred-tui made, read back, and removed again: against the threaded moto server.

Everything here is made by the tool's own create path (`build_plan` + `apply_plan`), so the
tags are the ones it really sets. A cleanup that fails half-way is driven by the fault proxy
(an AWS AccessDenied on one call), and the account is read straight from moto afterwards: it
must hold exactly what the result reports.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.cleanup import apply_cleanup, plan_cleanup
from s3cred_tui.core.inventory import whoami
from s3cred_tui.core.made import HELPER_ROLE_NAME, describe_reach, find_made
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.core.stale import StaleFlag
from s3cred_tui.core.tags import CREATED_BY_TAG
from tests.faults.proxy import Fault, FaultProxy

NOW = datetime.now(timezone.utc)
POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}


def _create(ctx: AwsContext, **request) -> None:
    plan = build_plan(ctx, CredentialRequest(**request))
    assert plan.ok, plan.blockers
    result = apply_plan(ctx, plan, journal=False, sleep=lambda _s: None)
    assert result.ok, result.error


@pytest.fixture
def made_account(server_account):
    """A permanent key (with a bucket the tool creates), the helper role, and things it did not make."""
    ctx = server_account.context()
    s3, iam = server_account.client("s3"), server_account.client("iam")
    s3.create_bucket(Bucket="data-lake")
    s3.create_bucket(Bucket="someone-elses")
    iam.create_user(UserName="someone-else")
    _create(ctx, buckets=("made-bucket",), access=AccessLevel.READ_ONLY, prefix="reports/", create_buckets=True,
            permissions_boundary=False)
    _create(ctx, buckets=("data-lake",), access=AccessLevel.READ_WRITE, kind=CredentialKind.ASSUME_ROLE,
            duration_seconds=900)
    return server_account


def _users(server_account) -> set[str]:
    return {u["UserName"] for u in server_account.client("iam").list_users()["Users"]}


def _roles(server_account) -> set[str]:
    return {r["RoleName"] for r in server_account.client("iam").list_roles()["Roles"]}


def _buckets(server_account) -> set[str]:
    return {b["Name"] for b in server_account.client("s3").list_buckets()["Buckets"]}


def test_made_lists_what_the_tool_made_with_reach_read_from_policies(made_account):
    made = find_made(made_account.context())
    (user,) = made.users
    assert user.name == "s3.read-only.made-bucket"
    assert [(r.bucket, r.prefix, r.level) for r in user.reach] == [("made-bucket", "reports/", "read-only")]
    assert describe_reach(user.reach) == "made-bucket/reports/ read-only"
    assert len(user.keys) == 1 and user.keys[0].status == "Active"
    assert not user.console_access and not user.stale.stale
    (role,) = made.roles
    assert role.name == HELPER_ROLE_NAME and role.is_helper
    # The role itself reaches every bucket (the session policy is what narrows each session).
    assert [(r.bucket, r.level) for r in role.reach] == [("*", "read-write")]
    admin_arn = whoami(made_account.context()).principal_arn
    assert [(e.principal, e.allowed) for e in role.can_assume] == [(admin_arn, True)]
    assert role.only_you is not None and role.only_you.ok
    assert [b.name for b in made.buckets] == ["made-bucket"]
    assert made.problems == []
    shape = made.to_dict()
    assert shape["users"][0]["reach"][0] == {"bucket": "made-bucket", "prefix": "reports/", "level": "read-only",
                                             "capabilities": ["list", "read"]}
    assert shape["roles"][0]["can_assume"][0]["allowed"] is True


def test_reach_follows_the_policy_not_the_name(made_account):
    iam = made_account.client("iam")
    # Someone widened the "read-only" user's policy since: the reach says so.
    widened = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject",
                                                      "Resource": "arn:aws:s3:::made-bucket/reports/*"}]}
    iam.put_user_policy(UserName="s3.read-only.made-bucket", PolicyName="extra", PolicyDocument=json.dumps(widened))
    (user,) = find_made(made_account.context()).users
    assert [(r.bucket, r.prefix, r.level) for r in user.reach] == [("made-bucket", "reports/", "read-write")]


def test_a_role_trusting_more_than_you_is_said(made_account):
    iam = made_account.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]}
    iam.create_role(RoleName="s3cred-tui.other", AssumeRolePolicyDocument=json.dumps(trust), Tags=[dict(CREATED_BY_TAG)])
    roles = {r.name: r for r in find_made(made_account.context()).roles}
    other = roles["s3cred-tui.other"]
    assert not other.is_helper
    assert [(e.principal, e.allowed) for e in other.trust] == [("arn:aws:iam::999999999999:root", True)]
    assert other.only_you is not None and not other.only_you.ok


def test_stale_flags_with_keys_of_known_ages(made_account):
    iam = made_account.client("iam")
    iam.create_user(UserName="s3cred-old", Tags=[dict(CREATED_BY_TAG)])
    iam.create_access_key(UserName="s3cred-old")
    iam.create_user(UserName="s3cred-person", Tags=[dict(CREATED_BY_TAG)])
    iam.create_login_profile(UserName="s3cred-person", Password="Correct-horse-battery-9")
    iam.create_access_key(UserName="s3cred-person")
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    six_years = NOW - timedelta(days=6 * 365)
    backend.users["s3cred-old"].create_date = six_years
    backend.users["s3cred-old"].access_keys[0].create_date = six_years

    users = {u.name: u for u in find_made(made_account.context()).users}
    old = users["s3cred-old"].stale
    assert set(old.flags) == {StaleFlag.OLD_KEY, StaleFlag.UNUSED_KEY, StaleFlag.NO_ACTIVITY}
    assert old.oldest_key_days == 6 * 365
    person = users["s3cred-person"]
    assert person.console_access
    assert person.stale.flags == (StaleFlag.CONSOLE_WITH_KEYS,)
    assert not users["s3.read-only.made-bucket"].stale.stale


def test_cleanup_removes_everything_reviewed_and_nothing_else(made_account):
    ctx = made_account.context()
    plan = plan_cleanup(ctx, find_made(ctx))
    assert [item.label for item in plan.items] == [
        "user s3.read-only.made-bucket", f"role {HELPER_ROLE_NAME}", "bucket made-bucket"]
    assert plan.refused == ()
    text = plan.describe()
    assert "Delete access key" in text and "(cannot be undone)" in text
    events = []
    result = apply_cleanup(ctx, plan, on_event=events.append)
    assert result.ok, result.summary()
    assert result.removed == [item.label for item in plan.items]
    assert "s3.read-only.made-bucket" not in _users(made_account) and "someone-else" in _users(made_account)
    assert HELPER_ROLE_NAME not in _roles(made_account)
    assert _buckets(made_account) == {"data-lake", "someone-elses"}
    # One index per step of the whole plan, each reported running then done.
    done = [e.index for e in events if e.status == "done"]
    assert done == list(range(len(plan.steps)))


def test_cleanup_of_chosen_items_only(made_account):
    ctx = made_account.context()
    plan = plan_cleanup(ctx, find_made(ctx), names=["bucket made-bucket"])
    assert [item.label for item in plan.items] == ["bucket made-bucket"]
    assert apply_cleanup(ctx, plan).ok
    assert "s3.read-only.made-bucket" in _users(made_account)


def test_a_bucket_holding_objects_is_kept_and_says_why(made_account):
    made_account.client("s3").put_object(Bucket="made-bucket", Key="reports/a.csv", Body=b"x")
    ctx = made_account.context()
    plan = plan_cleanup(ctx, find_made(ctx))
    assert "bucket made-bucket" not in [item.label for item in plan.items]
    (kept,) = plan.refused
    assert kept.label == "bucket made-bucket" and "never deletes data" in kept.refusal
    assert "Keep bucket made-bucket" in plan.describe()


def test_the_signed_in_user_is_never_cleaned_up(made_account):
    ctx = made_account.context()
    me = whoami(ctx)
    made_account.client("iam").tag_user(UserName=me.name, Tags=[dict(CREATED_BY_TAG)])
    plan = plan_cleanup(ctx, find_made(ctx))
    refused = {item.label: item.refusal for item in plan.refused}
    assert "is you" in refused[f"user {me.name}"]
    assert me.name in _users(made_account)


def test_cleanup_failing_half_way_puts_back_what_it_can_and_reports_the_rest(made_account):
    iam = made_account.client("iam")
    user = "s3.read-only.made-bucket"
    iam.create_group(GroupName="readers")
    iam.add_user_to_group(GroupName="readers", UserName=user)
    with FaultProxy(made_account.endpoint_url) as proxy:
        ctx = AwsContext(SessionConfig(region="us-east-1", endpoint_url=proxy.endpoint_url,
                                       access_key_id=made_account.admin.access_key_id,
                                       secret_access_key=made_account.admin.secret_access_key))
        plan = plan_cleanup(ctx, find_made(ctx))
        fault = proxy.add(Fault("iam", "DeleteUser", "access-denied"))
        result = apply_cleanup(ctx, plan)
    assert fault.fired
    assert not result.ok and result.failed_item == f"user {user}"
    assert "DeleteUser" in str(result.error) or "not authorized" in str(result.error)
    # Put back: the inline policy (with its document) and the group membership, newest first.
    assert any(title.startswith("Delete inline policy") for title in result.restored)
    assert "Remove from group readers" in result.restored
    # A deleted access key cannot come back: said, not hidden.
    assert any(line.startswith("Delete access key") and "cannot be undone" in line for line in result.not_restored)
    assert result.untouched == [f"role {HELPER_ROLE_NAME}", "bucket made-bucket"]
    assert result.removed == []
    # The account holds exactly that.
    assert user in _users(made_account)
    names = iam.list_user_policies(UserName=user)["PolicyNames"]
    assert len(names) == 1
    document = iam.get_user_policy(UserName=user, PolicyName=names[0])["PolicyDocument"]
    assert document["Statement"][0]["Resource"] == ["arn:aws:s3:::made-bucket"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == ["readers"]
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == []
    assert HELPER_ROLE_NAME in _roles(made_account) and "made-bucket" in _buckets(made_account)
    summary = result.summary()
    assert "Stopped at user" in summary and "Put back" in summary and "Not touched" in summary


def test_cleanup_failing_on_a_role_restores_its_policy(made_account):
    with FaultProxy(made_account.endpoint_url) as proxy:
        ctx = AwsContext(SessionConfig(region="us-east-1", endpoint_url=proxy.endpoint_url,
                                       access_key_id=made_account.admin.access_key_id,
                                       secret_access_key=made_account.admin.secret_access_key))
        plan = plan_cleanup(ctx, find_made(ctx), names=[f"role {HELPER_ROLE_NAME}"])
        proxy.add(Fault("iam", "DeleteRole", "access-denied"))
        result = apply_cleanup(ctx, plan)
    assert not result.ok and result.restored == [f"Detach policy AmazonS3FullAccess from role {HELPER_ROLE_NAME}"]
    attached = made_account.client("iam").list_attached_role_policies(RoleName=HELPER_ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonS3FullAccess"]


def test_a_cancel_mid_item_rolls_that_item_back(made_account):
    ctx = made_account.context()
    plan = plan_cleanup(ctx, find_made(ctx))
    steps_seen = []

    def cancel_after_first_step() -> bool:
        return len(steps_seen) >= 1

    result = apply_cleanup(ctx, plan, on_event=lambda e: steps_seen.append(e) if e.status == "done" else None,
                           is_cancelled=cancel_after_first_step)
    assert result.cancelled and not result.ok
    assert result.restored and result.removed == []
    user = "s3.read-only.made-bucket"
    assert len(made_account.client("iam").list_user_policies(UserName=user)["PolicyNames"]) == 1
    assert "Stopped on request" in result.summary()


def test_an_item_changed_since_the_review_is_not_touched(made_account):
    ctx = made_account.context()
    plan = plan_cleanup(ctx, find_made(ctx))
    made_account.client("iam").put_user_policy(
        UserName="s3.read-only.made-bucket", PolicyName="added-later", PolicyDocument=json.dumps(POLICY))
    result = apply_cleanup(ctx, plan)
    assert result.changed == ["user s3.read-only.made-bucket"] and not result.ok
    assert result.untouched == [item.label for item in plan.items]
    assert "s3.read-only.made-bucket" in _users(made_account)
    assert "review it again" in result.summary()
