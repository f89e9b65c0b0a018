"""Everything s3cred-tui made: users, roles and buckets carrying its tag, and what each can reach.

The tag (`core.tags`) is how the tool recognises its own resources; anyone with `iam:TagUser`
can set it too, so it decides what is *shown* here, never what is trusted: cleanup reviews
every item before removing it (`core.cleanup`).

What is read, and how many calls:
- users and roles, with their policies and tags: one paginated `get_account_authorization_details`
  pass each (users through `inventory.iter_authorization_details`, roles through
  `inventory.iter_role_details`), never a call per user for policies;
- for the users that carry the tag (the ones shown): their access keys and last use, and
  whether they have a console password (`list_access_keys`, `get_access_key_last_used`,
  `get_login_profile`);
- buckets: the listing, then each bucket's tags (S3 has no account-wide tag query), in threads.

What each can reach is read back from its policies through the evaluator (`core.reach`),
capped by its permissions boundary, never guessed from its name. For a role, who can assume
it is decided by the evaluator too (`reach.who_can_assume`), and `core.trust.assess_trust`
says whether only the signed-in identity can (what the planner requires to reuse it).

Public API:
- `MadeUser`, `MadeRole`, `MadeBucket`, `MadeInventory` (`.to_dict()`: the `made --json` shape,
  `.is_empty`, `.problems`)
- `find_made(ctx, *, identity=None, now=None, thresholds=None, is_cancelled=...) -> MadeInventory`
- `HELPER_ROLE_NAME` (the role temporary credentials are made through)
- `describe_reach(reach) -> str`: a principal's reach on one line
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.access_map import fetch_boundary_documents
from s3cred_tui.core.errors import (
    AccessDenied,
    Cancelled,
    NotFound,
    S3CredError,
    translate,
)
from s3cred_tui.core.inventory import (
    AccessKeyInfo,
    BucketSummary,
    Identity,
    RoleDetail,
    UserDetail,
    access_keys_of,
    iter_authorization_details,
    iter_bucket_pages,
    iter_role_details,
    whoami,
)
from s3cred_tui.core.inventory.pages import concurrently
from s3cred_tui.core.plan import DEFAULT_ROLE_NAME
from s3cred_tui.core.reach import (
    Reach,
    TrustEntry,
    reach_of,
    reach_text,
    who_can_assume,
)
from s3cred_tui.core.stale import (
    StaleReview,
    StaleThresholds,
    activity_from_keys,
    review_user,
)
from s3cred_tui.core.tags import is_ours
from s3cred_tui.core.trust import TrustAssessment, assess_trust

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

HELPER_ROLE_NAME = DEFAULT_ROLE_NAME
# Buckets whose tags are read at once.
BUCKET_TAG_WORKERS = 16


@dataclass(frozen=True)
class MadeUser:
    name: str
    arn: str
    created: datetime | None
    reach: tuple[Reach, ...]
    keys: tuple[AccessKeyInfo, ...]
    console_access: bool
    stale: StaleReview
    boundary_arn: str | None
    policies: tuple[str, ...]  # where each policy comes from ("inline s3.read-only", "group g managed p")
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MadeRole:
    name: str
    arn: str
    created: datetime | None
    reach: tuple[Reach, ...]
    trust: tuple[TrustEntry, ...]
    # Whether exactly the signed-in identity can assume it (None: the identity is not known).
    only_you: TrustAssessment | None
    last_used: datetime | None
    max_session_seconds: int | None
    policies: tuple[str, ...]
    is_helper: bool  # the role temporary credentials are made through

    @property
    def can_assume(self) -> tuple[TrustEntry, ...]:
        return tuple(entry for entry in self.trust if entry.allowed)


@dataclass(frozen=True)
class MadeBucket:
    name: str
    region: str | None
    created: datetime | None


@dataclass
class MadeInventory:
    users: list[MadeUser] = field(default_factory=list)
    roles: list[MadeRole] = field(default_factory=list)
    buckets: list[MadeBucket] = field(default_factory=list)
    # What could not be read, in words (the bucket tags one identity may not read...).
    problems: list[str] = field(default_factory=list)
    identity: Identity | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.users or self.roles or self.buckets)

    def to_dict(self) -> dict[str, Any]:
        return {
            "users": [_user_dict(u) for u in self.users],
            "roles": [_role_dict(r) for r in self.roles],
            "buckets": [{"Name": b.name, "Region": b.region, "CreationDate": b.created} for b in self.buckets],
            "problems": list(self.problems),
        }


def _reach_dict(reach: Reach) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "bucket": reach.bucket,
        "prefix": reach.prefix,
        "level": reach.level,
        "capabilities": list(reach.capabilities),
    }
    if reach.error:
        entry["error"] = reach.error
    return entry


def _user_dict(user: MadeUser) -> dict[str, Any]:
    return {
        "UserName": user.name,
        "Arn": user.arn,
        "CreateDate": user.created,
        "PermissionsBoundary": user.boundary_arn,
        "policies": list(user.policies),
        "reach": [_reach_dict(r) for r in user.reach],
        "access_keys": [
            {
                "AccessKeyId": key.id,
                "Status": key.status,
                "CreateDate": key.created,
                "LastUsedDate": key.last_used,
                "LastUsedService": key.last_used_service,
            }
            for key in user.keys
        ],
        "console_access": user.console_access,
        "stale": [str(flag) for flag in user.stale.flags],
        "stale_reasons": list(user.stale.reasons),
        "notes": list(user.notes),
    }


def _role_dict(role: MadeRole) -> dict[str, Any]:
    return {
        "RoleName": role.name,
        "Arn": role.arn,
        "CreateDate": role.created,
        "MaxSessionDuration": role.max_session_seconds,
        "LastUsedDate": role.last_used,
        "helper_role": role.is_helper,
        "policies": list(role.policies),
        "reach": [_reach_dict(r) for r in role.reach],
        "can_assume": [
            {
                "principal": entry.principal,
                "type": entry.principal_type,
                "who": entry.who,
                "allowed": entry.allowed,
                "conditions": list(entry.conditional),
                "reason": entry.reason,
            }
            for entry in role.trust
        ],
        "only_you": None if role.only_you is None else {
            "ok": role.only_you.ok,
            "reasons": list(role.only_you.reasons),
            "extra_principals": list(role.only_you.extra_principals),
        },
    }


# -- reading -----------------------------------------------------------------------------------


def _console(ctx: AwsContext, name: str) -> tuple[bool, datetime | None]:
    """(has a console password, when it was last used) for one user."""
    try:
        ctx.iam.get_login_profile(UserName=name)
    except Exception as exc:
        if isinstance(translate(exc), NotFound):
            return False, None
        raise translate(exc, "iam:GetLoginProfile") from None
    try:
        return True, ctx.iam.get_user(UserName=name)["User"].get("PasswordLastUsed")
    except Exception as exc:
        raise translate(exc, "iam:GetUser") from None


def _made_user(
    ctx: AwsContext, detail: UserDetail, boundaries: dict[str, Any], now: datetime, thresholds: StaleThresholds
) -> MadeUser:
    notes: list[str] = []
    boundary = None
    if detail.boundary_arn:
        document = boundaries.get(detail.boundary_arn)
        if isinstance(document, dict):
            boundary = (f"boundary {detail.boundary_arn.rsplit('/', 1)[-1]}", document)
        else:
            why = document.message if isinstance(document, S3CredError) else "it was not read"
            notes.append(f"Permissions boundary {detail.boundary_arn} could not be read ({why}); reach ignores it.")
    unreadable = [p.name for p in detail.attached_policies if p.document is None]
    if unreadable:
        notes.append(f"Not evaluated (document could not be read): {', '.join(unreadable)}")
    reach = reach_of(detail.policy_documents(), boundary=boundary, principal_arn=detail.summary.arn or None)
    keys = access_keys_of(ctx, detail.name)
    console, console_used = _console(ctx, detail.name)
    activity = activity_from_keys(detail.name, keys, detail.summary.created, console, console_used)
    return MadeUser(
        name=detail.name,
        arn=detail.summary.arn,
        created=detail.summary.created,
        reach=reach,
        keys=keys,
        console_access=console,
        stale=review_user(activity, now, thresholds),
        boundary_arn=detail.boundary_arn,
        policies=tuple(where for where, _ in detail.policy_documents()),
        notes=tuple(notes),
    )


def _max_session(ctx: AwsContext, name: str) -> int | None:
    """A role's maximum session (the authorization details leave it out)."""
    try:
        return ctx.iam.get_role(RoleName=name)["Role"].get("MaxSessionDuration")
    except Exception as exc:
        raise translate(exc, "iam:GetRole") from None


