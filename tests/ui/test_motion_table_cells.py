"""A table draws again only the cells that changed.

Textual (8.2) keys every drawn cell by a table-wide update counter, so one `update_cell` made the
next frame draw every cell on screen through Rich again (50-150 ms of event loop for a screenful,
once per batch while the account's lists load). `MotionDataTable` keeps what it drew per cell and
per line; these tests fail without that, and check that what is shown stays right.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from s3cred_tui.ui.widgets.motion import MotionDataTable

ROWS = 15


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table = MotionDataTable(cursor_type="row", zebra_stripes=True)
        table.add_column("Bucket", key="bucket")
        table.add_column("Region", key="region")
        table.add_column("Created", key="created")
        for index in range(ROWS):
            table.add_row(f"bucket-{index:02d}", "us-east-1", "2024-03-01", key=f"bucket-{index:02d}")
        yield table


def screen_lines(table: MotionDataTable) -> list[str]:
    return ["".join(segment.text for segment in table.render_line(y)) for y in range(ROWS + 1)]


def count_body_cells_drawn(monkeypatch) -> list[tuple[int, int]]:
    """(row, column) of every body cell Textual is asked to draw from now on."""
    drawn: list[tuple[int, int]] = []
    draw = DataTable._render_cell

    def counting(self, row_index, column_index, *args, **kwargs):
        if row_index >= 0 and column_index >= 0:
            drawn.append((row_index, column_index))
        return draw(self, row_index, column_index, *args, **kwargs)

    monkeypatch.setattr(DataTable, "_render_cell", counting)
    return drawn


async def test_updating_one_cell_draws_only_that_cell_again(monkeypatch):
    app = TableApp()
    async with app.run_test(size=(60, ROWS + 4)) as pilot:
        table = app.query_one(MotionDataTable)
        await pilot.pause()
        before = screen_lines(table)
        drawn = count_body_cells_drawn(monkeypatch)
        table.update_cell("bucket-03", "region", "eu-west-1")
        after = screen_lines(table)
        assert drawn == [(3, 1)]
        assert "eu-west-1" in after[4] and "us-east-1" not in after[4]
        assert [line for y, line in enumerate(after) if y != 4] == [line for y, line in enumerate(before) if y != 4]


async def test_a_cell_updated_once_is_drawn_again_only_when_it_changes_again(monkeypatch):
    # Textual's LRUCache.set leaves a key that is already there alone: what is kept for a cell or
    # a line must be replaced, not set again, or a cell updated once is drawn every frame after.
    app = TableApp()
    async with app.run_test(size=(60, ROWS + 4)) as pilot:
        table = app.query_one(MotionDataTable)
        await pilot.pause()
        screen_lines(table)
        table.update_cell("bucket-03", "region", "eu-west-1")
        screen_lines(table)
        drawn = count_body_cells_drawn(monkeypatch)
        table.update_cell("bucket-07", "region", "eu-west-2")
        after = screen_lines(table)
        table.update_cell("bucket-09", "region", "eu-west-3")
        screen_lines(table)
        assert drawn == [(7, 1), (9, 1)], "bucket-03 was kept as it was last drawn"
        assert "eu-west-1" in after[4] and "eu-west-2" in after[8]


async def test_rows_added_below_leave_the_rows_on_screen_drawn(monkeypatch):
    app = TableApp()
    async with app.run_test(size=(60, ROWS + 4)) as pilot:
        table = app.query_one(MotionDataTable)
        await pilot.pause()
        screen_lines(table)
        drawn = count_body_cells_drawn(monkeypatch)
        table.add_row("bucket-99", "us-east-1", "2024-03-01", key="bucket-99")
        screen_lines(table)
        assert drawn == []


async def test_moving_the_cursor_redraws_the_rows_it_leaves_and_reaches(monkeypatch):
    app = TableApp()
    async with app.run_test(size=(60, ROWS + 4)) as pilot:
        table = app.query_one(MotionDataTable)
        table.focus()
        await pilot.pause()
        styles_before = [table.render_line(y) for y in range(ROWS + 1)]
        drawn = count_body_cells_drawn(monkeypatch)
        table.move_cursor(row=5)
        await pilot.pause()
        styles_after = [table.render_line(y) for y in range(ROWS + 1)]
        assert {row for row, _ in drawn} == {0, 5}
        # Row 0 (line 1) loses the cursor's colours, row 5 (line 6) gets them; the text stays.
        assert list(styles_after[6]) != list(styles_before[6]) and list(styles_after[1]) != list(styles_before[1])
        assert styles_after[6].text == styles_before[6].text


async def test_a_new_theme_draws_every_cell_again(monkeypatch):
    app = TableApp()
    async with app.run_test(size=(60, ROWS + 4)) as pilot:
        table = app.query_one(MotionDataTable)
        await pilot.pause()
        before = [table.render_line(y) for y in range(ROWS + 1)]
        drawn = count_body_cells_drawn(monkeypatch)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        after = [table.render_line(y) for y in range(ROWS + 1)]
        assert len(drawn) >= ROWS * 3
        assert list(after[2]) != list(before[2])
