"""The whole account's users, groups and policies from `get_account_authorization_details`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from s3cred_tui.core.inventory.documents import DocumentPool, decode_policy_document
from s3cred_tui.core.inventory.pages import marker_pages
from s3cred_tui.core.inventory.users import (
    IAM_MAX_PAGE,
    GroupDetail,
    ManagedPolicyCache,
    UserDetail,
    user_summary_from,
)

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


def _default_version_document(policy: dict, pool: DocumentPool | None = None) -> dict | None:
    default = policy.get("DefaultVersionId")
    for version in policy.get("PolicyVersionList", []) or []:
        if version.get("IsDefaultVersion") or version.get("VersionId") == default:
            document = decode_policy_document(version.get("Document"))
            return pool.share(document) if pool is not None else document
    return None


def _inline_from_list(raw: Iterable[dict], pool: DocumentPool | None = None) -> dict[str, dict]:
    if pool is None:
        return {p["PolicyName"]: decode_policy_document(p.get("PolicyDocument")) for p in raw or []}
    return {pool.share(p["PolicyName"]): pool.share(decode_policy_document(p.get("PolicyDocument"))) for p in raw or []}


def iter_authorization_details(ctx: AwsContext, page_size: int = IAM_MAX_PAGE) -> Iterator[list[UserDetail]]:
    """Pages of users with their own and their groups' policies resolved.

    Groups and customer-managed policies are read first (one paginated
    `get_account_authorization_details` pass; accounts have far fewer of those than
    users), then users page by page. AWS-managed policies are fetched only when a user
    or group attaches one, and once per ARN, rather than all ~1,300 of them. Access keys
    are not part of this answer (`access_keys` is empty); `user_counts` has them.

    Held for as long as a bucket's access map is open (5,000 users and more), so identical
    documents share one copy (`DocumentPool`), a user's tags are one dict (the summary's), and
    each raw page is let go once its users are built.
    """
    iam = ctx.iam
    pool = DocumentPool()
    groups: dict[str, dict] = {}
    local_documents: dict[str, dict] = {}
    for page in marker_pages(
        iam.get_account_authorization_details,
        "GroupDetailList",
        IAM_MAX_PAGE,
        "iam:GetAccountAuthorizationDetails",
        Filter=["Group"],
    ):
        for group in page:
            groups[group["GroupName"]] = group
    for page in marker_pages(
        iam.get_account_authorization_details,
        "Policies",
        IAM_MAX_PAGE,
        "iam:GetAccountAuthorizationDetails",
        Filter=["LocalManagedPolicy"],
    ):
        for policy in page:
            local_documents[policy["Arn"]] = _default_version_document(policy, pool)
    policies = ManagedPolicyCache(ctx, known=local_documents)

    def group_detail(name: str) -> GroupDetail:
        raw = groups.get(name, {})
        return GroupDetail(
            name=name,
            inline_policies=_inline_from_list(raw.get("GroupPolicyList", []), pool),
            attached_policies=policies.attached(raw.get("AttachedManagedPolicies", []) or []),
        )

    resolved_groups: dict[str, GroupDetail] = {}

    def user_detail(raw: dict) -> UserDetail:
        member_of = []
        for group_name in raw.get("GroupList", []) or []:
            if group_name not in resolved_groups:
                resolved_groups[group_name] = group_detail(group_name)
            member_of.append(resolved_groups[group_name])
        summary = user_summary_from(dict(raw, Tags=raw.get("Tags") or [], Path=pool.share(raw.get("Path", "/"))))
        return UserDetail(
            summary=summary,
            inline_policies=_inline_from_list(raw.get("UserPolicyList", []), pool),
            attached_policies=policies.attached(raw.get("AttachedManagedPolicies", []) or []),
            groups=member_of,
            boundary_arn=(raw.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            access_keys=[],
            tags=summary.tags if summary.tags is not None else {},
        )

    for page in marker_pages(
        iam.get_account_authorization_details,
        "UserDetailList",
        page_size,
        "iam:GetAccountAuthorizationDetails",
        Filter=["User"],
    ):
        details = [user_detail(raw) for raw in page]
        # The raw page (botocore's dicts for up to 1,000 users) goes now, not once the next one has
        # been read and parsed beside it.
        del page
        yield details
