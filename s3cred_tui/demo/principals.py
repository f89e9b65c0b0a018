"""Who is calling the demo, and every policy AWS would weigh for that caller.

From the access key moto authenticated, this finds the IAM user, the assumed-role session or
the federated-user session (see `federation.py`) and gathers what AWS uses to authorize it:
identity policies (a user's inline, attached and group policies; a role's inline and attached
policies), the permissions boundary, the session policy, tags, and the request-context keys
that describe the principal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends

log = logging.getLogger(__name__)

# Where a user's permissions boundary is kept on moto's User object (moto drops it; see
# `iam_gaps.py`). The shape is the API's: {"PermissionsBoundaryType", "PermissionsBoundaryArn"}.
USER_BOUNDARY_ATTRIBUTE = "permissions_boundary"

NamedPolicy = tuple[str, dict]


@dataclass
class Principal:
    """A caller as the evaluator sees it."""

    arn: str  # user ARN, assumed-role session ARN or federated-user ARN
    account: str
    kind: str  # "user" | "assumed-role" | "federated-user"
    identity_policies: list[NamedPolicy] = field(default_factory=list)
    boundary: NamedPolicy | None = None
    session_policy: NamedPolicy | None = None
    context: dict[str, Any] = field(default_factory=dict)
    # Why the credentials are not usable at all (inactive key, expired session, deleted user).
    unusable: str | None = None
    temporary: bool = False


def _document(text: Any, what: str) -> dict:
    if isinstance(text, dict):
        return text
    try:
        document = json.loads(text)
    except (TypeError, ValueError):
        # moto validated it when it was stored; a document that no longer parses grants nothing.
        log.warning("demo authorizer: %s is not JSON; treating it as granting nothing", what)
        return {"Version": "2012-10-17", "Statement": []}
    return document if isinstance(document, dict) else {"Version": "2012-10-17", "Statement": []}


def managed_document(policy: Any) -> dict:
    """The default version of a moto managed policy."""
    for version in getattr(policy, "versions", []):
        if getattr(version, "is_default", False) or getattr(version, "version_id", None) == policy.default_version_id:
            return _document(version.document, f"managed policy {policy.arn}")
    return {"Version": "2012-10-17", "Statement": []}


def _managed(policies: dict) -> list[NamedPolicy]:
    return [(f"attached policy {policy.name}", managed_document(policy)) for policy in policies.values()]


def _inline(policies: dict, whose: str) -> list[NamedPolicy]:
    return [(f"inline policy {name} of {whose}", _document(text, f"inline policy {name}")) for name, text in policies.items()]


def policy_by_arn(backend: Any, arn: str) -> NamedPolicy | None:
    policy = backend.managed_policies.get(arn)
    if policy is None:
        return None
    return (f"permissions boundary {policy.name}", managed_document(policy))


def _tags_context(tags: Any) -> dict[str, str]:
    pairs: list[tuple[str, str]] = []
    if isinstance(tags, dict):
        for key, value in tags.items():
            if isinstance(value, dict):
                pairs.append((value.get("Key", key), value.get("Value", "")))
            else:
                pairs.append((key, value))
    elif isinstance(tags, list):
        pairs = [(t.get("Key", ""), t.get("Value", "")) for t in tags if isinstance(t, dict)]
    return {f"aws:PrincipalTag/{key}": value for key, value in pairs if key}


def user_identity(backend: Any, user: Any) -> list[NamedPolicy]:
    policies = _inline(user.policies, f"user {user.name}") + _managed(user.managed_policies)
    for group in backend.get_groups_for_user(user.name):
        policies += _inline(group.policies, f"group {group.name}") + _managed(group.managed_policies)
    return policies


def user_boundary(backend: Any, user: Any) -> tuple[NamedPolicy | None, str | None]:
    """The user's boundary policy, and a problem when it is set but cannot be read."""
    stored = getattr(user, USER_BOUNDARY_ATTRIBUTE, None)
    arn = (stored or {}).get("PermissionsBoundaryArn") if isinstance(stored, dict) else None
    if not arn:
        return None, None
    policy = policy_by_arn(backend, arn)
    if policy is None:
        # AWS refuses to delete a policy in use as a boundary; fail closed if it happens anyway.
        return ("permissions boundary (missing policy)", {"Version": "2012-10-17", "Statement": []}), arn
    return policy, None


