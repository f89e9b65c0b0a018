"""Carry out a plan step by step, and undo what it made if anything fails or is cancelled.

Only what this run created is undone, newest first (access key, inline policy, user;
attached role policy, role; a bucket only while it is still empty). A reused user or an
existing role is never deleted; repairs to our own role are put back as they were.
IAM is eventually consistent, so the first call that depends on a new key or role is
retried with bounded exponential backoff, reported as "waiting" events.

Secrets never appear in events, messages, logs or exception text.

Public API:
- `ApplyEvent(index, title, status, message)`; statuses in `STATUSES`
- `ApplyResult(ok, credentials, completed, undone, not_undone, error, cancelled)`
- `apply_plan(ctx, plan, on_event=None, is_cancelled=lambda: False, *, sleep=time.sleep,
  wait_budget_seconds=20.0) -> ApplyResult`
- `PlanBlocked` (raised for a plan with blockers)
- `delete_user(ctx, name, on_event=None) -> list[str]`
- `set_access_key_status(ctx, user, key_id, active)`, `delete_access_key(ctx, user, key_id)`,
  `create_access_key(ctx, user) -> Credentials`
- `wait_until_ready(call, on_wait=None, sleep=time.sleep, budget_seconds=20.0, first_delay=0.2)`
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s3cred_tui.core import policies
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import (
    AccessDenied,
    Cancelled,
    CredentialsInvalid,
    LimitExceeded,
    NotFound,
    S3CredError,
    translate,
)
from s3cred_tui.core.plan import MAX_ACCESS_KEYS_PER_USER, Plan, Step

log = logging.getLogger(__name__)

STATUSES = ("running", "done", "failed", "waiting", "cancelled", "rolling-back", "undone", "undo-failed")
_NOT_READY_CODES = {"InvalidClientTokenId", "InvalidAccessKeyId", "AccessDenied", "AccessDeniedException"}


@dataclass(frozen=True)
class ApplyEvent:
    index: int
    title: str
    status: str
    message: str = ""


@dataclass
class ApplyResult:
    ok: bool
    credentials: Credentials | None = None
    completed: list[str] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    not_undone: list[str] = field(default_factory=list)  # "what: why it could not be undone"
    error: S3CredError | None = None
    cancelled: bool = False


class PlanBlocked(S3CredError):
    """The plan has blockers; nothing was done."""


EventSink = Callable[[ApplyEvent], None] | None


def _emitter(on_event: EventSink) -> Callable[[int, str, str, str], None]:
    def emit(index: int, title: str, status: str, message: str = "") -> None:
        if on_event is None:
            return
        try:
            on_event(ApplyEvent(index, title, status, message))
        except Exception:  # a broken listener must not stop a rollback half-way
            log.exception("apply event listener failed")

    return emit


def _is_not_ready(error: S3CredError) -> bool:
    return isinstance(error, (CredentialsInvalid, AccessDenied)) and (error.code in _NOT_READY_CODES)


def wait_until_ready(
    call: Callable[[], Any],
    operation: str,
    on_wait: Callable[[int, float, S3CredError], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget_seconds: float = 20.0,
    first_delay: float = 0.2,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> Any:
    """`call()` until it stops failing the way a just-created key or role fails.

    Delays double from `first_delay`; the sum of delays never exceeds `budget_seconds`.
    The last error is raised when the budget is spent.
    """
    delay = first_delay
    slept = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except Exception as exc:
            error = translate(exc, operation)
            if not _is_not_ready(error):
                raise error from None
            remaining = budget_seconds - slept
            if remaining <= 0 or is_cancelled():
                raise error from None
            pause = min(delay, remaining)
            if on_wait is not None:
                on_wait(attempt, pause, error)
            sleep(pause)
            slept += pause
            delay *= 2


@dataclass
class _Done:
    index: int
    step: Step
    undo: Callable[[], None] | None
    undo_title: str


class _Runner:
    def __init__(self, ctx: Any, plan: Plan, emit: Callable, is_cancelled: Callable[[], bool], sleep, budget: float):
        self.ctx = ctx
        self.plan = plan
        self.emit = emit
        self.is_cancelled = is_cancelled
        self.sleep = sleep
        self.budget = budget
        self.key_id: str | None = None
        self._secret: str | None = None
        self.credentials: Credentials | None = None
        self.role_changed = False

    def _wait(self, index: int, step: Step, call: Callable[[], Any], operation: str) -> Any:
        def on_wait(attempt: int, pause: float, error: S3CredError) -> None:
            self.emit(index, step.title, "waiting", f"not ready yet ({error.code}); retrying in {pause:.1f} s")

        return wait_until_ready(
            call, operation, on_wait, self.sleep, self.budget, is_cancelled=self.is_cancelled
        )

    def run(self, index: int, step: Step) -> _Done:
        """Do one step; return how to undo it (None when there is nothing to undo)."""
        ctx, params = self.ctx, dict(step.params)
        action = step.action
        if action == "s3:CreateBucket":
            region = params.pop("Region", None)
            s3 = ctx.client("s3", region) if region else ctx.s3
            s3.create_bucket(**params)
            bucket = params["Bucket"]
            return _Done(index, step, lambda: s3.delete_bucket(Bucket=bucket), f"Delete bucket {bucket}")
        if action == "s3:PutBucketTagging":
            region = params.pop("Region", None)
            s3 = ctx.client("s3", region) if region else ctx.s3
            s3.put_bucket_tagging(**params)
            return _Done(index, step, None, "")
        iam = ctx.iam
        if action == "iam:CreateUser":
            iam.create_user(**params)
            user = params["UserName"]
            return _Done(index, step, lambda: iam.delete_user(UserName=user), f"Delete user {user}")
        if action == "iam:PutUserPolicy":
            iam.put_user_policy(PolicyDocument=policies.policy_json(step.policy, pretty=False), **params)
            user, name = params["UserName"], params["PolicyName"]
            return _Done(
                index,
                step,
                lambda: iam.delete_user_policy(UserName=user, PolicyName=name),
                f"Delete inline policy {name} of {user}",
            )
        if action == "iam:CreateAccessKey":
            key = iam.create_access_key(**params)["AccessKey"]
            self.key_id, self._secret = key["AccessKeyId"], key["SecretAccessKey"]
            user, key_id = params["UserName"], key["AccessKeyId"]
            self.credentials = Credentials(
                access_key_id=key_id, secret_access_key=key["SecretAccessKey"], user_name=user, region=ctx.region
            )
            return _Done(
                index,
                step,
                lambda: iam.delete_access_key(UserName=user, AccessKeyId=key_id),
                f"Delete access key {key_id} of {user}",
            )
        if action == "sts:GetCallerIdentity":
            if self.key_id is None or self._secret is None:
                raise S3CredError("There is no new key to check: the plan has no access-key step before this one.")
            new_sts = ctx.for_keys(self.key_id, self._secret).sts
            self._wait(index, step, new_sts.get_caller_identity, "sts:GetCallerIdentity")
            return _Done(index, step, None, "")
        if action == "iam:CreateRole":
            iam.create_role(AssumeRolePolicyDocument=policies.policy_json(step.policy, pretty=False), **params)
            self.role_changed = True
            role = params["RoleName"]
            return _Done(index, step, lambda: iam.delete_role(RoleName=role), f"Delete role {role}")
        if action == "iam:AttachRolePolicy":
            iam.attach_role_policy(**params)
            self.role_changed = True
            role, arn = params["RoleName"], params["PolicyArn"]
            return _Done(
                index,
                step,
                lambda: iam.detach_role_policy(RoleName=role, PolicyArn=arn),
                f"Detach {arn.rsplit('/', 1)[-1]} from role {role}",
            )
        if action == "iam:UpdateAssumeRolePolicy":
            iam.update_assume_role_policy(PolicyDocument=policies.policy_json(step.policy, pretty=False), **params)
            self.role_changed = True
            role = params["RoleName"]
            previous = (step.restore or {}).get("PolicyDocument")
            undo = None
            if previous:
                undo = lambda: iam.update_assume_role_policy(  # noqa: E731
                    RoleName=role, PolicyDocument=policies.policy_json(previous, pretty=False)
                )
            return _Done(index, step, undo, f"Restore the trust policy of role {role}")
        if action == "iam:UpdateRole":
            iam.update_role(**params)
            self.role_changed = True
            role = params["RoleName"]
            previous = (step.restore or {}).get("MaxSessionDuration")
            undo = None
            if previous:
                undo = lambda: iam.update_role(RoleName=role, MaxSessionDuration=previous)  # noqa: E731
            return _Done(index, step, undo, f"Restore the maximum session of role {role}")
        if action == "sts:AssumeRole":
            document = policies.policy_json(step.policy, pretty=False) if step.policy is not None else None
            kwargs = dict(params, **({"Policy": document} if document else {}))

            def assume() -> dict:
                return ctx.sts.assume_role(**kwargs)

            response = self._wait(index, step, assume, "sts:AssumeRole") if self.role_changed else assume()
            self.credentials = _temporary(response["Credentials"], ctx.region)
            return _Done(index, step, None, "")
        if action == "sts:GetFederationToken":
            document = policies.policy_json(step.policy, pretty=False) if step.policy is not None else None
            response = ctx.sts.get_federation_token(**params, **({"Policy": document} if document else {}))
            self.credentials = _temporary(response["Credentials"], ctx.region)
            return _Done(index, step, None, "")
        raise S3CredError(f"Unknown plan step {action}; this version of s3cred-tui cannot carry it out.")


def _temporary(raw: dict[str, Any], region: str | None) -> Credentials:
    return Credentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretAccessKey"],
        session_token=raw.get("SessionToken"),
        expiration=raw.get("Expiration"),
        region=region,
    )


def apply_plan(
    ctx: Any,
    plan: Plan,
    on_event: EventSink = None,
    is_cancelled: Callable[[], bool] = lambda: False,
    *,
    sleep: Callable[[float], None] = time.sleep,
    wait_budget_seconds: float = 20.0,
) -> ApplyResult:
    """Run the plan's steps in order; on failure or cancellation undo this run's changes, newest first."""
    if plan.blockers:
        raise PlanBlocked(
            "This plan cannot be applied: " + " ".join(plan.blockers), code="PlanBlocked"
        )
    emit = _emitter(on_event)
    runner = _Runner(ctx, plan, emit, is_cancelled, sleep, wait_budget_seconds)
    result = ApplyResult(ok=False)
    done: list[_Done] = []
    for index, step in enumerate(plan.steps):
        if is_cancelled():
            emit(index, step.title, "cancelled", "cancelled before this step")
            result.cancelled = True
            result.error = Cancelled("Cancelled; what was created has been removed.", code="Cancelled")
            break
        emit(index, step.title, "running", step.action)
        try:
            done.append(runner.run(index, step))
        except Exception as exc:
            error = translate(exc, step.action)
            emit(index, step.title, "failed", error.message)
            result.error = error
            result.cancelled = bool(is_cancelled())
            break
        result.completed.append(step.title)
        emit(index, step.title, "done", _done_message(step, runner))
    else:
        result.ok = True
        result.credentials = runner.credentials
        return result
    _roll_back(done, emit, result)
    if result.cancelled and result.not_undone:
        result.error = Cancelled(
            "Cancelled, but some changes could not be undone: " + "; ".join(result.not_undone), code="Cancelled"
        )
    return result


def _done_message(step: Step, runner: _Runner) -> str:
    if step.action == "iam:CreateAccessKey" and runner.key_id:
        return f"access key {runner.key_id} created"
    if step.action == "sts:GetCallerIdentity":
        return "the new key works"
    return ""


def _roll_back(done: list[_Done], emit: Callable, result: ApplyResult) -> None:
    for entry in reversed(done):
        if entry.undo is None:
            continue
        emit(entry.index, entry.undo_title, "rolling-back", entry.step.title)
        try:
            entry.undo()
        except Exception as exc:
            error = translate(exc)
            reason = error.message
            if error.code == "BucketNotEmpty":
                reason = "the bucket is no longer empty, so it was kept"
            result.not_undone.append(f"{entry.undo_title}: {reason}")
            emit(entry.index, entry.undo_title, "undo-failed", reason)
        else:
            result.undone.append(entry.undo_title)
            emit(entry.index, entry.undo_title, "undone", "")


# ---------------------------------------------------------------------------
# User screen operations


def _iam_call(operation: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except Exception as exc:
        raise translate(exc, operation) from None


def _absent_or_unsupported(exc: Exception) -> bool:
    """Nothing of this kind to remove: the entity is missing, or the endpoint lacks the API."""
    error = translate(exc)
    if isinstance(error, NotFound):
        return True
    return error.code in {"NotImplemented", "InvalidAction", "UnknownOperationException", "NotImplementedError"} or (
        "not yet implemented" in error.message.lower()
    )


def delete_user(ctx: Any, name: str, on_event: EventSink = None) -> list[str]:
    """Delete a user and everything that blocks deleting it; returns what was removed, in order."""
    iam = ctx.iam
    emit = _emitter(on_event)
    removed: list[str] = []
    counter = [0]

    def do(title: str, operation: str, call: Callable[..., Any], **kwargs: Any) -> None:
        index = counter[0]
        counter[0] += 1
        emit(index, title, "running", operation)
        try:
            call(**kwargs)
        except Exception as exc:
            error = translate(exc, operation)
            emit(index, title, "failed", error.message)
            raise error from None
        removed.append(title)
        emit(index, title, "done", "")

    def listing(operation: str, call: Callable[..., Any], key: str, **kwargs: Any) -> list:
        items: list = []
        marker = None
        while True:
            request = dict(kwargs, **({"Marker": marker} if marker else {}))
            try:
                response = call(**request)
            except Exception as exc:
                if _absent_or_unsupported(exc) and not isinstance(translate(exc), NotFound):
                    return []
                raise translate(exc, operation) from None
            items.extend(response.get(key, []) or [])
            marker = response.get("Marker") if response.get("IsTruncated") else None
            if not marker:
                return items

    _iam_call("iam:GetUser", iam.get_user, UserName=name)

    for policy in listing("iam:ListAttachedUserPolicies", iam.list_attached_user_policies, "AttachedPolicies", UserName=name):
        do(f"Detach policy {policy['PolicyName']}", "iam:DetachUserPolicy", iam.detach_user_policy,
           UserName=name, PolicyArn=policy["PolicyArn"])
    for policy_name in listing("iam:ListUserPolicies", iam.list_user_policies, "PolicyNames", UserName=name):
        do(f"Delete inline policy {policy_name}", "iam:DeleteUserPolicy", iam.delete_user_policy,
           UserName=name, PolicyName=policy_name)
    for group in listing("iam:ListGroupsForUser", iam.list_groups_for_user, "Groups", UserName=name):
        do(f"Remove from group {group['GroupName']}", "iam:RemoveUserFromGroup", iam.remove_user_from_group,
           GroupName=group["GroupName"], UserName=name)
    for key in listing("iam:ListAccessKeys", iam.list_access_keys, "AccessKeyMetadata", UserName=name):
        do(f"Delete access key {key['AccessKeyId']}", "iam:DeleteAccessKey", iam.delete_access_key,
           UserName=name, AccessKeyId=key["AccessKeyId"])
    try:
        iam.get_login_profile(UserName=name)
        has_login = True
    except Exception as exc:
        if not _absent_or_unsupported(exc):
            raise translate(exc, "iam:GetLoginProfile") from None
        has_login = False
    if has_login:
        do("Delete console password", "iam:DeleteLoginProfile", iam.delete_login_profile, UserName=name)
    for device in listing("iam:ListMFADevices", iam.list_mfa_devices, "MFADevices", UserName=name):
        serial = device["SerialNumber"]
        do(f"Deactivate MFA device {serial}", "iam:DeactivateMFADevice", iam.deactivate_mfa_device,
           UserName=name, SerialNumber=serial)
        if serial.startswith("arn:") and ":mfa/" in serial:
            do(f"Delete virtual MFA device {serial}", "iam:DeleteVirtualMFADevice", iam.delete_virtual_mfa_device,
               SerialNumber=serial)
    for cert in listing("iam:ListSigningCertificates", iam.list_signing_certificates, "Certificates", UserName=name):
        do(f"Delete signing certificate {cert['CertificateId']}", "iam:DeleteSigningCertificate",
           iam.delete_signing_certificate, UserName=name, CertificateId=cert["CertificateId"])
    for ssh in listing("iam:ListSSHPublicKeys", iam.list_ssh_public_keys, "SSHPublicKeys", UserName=name):
        do(f"Delete SSH public key {ssh['SSHPublicKeyId']}", "iam:DeleteSSHPublicKey", iam.delete_ssh_public_key,
           UserName=name, SSHPublicKeyId=ssh["SSHPublicKeyId"])
    for cred in listing("iam:ListServiceSpecificCredentials", iam.list_service_specific_credentials,
                        "ServiceSpecificCredentials", UserName=name):
        do(f"Delete service credential {cred['ServiceSpecificCredentialId']}", "iam:DeleteServiceSpecificCredential",
           iam.delete_service_specific_credential, UserName=name,
           ServiceSpecificCredentialId=cred["ServiceSpecificCredentialId"])
    do(f"Delete user {name}", "iam:DeleteUser", iam.delete_user, UserName=name)
    return removed


def set_access_key_status(ctx: Any, user: str, key_id: str, active: bool) -> None:
    _iam_call(
        "iam:UpdateAccessKey",
        ctx.iam.update_access_key,
        UserName=user,
        AccessKeyId=key_id,
        Status="Active" if active else "Inactive",
    )


def delete_access_key(ctx: Any, user: str, key_id: str) -> None:
    _iam_call("iam:DeleteAccessKey", ctx.iam.delete_access_key, UserName=user, AccessKeyId=key_id)


def create_access_key(ctx: Any, user: str) -> Credentials:
    """A new key for rotation; refused when the user already has the two keys AWS allows."""
    keys = _iam_call("iam:ListAccessKeys", ctx.iam.list_access_keys, UserName=user).get("AccessKeyMetadata", [])
    if len(keys) >= MAX_ACCESS_KEYS_PER_USER:
        raise LimitExceeded(
            f"User {user} already has {len(keys)} access keys; AWS allows {MAX_ACCESS_KEYS_PER_USER}. "
            "Delete one before creating another.",
            code="LimitExceeded",
            operation="iam:CreateAccessKey",
        )
    key = _iam_call("iam:CreateAccessKey", ctx.iam.create_access_key, UserName=user)["AccessKey"]
    return Credentials(
        access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"], user_name=user, region=ctx.region
    )
