"""Read-only exploration of an AWS account: who am I, buckets, prefixes, users.

Every call here is read-only. Listings are generators of pages (lists) so a caller can
stop early, and a worker thread can check for cancellation between pages; no listing
asks AWS for more than one page ahead of its consumer.

Public API:
- `Identity`, `whoami(ctx, resolve_role_path=True) -> Identity`
- `BucketSummary`, `iter_bucket_pages(ctx, page_size=1000, first_page_size=100)`
- `bucket_regions(ctx, names, max_workers=16) -> dict[str, str | S3CredError]`
- `region_from_location(constraint) -> str`
- `ObjectSummary`, `PrefixPage`, `iter_prefix_pages(ctx, bucket, prefix="", page_size=1000, region=None)`
- `UserSummary`, `iter_user_pages(ctx, page_size=100)`
- `AttachedPolicy`, `GroupDetail`, `AccessKeyInfo`, `UserDetail`, `user_details(ctx, name)`
- `users_referencing_bucket(details, bucket) -> list[str]`, `document_references_bucket(doc, bucket)`
- `UserCounts`, `user_counts(ctx, names, max_workers=16, policy_counts=None) -> dict[str, UserCounts | S3CredError]`
- `PolicyCounts`, `user_policy_counts(ctx, page_size=1000) -> dict[str, PolicyCounts]`
- `iter_authorization_details(ctx, page_size=100) -> Iterator[list[UserDetail]]`
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import botocore.exceptions

from s3cred_tui.core.errors import NotFound, S3CredError, translate

# ---------------------------------------------------------------------------
# Identity


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


def whoami(ctx: Any, resolve_role_path: bool = True) -> Identity:
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


# ---------------------------------------------------------------------------
# Buckets


@dataclass(frozen=True)
class BucketSummary:
    name: str
    created: datetime | None
    region: str | None = None


def region_from_location(constraint: str | None) -> str:
    """`get_bucket_location` answers None/"" for us-east-1 and the legacy "EU" for eu-west-1."""
    if not constraint:
        return "us-east-1"
    if constraint == "EU":
        return "eu-west-1"
    return constraint


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _bucket_summary(raw: dict[str, Any]) -> BucketSummary:
    region = raw.get("BucketRegion")
    return BucketSummary(name=raw["Name"], created=raw.get("CreationDate"), region=region or None)


# S3 answers 100 buckets several times faster than 1,000: the first rows show sooner.
FIRST_BUCKET_PAGE = 100


def iter_bucket_pages(
    ctx: Any, page_size: int = 1000, first_page_size: int = FIRST_BUCKET_PAGE
) -> Iterator[list[BucketSummary]]:
    """Pages of buckets, following `ContinuationToken`.

    The first request asks for `first_page_size` buckets (at most `page_size`), so a
    screen or a streaming command has something to show while the rest is listed.
    Some endpoints ignore `MaxBuckets` (all buckets in one answer: split into pages here),
    and some truncate at `MaxBuckets` without returning a token (moto, older S3-compatible
    stores). A full page without a token is therefore not trusted: the listing is fetched
    again without `MaxBuckets` and the buckets not yet yielded follow.
    """
    page_size = max(1, min(int(page_size), 10000))
    asked = max(1, min(int(first_page_size or page_size), page_size))
    s3 = ctx.s3
    token: str | None = None
    seen: set[str] = set()
    while True:
        kwargs: dict[str, Any] = {"MaxBuckets": asked}
        if token:
            kwargs["ContinuationToken"] = token
        try:
            response = s3.list_buckets(**kwargs)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code not in {"InvalidArgument", "NotImplemented", "InvalidRequest"} or token:
                raise translate(exc, "s3:ListBuckets") from None
            yield from _unpaged_buckets(s3, page_size, seen)
            return
        except Exception as exc:
            raise translate(exc, "s3:ListBuckets") from None
        buckets = [_bucket_summary(raw) for raw in response.get("Buckets", [])]
        next_token = response.get("ContinuationToken")
        if next_token and next_token == token:
            next_token = None  # an endpoint echoing the same token would loop for ever
        if not next_token and len(buckets) >= asked and not token:
            if len(buckets) > asked:
                # MaxBuckets ignored: everything came back at once.
                for page in _chunks(buckets, page_size):
                    yield page
                return
            yield buckets
            seen.update(b.name for b in buckets)
            yield from _unpaged_buckets(s3, page_size, seen)
            return
        fresh = [b for b in buckets if b.name not in seen]
        seen.update(b.name for b in fresh)
        for page in _chunks(fresh, page_size):
            yield page
        if not next_token:
            return
        token = next_token
        asked = page_size


def _unpaged_buckets(s3: Any, page_size: int, already: set[str]) -> Iterator[list[BucketSummary]]:
    try:
        response = s3.list_buckets()
    except Exception as exc:
        raise translate(exc, "s3:ListBuckets") from None
    rest = [_bucket_summary(raw) for raw in response.get("Buckets", []) if raw["Name"] not in already]
    yield from _chunks(rest, page_size)


def bucket_region(ctx: Any, name: str) -> str:
    try:
        response = ctx.s3.get_bucket_location(Bucket=name)
    except Exception as exc:
        raise translate(exc, "s3:GetBucketLocation") from None
    return region_from_location(response.get("LocationConstraint"))


def _concurrently(
    names: Iterable[str], work: Callable[[str], Any], max_workers: int
) -> dict[str, Any]:
    unique = list(dict.fromkeys(names))
    if not unique:
        return {}

    def guarded(name: str) -> Any:
        try:
            return work(name)
        except S3CredError as exc:
            return exc
        except Exception as exc:  # any other failure belongs to this one name only
            return translate(exc)

    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(unique)))) as pool:
        results = list(pool.map(guarded, unique))
    return dict(zip(unique, results))


def bucket_regions(ctx: Any, names: Iterable[str], max_workers: int = 16) -> dict[str, str | S3CredError]:
    """Region of each bucket, looked up concurrently; a failure is returned, not raised."""
    return _concurrently(names, lambda name: bucket_region(ctx, name), max_workers)


# ---------------------------------------------------------------------------
# Prefixes and objects


@dataclass(frozen=True)
class ObjectSummary:
    key: str
    size: int
    last_modified: datetime | None
    storage_class: str | None
    etag: str | None


@dataclass(frozen=True)
class PrefixPage:
    prefixes: list[str]
    objects: list[ObjectSummary]
    is_last: bool


def iter_prefix_pages(
    ctx: Any, bucket: str, prefix: str = "", page_size: int = 1000, region: str | None = None
) -> Iterator[PrefixPage]:
    """One level under `prefix` (Delimiter "/"): sub-prefixes and objects, page by page."""
    s3 = ctx.client("s3", region) if region else ctx.s3
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Delimiter": "/",
            "MaxKeys": max(1, min(int(page_size), 1000)),
        }
        if prefix:
            kwargs["Prefix"] = prefix
        if token:
            kwargs["ContinuationToken"] = token
        try:
            response = s3.list_objects_v2(**kwargs)
        except Exception as exc:
            raise translate(exc, "s3:ListBucket") from None
        next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        if next_token == token:
            next_token = None
        yield PrefixPage(
            prefixes=[p["Prefix"] for p in response.get("CommonPrefixes", []) or []],
            objects=[
                ObjectSummary(
                    key=o["Key"],
                    size=int(o.get("Size", 0)),
                    last_modified=o.get("LastModified"),
                    storage_class=o.get("StorageClass"),
                    etag=(o.get("ETag") or "").strip('"') or None,
                )
                for o in response.get("Contents", []) or []
            ],
            is_last=not next_token,
        )
        if not next_token:
            return
        token = next_token


# ---------------------------------------------------------------------------
# Users


@dataclass(frozen=True)
class UserSummary:
    name: str
    arn: str
    user_id: str
    created: datetime | None
    path: str
    tags: dict[str, str] | None = None


@dataclass(frozen=True)
class AttachedPolicy:
    name: str
    arn: str
    document: dict | None


@dataclass(frozen=True)
class GroupDetail:
    name: str
    inline_policies: dict[str, dict]
    attached_policies: list[AttachedPolicy]


@dataclass(frozen=True)
class AccessKeyInfo:
    id: str
    status: str
    created: datetime | None
    last_used: datetime | None = None
    last_used_service: str | None = None


@dataclass(frozen=True)
class UserDetail:
    summary: UserSummary
    inline_policies: dict[str, dict]
    attached_policies: list[AttachedPolicy]
    groups: list[GroupDetail]
    boundary_arn: str | None
    access_keys: list[AccessKeyInfo]
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.summary.name

    def policy_documents(self) -> Iterator[tuple[str, dict]]:
        """(where, document) for every policy that applies to this user."""
        for name, doc in self.inline_policies.items():
            yield f"inline {name}", doc
        for policy in self.attached_policies:
            if policy.document is not None:
                yield f"managed {policy.name}", policy.document
        for group in self.groups:
            for name, doc in group.inline_policies.items():
                yield f"group {group.name} inline {name}", doc
            for policy in group.attached_policies:
                if policy.document is not None:
                    yield f"group {group.name} managed {policy.name}", policy.document


def _tags_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def _user_summary(raw: dict[str, Any]) -> UserSummary:
    tags = raw.get("Tags")
    return UserSummary(
        name=raw["UserName"],
        arn=raw.get("Arn", ""),
        user_id=raw.get("UserId", ""),
        created=raw.get("CreateDate"),
        path=raw.get("Path", "/"),
        tags=_tags_dict(tags) if tags is not None else None,
    )


def _marker_pages(call: Callable[..., dict], key: str, page_size: int, operation: str, **kwargs: Any) -> Iterator[list]:
    """IAM's Marker/IsTruncated paging, one request per page the consumer takes.

    An endpoint that ignores MaxItems (moto) returns everything at once; that answer is
    split so the consumer still sees pages of at most `page_size`.
    """
    page_size = max(1, min(int(page_size), 1000))
    marker: str | None = None
    while True:
        request = dict(kwargs, MaxItems=page_size)
        if marker:
            request["Marker"] = marker
        try:
            response = call(**request)
        except Exception as exc:
            raise translate(exc, operation) from None
        items = response.get(key, []) or []
        yield from _chunks(items, page_size)
        next_marker = response.get("Marker") if response.get("IsTruncated") else None
        if not next_marker or next_marker == marker:
            return
        marker = next_marker


def _all_items(call: Callable[..., dict], key: str, operation: str, **kwargs: Any) -> list:
    return [item for page in _marker_pages(call, key, 1000, operation, **kwargs) for item in page]


def iter_user_pages(ctx: Any, page_size: int = 100) -> Iterator[list[UserSummary]]:
    """Pages of IAM users (`list_users` with Marker/MaxItems)."""
    for page in _marker_pages(ctx.iam.list_users, "Users", page_size, "iam:ListUsers"):
        yield [_user_summary(raw) for raw in page]


def _decode_document(document: Any) -> dict:
    """boto3 already decodes IAM documents to dicts; raw answers are URL-encoded JSON."""
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        text = document
        if text.lstrip().startswith("%"):
            text = urllib.parse.unquote(text)
        try:
            return json.loads(text)
        except ValueError:
            return json.loads(urllib.parse.unquote(document))
    return {}


class _ManagedPolicyCache:
    """Default-version documents of managed policies, fetched once per ARN."""

    def __init__(self, iam: Any, known: dict[str, dict] | None = None):
        self._iam = iam
        self._documents: dict[str, dict | None] = dict(known or {})

    def document(self, arn: str) -> dict | None:
        if arn not in self._documents:
            try:
                version = self._iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
                raw = self._iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
                self._documents[arn] = _decode_document(raw)
            except Exception as exc:
                error = translate(exc, "iam:GetPolicyVersion")
                if not isinstance(error, NotFound):
                    raise error from None
                self._documents[arn] = None
        return self._documents[arn]

    def attached(self, raw: Iterable[dict]) -> list[AttachedPolicy]:
        return [
            AttachedPolicy(name=p["PolicyName"], arn=p["PolicyArn"], document=self.document(p["PolicyArn"]))
            for p in raw
        ]


def _inline_policies(list_call: Callable, get_call: Callable, owner_key: str, owner: str, what: str) -> dict[str, dict]:
    names = _all_items(list_call, "PolicyNames", f"iam:List{what}Policies", **{owner_key: owner})
    documents: dict[str, dict] = {}
    for name in names:
        try:
            raw = get_call(**{owner_key: owner, "PolicyName": name})["PolicyDocument"]
        except Exception as exc:
            raise translate(exc, f"iam:Get{what}Policy") from None
        documents[name] = _decode_document(raw)
    return documents


def user_details(ctx: Any, name: str) -> UserDetail:
    """Everything that decides what a user can do, plus its access keys and tags."""
    iam = ctx.iam
    try:
        raw_user = iam.get_user(UserName=name)["User"]
    except Exception as exc:
        raise translate(exc, "iam:GetUser") from None
    policies = _ManagedPolicyCache(iam)
    inline = _inline_policies(iam.list_user_policies, iam.get_user_policy, "UserName", name, "User")
    attached = policies.attached(
        _all_items(iam.list_attached_user_policies, "AttachedPolicies", "iam:ListAttachedUserPolicies", UserName=name)
    )
    groups = []
    for group in _all_items(iam.list_groups_for_user, "Groups", "iam:ListGroupsForUser", UserName=name):
        group_name = group["GroupName"]
        groups.append(
            GroupDetail(
                name=group_name,
                inline_policies=_inline_policies(
                    iam.list_group_policies, iam.get_group_policy, "GroupName", group_name, "Group"
                ),
                attached_policies=policies.attached(
                    _all_items(
                        iam.list_attached_group_policies,
                        "AttachedPolicies",
                        "iam:ListAttachedGroupPolicies",
                        GroupName=group_name,
                    )
                ),
            )
        )
    keys = []
    for key in _all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=name):
        last_used = None
        service = None
        try:
            used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed", {})
            last_used = used.get("LastUsedDate")
            service = used.get("ServiceName")
            if service in ("N/A", ""):
                service = None
        except Exception as exc:
            raise translate(exc, "iam:GetAccessKeyLastUsed") from None
        keys.append(
            AccessKeyInfo(
                id=key["AccessKeyId"],
                status=key.get("Status", ""),
                created=key.get("CreateDate"),
                last_used=last_used,
                last_used_service=service,
            )
        )
    tags = raw_user.get("Tags")
    if tags is None:
        tags = _all_items(iam.list_user_tags, "Tags", "iam:ListUserTags", UserName=name)
    tag_dict = _tags_dict(tags)
    summary = _user_summary(dict(raw_user, Tags=tags))
    boundary = (raw_user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return UserDetail(
        summary=summary,
        inline_policies=inline,
        attached_policies=attached,
        groups=groups,
        boundary_arn=boundary,
        access_keys=keys,
        tags=tag_dict,
    )


# ---------------------------------------------------------------------------
# Which users reach a bucket


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run, `?` one character; nothing else is special."""
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _action_touches_s3(action: str) -> bool:
    action = action.lower()
    if action.startswith("s3:"):
        return True
    return bool(_wildcard_regex(action).fullmatch("s3:getobject")) or bool(_wildcard_regex(action).fullmatch("s3:listbucket"))


