"""Applying plans: every step or nothing, rollback of exactly what was made, honest reports."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from moto import mock_aws

from s3cred_tui.core import policies
from s3cred_tui.core.apply import (
    CREATE_ACCESS_KEY,
    STEP_KINDS,
    ApplyEvent,
    ApplyStatus,
    PlanBlocked,
    StepRun,
    apply_plan,
    create_access_key,
    delete_access_key,
    set_access_key_status,
    wait_until_ready,
)
from s3cred_tui.core.deletion import delete_user
from s3cred_tui.core.errors import CredentialsInvalid, LimitExceeded
from s3cred_tui.core.inventory import whoami
from s3cred_tui.core.plan import DEFAULT_ROLE_NAME, build_plan, user_policy_name
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.tags import is_ours

NEW_BUCKET = "fresh-bucket"
REGION = "eu-west-1"


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket="data-lake")
        yield context


def _admin_context(ctx: AwsContext) -> AwsContext:
    """Act as a real IAM user, as `sts:GetFederationToken` and trust policies need."""
    ctx.iam.create_user(UserName="admin")
    ctx.iam.put_user_policy(
        UserName="admin",
        PolicyName="everything",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    )
    key = ctx.iam.create_access_key(UserName="admin")["AccessKey"]
    return ctx.for_keys(key["AccessKeyId"], key["SecretAccessKey"])


def _client_error(code: str, operation: str, status: int = 400) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": f"injected {code}"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


def _failing(operation: str, code: str = "ServiceFailure"):
    def fail(**kwargs):
        raise _client_error(code, operation)

    return fail


def _permanent_plan(ctx, **kwargs):
    request = CredentialRequest(
        buckets=("data-lake", NEW_BUCKET),
        access=AccessLevel.READ_WRITE,
        prefix="reports",
        create_buckets=True,
        bucket_region=REGION,
        **kwargs,
    )
    plan = build_plan(ctx, request, identity=whoami(ctx))
    assert plan.ok, plan.blockers
    return plan


def _account_state(ctx) -> dict:
    iam = ctx.iam
    users = {}
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        users[name] = {
            "keys": len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
            "inline": sorted(iam.list_user_policies(UserName=name)["PolicyNames"]),
        }
    return {"users": users, "buckets": sorted(b["Name"] for b in ctx.s3.list_buckets()["Buckets"])}


PERMANENT_ACTIONS = [
    "s3:CreateBucket",
    "s3:PutBucketTagging",
    "iam:CreateUser",
    "iam:PutUserPolicy",
    "iam:CreateAccessKey",
    "sts:GetCallerIdentity",
]


def _inject_failure(ctx, monkeypatch, action: str) -> None:
    if action == "sts:GetCallerIdentity":
        original = ctx.for_keys

        def for_keys(*args, **kwargs):
            new = original(*args, **kwargs)
            monkeypatch.setattr(new.sts, "get_caller_identity", _failing("GetCallerIdentity", "InternalFailure"))
            return new

        monkeypatch.setattr(ctx, "for_keys", for_keys)
        return
    service, operation = action.split(":")
    client = ctx.client("s3", REGION) if service == "s3" else ctx.iam
    method = "".join("_" + c.lower() if c.isupper() else c for c in operation).lstrip("_")
    monkeypatch.setattr(client, method, _failing(operation))


def test_the_permanent_plan_has_the_steps_the_failure_tests_cover(ctx):
    assert [s.action for s in _permanent_plan(ctx).steps] == PERMANENT_ACTIONS


@pytest.mark.parametrize("failing_index", range(len(PERMANENT_ACTIONS)), ids=PERMANENT_ACTIONS)
def test_failure_at_any_step_rolls_back_everything(ctx, monkeypatch, failing_index):
    before = _account_state(ctx)
    plan = _permanent_plan(ctx)
    _inject_failure(ctx, monkeypatch, PERMANENT_ACTIONS[failing_index])
    events: list[ApplyEvent] = []

    result = apply_plan(ctx, plan, on_event=events.append)

    assert not result.ok and not result.cancelled
    assert result.credentials is None
    assert result.error is not None and "injected" in result.error.message
    assert result.completed == [s.title for s in plan.steps[:failing_index]]
    assert result.not_undone == []
    assert _account_state(ctx) == before
    failed = [e for e in events if e.status == "failed"]
    assert [e.index for e in failed] == [failing_index]
    undone_events = [e.title for e in events if e.status == "undone"]
    assert undone_events == result.undone
    expected_undo = {
        "s3:CreateBucket": f"Delete bucket {NEW_BUCKET}",
        "iam:CreateUser": f"Delete user {plan.request.username}",
        "iam:PutUserPolicy": f"Delete inline policy {user_policy_name(AccessLevel.READ_WRITE)} of {plan.request.username}",
    }
    wanted = [expected_undo[s.action] for s in reversed(plan.steps[:failing_index]) if s.action in expected_undo]
    assert [u for u in result.undone if not u.startswith("Delete access key")] == wanted
    assert any(u.startswith("Delete access key") for u in result.undone) is (failing_index > 4)


def test_success_returns_a_working_key_and_never_leaks_the_secret(ctx, monkeypatch):
    plan = _permanent_plan(ctx)
    events: list[ApplyEvent] = []
    result = apply_plan(ctx, plan, on_event=events.append)
    assert result.ok, result.error
    creds = result.credentials
    assert creds.user_name == plan.request.username and creds.session_token is None
    user = ctx.iam.get_user(UserName=creds.user_name)["User"]
    assert is_ours(user.get("Tags"))
    assert ctx.for_keys(creds.access_key_id, creds.secret_access_key).sts.get_caller_identity()["Arn"].endswith(
        f":user/{creds.user_name}"
    )
    assert is_ours(ctx.client("s3", REGION).get_bucket_tagging(Bucket=NEW_BUCKET)["TagSet"])
    for text in [repr(result), str(result.credentials)] + [repr(e) for e in events]:
        assert creds.secret_access_key not in text
    assert [e.status for e in events if e.index == len(plan.steps) - 1] == ["running", "done"]


def test_new_key_is_waited_for_with_bounded_backoff(ctx, monkeypatch):
    plan = _permanent_plan(ctx)
    original = ctx.for_keys
    attempts = []

    def for_keys(*args, **kwargs):
        new = original(*args, **kwargs)
        real = new.sts.get_caller_identity

        def not_yet_then_ok(**kw):
            attempts.append(1)
            if len(attempts) <= 3:
                raise _client_error("InvalidClientTokenId", "GetCallerIdentity", 403)
            return real(**kw)

        monkeypatch.setattr(new.sts, "get_caller_identity", not_yet_then_ok)
        return new

    monkeypatch.setattr(ctx, "for_keys", for_keys)
    slept: list[float] = []
    events: list[ApplyEvent] = []
    result = apply_plan(ctx, plan, on_event=events.append, sleep=slept.append)
    assert result.ok, result.error
    assert slept == [0.2, 0.4, 0.8]
    assert [e.status for e in events if e.index == len(plan.steps) - 1] == [
        "running",
        "waiting",
        "waiting",
        "waiting",
        "done",
    ]


def test_key_that_never_works_rolls_back_after_the_budget(ctx, monkeypatch):
    before = _account_state(ctx)
    plan = _permanent_plan(ctx)
    original = ctx.for_keys

    def for_keys(*args, **kwargs):
        new = original(*args, **kwargs)
        monkeypatch.setattr(new.sts, "get_caller_identity", _failing("GetCallerIdentity", "InvalidClientTokenId"))
        return new

    monkeypatch.setattr(ctx, "for_keys", for_keys)
    slept: list[float] = []
    result = apply_plan(ctx, plan, sleep=slept.append, wait_budget_seconds=5.0)
    assert not result.ok
    assert isinstance(result.error, CredentialsInvalid)
    assert sum(slept) == pytest.approx(5.0)
    assert _account_state(ctx) == before


def test_wait_until_ready_gives_up_on_other_errors_at_once():
    slept: list[float] = []
    with pytest.raises(Exception) as caught:
        wait_until_ready(_failing("AssumeRole", "MalformedPolicyDocument"), "sts:AssumeRole", sleep=slept.append)
    assert caught.value.code == "MalformedPolicyDocument"
    assert slept == []


@pytest.mark.parametrize("cancel_after", [0, 2, 4])
def test_cancel_between_steps_rolls_back(ctx, cancel_after):
    before = _account_state(ctx)
    plan = _permanent_plan(ctx)
    done = []

    def on_event(event: ApplyEvent) -> None:
        if event.status == "done":
            done.append(event.index)

    result = apply_plan(ctx, plan, on_event=on_event, is_cancelled=lambda: len(done) >= cancel_after)
    assert result.cancelled and not result.ok
    assert done == list(range(cancel_after))
    assert _account_state(ctx) == before
    assert result.not_undone == []


def test_undo_failures_are_reported_with_their_reason(ctx, monkeypatch):
    plan = _permanent_plan(ctx)
    iam = ctx.iam
    monkeypatch.setattr(iam, "create_access_key", _failing("CreateAccessKey"))
    monkeypatch.setattr(iam, "delete_user_policy", _failing("DeleteUserPolicy", "ServiceFailure"))
    real_create_user = iam.create_user

    def create_user_and_fill_the_bucket(**kwargs):
        ctx.client("s3", REGION).put_object(Bucket=NEW_BUCKET, Key="someone-else-wrote-this", Body=b"x")
        return real_create_user(**kwargs)

    monkeypatch.setattr(iam, "create_user", create_user_and_fill_the_bucket)
    events: list[ApplyEvent] = []
    result = apply_plan(ctx, plan, on_event=events.append)

    assert not result.ok
    user = plan.request.username
    reasons = dict(item.split(": ", 1) for item in result.not_undone)
    assert "ServiceFailure" in reasons[f"Delete inline policy {user_policy_name(AccessLevel.READ_WRITE)} of {user}"]
    assert "DeleteConflict" in reasons[f"Delete user {user}"]
    assert "DeleteUserPolicy" in reasons[f"Delete inline policy {user_policy_name(AccessLevel.READ_WRITE)} of {user}"]
    assert reasons[f"Delete bucket {NEW_BUCKET}"] == "the bucket is no longer empty, so it was kept"
    assert result.undone == []
    assert len([e for e in events if e.status == "undo-failed"]) == 3


def test_reused_user_is_never_deleted(ctx, monkeypatch):
    ctx.iam.create_user(UserName="keeper")
    own = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}
    ctx.iam.put_user_policy(UserName="keeper", PolicyName="their-own", PolicyDocument=json.dumps(own))
    plan = build_plan(
        ctx,
        CredentialRequest(buckets=("data-lake",), username="keeper", reuse_existing_user=True),
        identity=whoami(ctx),
    )
    _inject_failure(ctx, monkeypatch, "sts:GetCallerIdentity")
    result = apply_plan(ctx, plan)
    assert not result.ok
    assert _account_state(ctx)["users"]["keeper"] == {"keys": 0, "inline": ["their-own"]}
    assert not any("Delete user" in u for u in result.undone)


def test_a_plan_with_blockers_is_refused(ctx):
    plan = build_plan(ctx, CredentialRequest(buckets=("no-such-bucket",)), identity=whoami(ctx))
    assert not plan.ok
    with pytest.raises(PlanBlocked):
        apply_plan(ctx, plan)
    assert ctx.iam.list_users()["Users"] == []


def test_the_plans_steps_are_kinds_of_the_one_registry(ctx_with_managed_policies):
    admin = _admin_context(ctx_with_managed_policies)
    requests = [
        CredentialRequest(buckets=("data-lake", NEW_BUCKET), create_buckets=True),
        CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE),
        CredentialRequest(buckets=("data-lake",), kind=CredentialKind.FEDERATION_TOKEN),
    ]
    for request in requests:
        for step in build_plan(admin, request).steps:
            assert STEP_KINDS[step.action] is step.kind
    assert all(action == kind.action for action, kind in STEP_KINDS.items())


def test_apply_statuses_are_the_plain_words(ctx):
    assert [status.value for status in ApplyStatus] == [
        "running", "done", "failed", "waiting", "cancelled", "rolling-back", "undone", "undo-failed"
    ]
    assert ApplyStatus.ROLLING_BACK == "rolling-back" and f"{ApplyStatus.ROLLING_BACK}" == "rolling-back"
    events: list[ApplyEvent] = []
    assert apply_plan(ctx, _permanent_plan(ctx), on_event=events.append).ok
    assert {type(e.status) for e in events} == {ApplyStatus}


def test_an_undo_needs_only_the_steps_params_and_what_it_made(ctx):
    """What a journal would keep (params and made, never a secret) is enough to take a change back."""
    ctx.iam.create_user(UserName="holder")
    plan = build_plan(
        ctx, CredentialRequest(buckets=("data-lake",), username="holder", reuse_existing_user=True), identity=whoami(ctx)
    )
    step = next(s for s in plan.steps if s.kind is CREATE_ACCESS_KEY)
    run = StepRun(ctx, lambda *args: None, lambda: False, lambda seconds: None, 0.0)
    made = run.do(0, step)
    assert made == {"AccessKeyId": run.credentials.access_key_id}
    assert run.credentials.secret_access_key not in repr(made)

    CREATE_ACCESS_KEY.undo(AwsContext(), step, made)  # a fresh context: nothing carried over from `do`
    assert ctx.iam.list_access_keys(UserName="holder")["AccessKeyMetadata"] == []
    assert CREATE_ACCESS_KEY.undo_title(step, made) == f"Delete access key {made['AccessKeyId']} of holder"


# ---------------------------------------------------------------- temporary credentials


def test_assume_role_returns_three_part_credentials(ctx_with_managed_policies):
    admin = _admin_context(ctx_with_managed_policies)
    request = CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE, duration_seconds=1800)
    plan = build_plan(admin, request)
    assert plan.identity.principal_type == "user"
    result = apply_plan(admin, plan)
    assert result.ok, result.error
    creds = result.credentials
    assert creds.access_key_id and creds.secret_access_key and creds.session_token
    assert creds.expiration is not None
    role = admin.iam.get_role(RoleName=DEFAULT_ROLE_NAME)["Role"]
    assert is_ours(admin.iam.list_role_tags(RoleName=DEFAULT_ROLE_NAME)["Tags"])
    assert role["AssumeRolePolicyDocument"] == policies.trust_policy_for(plan.identity.arn)
    attached = admin.iam.list_attached_role_policies(RoleName=DEFAULT_ROLE_NAME)["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [policies.ROLE_MANAGED_POLICY_ARN]
    session = admin.for_keys(creds.access_key_id, creds.secret_access_key, creds.session_token)
    assert ":assumed-role/" + DEFAULT_ROLE_NAME + "/" in session.sts.get_caller_identity()["Arn"]


def test_failed_assume_role_removes_the_role_it_created(ctx_with_managed_policies, monkeypatch):
    admin = _admin_context(ctx_with_managed_policies)
    plan = build_plan(admin, CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE))
    monkeypatch.setattr(admin.sts, "assume_role", _failing("AssumeRole", "MalformedPolicyDocument"))
    result = apply_plan(admin, plan)
    assert not result.ok
    assert result.undone == [
        f"Detach AmazonS3FullAccess from role {DEFAULT_ROLE_NAME}",
        f"Delete role {DEFAULT_ROLE_NAME}",
    ]
    assert admin.iam.list_roles()["Roles"] == []


def test_federation_token_for_an_iam_user(ctx):
    admin = _admin_context(ctx)
    plan = build_plan(admin, CredentialRequest(buckets=("data-lake",), kind=CredentialKind.FEDERATION_TOKEN))
    assert plan.ok, plan.blockers
    result = apply_plan(admin, plan)
    assert result.ok, result.error
    creds = result.credentials
    assert creds.access_key_id and creds.secret_access_key and creds.session_token
    assert creds.expiration is not None


# ---------------------------------------------------------------- users screen


def test_delete_user_removes_everything_that_blocks_deletion(ctx):
    iam = ctx.iam
    name = "departing"
    iam.create_user(UserName=name)
    iam.create_login_profile(UserName=name, Password="A-long-password-1!")
    iam.create_group(GroupName="staff")
    iam.add_user_to_group(GroupName="staff", UserName=name)
    managed = iam.create_policy(
        PolicyName="readers",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}),
    )["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=managed)
    iam.put_user_policy(
        UserName=name,
        PolicyName="inline",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}),
    )
    iam.create_access_key(UserName=name)
    iam.upload_ssh_public_key(
        UserName=name,
        SSHPublicKeyBody="ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDJ2mz7DDRU8gaCwvNlENV2 someone@example",
    )
    iam.upload_signing_certificate(UserName=name, CertificateBody=_CERTIFICATE)
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="departing-phone")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(UserName=name, SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    events: list[ApplyEvent] = []

    removed = delete_user(ctx, name, on_event=events.append)

    with pytest.raises(botocore.exceptions.ClientError):
        iam.get_user(UserName=name)
    joined = "\n".join(removed)
    for part in (
        "Detach policy readers",
        "Delete inline policy inline",
        "Remove from group staff",
        "Delete access key",
        "Delete console password",
        "Deactivate MFA device",
        "Delete virtual MFA device",
        "Delete signing certificate",
        "Delete SSH public key",
        f"Delete user {name}",
    ):
        assert part in joined
    assert removed[-1] == f"Delete user {name}"
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    assert iam.get_policy(PolicyArn=managed)["Policy"]["Arn"] == managed  # the policy itself stays
    assert [e.status for e in events].count("done") == len(removed)


def test_access_key_rotation_helpers(ctx):
    ctx.iam.create_user(UserName="rotator")
    first = create_access_key(ctx, "rotator")
    second = create_access_key(ctx, "rotator")
    assert first.secret_access_key not in repr(first)
    with pytest.raises(LimitExceeded):
        create_access_key(ctx, "rotator")
    set_access_key_status(ctx, "rotator", first.access_key_id, active=False)
    statuses = {k["AccessKeyId"]: k["Status"] for k in ctx.iam.list_access_keys(UserName="rotator")["AccessKeyMetadata"]}
    assert statuses == {first.access_key_id: "Inactive", second.access_key_id: "Active"}
    delete_access_key(ctx, "rotator", first.access_key_id)
    assert [k["AccessKeyId"] for k in ctx.iam.list_access_keys(UserName="rotator")["AccessKeyMetadata"]] == [
        second.access_key_id
    ]


_CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBpzCCARACCQCY5yOdxCTrGjANBgkqhkiG9w0BAQsFADAXMRUwEwYDVQQKDAxt
b3RvIHRlc3RpbmcwIBcNMTgxMTA1MTkwNTIwWhgPMjI5MjA4MTkxOTA1MjBaMBcx
FTATBgNVBAoMDG1vdG8gdGVzdGluZzCBnzANBgkqhkiG9w0BAQEFAAOBjQAwgYkC
gYEA1Jn3g2h7LD3FLqdpcYNbFXCS4V4eDpuTCje9vKFcC3pi/01147X3zdfPy8Mt
ZhKxcREOwm4NXykh23P9KW7fBovpNwnbYsbPqj8Hf1ZaClrgku1arTVhEnKjx8zO
vaR/bVLCss4uE0E0VM1tJn/QGQsfthFsjuHtwx8uIWz35tUCAwEAATANBgkqhkiG
9w0BAQsFAAOBgQBWdOQ7bDc2nWkUhFjZoNIZrqjyNdjlMUndpwREVD7FQ/DuxJMj
FyDHrtlrS80dPUQWNYHw++oACDpWO01LGLPPrGmuO/7cOdojPEd852q5gd+7W9xt
8vUH+pBa6IBLbvBp+szli51V3TLSWcoyy4ceJNQU2vCkTLoFdS0RLd/7tQ==
-----END CERTIFICATE-----"""
