"""Paging and fan-out shared by the listings: IAM's Marker paging, pages of a fixed size,
and one lookup per name run concurrently."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from s3cred_tui.core.errors import S3CredError, translate


def chunks(items: list, size: int) -> Iterator[list]:
    """`items` in lists of at most `size`."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def concurrently(names: Iterable[str], work: Callable[[str], Any], max_workers: int) -> dict[str, Any]:
    """`work(name)` for each distinct name, in threads; a failure is that name's result, not raised."""
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


def marker_pages(
    call: Callable[..., dict], key: str, page_size: int, operation: str, *, first_page_size: int | None = None, **kwargs: Any
) -> Iterator[list]:
    """IAM's Marker/IsTruncated paging, one request per page the consumer takes.

    `first_page_size` (at most `page_size`) makes the first request smaller, so a screen has rows
    to show one small round trip in; the rest come `page_size` at a time. An endpoint that
    ignores MaxItems (moto) returns everything at once; that answer is split so the consumer
    still sees pages of at most `page_size`.
    """
    page_size = max(1, min(int(page_size), 1000))
    asked = max(1, min(int(first_page_size or page_size), page_size))
    marker: str | None = None
    while True:
        request = dict(kwargs, MaxItems=asked)
        if marker:
            request["Marker"] = marker
        try:
            response = call(**request)
        except Exception as exc:
            raise translate(exc, operation) from None
        next_marker = response.get("Marker") if response.get("IsTruncated") else None
        items = response.get(key, []) or []
        # Only the items are kept while the consumer takes them, and not even those once it asks for
        # more: the next request's answer (up to 1,000 users) is then parsed without this one beside it.
        del response
        yield from chunks(items, page_size)
        del items
        if not next_marker or next_marker == marker:
            return
        marker = next_marker
        asked = page_size


def all_items(call: Callable[..., dict], key: str, operation: str, **kwargs: Any) -> list:
    """Every item of an IAM Marker-paged listing, in one list."""
    return [item for page in marker_pages(call, key, 1000, operation, **kwargs) for item in page]
