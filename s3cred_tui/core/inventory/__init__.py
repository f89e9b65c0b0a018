"""Read-only exploration of an AWS account: who am I, buckets, objects, users, their policies.

Every call here is read-only. Listings are generators of pages (lists) so a caller can
stop early, and a worker thread can check for cancellation between pages; no listing
asks AWS for more than one page ahead of its consumer.

One module per topic; import from this package, not from the modules:
- identity: `Identity`, `whoami(ctx, resolve_role_path=True) -> Identity`, `classify_arn(arn)`,
  `principal_arn_from(arn, role_path="/")`
- buckets: `BucketSummary`, `iter_bucket_pages(ctx, page_size=10000, first_page_size=100)` (regions from
  ListBuckets' `BucketRegion` where S3 gives it),
  `bucket_region(ctx, name) -> str`, `bucket_regions(ctx, names, max_workers=16) -> dict[str, str | S3CredError]`,
  `region_from_location(constraint) -> str`, `BucketDetails`, `bucket_details(ctx, name) -> BucketDetails`,
  `bucket_details_of(ctx, names, max_workers=16) -> dict[str, BucketDetails]`
- objects: `ObjectSummary`, `PrefixPage`, `iter_prefix_pages(ctx, bucket, prefix="", page_size=1000, region=None)`,
  `iter_object_records(ctx, bucket, prefix="", page_size=1000, region=None) -> Iterator[list[dict]]`,
  `iso_timestamp(value) -> datetime` (core.session's timestamp parser: every AwsContext client uses it)
- users: `UserSummary`, `iter_user_pages(ctx, page_size=1000, first_page_size=None)` (the app asks
  `FIRST_USER_PAGE` first), `iter_user_records(ctx, page_size=1000, first_page_size=None)`,
  `AttachedPolicy`, `GroupDetail`, `AccessKeyInfo`, `UserDetail`, `user_details(ctx, name)`,
  `user_details_of(ctx, names, max_workers=8) -> list[UserDetail]`
- documents: `decode_policy_document(document) -> dict`, `managed_policy_document(ctx, arn) -> dict`,
  `DocumentPool().share(document)` (one shared copy of identical documents within one read)
- bucket_access: `users_referencing_bucket(details, bucket) -> list[str]`, `document_references_bucket(doc, bucket)`
- counts: `UserCounts`, `user_counts(ctx, names, max_workers=16, policy_counts=None, key_counts=None)
  -> dict[str, UserCounts | S3CredError]`, `PolicyCounts`, `iter_user_policy_counts(ctx, page_size=1000, first_page_size=None)
  -> Iterator[dict[str, PolicyCounts]]`, `user_policy_counts(ctx, page_size=1000) -> dict[str, PolicyCounts]`
- credential_report: `CredentialReport`, `ReportUser`, `ReportKey`, `credential_report(ctx, wait_seconds=30, ...)
  -> CredentialReport` (every user's key ages and last use in 1-3 calls), `parse_credential_report(content)`
- authorization: `iter_authorization_details(ctx, page_size=1000) -> Iterator[list[UserDetail]]` (identical
  documents shared; each raw page let go before the next is read)
- keys: `access_keys_of(ctx, user) -> tuple[AccessKeyInfo, ...]` (one user's keys with last use, oldest first)
- roles: `RoleDetail`, `GroupInfo`, `iter_role_records(ctx, page_size=1000)`, `iter_role_details(ctx, page_size=1000)
  -> Iterator[list[RoleDetail]]`, `role_detail(ctx, name)`, `group_details(ctx) -> list[GroupInfo]`,
  `role_policy_records(ctx, names=None) -> dict[str, dict]` (roles and groups, read-only)
- pages: the paging and fan-out helpers the modules share (not exported)

The `*_records` listings yield AWS's own records (field names as AWS spells them), for the
command line, which prints them as they are; the others yield the dataclasses above.
"""

from s3cred_tui.core.inventory.authorization import iter_authorization_details
from s3cred_tui.core.inventory.bucket_access import (
    document_references_bucket,
    users_referencing_bucket,
)
from s3cred_tui.core.inventory.buckets import (
    FIRST_BUCKET_PAGE,
    MAX_BUCKET_PAGE,
    BucketDetails,
    BucketSummary,
    bucket_details,
    bucket_details_of,
    bucket_region,
    bucket_regions,
    iter_bucket_pages,
    region_from_location,
)
from s3cred_tui.core.inventory.counts import (
    PolicyCounts,
    UserCounts,
    iter_user_policy_counts,
    user_counts,
    user_policy_counts,
)
from s3cred_tui.core.inventory.credential_report import (
    CredentialReport,
    ReportKey,
    ReportUser,
    credential_report,
    parse_credential_report,
)
from s3cred_tui.core.inventory.documents import (
    DocumentPool,
    decode_policy_document,
    managed_policy_document,
)
from s3cred_tui.core.inventory.identity import (
    Identity,
    classify_arn,
    principal_arn_from,
    whoami,
)
from s3cred_tui.core.inventory.keys import access_keys_of
from s3cred_tui.core.inventory.objects import (
    ObjectSummary,
    PrefixPage,
    iso_timestamp,
    iter_object_records,
    iter_prefix_pages,
)
from s3cred_tui.core.inventory.roles import (
    GroupInfo,
    RoleDetail,
    group_details,
    iter_role_details,
    iter_role_records,
    role_detail,
    role_policy_records,
)
from s3cred_tui.core.inventory.users import (
    FIRST_USER_PAGE,
    IAM_MAX_PAGE,
    AccessKeyInfo,
    AttachedPolicy,
    GroupDetail,
    UserDetail,
    UserSummary,
    iter_user_pages,
    iter_user_records,
    user_details,
    user_details_of,
)

__all__ = [
    "FIRST_BUCKET_PAGE",
    "FIRST_USER_PAGE",
    "IAM_MAX_PAGE",
    "MAX_BUCKET_PAGE",
    "AccessKeyInfo",
    "AttachedPolicy",
    "BucketDetails",
    "BucketSummary",
    "CredentialReport",
    "DocumentPool",
    "GroupDetail",
    "GroupInfo",
    "Identity",
    "ObjectSummary",
    "PolicyCounts",
    "PrefixPage",
    "ReportKey",
    "ReportUser",
    "RoleDetail",
    "UserCounts",
    "UserDetail",
    "UserSummary",
    "access_keys_of",
    "bucket_details",
    "bucket_details_of",
    "bucket_region",
    "bucket_regions",
    "classify_arn",
    "credential_report",
    "decode_policy_document",
    "document_references_bucket",
    "group_details",
    "iso_timestamp",
    "iter_authorization_details",
    "iter_bucket_pages",
    "iter_object_records",
    "iter_prefix_pages",
    "iter_role_details",
    "iter_role_records",
    "iter_user_pages",
    "iter_user_policy_counts",
    "iter_user_records",
    "managed_policy_document",
    "parse_credential_report",
    "principal_arn_from",
    "region_from_location",
    "role_detail",
    "role_policy_records",
    "user_counts",
    "user_details",
    "user_details_of",
    "user_policy_counts",
    "users_referencing_bucket",
    "whoami",
]
