"""A cell drawn before its column widened is drawn again at the new width.

Textual caches rendered cells without their column's width and widens an auto-width column on a
later idle, so a region filled in after the first frame stayed "us-eas" on screen (seen in the
account list under load). `MotionDataTable` drops the rendered cells when a width changes. This
test fails without that.
"""

from __future__ import annotations

from textual.app import App, ComposeResult

from s3cred_tui.ui.widgets.motion import MotionDataTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        table = MotionDataTable()
        table.add_column("Bucket", key="bucket")
        table.add_column("Region", key="region")
        table.add_column("Created", key="created")
        yield table


def line_text(table: MotionDataTable, y: int) -> str:
    return "".join(segment.text for segment in table.render_line(y))


async def test_a_cell_drawn_before_its_column_widens_is_redrawn_wide():
    app = TableApp()
    async with app.run_test(size=(80, 10)) as pilot:
        table = app.query_one(MotionDataTable)
        table.add_row("app-logs", "…", "2024-03-01", key="app-logs")
        await pilot.pause()
        table.update_cell("app-logs", "region", "us-east-1", update_width=True)
        # Drawn now, before the idle that widens the column: cut to the old width.
        assert "us-east-1" not in line_text(table, 1)
        await pilot.pause()
        await pilot.pause()
        assert "us-east-1" in line_text(table, 1)
