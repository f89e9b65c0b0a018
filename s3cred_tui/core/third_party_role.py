"""A role another account assumes with an ExternalId: AWS's recommended way to give a third-party
service (backup, CI) access to buckets without any key of this account.

The role's trust policy names the other account (or one user/role in it) and requires
`sts:ExternalId` to equal a value this tool generates (the confused-deputy guard: the service
passes the id its customer gave it, so another customer of the same service cannot make it assume
this role). Its inline policy is the generated least-privilege policy (prefixes, keys, and the KMS
grants a customer-managed bucket key needs). The other account still needs an identity policy
allowing `sts:AssumeRole` on the role: `PlanRole.other_account_policy`.

Public API:
- `ThirdPartyRoleRequest(buckets, principal, access, prefixes=(), keys=(), prefix_mode, role_name=None,
  external_id=None)`
- `new_external_id() -> str`, `validate_external_id(text) -> str`, `external_id_trust_policy(principal_arn, external_id)`
- `ThirdPartyRolePlan` (`.role_arn`, `.external_id`, `.other_account_policy`, `.describe()`, `.to_dict()`),
  `build_third_party_role_plan(ctx, request, identity=None) -> ThirdPartyRolePlan`
"""

from __future__ import annotations

import hashlib
import re
import secrets
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3cred_tui import PROG
from s3cred_tui.core import policies
from s3cred_tui.core.describe import outcome_lines, policy_lines
from s3cred_tui.core.bucket_grant import account_of, principal_arn_for
from s3cred_tui.core.errors import NotFound, ValidationError, translate
from s3cred_tui.core.request import AccessLevel, PrefixMode
from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.core.validation import validate_bucket_name, validate_role_name

if TYPE_CHECKING:
    from s3cred_tui.core.apply import StepKind
    from s3cred_tui.core.inventory import Identity
    from s3cred_tui.core.plan import Step
    from s3cred_tui.core.session import AwsContext

_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{2,1224}$")
ROLE_POLICY_NAME = "s3cred-tui-access"


def new_external_id() -> str:
    """An unguessable id (not a secret: the service shows it; it must just be unique to this grant)."""
    return secrets.token_hex(16)


def validate_external_id(text: str) -> str:
    if not isinstance(text, str) or not _EXTERNAL_ID.match(text):
        raise ValidationError("external-id", "An external id is 2 to 1,224 letters, digits and +=,.@:/-_ characters.")
    return text


