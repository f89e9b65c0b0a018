"""Who can do what in a bucket: list / read / write / delete per IAM user, role and group, offline.

The answer comes from the simulator (`simulate.s3_capabilities`) over each user's inline,
attached and group policies, capped by the user's permissions boundary, and with the bucket's
policy when one is given (its Denies count; a same-account grant naming a user or role counts
too). Roles are evaluated as their sessions' identity side (what a session policy can only
narrow); a group's row is what its own policies give each member. Principals the bucket policy
names beyond the account's users and roles (another account, `*`) come from
`reach.bucket_policy_access`.

Public API:
- `UserAccess(user, list, read, write, delete, error=None, boundary_arn=None, notes=(), kind="user",
  via="")`: `kind` is "user", "role", "group" or "bucket policy"; `via` says what a row stands
  for beyond its name (a group's members)
- `access_map(details, bucket, prefix, boundary_documents, bucket_policy=None) -> list[UserAccess]` (pure)
- `role_access_map(roles, bucket, prefix, boundary_documents, bucket_policy=None) -> list[UserAccess]` (pure)
- `group_access_map(details, bucket, prefix) -> list[UserAccess]` (pure; groups as the users' details
  hold them, members from the same details)
- `fetch_boundary_documents(ctx, arns) -> dict[str, dict | S3CredError]`
- `fetch_bucket_policy(ctx, bucket, region=None) -> dict | None` (None: the bucket has none)
- `CAPABILITIES`: the four column names, in order
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.core.inventory import GroupDetail, RoleDetail, UserDetail, managed_policy_document
from s3cred_tui.core.simulate import Decision, s3_capabilities
from s3cred_tui.core.validation import loads_json

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

CAPABILITIES = ("list", "read", "write", "delete")


@dataclass(frozen=True)
class UserAccess:
    """One user's row. When `error` is set the decisions are None: nothing could be concluded."""

    user: str
    list: Decision | None
    read: Decision | None
    write: Decision | None
    delete: Decision | None
    error: str | None = None
    boundary_arn: str | None = None
    # Things that make the answer less certain without preventing it (an unreadable managed policy).
    notes: tuple[str, ...] = ()
    kind: str = "user"  # "user", "role", "group" or "bucket policy"
    via: str = ""  # what the row stands for beyond its name: a group's members, a principal's meaning

    def decision(self, capability: str) -> Decision | None:
        if capability not in CAPABILITIES:
            raise KeyError(capability)
        return getattr(self, capability)

    @property
    def has_any_access(self) -> bool:
        return any(d is not None and d.allowed for d in (self.list, self.read, self.write, self.delete))

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(c for c in CAPABILITIES if (d := self.decision(c)) is not None and d.allowed)


class _SharedDecisions:
    """One Decision object per distinct decision in a map.

    Most users of a big account decide alike at one bucket and prefix ("No statement allows
    s3:GetObject on ... (implicit deny)."): 5,000 users' 20,000 decisions held 10 distinct ones,
    ~8 MB as separate objects for as long as the map is shown. Decisions are frozen and read-only.
    """

    def __init__(self) -> None:
        self._decisions: dict[tuple, Decision] = {}

    def __call__(self, decision: Decision) -> Decision:
        key = (decision.allowed, decision.decision, decision.reason, tuple(decision.deciding))
        return self._decisions.setdefault(key, decision)


def _unreadable_policies(detail: UserDetail) -> list[str]:
    names = [f"managed {p.name}" for p in detail.attached_policies if p.document is None]
    for group in detail.groups:
        names += [f"group {group.name} managed {p.name}" for p in group.attached_policies if p.document is None]
    return names


def _principal_access(
    name: str,
    kind: str,
    policies: list[tuple[str, dict]],
    bucket: str,
    prefix: str,
    *,
    boundary_arn: str | None,
    boundary_documents: Mapping[str, Any],
    principal_arn: str | None,
    unreadable: list[str],
    bucket_policy: Mapping[str, Any] | None,
    via: str = "",
    shared: _SharedDecisions | None = None,
) -> UserAccess:
    """One row: the principal's policies (capped by its boundary, with the bucket policy) evaluated."""
    boundary: tuple[str, dict] | None = None
    if boundary_arn:
        document = boundary_documents.get(boundary_arn)
        if not isinstance(document, Mapping):
            why = document.message if isinstance(document, S3CredError) else "it was not read"
            return UserAccess(
                name, None, None, None, None,
                error=f"Permissions boundary {boundary_arn} could not be read: {why}",
                boundary_arn=boundary_arn, kind=kind, via=via,
            )
        boundary = (f"boundary {boundary_arn.rsplit('/', 1)[-1]}", dict(document))
    resource_policy = ("bucket policy", dict(bucket_policy)) if bucket_policy else None
    try:
        decisions = s3_capabilities(
            policies, bucket, prefix, boundary=boundary, principal_arn=principal_arn, resource_policy=resource_policy
        )
    except S3CredError as exc:  # PolicyError for a document the evaluator cannot read
        return UserAccess(name, None, None, None, None, error=exc.message, boundary_arn=boundary_arn, kind=kind, via=via)
    notes = (
        (f"Not evaluated (document could not be read): {', '.join(unreadable)}",) if unreadable else ()
    )
    same = shared if shared is not None else (lambda decision: decision)
    return UserAccess(
        name,
        same(decisions["list"]),
        same(decisions["read"]),
        same(decisions["write"]),
        same(decisions["delete"]),
        boundary_arn=boundary_arn,
        notes=notes,
        kind=kind,
        via=via,
    )


