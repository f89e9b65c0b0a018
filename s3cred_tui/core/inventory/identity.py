"""Who the current credentials belong to, and the ARN a trust policy must name for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui.core.errors import translate

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


@dataclass(frozen=True)
class Identity:
    """The caller, as `sts.get_caller_identity` reports it.

    `principal_arn` is what a role trust policy must name: for an assumed-role session
    it is the role's ARN (including its path when it could be read), not the session ARN.
    """

    account: str
    arn: str
    user_id: str
    principal_type: str  # "user" | "assumed-role" | "root" | "federated" | "other"
    name: str
    principal_arn: str = ""
    session_name: str | None = None

    def __post_init__(self) -> None:
        if not self.principal_arn:
            object.__setattr__(self, "principal_arn", principal_arn_from(self.arn))

    @property
    def is_root(self) -> bool:
        return self.principal_type == "root"

    @property
    def is_assumed_role(self) -> bool:
        return self.principal_type == "assumed-role"

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "arn": self.arn,
            "user_id": self.user_id,
            "principal_type": self.principal_type,
            "name": self.name,
            "principal_arn": self.principal_arn,
            "session_name": self.session_name,
        }


def _split_arn(arn: str) -> tuple[str, str, str, str] | None:
    """(partition, service, account, resource) or None when this is not an ARN."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts[1], parts[2], parts[4], parts[5]


def classify_arn(arn: str) -> tuple[str, str, str | None]:
    """(principal_type, name, session_name) for a caller ARN."""
    split = _split_arn(arn)
    if split is None:
        return "other", arn, None
    _partition, service, _account, resource = split
    if service == "iam" and resource == "root":
        return "root", "root", None
    if service == "iam" and resource.startswith("user/"):
        return "user", resource.rsplit("/", 1)[-1], None
    if service == "sts" and resource.startswith("assumed-role/"):
        pieces = resource.split("/")
        role = pieces[1] if len(pieces) > 1 else ""
        session = "/".join(pieces[2:]) or None
        return "assumed-role", role, session
    if service == "sts" and resource.startswith("federated-user/"):
        return "federated", resource.split("/", 1)[1], None
    return "other", resource.rsplit("/", 1)[-1], None


def principal_arn_from(arn: str, role_path: str = "/") -> str:
    """The ARN a trust policy names for this caller.

    An assumed-role ARN (`arn:aws:sts::ACCT:assumed-role/NAME/SESSION`) drops the role's
    path, so the role ARN is rebuilt as `arn:aws:iam::ACCT:role{path}NAME`.
    """
    split = _split_arn(arn)
    if split is None:
        return arn
    partition, service, account, resource = split
    if service == "sts" and resource.startswith("assumed-role/"):
        role = resource.split("/")[1]
        path = role_path if role_path.startswith("/") and role_path.endswith("/") else "/"
        return f"arn:{partition}:iam::{account}:role{path}{role}"
    return arn


def whoami(ctx: AwsContext, resolve_role_path: bool = True) -> Identity:
    """Who the current credentials belong to.

    For an assumed role, `iam.get_role` is tried once to recover the role's path (the
    session ARN omits it); when that is denied the path-less ARN is used.
    """
    try:
        response = ctx.sts.get_caller_identity()
    except Exception as exc:
        raise translate(exc, "sts:GetCallerIdentity") from None
    arn = response["Arn"]
    principal_type, name, session = classify_arn(arn)
    principal_arn = principal_arn_from(arn)
    if principal_type == "assumed-role" and resolve_role_path:
        try:
            role = ctx.iam.get_role(RoleName=name)["Role"]
            principal_arn = role.get("Arn") or principal_arn
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass  # reading the role is a nicety; many sessions may not call iam:GetRole
    return Identity(
        account=response["Account"],
        arn=arn,
        user_id=response["UserId"],
        principal_type=principal_type,
        name=name,
        principal_arn=principal_arn,
        session_name=session,
    )
