"""Who can do what in a bucket: list / read / write / delete per IAM user, offline.

The answer comes from the simulator (`simulate.s3_capabilities`) over each user's inline,
attached and group policies, capped by the user's permissions boundary. Bucket policies are
not part of it (the map answers "what do their IAM policies give them").

Public API:
- `UserAccess(user, list, read, write, delete, error=None, boundary_arn=None, notes=())`
- `access_map(details, bucket, prefix, boundary_documents) -> list[UserAccess]` (pure)
- `fetch_boundary_documents(ctx, arns) -> dict[str, dict | S3CredError]`
- `CAPABILITIES`: the four column names, in order
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import UserDetail, managed_policy_document
from s3cred_tui.core.simulate import Decision, s3_capabilities

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


def _unreadable_policies(detail: UserDetail) -> list[str]:
    names = [f"managed {p.name}" for p in detail.attached_policies if p.document is None]
    for group in detail.groups:
        names += [f"group {group.name} managed {p.name}" for p in group.attached_policies if p.document is None]
    return names


def _user_access(detail: UserDetail, bucket: str, prefix: str, boundary_documents: Mapping[str, Any]) -> UserAccess:
    boundary_arn = detail.boundary_arn
    boundary: tuple[str, dict] | None = None
    if boundary_arn:
        document = boundary_documents.get(boundary_arn)
        if not isinstance(document, Mapping):
            why = document.message if isinstance(document, S3CredError) else "it was not read"
            return UserAccess(
                detail.name, None, None, None, None,
                error=f"Permissions boundary {boundary_arn} could not be read: {why}",
                boundary_arn=boundary_arn,
            )
        boundary = (f"boundary {boundary_arn.rsplit('/', 1)[-1]}", dict(document))
    policies = list(detail.policy_documents())
    try:
        decisions = s3_capabilities(
            policies, bucket, prefix, boundary=boundary, principal_arn=detail.summary.arn or None
        )
    except S3CredError as exc:  # PolicyError for a document the evaluator cannot read
        return UserAccess(detail.name, None, None, None, None, error=exc.message, boundary_arn=boundary_arn)
    unreadable = _unreadable_policies(detail)
    notes = (
        (f"Not evaluated (document could not be read): {', '.join(unreadable)}",) if unreadable else ()
    )
    return UserAccess(
        detail.name,
        decisions["list"],
        decisions["read"],
        decisions["write"],
        decisions["delete"],
        boundary_arn=boundary_arn,
        notes=notes,
    )


def access_map(
    details: Iterable[UserDetail],
    bucket: str,
    prefix: str,
    boundary_documents: Mapping[str, dict | S3CredError],
) -> list[UserAccess]:
    """What each user can do in `bucket` at `prefix` (already normalised, e.g. `reports/`).

    `boundary_documents` maps boundary ARNs to documents, as `fetch_boundary_documents`
    returns them; a boundary that is missing or failed to load makes that user an error entry
    (a cap we cannot read could hide or grant anything). A user whose policies the evaluator
    cannot read also gets an error entry rather than stopping the map.
    """
    return [_user_access(detail, bucket, prefix, boundary_documents) for detail in details]


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