def _user_access(
    detail: UserDetail, bucket: str, prefix: str, boundary_documents: Mapping[str, Any],
    bucket_policy: Mapping[str, Any] | None = None, shared: _SharedDecisions | None = None,
) -> UserAccess:
    return _principal_access(
        detail.name, "user", list(detail.policy_documents()), bucket, prefix,
        boundary_arn=detail.boundary_arn, boundary_documents=boundary_documents,
        principal_arn=detail.summary.arn or None, unreadable=_unreadable_policies(detail), bucket_policy=bucket_policy,
        shared=shared,
    )


def access_map(
    details: Iterable[UserDetail],
    bucket: str,
    prefix: str,
    boundary_documents: Mapping[str, dict | S3CredError],
    bucket_policy: Mapping[str, Any] | None = None,
) -> list[UserAccess]:
    """What each user can do in `bucket` at `prefix` (already normalised, e.g. `reports/`).

    `boundary_documents` maps boundary ARNs to documents, as `fetch_boundary_documents`
    returns them; a boundary that is missing or failed to load makes that user an error entry
    (a cap we cannot read could hide or grant anything). A user whose policies the evaluator
    cannot read also gets an error entry rather than stopping the map. With `bucket_policy`, its
    Denies and the grants it gives a user directly count. Users who decide alike share one
    Decision object per capability.
    """
    shared = _SharedDecisions()
    return [_user_access(detail, bucket, prefix, boundary_documents, bucket_policy, shared) for detail in details]


def role_access_map(
    roles: Iterable[RoleDetail],
    bucket: str,
    prefix: str,
    boundary_documents: Mapping[str, dict | S3CredError],
    bucket_policy: Mapping[str, Any] | None = None,
) -> list[UserAccess]:
    """What each role's sessions can do in `bucket` at `prefix` (before any session policy narrows them)."""
    shared = _SharedDecisions()
    return [
        _principal_access(
            role.name, "role", list(role.policy_documents()), bucket, prefix,
            boundary_arn=role.boundary_arn, boundary_documents=boundary_documents, principal_arn=role.arn or None,
            unreadable=[f"managed {p.name}" for p in role.attached_policies if p.document is None],
            bucket_policy=bucket_policy, shared=shared,
        )
        for role in roles
    ]


def group_access_map(details: Iterable[UserDetail], bucket: str, prefix: str) -> list[UserAccess]:
    """What each group's own policies give every member in `bucket` at `prefix`.

    Groups are read from the users' details (a group without members is not in them: it gives
    nobody anything); each member's own row already counts the group, so these rows say where
    the access comes from. A bucket policy cannot name a group, so it is not part of these rows.
    """
    groups: dict[str, GroupDetail] = {}
    members: dict[str, list[str]] = {}
    for detail in details:
        for group in detail.groups:
            groups.setdefault(group.name, group)
            members.setdefault(group.name, []).append(detail.name)
    rows = []
    for name, group in groups.items():
        documents = [(f"group {name} inline {n}", doc) for n, doc in group.inline_policies.items()]
        documents += [(f"group {name} managed {p.name}", p.document) for p in group.attached_policies if p.document is not None]
        unreadable = [f"group {name} managed {p.name}" for p in group.attached_policies if p.document is None]
        who = sorted(members[name])
        rows.append(
            _principal_access(
                name, "group", documents, bucket, prefix, boundary_arn=None, boundary_documents={}, principal_arn=None,
                unreadable=unreadable, bucket_policy=None,
                via=f"{len(who)} member{'s' if len(who) != 1 else ''}: {', '.join(who)}",
            )
        )
    return rows


def fetch_bucket_policy(ctx: AwsContext, bucket: str, region: str | None = None) -> dict | None:
    """The bucket's policy document, or None when it has none. Other failures are raised, typed."""
    client = ctx.client("s3", region) if region else ctx.s3
    try:
        text = client.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as exc:
        if getattr(exc, "response", {}).get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise translate(exc, "s3:GetBucketPolicy") from None
    return loads_json(text, f"The policy of bucket {bucket}")


def fetch_boundary_documents(ctx: AwsContext, arns: Iterable[str | None]) -> dict[str, dict | S3CredError]:
    """The default version of each distinct boundary policy (customer or AWS managed).

    A boundary that cannot be read is returned as its error rather than raised, so one
    unreadable policy marks only the users it bounds.
    """
    documents: dict[str, dict | S3CredError] = {}
    for arn in dict.fromkeys(a for a in arns if a):
        try:
            documents[arn] = managed_policy_document(ctx, arn)
        except S3CredError as exc:
            documents[arn] = exc
    return documents
