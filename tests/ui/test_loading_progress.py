"""Progress on long loads (issue 12): "Reading IAM users… 1,200 / 5,001", the total from the
credential report, or "… so far" without one; and how cells sort."""

from __future__ import annotations

import threading

from rich.text import Text
from textual.app import App, ComposeResult

from s3cred_tui.core import inventory
from s3cred_tui.ui.loading import HeadStart
from s3cred_tui.ui.widgets.filter_table import FilterTable, progress_text, sort_value
from tests.ui.helpers import settle, wait_until


def test_progress_names_the_total_only_while_the_list_has_not_outgrown_it():
    assert progress_text("Reading IAM users", 1200, 5001) == "Reading IAM users… 1,200 / 5,001"
    assert progress_text("Reading IAM users", 1200, None) == "Reading IAM users… 1,200 so far"
    # The report is older than the listing: users made since are counted, not a wrong total.
    assert progress_text("Reading IAM users", 5003, 5001) == "Reading IAM users… 5,003 so far"


def test_cells_sort_by_value_numbers_before_text_and_placeholders_have_none():
    assert sort_value("1,200") > sort_value("999")
    assert sort_value(Text("10", style="bold")) > sort_value("9")
    assert sort_value("2024-01-02 10:00") > sort_value("2024-01-01 23:59")
    assert sort_value("9") < sort_value("alice")
    for empty in ("", "…", Text("…", style="dim"), "—", "?"):
        assert sort_value(empty) is None


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable("user", [("name", "User")], progress_label="Reading IAM users", window_rows=5000)


async def test_the_status_line_counts_rows_against_the_expected_total_while_loading():
    app = Host()
    async with app.run_test(size=(100, 20)) as pilot:
        listing = app.query_one(FilterTable)
        status = listing.query_one(".filter-status")
        listing.busy = True
        listing.add_rows((f"user-{i}", [f"user-{i}"]) for i in range(1200))
        # While loading, the line is redrawn a few times a second, not once per row.
        await wait_until(pilot, lambda: str(status.render()) == "Reading IAM users… 1,200 so far", "the count")
        listing.expected_total = 5001
        await wait_until(pilot, lambda: str(status.render()) == "Reading IAM users… 1,200 / 5,001", "the total")
        listing.busy = False
        await settle(pilot)
        assert str(status.render()) == "1,200 users"


class FakeContext:
    """Stands in for AwsContext: HeadStart only hands it to the (patched) listings."""


def test_a_head_start_continues_the_listing_it_started(monkeypatch):
    asked: list[str] = []
    first_page_asked = threading.Event()

    def user_pages(ctx, page_size=1000, first_page_size=None):
        asked.append("users page 1")
        first_page_asked.set()
        yield [inventory.UserSummary("u1", "", "", None, "/")]
        asked.append("users page 2")
        yield [inventory.UserSummary("u2", "", "", None, "/")]

    def bucket_pages(ctx):
        raise inventory_error

    inventory_error = RuntimeError("no buckets for you")
    monkeypatch.setattr(inventory, "iter_user_pages", user_pages)
    monkeypatch.setattr(inventory, "iter_bucket_pages", bucket_pages)
    head_start = HeadStart(FakeContext())  # type: ignore[arg-type]
    assert first_page_asked.wait(5), "the first page is asked for at once, before anyone takes it"

    pages = head_start.take("users")
    assert pages is not None and head_start.take("users") is None, "taken once"
    assert [[u.name for u in page] for page in pages] == [["u1"], ["u2"]]
    assert asked == ["users page 1", "users page 2"], "the same listing goes on: nothing asked twice"

    failed = head_start.take("buckets")
    assert failed is not None
    try:
        list(failed)
    except RuntimeError as exc:
        assert exc is inventory_error, "the listing's error reaches whoever takes it"
    else:
        raise AssertionError("the error was lost")