def _made_role(role: RoleDetail, identity: Identity | None, max_session: int | None) -> MadeRole:
    only_you = (
        assess_trust(role.trust_policy, identity.principal_arn, identity.account) if identity is not None else None
    )
    return MadeRole(
        name=role.name,
        arn=role.arn,
        created=role.created,
        reach=reach_of(role.policy_documents(), principal_arn=role.arn or None),
        trust=who_can_assume(role.trust_policy, role.arn),
        only_you=only_you,
        last_used=role.last_used,
        max_session_seconds=max_session if max_session is not None else role.max_session_seconds,
        policies=tuple(where for where, _ in role.policy_documents()),
        is_helper=role.name == HELPER_ROLE_NAME,
    )


def _bucket_tags(ctx: AwsContext, bucket: BucketSummary) -> list[dict] | None:
    """The bucket's tags; [] when it has none."""
    client = ctx.client("s3", bucket.region) if bucket.region else ctx.s3
    try:
        return client.get_bucket_tagging(Bucket=bucket.name).get("TagSet", [])
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code == "NoSuchTagSet":
            return []
        raise translate(exc, "s3:GetBucketTagging") from None


def _made_buckets(ctx: AwsContext, is_cancelled: Callable[[], bool], problems: list[str]) -> list[MadeBucket]:
    made: list[MadeBucket] = []
    unreadable: list[str] = []
    for page in iter_bucket_pages(ctx):
        if is_cancelled():
            raise Cancelled("Looking for what s3cred-tui made was cancelled.", code="Cancelled")
        by_name = {b.name: b for b in page}
        tags = concurrently(by_name, lambda name, known=by_name: _bucket_tags(ctx, known[name]), BUCKET_TAG_WORKERS)
        for name, value in tags.items():
            if isinstance(value, S3CredError):
                unreadable.append(f"{name} ({value.message})" if not isinstance(value, AccessDenied) else name)
            elif is_ours(value):
                bucket = by_name[name]
                made.append(MadeBucket(bucket.name, bucket.region, bucket.created))
    if unreadable:
        problems.append(
            f"Tags of {len(unreadable)} bucket{'s' if len(unreadable) != 1 else ''} could not be read, so "
            f"whether s3cred-tui made them is unknown: {', '.join(unreadable[:10])}"
            + (" …" if len(unreadable) > 10 else "")
        )
    return made


