"""IAM roles and groups, read-only: trust policies, their own policies, members, last use.

Roles and groups of a whole account come from one paginated `get_account_authorization_details`
pass (filtered to roles, or to groups and users for membership): never a call per role or per
group for its policies. Customer-managed policies come in the same pass; an AWS-managed policy
is read once per ARN, and only when something attaches it.

Public API:
- `RoleDetail(name, arn, role_id, path, created, description, max_session_seconds, trust_policy,
  inline_policies, attached_policies, boundary_arn, tags, last_used, last_used_region)` with
  `.policy_documents()`
- `GroupInfo(name, arn, path, created, inline_policies, attached_policies, members)` with
  `.policy_documents()`
- `iter_role_records(ctx, page_size=1000) -> Iterator[list[dict]]`: `list_roles` as AWS answers
- `iter_role_details(ctx, page_size=1000) -> Iterator[list[RoleDetail]]`: every role, resolved
- `role_detail(ctx, name) -> RoleDetail`: one role (get_role and its policy listings)
- `group_details(ctx) -> list[GroupInfo]`: every group with its policies and members
- `role_policy_records(ctx, names=None) -> dict[str, dict]`: per role name, the reference
  CLI's `--details` fields (`inline_policies`, `attached_policies` with their `PolicyVersion`)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import translate
from s3cred_tui.core.inventory.authorization import (
    _default_version_document,
    _inline_from_list,
)
from s3cred_tui.core.inventory.documents import DocumentPool, decode_policy_document
from s3cred_tui.core.inventory.pages import all_items, marker_pages
from s3cred_tui.core.inventory.users import (
    IAM_MAX_PAGE,
    AttachedPolicy,
    ManagedPolicyCache,
    tags_dict,
)

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

_GAAD = "iam:GetAccountAuthorizationDetails"


@dataclass(frozen=True)
class RoleDetail:
    name: str
    arn: str
    role_id: str
    path: str
    created: datetime | None
    description: str
    max_session_seconds: int | None
    trust_policy: dict
    inline_policies: dict[str, dict]
    attached_policies: list[AttachedPolicy]
    boundary_arn: str | None
    tags: dict[str, str] = field(default_factory=dict)
    last_used: datetime | None = None
    last_used_region: str | None = None

    def policy_documents(self) -> Iterator[tuple[str, dict]]:
        """(where, document) for every permissions policy of the role (not its trust policy)."""
        for name, doc in self.inline_policies.items():
            yield f"inline {name}", doc
        for policy in self.attached_policies:
            if policy.document is not None:
                yield f"managed {policy.name}", policy.document


@dataclass(frozen=True)
class GroupInfo:
    name: str
    arn: str
    path: str
    created: datetime | None
    inline_policies: dict[str, dict]
    attached_policies: list[AttachedPolicy]
    members: tuple[str, ...]

    def policy_documents(self) -> Iterator[tuple[str, dict]]:
        for name, doc in self.inline_policies.items():
            yield f"group {self.name} inline {name}", doc
        for policy in self.attached_policies:
            if policy.document is not None:
                yield f"group {self.name} managed {policy.name}", policy.document


def _role_from(
    raw: dict[str, Any], inline: dict[str, dict], attached: list[AttachedPolicy], pool: DocumentPool | None = None
) -> RoleDetail:
    last = raw.get("RoleLastUsed") or {}
    trust_policy = decode_policy_document(raw.get("AssumeRolePolicyDocument"))
    return RoleDetail(
        name=raw["RoleName"],
        arn=raw.get("Arn", ""),
        role_id=raw.get("RoleId", ""),
        path=raw.get("Path", "/"),
        created=raw.get("CreateDate"),
        description=raw.get("Description", "") or "",
        max_session_seconds=raw.get("MaxSessionDuration"),
        trust_policy=pool.share(trust_policy) if pool is not None else trust_policy,
        inline_policies=inline,
        attached_policies=attached,
        boundary_arn=(raw.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
        tags=tags_dict(raw.get("Tags")),
        last_used=last.get("LastUsedDate"),
        last_used_region=last.get("Region"),
    )


def _local_policies(
    ctx: AwsContext, pool: DocumentPool | None = None
) -> tuple[dict[str, dict | None], dict[str, dict]]:
    """Customer-managed policies of the account: their documents, and their records, by ARN."""
    documents: dict[str, dict | None] = {}
    records: dict[str, dict] = {}
    for page in marker_pages(
        ctx.iam.get_account_authorization_details, "Policies", IAM_MAX_PAGE, _GAAD, Filter=["LocalManagedPolicy"]
    ):
        for policy in page:
            documents[policy["Arn"]] = _default_version_document(policy, pool)
            records[policy["Arn"]] = policy
    return documents, records


def iter_role_records(ctx: AwsContext, page_size: int = IAM_MAX_PAGE) -> Iterator[list[dict[str, Any]]]:
    """Pages of roles as `list_roles` answers them (AWS's own field names)."""
    yield from marker_pages(ctx.iam.list_roles, "Roles", page_size, "iam:ListRoles")


def iter_role_details(ctx: AwsContext, page_size: int = IAM_MAX_PAGE) -> Iterator[list[RoleDetail]]:
    """Pages of roles with trust policy, inline and attached policies, tags and last use resolved.

    Identical documents (trust policies above all) share one copy, as in `iter_authorization_details`.
    """
    pool = DocumentPool()
    local, _records = _local_policies(ctx, pool)
    policies = ManagedPolicyCache(ctx, known=local)
    for page in marker_pages(ctx.iam.get_account_authorization_details, "RoleDetailList", page_size, _GAAD, Filter=["Role"]):
        roles = [
            _role_from(
                raw,
                _inline_from_list(raw.get("RolePolicyList", []), pool),
                policies.attached(raw.get("AttachedManagedPolicies", []) or []),
                pool,
            )
            for raw in page
        ]
        del page  # the raw page goes before the next one is read
        yield roles


def role_detail(ctx: AwsContext, name: str) -> RoleDetail:
    """One role, read directly (get_role, then its inline and attached policies)."""
    iam = ctx.iam
    try:
        raw = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        raise translate(exc, "iam:GetRole") from None
    inline: dict[str, dict] = {}
    for policy_name in all_items(iam.list_role_policies, "PolicyNames", "iam:ListRolePolicies", RoleName=name):
        try:
            document = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
        except Exception as exc:
            raise translate(exc, "iam:GetRolePolicy") from None
        inline[policy_name] = decode_policy_document(document)
    attached = ManagedPolicyCache(ctx).attached(
        all_items(iam.list_attached_role_policies, "AttachedPolicies", "iam:ListAttachedRolePolicies", RoleName=name)
    )
    if raw.get("Tags") is None:
        raw = dict(raw, Tags=all_items(iam.list_role_tags, "Tags", "iam:ListRoleTags", RoleName=name))
    return _role_from(raw, inline, attached)


def group_details(ctx: AwsContext) -> list[GroupInfo]:
    """Every group with its policies and its members, from one authorization-details pass."""
    local, _records = _local_policies(ctx)
    policies = ManagedPolicyCache(ctx, known=local)
    members: dict[str, list[str]] = {}
    groups: list[dict[str, Any]] = []
    iam = ctx.iam
    for page in marker_pages(iam.get_account_authorization_details, "GroupDetailList", IAM_MAX_PAGE, _GAAD, Filter=["Group"]):
        groups.extend(page)
    for page in marker_pages(iam.get_account_authorization_details, "UserDetailList", IAM_MAX_PAGE, _GAAD, Filter=["User"]):
        for user in page:
            for group in user.get("GroupList", []) or []:
                members.setdefault(group, []).append(user["UserName"])
    return [
        GroupInfo(
            name=raw["GroupName"],
            arn=raw.get("Arn", ""),
            path=raw.get("Path", "/"),
            created=raw.get("CreateDate"),
            inline_policies=_inline_from_list(raw.get("GroupPolicyList", [])),
            attached_policies=policies.attached(raw.get("AttachedManagedPolicies", []) or []),
            members=tuple(sorted(members.get(raw["GroupName"], []))),
        )
        for raw in groups
    ]


def _policy_record(ctx: AwsContext, arn: str, known: dict[str, dict], cache: dict[str, dict]) -> dict[str, Any]:
    """A managed policy as `get_policy` answers it, plus its default `PolicyVersion`."""
    if arn in cache:
        return cache[arn]
    iam = ctx.iam
    local = known.get(arn)
    if local is not None:
        record = {k: v for k, v in local.items() if k != "PolicyVersionList"}
        versions = local.get("PolicyVersionList", []) or []
        version = next((v for v in versions if v.get("IsDefaultVersion")), None)
    else:
        try:
            record = dict(iam.get_policy(PolicyArn=arn)["Policy"])
            version = iam.get_policy_version(PolicyArn=arn, VersionId=record["DefaultVersionId"])["PolicyVersion"]
        except Exception as exc:
            raise translate(exc, "iam:GetPolicy") from None
    if version is not None:
        version = dict(version, Document=decode_policy_document(version.get("Document")))
    cache[arn] = dict(record, PolicyVersion=version)
    return cache[arn]


def role_policy_records(ctx: AwsContext, names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per role: `inline_policies` ([{RoleName, PolicyName, PolicyDocument}]) and `attached_policies`
    (each managed policy's record with its default `PolicyVersion`), the reference CLI's shape.

    Read in one authorization-details pass (customer-managed policies included); AWS-managed
    policies once per ARN. `names` limits the answer to those roles.
    """
    wanted = set(names) if names is not None else None
    _local, records = _local_policies(ctx)
    cache: dict[str, dict] = {}
    out: dict[str, dict[str, Any]] = {}
    for page in marker_pages(
        ctx.iam.get_account_authorization_details, "RoleDetailList", IAM_MAX_PAGE, _GAAD, Filter=["Role"]
    ):
        for raw in page:
            name = raw["RoleName"]
            if wanted is not None and name not in wanted:
                continue
            out[name] = {
                "inline_policies": [
                    {"RoleName": name, "PolicyName": p["PolicyName"], "PolicyDocument": decode_policy_document(p.get("PolicyDocument"))}
                    for p in raw.get("RolePolicyList", []) or []
                ],
                # Some endpoints (moto) leave the name out of a policy's record: the attachment has it.
                "attached_policies": [
                    {"PolicyName": p["PolicyName"], **_policy_record(ctx, p["PolicyArn"], records, cache)}
                    for p in raw.get("AttachedManagedPolicies", []) or []
                ],
            }
    return out
