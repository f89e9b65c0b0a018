"""IAM users: the user list, and everything that decides what one user can do."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import NotFound, translate
from s3cred_tui.core.inventory.documents import (
    decode_policy_document,
    managed_policy_document,
)
from s3cred_tui.core.inventory.pages import all_items, marker_pages

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


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


def tags_dict(tags: list[dict] | None) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in tags or []}


def user_summary_from(raw: dict[str, Any]) -> UserSummary:
    tags = raw.get("Tags")
    return UserSummary(
        name=raw["UserName"],
        arn=raw.get("Arn", ""),
        user_id=raw.get("UserId", ""),
        created=raw.get("CreateDate"),
        path=raw.get("Path", "/"),
        tags=tags_dict(tags) if tags is not None else None,
    )


# IAM's largest page (`MaxItems`): 5,000 users are 6 round trips instead of 51 at the default 100.
IAM_MAX_PAGE = 1000
# A screen's first page: one screenful and more, answered and parsed in a fraction of a full
# page's time. 100 then 1,000s is still 6 round trips for 5,001 users.
FIRST_USER_PAGE = 100


def iter_user_records(
    ctx: AwsContext, page_size: int = IAM_MAX_PAGE, first_page_size: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Pages of IAM users as AWS answers them (`list_users` with Marker/MaxItems)."""
    yield from marker_pages(ctx.iam.list_users, "Users", page_size, "iam:ListUsers", first_page_size=first_page_size)


def iter_user_pages(
    ctx: AwsContext, page_size: int = IAM_MAX_PAGE, first_page_size: int | None = None
) -> Iterator[list[UserSummary]]:
    """Pages of IAM users (the first `first_page_size` long, when given)."""
    for page in iter_user_records(ctx, page_size, first_page_size):
        yield [user_summary_from(raw) for raw in page]


class ManagedPolicyCache:
    """Default-version documents of managed policies, fetched once per ARN (None: the policy is gone)."""

    def __init__(self, ctx: AwsContext, known: dict[str, dict | None] | None = None):
        self._ctx = ctx
        self._documents: dict[str, dict | None] = dict(known or {})

    def document(self, arn: str) -> dict | None:
        if arn not in self._documents:
            try:
                self._documents[arn] = managed_policy_document(self._ctx, arn)
            except NotFound:
                self._documents[arn] = None
        return self._documents[arn]

    def attached(self, raw: Iterable[dict]) -> list[AttachedPolicy]:
        return [
            AttachedPolicy(name=p["PolicyName"], arn=p["PolicyArn"], document=self.document(p["PolicyArn"]))
            for p in raw
        ]


def _inline_policies(list_call: Callable, get_call: Callable, owner_key: str, owner: str, what: str) -> dict[str, dict]:
    names = all_items(list_call, "PolicyNames", f"iam:List{what}Policies", **{owner_key: owner})
    documents: dict[str, dict] = {}
    for name in names:
        try:
            raw = get_call(**{owner_key: owner, "PolicyName": name})["PolicyDocument"]
        except Exception as exc:
            raise translate(exc, f"iam:Get{what}Policy") from None
        documents[name] = decode_policy_document(raw)
    return documents


def user_details(ctx: AwsContext, name: str) -> UserDetail:
    """Everything that decides what a user can do, plus its access keys and tags."""
    iam = ctx.iam
    try:
        raw_user = iam.get_user(UserName=name)["User"]
    except Exception as exc:
        raise translate(exc, "iam:GetUser") from None
    policies = ManagedPolicyCache(ctx)
    inline = _inline_policies(iam.list_user_policies, iam.get_user_policy, "UserName", name, "User")
    attached = policies.attached(
        all_items(iam.list_attached_user_policies, "AttachedPolicies", "iam:ListAttachedUserPolicies", UserName=name)
    )
    groups = []
    for group in all_items(iam.list_groups_for_user, "Groups", "iam:ListGroupsForUser", UserName=name):
        group_name = group["GroupName"]
        groups.append(
            GroupDetail(
                name=group_name,
                inline_policies=_inline_policies(
                    iam.list_group_policies, iam.get_group_policy, "GroupName", group_name, "Group"
                ),
                attached_policies=policies.attached(
                    all_items(
                        iam.list_attached_group_policies,
                        "AttachedPolicies",
                        "iam:ListAttachedGroupPolicies",
                        GroupName=group_name,
                    )
                ),
            )
        )
    keys = []
    for key in all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=name):
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
        tags = all_items(iam.list_user_tags, "Tags", "iam:ListUserTags", UserName=name)
    tag_dict = tags_dict(tags)
    summary = user_summary_from(dict(raw_user, Tags=tags))
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


def user_details_of(ctx: AwsContext, names: Iterable[str], max_workers: int = 8) -> list[UserDetail]:
    """`user_details` of each name, looked up concurrently, in the order given.

    Unlike `user_counts`, a failure is raised (the first one, in name order): a listing of
    policies must not quietly leave a user out.
    """
    names = list(names)
    if not names:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(names)))) as pool:
        return list(pool.map(lambda name: user_details(ctx, name), names))