def _user_principal(backend: Any, account: str, user_name: str, access_key_id: str) -> Principal:
    user = backend.users.get(user_name)
    if user is None:
        return Principal(f"arn:aws:iam::{account}:user/{user_name}", account, "user", unusable="the user no longer exists")
    key = next((k for k in user.access_keys if k.access_key_id == access_key_id), None)
    boundary, _ = user_boundary(backend, user)
    context = {"aws:userid": user.id, "aws:PrincipalArn": user.arn, **_tags_context(backend.tagger.list_tags_for_resource(user.arn)["Tags"])}
    principal = Principal(user.arn, account, "user", user_identity(backend, user), boundary, None, context)
    if key is not None and getattr(key, "status", "Active") != "Active":
        # "Inactive" keys are refused by AWS as if unknown.
        principal.unusable = "the access key is inactive"
    return principal


def _session(account: str, partition: str, access_key_id: str) -> Any:
    for session in sts_backends[account][partition].assumed_roles:
        if session.access_key_id == access_key_id:
            return session
    return None


def _expired(session: Any) -> bool:
    expiration = getattr(session, "expiration", None)
    if expiration is None:
        return False
    now = datetime.now(timezone.utc).replace(tzinfo=None) if expiration.tzinfo is None else datetime.now(timezone.utc)
    return expiration <= now


def resolve(access_key: Any, account: str, partition: str) -> Principal:
    """The caller behind moto's authenticated access key object (IAMUserAccessKey or AssumedRoleAccessKey)."""
    from s3cred_tui.demo.federation import (
        FederatedSession,  # federation imports this module
    )

    backend = iam_backends[account][partition]
    if hasattr(access_key, "_owner_user_name"):
        return _user_principal(backend, account, access_key._owner_user_name, access_key._access_key_id)

    key_id = access_key._access_key_id
    session = _session(account, partition, key_id)
    if session is None:
        return Principal(access_key.arn, account, "assumed-role", unusable="the session is unknown")
    if isinstance(session, FederatedSession):
        user = backend.users.get(session.user_name)
        principal = Principal(session.arn, account, "federated-user", temporary=True)
        if user is None:
            principal.unusable = f"the IAM user {session.user_name} that requested it no longer exists"
            return principal
        principal.identity_policies = user_identity(backend, user)
        principal.boundary, _ = user_boundary(backend, user)
        principal.session_policy = ("federation token policy", session.session_document)
        principal.context = {"aws:userid": session.user_id, "aws:MultiFactorAuthPresent": False}
    else:
        principal = Principal(session.arn, account, "assumed-role", temporary=True)
        try:
            role = backend.get_role_by_arn(session.role_arn)
        except Exception:  # noqa: BLE001 - moto lets anyone "assume" a role that does not exist
            principal.unusable = f"the role {session.role_arn} does not exist"
            return principal
        principal.identity_policies = _inline(role.policies, f"role {role.name}") + _managed(role.managed_policies)
        if role.permissions_boundary_arn:
            principal.boundary = policy_by_arn(backend, role.permissions_boundary_arn) or (
                "permissions boundary (missing policy)",
                {"Version": "2012-10-17", "Statement": []},
            )
        if session.policy:
            principal.session_policy = ("session policy", _document(session.policy, "session policy"))
        principal.context = {
            "aws:userid": f"{role.id}:{session.session_name}",
            "aws:PrincipalArn": role.arn,  # the role's ARN, with its path
            "aws:MultiFactorAuthPresent": False,
            **_tags_context(role.tags),
        }
    if _expired(session):
        principal.unusable = "the session has expired"
    return principal
