"""Deleting an IAM user safely: read everything first, then remove, and say exactly where a stop left it.

IAM refuses `DeleteUser` while the user still has policies, group memberships, keys, a console
password, MFA devices, certificates, SSH keys or service credentials. Reading all of them before
removing anything means a listing the endpoint refuses or does not support can never strip a user
half-way: either the whole picture is known (and shown before the person confirms) or nothing is
touched. A failure or a cancel during removal reports what was removed and what remains.

Public API:
- `read_user_deletion(ctx, name) -> UserDeletion` (read-only calls)
- `run_user_deletion(ctx, deletion, on_event=None, is_cancelled=...) -> DeletionResult`
- `delete_user(ctx, name, on_event=None) -> list[str]` (both, raising `PartialDeletion` on a stop)
- `self_deletion_refusal(identity, user_name, caller_key_id, key_id=None) -> str | None`
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.parsers import ResponseParserError

from s3cred_tui.core.apply import EventSink, event_emitter
from s3cred_tui.core.errors import Cancelled, NotFound, S3CredError, translate

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

# Error codes meaning "this endpoint has no such API": nothing of that kind can exist there.
_UNSUPPORTED_CODES = frozenset({"NotImplemented", "InvalidAction", "UnknownOperationException", "NotImplementedError"})


@dataclass(frozen=True)
class Removal:
    """One call that removes one thing that blocks `DeleteUser` (or the user itself, last)."""

    title: str
    operation: str  # the API call, e.g. "iam:DeleteAccessKey"
    method: str  # the boto3 IAM client method
    params: dict[str, Any]


@dataclass(frozen=True)
class UserDeletion:
    """Everything that must go, in order, read before anything is removed."""

    user_name: str
    removals: tuple[Removal, ...]
    # Listings the endpoint does not support, counted as "nothing to remove" (said, not hidden).
    unsupported: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        return [removal.title for removal in self.removals]


@dataclass
class DeletionResult:
    user_name: str
    removed: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    error: S3CredError | None = None
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled and not self.remaining

    def summary(self) -> str:
        """One paragraph a person can act on: what happened, what was removed, what is left."""
        if self.ok:
            return f"User {self.user_name} deleted ({len(self.removed)} steps)."
        why = "Stopped on request" if self.cancelled else f"Stopped: {self.error}"
        removed = "; ".join(self.removed) or "nothing"
        remaining = "; ".join(self.remaining) or "nothing"
        return f"{why}. Removed: {removed}. Still there: {remaining}."


class PartialDeletion(S3CredError):
    """A deletion stopped part-way; `result` says what was removed and what remains."""

    def __init__(self, result: DeletionResult):
        super().__init__(result.summary(), code=result.error.code if result.error else "Cancelled")
        self.result = result


def _unsupported(exc: BaseException) -> bool:
    """The endpoint lacks this API (an AWS 'not implemented' code, or a non-AWS answer such as an HTML page)."""
    if isinstance(exc, ResponseParserError):
        return True
    error = translate(exc)
    return error.code in _UNSUPPORTED_CODES or "not yet implemented" in error.message.lower()


def _pages(call: Callable[..., dict], key: str, **kwargs: Any) -> Iterator[Any]:
    marker = None
    while True:
        response = call(**kwargs, **({"Marker": marker} if marker else {}))
        yield from response.get(key, []) or []
        marker = response.get("Marker") if response.get("IsTruncated") else None
        if not marker:
            return


def read_user_deletion(ctx: AwsContext, name: str) -> UserDeletion:
    """Read everything that blocks deleting `name`; no change is made. Raises NotFound for a missing user."""
    iam = ctx.iam
    unsupported: list[str] = []

    def listing(operation: str, call: Callable[..., dict], key: str) -> list[Any]:
        try:
            return list(_pages(call, key, UserName=name))
        except Exception as exc:
            if _unsupported(exc):
                unsupported.append(operation)
                return []
            raise translate(exc, operation) from None

    try:
        iam.get_user(UserName=name)
    except Exception as exc:
        raise translate(exc, "iam:GetUser") from None

    removals: list[Removal] = []
    for policy in listing("iam:ListAttachedUserPolicies", iam.list_attached_user_policies, "AttachedPolicies"):
        removals.append(Removal(f"Detach policy {policy['PolicyName']}", "iam:DetachUserPolicy",
                                "detach_user_policy", {"UserName": name, "PolicyArn": policy["PolicyArn"]}))
    for policy_name in listing("iam:ListUserPolicies", iam.list_user_policies, "PolicyNames"):
        removals.append(Removal(f"Delete inline policy {policy_name}", "iam:DeleteUserPolicy",
                                "delete_user_policy", {"UserName": name, "PolicyName": policy_name}))
    for group in listing("iam:ListGroupsForUser", iam.list_groups_for_user, "Groups"):
        removals.append(Removal(f"Remove from group {group['GroupName']}", "iam:RemoveUserFromGroup",
                                "remove_user_from_group", {"GroupName": group["GroupName"], "UserName": name}))
    for key in listing("iam:ListAccessKeys", iam.list_access_keys, "AccessKeyMetadata"):
        removals.append(Removal(f"Delete access key {key['AccessKeyId']}", "iam:DeleteAccessKey",
                                "delete_access_key", {"UserName": name, "AccessKeyId": key["AccessKeyId"]}))
    try:
        iam.get_login_profile(UserName=name)
        removals.append(Removal("Delete console password", "iam:DeleteLoginProfile", "delete_login_profile",
                                {"UserName": name}))
    except Exception as exc:
        if _unsupported(exc):
            unsupported.append("iam:GetLoginProfile")
        elif not isinstance(translate(exc), NotFound):
            raise translate(exc, "iam:GetLoginProfile") from None
    for device in listing("iam:ListMFADevices", iam.list_mfa_devices, "MFADevices"):
        serial = device["SerialNumber"]
        removals.append(Removal(f"Deactivate MFA device {serial}", "iam:DeactivateMFADevice",
                                "deactivate_mfa_device", {"UserName": name, "SerialNumber": serial}))
        if serial.startswith("arn:") and ":mfa/" in serial:
            removals.append(Removal(f"Delete virtual MFA device {serial}", "iam:DeleteVirtualMFADevice",
                                    "delete_virtual_mfa_device", {"SerialNumber": serial}))
    for cert in listing("iam:ListSigningCertificates", iam.list_signing_certificates, "Certificates"):
        removals.append(Removal(f"Delete signing certificate {cert['CertificateId']}", "iam:DeleteSigningCertificate",
                                "delete_signing_certificate", {"UserName": name, "CertificateId": cert["CertificateId"]}))
    for ssh in listing("iam:ListSSHPublicKeys", iam.list_ssh_public_keys, "SSHPublicKeys"):
        removals.append(Removal(f"Delete SSH public key {ssh['SSHPublicKeyId']}", "iam:DeleteSSHPublicKey",
                                "delete_ssh_public_key", {"UserName": name, "SSHPublicKeyId": ssh["SSHPublicKeyId"]}))
    for cred in listing("iam:ListServiceSpecificCredentials", iam.list_service_specific_credentials,
                        "ServiceSpecificCredentials"):
        cred_id = cred["ServiceSpecificCredentialId"]
        removals.append(Removal(f"Delete service credential {cred_id}", "iam:DeleteServiceSpecificCredential",
                                "delete_service_specific_credential",
                                {"UserName": name, "ServiceSpecificCredentialId": cred_id}))
    removals.append(Removal(f"Delete user {name}", "iam:DeleteUser", "delete_user", {"UserName": name}))
    return UserDeletion(name, tuple(removals), tuple(unsupported))


def run_user_deletion(
    ctx: AwsContext,
    deletion: UserDeletion,
    on_event: EventSink = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> DeletionResult:
    """Remove what `deletion` lists, in order; stop at the first failure or a cancel, and say what remains."""
    emit = event_emitter(on_event)  # the apply events, so the UI shows both with one widget

    result = DeletionResult(deletion.user_name)
    for index, removal in enumerate(deletion.removals):
        if is_cancelled():
            result.cancelled = True
            result.remaining = [r.title for r in deletion.removals[index:]]
            emit(index, removal.title, "cancelled", "")
            return result
        emit(index, removal.title, "running", removal.operation)
        try:
            getattr(ctx.iam, removal.method)(**removal.params)
        except Exception as exc:
            error = translate(exc, removal.operation)
            if isinstance(error, NotFound) and removal.method != "delete_user":
                # Already gone (removed by someone else since the read): the goal of this step holds.
                result.removed.append(removal.title)
                emit(index, removal.title, "done", "already gone")
                continue
            emit(index, removal.title, "failed", error.message)
            result.error = error
            result.remaining = [r.title for r in deletion.removals[index:]]
            return result
        result.removed.append(removal.title)
        emit(index, removal.title, "done", "")
    return result


def delete_user(ctx: AwsContext, name: str, on_event: EventSink = None,
                is_cancelled: Callable[[], bool] = lambda: False) -> list[str]:
    """Read, then delete a user and everything that blocks deleting it; returns what was removed, in order.

    Raises the read's error when nothing was touched, or `PartialDeletion` (with removed/remaining) on a stop.
    """
    result = run_user_deletion(ctx, read_user_deletion(ctx, name), on_event, is_cancelled)
    if not result.ok:
        if not result.removed and result.error is not None:
            raise result.error
        if result.cancelled and not result.removed:
            raise Cancelled("Deletion cancelled before anything was removed.", code="Cancelled")
        raise PartialDeletion(result)
    return result.removed


def self_deletion_refusal(identity: Any, user_name: str, caller_key_id: str | None,
                          key_id: str | None = None) -> str | None:
    """Why deleting this user (or this key of it) would cut the caller off, or None when it is safe.

    Deleting your own user, or the key you are signed in with, locks you out part-way: policies go first,
    so the calls that should finish the job are then denied.
    """
    if identity is None or getattr(identity, "principal_type", "") != "user" or identity.name != user_name:
        return None
    if key_id is None:
        return (f"User {user_name} is you (the identity this app is signed in as); deleting it would lock you "
                "out half-way. Use another identity to delete it.")
    if caller_key_id and key_id == caller_key_id:
        return (f"Access key {key_id} is the key this app is signed in with; deleting or deactivating it "
                "would cut this session off. Sign in with another key first.")
    return None
