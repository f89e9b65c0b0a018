"""The filterable list holds a window of rows in its DataTable, so thousands of rows stay cheap."""

from __future__ import annotations

from textual.app import App, ComposeResult

from s3cred_tui.ui.widgets.filter_table import FilterTable
from tests.ui.helpers import settle

ROWS = [(f"user-{i:04d}", [f"user-{i:04d}", "2024-01-01", str(i % 3)]) for i in range(1000)]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable("users", [("name", "User"), ("created", "Created"), ("keys", "Keys")], window_rows=50)


async def test_window_grows_as_the_cursor_nears_its_end_and_filters_see_every_row():
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows(ROWS)
        await settle(pilot, rounds=40)
        assert listing.total == 1000
        assert listing.listed == 50
        assert listing.table.row_count == 50

        listing.focus_table()
        for _ in range(45):
            await pilot.press("down")
        await settle(pilot, rounds=40)
        assert listing.listed == 100, "moving near the end of the window lists the next rows"

        # The filter runs over all 1,000 rows, not just the listed ones.
        listing.set_filter("user-09")
        await settle(pilot, rounds=40)
        assert listing.shown == 100
        assert listing.listed == 50
        assert all(key.startswith("user-09") for key in listing.visible_keys())
        listing.set_filter("user-0999")
        await settle(pilot, rounds=40)
        assert listing.shown == 1 and listing.table.row_count == 1


async def test_cells_update_for_rows_outside_the_window_too():
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows(ROWS)
        await settle(pilot, rounds=40)
        listing.update_cell("user-0900", "keys", "2")
        assert listing.row("user-0900")[2] == "2"
        listing.set_filter("user-0900")
        await settle(pilot, rounds=40)
        assert listing.table.get_row_at(0)[2] == "2"


async def test_a_batch_of_cells_reaches_stored_and_shown_rows_alike():
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows(ROWS)
        await settle(pilot, rounds=40)
        listing.update_cells({key: {"keys": "9", "created": "2025-01-01"} for key, _ in ROWS})
        assert all(listing.row(key)[1:] == ["2025-01-01", "9"] for key, _ in ROWS)
        assert listing.table.get_row_at(0)[1:] == ["2025-01-01", "9"], "a row the table holds shows it at once"


async def test_cells_that_arrive_before_their_row_are_kept_for_it():
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.update_cells({"late-row": {"keys": "2"}})
        assert listing.row("late-row") is None
        listing.add_rows([("late-row", ["late-row", "2024-01-01", "…"])])
        await settle(pilot, rounds=10)
        assert listing.row("late-row") == ["late-row", "2024-01-01", "2"]
        assert listing.table.get_row_at(0)[2] == "2"
        listing.clear_rows()
        listing.add_rows([("late-row", ["late-row", "2024-01-01", "…"])])
        assert listing.row("late-row")[2] == "…", "a refresh forgets what the previous load knew"


async def test_the_rows_on_screen_include_rows_the_table_is_still_being_given():
    app = Host()
    async with app.run_test(size=(80, 30)) as pilot:
        listing = app.query_one(FilterTable)
        listing.add_rows(ROWS)
        # Before the table has been given its first rows, a screenful is already "on screen".
        assert listing.visible_keys()[:3] == ["user-0000", "user-0001", "user-0002"]
        await settle(pilot, rounds=40)
        assert listing.visible_keys()[0] == "user-0000"