def find_made(
    ctx: AwsContext,
    *,
    identity: Identity | None = None,
    now: datetime | None = None,
    thresholds: StaleThresholds | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
    include: Iterable[str] = ("users", "roles", "buckets"),
) -> MadeInventory:
    """Every user, role and bucket carrying s3cred-tui's tag, with reach, keys, staleness and trust.

    Listings that fail with AccessDenied become `problems` (the rest is still shown); other
    failures are raised. `include` limits what is read ("users", "roles", "buckets").
    """
    now = now or datetime.now(timezone.utc)
    thresholds = thresholds or StaleThresholds()
    wanted = set(include)
    inventory = MadeInventory()

    def check() -> None:
        if is_cancelled():
            raise Cancelled("Looking for what s3cred-tui made was cancelled.", code="Cancelled")

    if identity is None:
        try:
            identity = whoami(ctx)
        except AccessDenied as exc:
            inventory.problems.append(f"Who you are could not be read ({exc.message}); trust is shown without it.")
    inventory.identity = identity

    def guarded(what: str, read: Callable[[], None]) -> None:
        try:
            read()
        except AccessDenied as exc:
            inventory.problems.append(f"{what} could not be read: {exc.message}")

    def read_users() -> None:
        details: list[UserDetail] = []
        for page in iter_authorization_details(ctx):
            check()
            details.extend(d for d in page if is_ours(d.tags))
        boundaries = fetch_boundary_documents(ctx, [d.boundary_arn for d in details])
        for detail in details:
            check()
            inventory.users.append(_made_user(ctx, detail, boundaries, now, thresholds))

    def read_roles() -> None:
        for page in iter_role_details(ctx):
            check()
            inventory.roles.extend(
                _made_role(role, identity, _max_session(ctx, role.name)) for role in page if is_ours(role.tags)
            )

    def read_buckets() -> None:
        inventory.buckets.extend(_made_buckets(ctx, is_cancelled, inventory.problems))

    if "users" in wanted:
        guarded("Users", read_users)
    if "roles" in wanted:
        guarded("Roles", read_roles)
    if "buckets" in wanted:
        guarded("Buckets", read_buckets)
    return inventory


def describe_reach(reach: Iterable[Reach]) -> str:
    """`data-lake/reports/ read-only; logs/ write-only`, or `nothing` (for one line of a list)."""
    return "; ".join(reach_text(r) for r in reach if r.level != "none" or r.error) or "nothing"
