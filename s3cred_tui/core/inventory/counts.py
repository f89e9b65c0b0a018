"""How many keys, policies and groups each user has, for user lists."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory.pages import all_items, concurrently, marker_pages

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


@dataclass(frozen=True)
class UserCounts:
    access_keys: int
    inline_policies: int
    attached_policies: int
    groups: int


@dataclass(frozen=True)
class PolicyCounts:
    """What `get_account_authorization_details` says of a user: everything but its keys."""

    inline_policies: int
    attached_policies: int
    groups: int


def iter_user_policy_counts(
    ctx: AwsContext, page_size: int = 1000, first_page_size: int | None = None
) -> Iterator[dict[str, PolicyCounts]]:
    """Inline/attached policy and group counts of every user, a page of users at a time
    (`first_page_size` users first: the first rows' counts one small round trip in).

    Listing users' policies one user at a time costs three calls per user (15,000 for
    5,000 users); `get_account_authorization_details` costs one call per `page_size` users.
    Raises (typed) when the caller may not call iam:GetAccountAuthorizationDetails.
    """
    for page in marker_pages(
        ctx.iam_counting.get_account_authorization_details,
        "UserDetailList",
        page_size,
        "iam:GetAccountAuthorizationDetails",
        first_page_size=first_page_size,
        Filter=["User"],
    ):
        yield {
            raw["UserName"]: PolicyCounts(
                inline_policies=len(raw.get("UserPolicyList") or []),
                attached_policies=len(raw.get("AttachedManagedPolicies") or []),
                groups=len(raw.get("GroupList") or []),
            )
            for raw in page
        }


def user_policy_counts(ctx: AwsContext, page_size: int = 1000) -> dict[str, PolicyCounts]:
    """`iter_user_policy_counts`, every page in one dict."""
    counts: dict[str, PolicyCounts] = {}
    for page in iter_user_policy_counts(ctx, page_size):
        counts.update(page)
    return counts


def _policy_counts_of(iam: Any, name: str) -> PolicyCounts:
    return PolicyCounts(
        inline_policies=len(all_items(iam.list_user_policies, "PolicyNames", "iam:ListUserPolicies", UserName=name)),
        attached_policies=len(
            all_items(iam.list_attached_user_policies, "AttachedPolicies", "iam:ListAttachedUserPolicies", UserName=name)
        ),
        groups=len(all_items(iam.list_groups_for_user, "Groups", "iam:ListGroupsForUser", UserName=name)),
    )


def _key_count_of(iam: Any, name: str) -> int:
    return len(all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=name))


def user_counts(
    ctx: AwsContext,
    names: Iterable[str],
    max_workers: int = 16,
    policy_counts: Mapping[str, PolicyCounts] | None = None,
    key_counts: Mapping[str, int] | None = None,
) -> dict[str, UserCounts | S3CredError]:
    """Keys, policies and groups per user, concurrently; a failure is returned, not raised.

    What is already known is not asked again: a user in `policy_counts` (see
    `iter_user_policy_counts`) costs one call (its keys), a user in `key_counts` (see
    `credential_report`) three (its policies and groups), a user in both none.
    """
    iam = ctx.iam
    known_policies = policy_counts or {}
    known_keys = key_counts or {}

    def count(name: str) -> UserCounts:
        policies = known_policies.get(name)
        if policies is None:
            policies = _policy_counts_of(iam, name)
        keys = known_keys.get(name)
        if keys is None:
            keys = _key_count_of(iam, name)
        return UserCounts(
            access_keys=keys,
            inline_policies=policies.inline_policies,
            attached_policies=policies.attached_policies,
            groups=policies.groups,
        )

    return concurrently(names, count, max_workers)
