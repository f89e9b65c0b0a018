"""Objects in a bucket: one level under a prefix (for browsing), or every key under it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import translate
from s3cred_tui.core.session import iso_timestamp  # noqa: F401 - re-exported by the inventory (its old home)

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


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


def _listing_responses(
    ctx: AwsContext, bucket: str, prefix: str, page_size: int, region: str | None, delimiter: str | None
) -> Iterator[tuple[dict[str, Any], bool]]:
    """`list_objects_v2` answers, following the continuation token: (answer, is_last)."""
    s3 = ctx.client("s3", region) if region else ctx.s3
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "MaxKeys": max(1, min(int(page_size), 1000))}
        if delimiter:
            kwargs["Delimiter"] = delimiter
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
            next_token = None  # an endpoint echoing the same token would loop for ever
        yield response, not next_token
        if not next_token:
            return
        token = next_token


def iter_prefix_pages(
    ctx: AwsContext, bucket: str, prefix: str = "", page_size: int = 1000, region: str | None = None
) -> Iterator[PrefixPage]:
    """One level under `prefix` (Delimiter "/"): sub-prefixes and objects, page by page."""
    for response, is_last in _listing_responses(ctx, bucket, prefix, page_size, region, delimiter="/"):
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
            is_last=is_last,
        )


def iter_object_records(
    ctx: AwsContext, bucket: str, prefix: str = "", page_size: int = 1000, region: str | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Every object under `prefix`, recursively, as AWS describes it (`Contents` records), page by page."""
    for response, _is_last in _listing_responses(ctx, bucket, prefix, page_size, region, delimiter=None):
        yield list(response.get("Contents", []) or [])
