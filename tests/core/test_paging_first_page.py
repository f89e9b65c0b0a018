"""The first page of an IAM listing can be small (rows on screen sooner); the rest are full pages."""

from __future__ import annotations

from s3cred_tui.core.inventory.pages import marker_pages


def paged_like_iam(total: int):
    """A ListUsers that honours MaxItems and Marker as IAM does, recording what was asked."""
    asked: list[int] = []

    def call(MaxItems: int, Marker: str | None = None) -> dict:
        asked.append(MaxItems)
        start = int(Marker or 0)
        end = min(total, start + MaxItems)
        page = {"Users": [{"UserName": f"u{i}"} for i in range(start, end)], "IsTruncated": end < total}
        if end < total:
            page["Marker"] = str(end)
        return page

    return call, asked


def test_a_small_first_page_then_full_pages_in_order():
    call, asked = paged_like_iam(2_150)
    pages = list(marker_pages(call, "Users", 1000, "iam:ListUsers", first_page_size=100))
    assert asked == [100, 1000, 1000, 1000]
    assert [len(page) for page in pages] == [100, 1000, 1000, 50]
    names = [user["UserName"] for page in pages for user in page]
    assert names == [f"u{i}" for i in range(2_150)]


def test_without_a_first_page_size_every_page_is_full():
    call, asked = paged_like_iam(1_500)
    assert [len(page) for page in marker_pages(call, "Users", 1000, "iam:ListUsers")] == [1000, 500]
    assert asked == [1000, 1000]


def test_the_first_page_is_never_larger_than_a_page():
    call, asked = paged_like_iam(50)
    list(marker_pages(call, "Users", 10, "iam:ListUsers", first_page_size=500))
    assert asked[0] == 10
