"""Buckets: the bucket list, each bucket's region, and its versioning and public access block."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.core.inventory.pages import chunks, concurrently

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


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


def _bucket_summary(raw: dict[str, Any]) -> BucketSummary:
    region = raw.get("BucketRegion")
    return BucketSummary(name=raw["Name"], created=raw.get("CreationDate"), region=region or None)


# S3 answers 100 buckets several times faster than 1,000: the first rows show sooner.
FIRST_BUCKET_PAGE = 100
# The most `MaxBuckets` may ask for: after the first page, the fewest round trips.
MAX_BUCKET_PAGE = 10_000


def iter_bucket_pages(
    ctx: AwsContext, page_size: int = MAX_BUCKET_PAGE, first_page_size: int = FIRST_BUCKET_PAGE
) -> Iterator[list[BucketSummary]]:
    """Pages of buckets, following `ContinuationToken`.

    The first request asks for `first_page_size` buckets (at most `page_size`), so a
    screen or a streaming command has something to show while the rest is listed. Paged
    answers carry each bucket's `BucketRegion` (`BucketSummary.region`), so no
    `get_bucket_location` is needed where S3 gives it.
    Some endpoints ignore `MaxBuckets` (all buckets in one answer: split into pages here),
    and some truncate at `MaxBuckets` without returning a token (moto, older S3-compatible
    stores). A full page without a token is therefore not trusted: the listing is fetched
    again without `MaxBuckets` and the buckets not yet yielded follow.
    """
    page_size = max(1, min(int(page_size), MAX_BUCKET_PAGE))
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
                for page in chunks(buckets, page_size):
                    yield page
                return
            yield buckets
            seen.update(b.name for b in buckets)
            yield from _unpaged_buckets(s3, page_size, seen)
            return
        fresh = [b for b in buckets if b.name not in seen]
        seen.update(b.name for b in fresh)
        for page in chunks(fresh, page_size):
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
    yield from chunks(rest, page_size)


def bucket_region(ctx: AwsContext, name: str) -> str:
    try:
        response = ctx.s3.get_bucket_location(Bucket=name)
    except Exception as exc:
        raise translate(exc, "s3:GetBucketLocation") from None
    return region_from_location(response.get("LocationConstraint"))


def bucket_regions(ctx: AwsContext, names: Iterable[str], max_workers: int = 16) -> dict[str, str | S3CredError]:
    """Region of each bucket, looked up concurrently; a failure is returned, not raised."""
    return concurrently(names, lambda name: bucket_region(ctx, name), max_workers)


@dataclass(frozen=True)
class BucketDetails:
    """A bucket's region, versioning and public access block, as far as they could be read.

    `error` is the first lookup that failed; the fields read before it keep their values.
    """

    region: str | None = None
    versioning: str | None = None  # "Enabled", "Suspended" or "Never enabled"
    mfa_delete: str | None = None
    public_access_block: dict[str, Any] | None = None
    error: S3CredError | None = None


def bucket_details(ctx: AwsContext, name: str, region: str | None = None) -> BucketDetails:
    """Region, versioning and public access block of one bucket; a failure is returned in `error`.

    A `region` already known (ListBuckets' `BucketRegion`) saves the `get_bucket_location` call.
    """
    found: dict[str, Any] = {}
    try:
        found["region"] = region or bucket_region(ctx, name)
        s3 = ctx.client("s3", found["region"])
        try:
            versioning = s3.get_bucket_versioning(Bucket=name)
        except Exception as exc:
            raise translate(exc, "s3:GetBucketVersioning") from None
        found["versioning"] = versioning.get("Status") or "Never enabled"
        found["mfa_delete"] = versioning.get("MFADelete")
        try:
            block = s3.get_public_access_block(Bucket=name)
            found["public_access_block"] = block.get("PublicAccessBlockConfiguration")
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code != "NoSuchPublicAccessBlockConfiguration":
                raise translate(exc, "s3:GetBucketPublicAccessBlock") from None
    except S3CredError as exc:
        # One unreadable bucket should not end a listing of all the others.
        found["error"] = exc
    return BucketDetails(**found)


def bucket_details_of(
    ctx: AwsContext, names: Iterable[str], max_workers: int = 16, regions: Mapping[str, str | None] | None = None
) -> dict[str, BucketDetails]:
    """`bucket_details` of each bucket, looked up concurrently (`regions`: those already known)."""
    known = regions or {}
    found = concurrently(names, lambda name: bucket_details(ctx, name, known.get(name)), max_workers)
    return {
        name: details if isinstance(details, BucketDetails) else BucketDetails(error=details)
        for name, details in found.items()
    }
