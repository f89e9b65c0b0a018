"""`whoami` and the `list-*` commands: AWS's own records, streamed page by page.

The reading is the core inventory's (`s3cred_tui.core.inventory`); this module only picks
the columns and turns the core's answers into records.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import EXIT_OK, stdout
from s3cred_tui.cli.output import stream, to_json

if TYPE_CHECKING:
    from s3cred_tui.core.inventory import AttachedPolicy, BucketDetails, UserDetail
    from s3cred_tui.core.session import AwsContext


def cmd_whoami(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import whoami

    print(to_json(whoami(ctx).to_dict(), indent=2), file=stdout())
    return EXIT_OK


BUCKET_FIELDS = ("Name", "CreationDate", "Region")
BUCKET_DETAIL_FIELDS = ("Versioning", "MFADelete", "PublicAccessBlock", "DetailsError")


def _details_record(details: BucketDetails) -> dict[str, Any]:
    record: dict[str, Any] = {
        "Region": details.region,
        "Versioning": details.versioning,
        "MFADelete": details.mfa_delete,
        "PublicAccessBlock": details.public_access_block,
    }
    if details.error is not None:
        record["DetailsError"] = details.error.message
    return record


def cmd_list_buckets(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import (
        MAX_BUCKET_PAGE,
        bucket_details_of,
        iter_bucket_pages,
    )

    # One request for up to 10,000 buckets: a whole listing in one round trip, regions included.
    page_size = args.page_size or MAX_BUCKET_PAGE

    def pages() -> Iterator[list[dict[str, Any]]]:
        for page in iter_bucket_pages(ctx, page_size=page_size, first_page_size=page_size):
            records = [{"Name": b.name, "CreationDate": b.created, "Region": b.region} for b in page]
            if args.details:
                details = bucket_details_of(ctx, [b.name for b in page], regions={b.name: b.region for b in page})
                records = [{**record, **_details_record(details[record["Name"]])} for record in records]
            yield records

    fields = BUCKET_FIELDS + (BUCKET_DETAIL_FIELDS if args.details else ())
    return stream(args, pages(), fields)


OBJECT_FIELDS = ("Key", "LastModified", "ETag", "Size", "StorageClass")


def cmd_list_bucket(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import iter_object_records
    from s3cred_tui.core.request import PrefixMode
    from s3cred_tui.core.validation import normalise_prefix, validate_bucket_name

    bucket = validate_bucket_name(args.bucket)
    # The same prefix as `policy` and `create` would grant: `reports` means `reports/`, never
    # `reports-private/`; its characters are taken literally.
    prefix = normalise_prefix(args.prefix or "", PrefixMode.LITERAL)
    pages = iter_object_records(ctx, bucket, prefix, page_size=args.page_size or 1000)
    return stream(args, pages, OBJECT_FIELDS)


USER_FIELDS = ("UserName", "UserId", "Arn", "Path", "CreateDate", "PasswordLastUsed")


def cmd_list_iam_users(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import IAM_MAX_PAGE, iter_user_records

    return stream(args, iter_user_records(ctx, page_size=args.page_size or IAM_MAX_PAGE), USER_FIELDS)


# Users whose policies are read (concurrently) before their records are printed.
DETAILS_PER_PAGE = 100
USER_POLICY_FIELDS = ("UserName", "InlinePolicies", "AttachedPolicies", "Groups", "PermissionsBoundary")


def _attached_records(policies: Iterable[AttachedPolicy]) -> list[dict[str, Any]]:
    return [{"PolicyName": p.name, "PolicyArn": p.arn, "Document": p.document} for p in policies]


def _user_policies_record(detail: UserDetail) -> dict[str, Any]:
    return {
        "UserName": detail.name,
        "InlinePolicies": detail.inline_policies,
        "AttachedPolicies": _attached_records(detail.attached_policies),
        "Groups": [
            {
                "GroupName": g.name,
                "InlinePolicies": g.inline_policies,
                "AttachedPolicies": _attached_records(g.attached_policies),
            }
            for g in detail.groups
        ],
        "PermissionsBoundary": detail.boundary_arn,
    }


def cmd_list_user_policies(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import IAM_MAX_PAGE, iter_user_pages, user_details_of
    from s3cred_tui.core.validation import validate_user_name

    if args.users:
        names = [validate_user_name(name) for name in args.users]
        name_pages: Iterable[list[str]] = [names]
    else:
        name_pages = ([u.name for u in page] for page in iter_user_pages(ctx, page_size=args.page_size or IAM_MAX_PAGE))

    def pages() -> Iterator[list[dict[str, Any]]]:
        # Names come 1,000 at a time; records are printed as each batch of details is read.
        for names in name_pages:
            for start in range(0, len(names), DETAILS_PER_PAGE):
                yield [_user_policies_record(d) for d in user_details_of(ctx, names[start : start + DETAILS_PER_PAGE])]

    return stream(args, pages(), USER_POLICY_FIELDS)
