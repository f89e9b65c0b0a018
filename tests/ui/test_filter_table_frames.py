"""Rows that land on screen, and new values of cells on screen, reach the DataTable a few per frame.

Drawing a cell for the first time costs Rich ~0.4 ms, so handing the DataTable a screenful of
new rows at once held the event loop for 50-150 ms (bench: the first rows of the account's
lists). `FilterTable` gives it `NEW_CELLS_PER_FRAME` cells' worth of rows on screen per frame,
and the rows below the screen in larger chunks, without waiting for frames.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from s3cred_tui.ui.widgets import filter_table
from s3cred_tui.ui.widgets.filter_table import NEW_CELLS_PER_FRAME, UPDATED_CELLS_PER_FRAME, FilterTable
from tests.ui.helpers import settle

COLUMNS = [("name", "User"), ("created", "Created"), ("keys", "Keys")]
ROWS = [(f"user-{i:04d}", [f"user-{i:04d}", "2024-01-01", str(i % 3)]) for i in range(300)]
HEIGHT = 30


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield FilterTable("users", COLUMNS, window_rows=200)


async def listed(app: Host, pilot, rows) -> FilterTable:
    """The host's list once `rows` were added and every frame they asked for has passed."""
    listing = app.query_one(FilterTable)
    await pilot.pause()
    listing.add_rows(rows)
    await settle(pilot, rounds=40)
    return listing


async def test_rows_on_screen_arrive_a_few_per_frame_and_the_rest_without_waiting(monkeypatch):
    listed_at_each_frame: list[int] = []
    wait = FilterTable.wait_for_refresh

    async def noting(self):
        listed_at_each_frame.append(self.table.row_count)
        return await wait(self)

    monkeypatch.setattr(FilterTable, "wait_for_refresh", noting)
    app = Host()
    async with app.run_test(size=(80, HEIGHT)) as pilot:
        listing = await listed(app, pilot, ROWS)
        assert listing.table.row_count == 200, "the whole window is listed in the end"
        on_screen = listing.table.size.height
        per_frame = NEW_CELLS_PER_FRAME // len(COLUMNS)
        assert listed_at_each_frame, "rows on screen wait for the frame that draws them"
        steps = [b - a for a, b in zip([0, *listed_at_each_frame], listed_at_each_frame)]
        assert max(steps) <= per_frame
        # Once the screen is covered, no more frames are waited for.
        assert listed_at_each_frame[-1] < on_screen + per_frame
        assert len(listed_at_each_frame) <= on_screen // per_frame + 1


async def test_the_cells_on_screen_are_drawn_in_a_few_frames_not_one(monkeypatch):
    """Counted where Textual draws: no frame draws more new body cells than the budget."""
    from textual.widgets import DataTable

    drawn_per_frame: list[int] = []
    draw = DataTable._render_cell
    refresh = filter_table.FilterTable.wait_for_refresh

    def counting(self, row_index, column_index, *args, **kwargs):
        if row_index >= 0 and column_index >= 0 and drawn_per_frame:
            drawn_per_frame[-1] += 1
        return draw(self, row_index, column_index, *args, **kwargs)

    async def new_frame(self):
        drawn_per_frame.append(0)
        return await refresh(self)

    monkeypatch.setattr(DataTable, "_render_cell", counting)
    monkeypatch.setattr(FilterTable, "wait_for_refresh", new_frame)
    app = Host()
    async with app.run_test(size=(80, HEIGHT)) as pilot:
        listing = app.query_one(FilterTable)
        await pilot.pause()
        drawn_per_frame.append(0)
        listing.add_rows(ROWS)
        await settle(pilot, rounds=40)
        frames_that_drew = [count for count in drawn_per_frame if count]
        assert len(frames_that_drew) >= 2, "a screenful is more than one frame's budget here"
        assert max(drawn_per_frame) <= NEW_CELLS_PER_FRAME


async def test_new_values_for_every_cell_on_screen_are_drawn_a_frame_at_a_time(monkeypatch):
    """A whole-account answer updating every row on screen: the list knows the values at once,
    the DataTable gets `UPDATED_CELLS_PER_FRAME` of them per frame, and shows them all in the end."""
    from textual.widgets import DataTable

    app = Host()
    async with app.run_test(size=(80, HEIGHT)) as pilot:
        listing = await listed(app, pilot, ROWS)
        on_screen = [key for key, _ in ROWS[: listing.table.size.height]]
        handed: list[int] = [0]
        update = DataTable.update_cell

        def counting(self, *args, **kwargs):
            handed[-1] += 1
            return update(self, *args, **kwargs)

        monkeypatch.setattr(DataTable, "update_cell", counting)
        listing.update_cells({key: {"created": "2025-06-01", "keys": "9"} for key in on_screen})
        assert all(listing.row(key)[1:] == ["2025-06-01", "9"] for key in on_screen), "known at once"
        assert handed == [UPDATED_CELLS_PER_FRAME], "one frame's worth now"
        while handed[-1]:
            handed.append(0)
            await pilot.pause()
        assert sum(handed) == 2 * len(on_screen) and max(handed) <= UPDATED_CELLS_PER_FRAME
        assert len([n for n in handed if n]) >= 2, "more than a frame's worth: drawn over several"
        assert all(listing.table.get_cell(key, "keys") == "9" for key in on_screen), "every cell drawn in the end"


async def test_a_value_waiting_for_its_frame_is_dropped_when_its_row_goes():
    app = Host()
    async with app.run_test(size=(80, HEIGHT)) as pilot:
        listing = await listed(app, pilot, ROWS[:40])  # all in the DataTable's window, a screenful on screen
        on_screen = [key for key, _ in ROWS[: listing.table.size.height]]
        assert 2 * len(on_screen) > UPDATED_CELLS_PER_FRAME
        listing.update_cells({key: {"created": "old", "keys": "old"} for key in on_screen})  # the last rows' wait
        last = on_screen[-1]
        listing.remove_row(last)
        listing.add_rows([(last, [last, "new", "new"])])
        await settle(pilot, rounds=40)
        assert listing.row(last)[1:] == ["new", "new"]
        assert listing.table.get_row(last)[1:] == ["new", "new"], "the old values, waiting, were not drawn over it"
        assert all(listing.table.get_cell(key, "keys") == "old" for key in on_screen[:-1])