def external_id_trust_policy(principal_arn: str, external_id: str) -> dict[str, Any]:
    return {
        "Version": policies.POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AllowThirdPartyWithExternalId",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def default_role_name(principal_arn: str, buckets: tuple[str, ...]) -> str:
    digest = hashlib.sha256("\n".join((principal_arn, *buckets)).encode()).hexdigest()[:8]
    return f"s3cred-third-party-{account_of(principal_arn)}-{digest}"


@dataclass(frozen=True)
class ThirdPartyRoleRequest:
    buckets: tuple[str, ...]
    principal: str  # the other account's id, or a user/role ARN in it
    access: AccessLevel = AccessLevel.READ_ONLY
    prefixes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    prefix_mode: PrefixMode = PrefixMode.PLAIN
    role_name: str | None = None
    external_id: str | None = None  # generated when not given


@dataclass
class ThirdPartyRolePlan:
    """Runs through `apply.apply_plan` (steps, blockers, identity); it makes no credentials."""

    request: ThirdPartyRoleRequest
    principal_arn: str
    role_name: str
    role_arn: str
    external_id: str
    identity: Identity | None
    permissions: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    policy = None  # each step sends its own document

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def revoke_command(self) -> str:
        """The command that removes the role again (it carries the made-by tag), ready to paste."""
        return f"{PROG} cleanup {shlex.quote('role ' + self.role_name)}"

    @property
    def other_account_policy(self) -> dict[str, Any]:
        """What the other account attaches to its principal so it may assume the role."""
        return {
            "Version": policies.POLICY_VERSION,
            "Statement": [{"Sid": "AssumeS3CredTuiRole", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": self.role_arn}],
        }

    def add(self, kind: StepKind, title: str, params: dict[str, Any], *, document: dict[str, Any]) -> Step:
        from s3cred_tui.core.plan import Step

        step = Step(kind, title, params, self, document=document)  # type: ignore[arg-type]
        self.steps.append(step)
        return step

    def describe(self) -> str:
        req = self.request
        lines = [
            f"Plan: role {self.role_name} for {self.principal_arn} to assume with an external id, "
            f"{req.access.value} access to {', '.join(req.buckets)}."
        ]
        if self.identity is not None:
            lines.append(f"Acting as {self.identity.arn} (account {self.identity.account}).")
        if self.facts:
            lines += ["", "What the account looks like now:"] + [f"  - {fact}" for fact in self.facts]
        lines += ["", "Steps:"]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"  {number}. {step.title}")
            lines.append(f"     {step.action}(RoleName={self.role_name!r})")
            lines.append("     Policy:")
            lines.extend(policy_lines(step.document, "       "))
        lines += [
            "",
            f"Give the service: role ARN {self.role_arn}, external id {self.external_id}.",
            "The other account must also allow its principal to assume the role:",
        ]
        lines.extend(policy_lines(self.other_account_policy, "  "))
        lines += outcome_lines(self.warnings, self.blockers)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": {"name": self.role_name, "arn": self.role_arn, "external_id": self.external_id},
            "principal": self.principal_arn,
            "ok": self.ok,
            "steps": [step.to_dict() for step in self.steps],
            "other_account_policy": self.other_account_policy,
            "facts": list(self.facts),
            "warnings": list(self.warnings),
            "blockers": list(self.blockers),
        }


def build_third_party_role_plan(
    ctx: AwsContext, request: ThirdPartyRoleRequest, identity: Identity | None = None
) -> ThirdPartyRolePlan:
    """Check the request (its first problem raised before any AWS call), read the role name, the
    buckets' encryption, and lay out CreateRole (ExternalId trust) + PutRolePolicy (the scoped policy)."""
    from s3cred_tui.core.apply import CREATE_ROLE, PUT_ROLE_POLICY
    from s3cred_tui.core.encryption import kms_grants_for
    from s3cred_tui.core.inventory import whoami

    principal_arn = principal_arn_for(request.principal)
    access = AccessLevel(request.access)
    if access is AccessLevel.CUSTOM:
        raise ValidationError("grant", "A third-party role is read-only, write-only or read-write, not custom.")
    buckets = tuple(validate_bucket_name(b) for b in request.buckets)
    if not buckets:
        raise ValidationError("buckets", "Choose at least one bucket.")
    external_id = validate_external_id(request.external_id) if request.external_id is not None else new_external_id()
    role_name = validate_role_name(request.role_name or default_role_name(principal_arn, buckets))
    scope = {"prefixes": tuple(request.prefixes), "keys": tuple(request.keys), "mode": request.prefix_mode}
    policies.policy_for(buckets, access, **scope)  # refuse a bad prefix or key before any AWS call
    if identity is None:
        identity = whoami(ctx)
    partition = identity.arn.split(":")[1] if identity.arn.startswith("arn:") else "aws"
    role_arn = f"arn:{partition}:iam::{identity.account}:role/{role_name}"
    grants, facts, warnings = kms_grants_for(ctx, buckets)
    permissions = policies.policy_for(buckets, access, kms_keys=grants, **scope)
    plan = ThirdPartyRolePlan(request, principal_arn, role_name, role_arn, external_id, identity, permissions)
    plan.facts.extend(facts)
    plan.warnings.extend(warnings)
    if account_of(principal_arn) == identity.account:
        plan.blockers.append(f"{principal_arn} is in this account; a third-party role is for another account.")
    size = policies.policy_size(permissions)
    if size > policies.ROLE_POLICY_LIMIT:
        plan.blockers.append(f"The role policy is {size:,} characters; a role's inline policies allow {policies.ROLE_POLICY_LIMIT:,}.")
    try:
        ctx.iam.get_role(RoleName=role_name)
    except Exception as exc:
        error = translate(exc, "iam:GetRole")
        if not isinstance(error, NotFound):
            raise error from None
        plan.facts.append(f"role {role_name} does not exist; it will be created")
    else:
        plan.blockers.append(f"Role {role_name} already exists; an existing role is never rewritten. Choose another --role-name.")
    plan.add(
        CREATE_ROLE,
        f"Create role {role_name}, assumable by {principal_arn} with the external id",
        {"RoleName": role_name, "Description": "Third-party S3 access made by s3cred-tui", "Tags": [dict(CREATED_BY_TAG)]},
        document=external_id_trust_policy(principal_arn, external_id),
    )
    plan.add(
        PUT_ROLE_POLICY,
        f"Give role {role_name} its {access.value} policy",
        {"RoleName": role_name, "PolicyName": ROLE_POLICY_NAME},
        document=permissions,
    )
    return plan