def _resource_names_bucket(resource: str, bucket: str) -> bool:
    """Whether an ARN pattern covers the bucket itself or objects in it."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    if not _wildcard_regex(parts[2]).fullmatch("s3"):
        return False
    path = parts[5]
    if _wildcard_regex(path).fullmatch(bucket):
        return True
    # For objects, the part before the first "/" names buckets; a "*" there may also
    # swallow the "/" itself, which the whole-pattern test below catches.
    bucket_part = path.split("/", 1)[0]
    if "/" in path and _wildcard_regex(bucket_part).fullmatch(bucket):
        return True
    return bool(_wildcard_regex(path).fullmatch(f"{bucket}/x")) or bool(_wildcard_regex(path).match(f"{bucket}/"))


def document_references_bucket(document: dict, bucket: str) -> bool:
    """True when an Allow statement with an S3 action has a resource covering the bucket.

    NotAction and NotResource are read generously (they usually allow a lot); Deny
    statements are not counted: this answers "who is granted something here".
    """
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            touches = True
        else:
            touches = any(_action_touches_s3(str(a)) for a in _as_list(statement.get("Action")))
        if not touches:
            continue
        if "NotResource" in statement:
            return True
        if any(_resource_names_bucket(str(r), bucket) for r in _as_list(statement.get("Resource"))):
            return True
    return False


def users_referencing_bucket(details: Iterable[UserDetail], bucket: str) -> list[str]:
    """Names of users with some policy (own or via a group) granting S3 access covering `bucket`."""
    return [
        detail.name
        for detail in details
        if any(document_references_bucket(doc, bucket) for _where, doc in detail.policy_documents())
    ]


# ---------------------------------------------------------------------------
# Counts for user lists, and the whole account in one paginated call


@dataclass(frozen=True)
class UserCounts:
    access_keys: int
    inline_policies: int
    attached_policies: int
    groups: int


def _counts_for(iam: Any, name: str) -> UserCounts:
    return UserCounts(
        access_keys=len(_all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=name)),
        inline_policies=len(_all_items(iam.list_user_policies, "PolicyNames", "iam:ListUserPolicies", UserName=name)),
        attached_policies=len(
            _all_items(iam.list_attached_user_policies, "AttachedPolicies", "iam:ListAttachedUserPolicies", UserName=name)
        ),
        groups=len(_all_items(iam.list_groups_for_user, "Groups", "iam:ListGroupsForUser", UserName=name)),
    )


@dataclass(frozen=True)
class PolicyCounts:
    """What `get_account_authorization_details` says of a user: everything but its keys."""

    inline_policies: int
    attached_policies: int
    groups: int


def user_policy_counts(ctx: Any, page_size: int = 1000) -> dict[str, PolicyCounts]:
    """Inline/attached policy and group counts of every user, from one paginated call.

    Listing users' policies one user at a time costs three calls per user (15,000 for
    5,000 users); this costs one call per `page_size` users. Raises (typed) when the
    caller may not call iam:GetAccountAuthorizationDetails.
    """
    counts: dict[str, PolicyCounts] = {}
    for page in _marker_pages(
        ctx.iam.get_account_authorization_details,
        "UserDetailList",
        page_size,
        "iam:GetAccountAuthorizationDetails",
        Filter=["User"],
    ):
        for raw in page:
            counts[raw["UserName"]] = PolicyCounts(
                inline_policies=len(raw.get("UserPolicyList") or []),
                attached_policies=len(raw.get("AttachedManagedPolicies") or []),
                groups=len(raw.get("GroupList") or []),
            )
    return counts


def _key_count_with(iam: Any, known: PolicyCounts, name: str) -> UserCounts:
    keys = _all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=name)
    return UserCounts(
        access_keys=len(keys),
        inline_policies=known.inline_policies,
        attached_policies=known.attached_policies,
        groups=known.groups,
    )


def user_counts(
    ctx: Any,
    names: Iterable[str],
    max_workers: int = 16,
    policy_counts: dict[str, PolicyCounts] | None = None,
) -> dict[str, UserCounts | S3CredError]:
    """Keys, policies and groups per user, concurrently; a failure is returned, not raised.

    For a user in `policy_counts` (see `user_policy_counts`) only its access keys are
    listed: one call instead of four.
    """
    iam = ctx.iam
    known = policy_counts or {}

    def count(name: str) -> UserCounts:
        policies = known.get(name)
        return _key_count_with(iam, policies, name) if policies is not None else _counts_for(iam, name)

    return _concurrently(names, count, max_workers)


def _default_version_document(policy: dict) -> dict | None:
    default = policy.get("DefaultVersionId")
    for version in policy.get("PolicyVersionList", []) or []:
        if version.get("IsDefaultVersion") or version.get("VersionId") == default:
            return _decode_document(version.get("Document"))
    return None


def _inline_from_list(raw: Iterable[dict]) -> dict[str, dict]:
    return {p["PolicyName"]: _decode_document(p.get("PolicyDocument")) for p in raw or []}


def iter_authorization_details(ctx: Any, page_size: int = 100) -> Iterator[list[UserDetail]]:
    """Pages of users with their own and their groups' policies resolved.

    Groups and customer-managed policies are read first (one paginated
    `get_account_authorization_details` pass; accounts have far fewer of those than
    users), then users page by page. AWS-managed policies are fetched only when a user
    or group attaches one, and once per ARN, rather than all ~1,300 of them. Access keys
    are not part of this answer (`access_keys` is empty); `user_counts` has them.
    """
    iam = ctx.iam
    groups: dict[str, dict] = {}
    local_documents: dict[str, dict] = {}
    for page in _marker_pages(
        iam.get_account_authorization_details,
        "GroupDetailList",
        1000,
        "iam:GetAccountAuthorizationDetails",
        Filter=["Group"],
    ):
        for group in page:
            groups[group["GroupName"]] = group
    for page in _marker_pages(
        iam.get_account_authorization_details,
        "Policies",
        1000,
        "iam:GetAccountAuthorizationDetails",
        Filter=["LocalManagedPolicy"],
    ):
        for policy in page:
            local_documents[policy["Arn"]] = _default_version_document(policy)
    policies = _ManagedPolicyCache(iam, known=local_documents)

    def group_detail(name: str) -> GroupDetail:
        raw = groups.get(name, {})
        return GroupDetail(
            name=name,
            inline_policies=_inline_from_list(raw.get("GroupPolicyList", [])),
            attached_policies=policies.attached(raw.get("AttachedManagedPolicies", []) or []),
        )

    resolved_groups: dict[str, GroupDetail] = {}
    for page in _marker_pages(
        iam.get_account_authorization_details,
        "UserDetailList",
        page_size,
        "iam:GetAccountAuthorizationDetails",
        Filter=["User"],
    ):
        details = []
        for raw in page:
            member_of = []
            for group_name in raw.get("GroupList", []) or []:
                if group_name not in resolved_groups:
                    resolved_groups[group_name] = group_detail(group_name)
                member_of.append(resolved_groups[group_name])
            tags = raw.get("Tags") or []
            details.append(
                UserDetail(
                    summary=_user_summary(dict(raw, Tags=tags)),
                    inline_policies=_inline_from_list(raw.get("UserPolicyList", [])),
                    attached_policies=policies.attached(raw.get("AttachedManagedPolicies", []) or []),
                    groups=member_of,
                    boundary_arn=(raw.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
                    access_keys=[],
                    tags=_tags_dict(tags),
                )
            )
        yield details
