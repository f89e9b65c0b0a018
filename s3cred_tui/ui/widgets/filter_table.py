"""A DataTable with an in-memory type-to-filter Input and a status line.

The full list lives here (not in the DataTable), so filtering never calls AWS. The
DataTable only ever holds a window of the rows that match the filter (the first
`WINDOW_ROWS`, growing as the cursor nears its end): Textual measures every row it is
given, so 5,000 rows in the table cost seconds of frozen input while 200 cost nothing a
person notices. Rows reach the table a few dozen per event-loop turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, LoadingIndicator, Static
from textual.widgets.data_table import ColumnKey

from s3cred_tui.ui.formatting import shown_of
from s3cred_tui.ui.widgets.motion import MotionDataTable

# Rows the DataTable holds before the cursor asks for more; a few screens' worth.
WINDOW_ROWS = 200
# The window grows when the cursor is this close to its last row.
WINDOW_MARGIN = 20
# Rows added to the DataTable per event-loop turn (each costs a measurement on idle).
ADD_CHUNK = 40
# Keys tested against a new filter per event-loop turn.
SCAN_CHUNK = 1000


class FilterInput(Input):
    """The filter box: Down, Enter or Escape hand focus back to the table."""

    BINDINGS = [
        Binding("down,enter", "to_table", "To list", show=False, id="filter.to_table"),
        Binding("escape", "clear_or_leave", "Clear filter", id="filter.clear", tooltip="Clear the filter, then go back to the list"),
    ]

    def action_to_table(self) -> None:
        self.post_message(FilterTable.LeaveFilter(self))

    def action_clear_or_leave(self) -> None:
        if self.value:
            self.value = ""
        else:
            self.post_message(FilterTable.LeaveFilter(self))


class FilterTable(Vertical):
    """`columns` are (key, label) pairs; every row has a stable string key."""

    # Esc in the list clears an active filter first; only without one does it reach the screen (back).
    BINDINGS = [
        Binding("escape", "clear_filter", "Clear filter", show=False, id="filter.clear_from_list"),
    ]

    def action_clear_filter(self) -> None:
        if not self.filter_input.value:
            raise SkipAction()
        self.filter_input.value = ""

    class LeaveFilter(Message):
        def __init__(self, source: FilterInput) -> None:
            super().__init__()
            self.source = source

    class Opened(Message):
        """Enter, or a click on the highlighted row."""

        def __init__(self, table: FilterTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> FilterTable:
            return self.table

    busy: reactive[bool] = reactive(False)
    error: reactive[str] = reactive("")

    def __init__(
        self,
        noun: str,
        columns: Sequence[tuple[str, str]],
        *,
        placeholder: str = "Type to filter…",
        window_rows: int = WINDOW_ROWS,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.columns = list(columns)
        self._column_index = {name: index for index, (name, _) in enumerate(self.columns)}
        self.placeholder = placeholder
        self.window_rows = max(1, window_rows)
        self._keys: list[str] = []
        self._cells: dict[str, list[Any]] = {}
        # Cells set before their row was added (a whole-account answer can beat the listing).
        self._early: dict[str, dict[str, Any]] = {}
        # Keys matching the filter, in list order; the DataTable holds a prefix of them.
        self._matched: list[str] = []
        self._listed: dict[str, None] = {}
        self._limit = self.window_rows
        self._filter = ""
        # A refill (new filter, or rows waiting for the table) is running; while it scans,
        # it decides which new rows match, so add_rows leaves `_matched` to it.
        self._refilling = False
        self._scanning = False
        self._refill_generation = 0
        self._asked_width: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=self.placeholder, classes="filter-input")
        table: DataTable[Any] = MotionDataTable(cursor_type="row", zebra_stripes=True, classes="filter-data")
        for key, label in self.columns:
            table.add_column(label, key=key)
        yield table
        with Horizontal(classes="filter-status-bar"):
            yield Static(self._status_text(), classes="filter-status")
            yield LoadingIndicator(classes="filter-loading")

    def on_mount(self) -> None:
        self.watch_busy(self.busy)

    @property
    def table(self) -> DataTable[Any]:
        return self.query_one(DataTable)

    @property
    def filter_input(self) -> FilterInput:
        return self.query_one(FilterInput)

    @property
    def total(self) -> int:
        return len(self._keys)

    @property
    def shown(self) -> int:
        """Rows matching the filter (the DataTable may list only the first of them)."""
        return len(self._matched)

    @property
    def listed(self) -> int:
        """Rows in the DataTable right now."""
        return len(self._listed)

    @property
    def keys(self) -> list[str]:
        return list(self._keys)

    @property
    def filter_text(self) -> str:
        return self._filter

    def row(self, key: str) -> list[Any] | None:
        return self._cells.get(key)

    def highlighted_key(self) -> str | None:
        table = self.table
        if table.row_count == 0:
            return None
        try:
            row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        except Exception:  # the cursor is between a clear() and the next rows
            return None
        return row_key.value

    def visible_keys(self) -> list[str]:
        """Keys of the rows on screen now, or about to be (matching rows the table has not
        been given yet count too). A table with no size yet (a tab not shown) counts a
        screenful: what it will show first."""
        table = self.table
        first = max(0, int(table.scroll_y))
        height = table.size.height or (self.app.size.height if self.is_attached else 0) or 1
        return self._matched[first : first + height]

    def focus_filter(self) -> None:
        self.filter_input.focus()

    def focus_table(self) -> None:
        self.table.focus()

    def clear_rows(self) -> None:
        self._stop_refill()
        self._keys.clear()
        self._cells.clear()
        self._early.clear()
        self._matched.clear()
        self._listed.clear()
        self._limit = self.window_rows
        self._asked_width.clear()
        self.table.clear()
        self.error = ""
        self._update_status()

    def add_rows(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Append rows (key, cells); keys already present are updated in place."""
        added = False
        for key, cells in rows:
            if key in self._cells:
                for (column, _), value in zip(self.columns, cells):
                    self.update_cell(key, column, value)
                continue
            self._keys.append(key)
            cells = list(cells)
            for column, value in self._early.pop(key, {}).items():
                cells[self._column_index[column]] = value
            self._cells[key] = cells
            if not self._scanning and self._matches(key):
                self._matched.append(key)
                added = True
        if added and not self._refilling and self.is_mounted:
            self._start_refill(rescan=False)
        self._update_status()

    def remove_row(self, key: str) -> None:
        if key not in self._cells:
            return
        self._keys.remove(key)
        del self._cells[key]
        if key in self._matched:
            self._matched.remove(key)
        if key in self._listed:
            del self._listed[key]
            self.table.remove_row(key)
        self._update_status()

    def update_cell(self, key: str, column: str, value: Any) -> None:
        self.update_cells({key: {column: value}})

    def update_cells(self, updates: Mapping[str, Mapping[str, Any]]) -> None:
        """Set cells ({row key: {column: value}}); a row not added yet gets them when it is.

        One call per batch: every row's stored cells change, and only rows the DataTable
        holds (a window of a few hundred) are updated there; the table repaints once.
        """
        table = self.table
        listed = self._listed
        for key, values in updates.items():
            cells = self._cells.get(key)
            if cells is None:
                self._early.setdefault(key, {}).update(values)
                continue
            for column, value in values.items():
                cells[self._column_index[column]] = value
                if key in listed:
                    table.update_cell(key, column, value, update_width=self._widens(column, value))

    def _widens(self, column: str, value: Any) -> bool:
        """Whether `value` is wider than its column so far.

        DataTable re-measures every cell of a column when asked to fit a cell narrower
        than the column (Textual 8.2): thousands of count/region updates made that
        quadratic, stalling the event loop for seconds at 5,000 users. Columns only grow.
        """
        current = self.table.columns.get(ColumnKey(column))
        if current is None:
            return True
        if isinstance(value, Text):
            width = value.cell_len
        elif isinstance(value, str):
            width = Text.from_markup(value).cell_len
        else:
            width = cell_len(str(value))
        # content_width only catches up when the table next idles; until then, cells already
        # asked for count too, or one batch of updates would be re-measured cell by cell.
        widest = max(current.content_width, self._asked_width.get(column, 0))
        if width <= widest:
            return False
        self._asked_width[column] = width
        return True

    def set_filter(self, text: str) -> None:
        if self.filter_input.value != text:
            self.filter_input.value = text  # Input.Changed refills
        else:
            self._apply_filter(text)

    def list_more(self) -> bool:
        """Let the DataTable hold another window of matching rows; False when none are left."""
        if len(self._matched) <= self._limit:
            return False
        self._limit += self.window_rows
        if not self._refilling:
            self._start_refill(rescan=False)
        self._update_status()
        return True

    def _matches(self, key: str) -> bool:
        if not self._filter:
            return True
        haystack = " ".join(str(c.plain if isinstance(c, Text) else c) for c in self._cells[key]).lower()
        return all(word in haystack for word in self._filter.split())

    @on(Input.Changed, ".filter-input")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._apply_filter(event.value)

    @on(Input.Submitted, ".filter-input")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_table()

    @on(LeaveFilter)
    def _leave_filter(self, event: LeaveFilter) -> None:
        event.stop()
        self.focus_table()

    @on(DataTable.RowSelected, ".filter-data")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Opened(self, event.row_key.value))

    @on(DataTable.RowHighlighted, ".filter-data")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= len(self._listed) - WINDOW_MARGIN and len(self._listed) >= self._limit:
            self.list_more()

    def _apply_filter(self, text: str) -> None:
        self._filter = text.strip().lower()
        self._limit = self.window_rows
        self._start_refill(rescan=True)

    def _start_refill(self, rescan: bool) -> None:
        # Flags are set here, before the worker first runs, so rows arriving in between
        # are left to it rather than listed twice.
        self._refill_generation += 1
        self._refilling = True
        self._scanning = rescan
        self._refill(self._refill_generation, rescan)

    def _stop_refill(self) -> None:
        self._refill_generation += 1
        self.workers.cancel_group(self, "filter-refill")
        self._refilling = False
        self._scanning = False

    @work(exclusive=True, group="filter-refill")
    async def _refill(self, generation: int, rescan: bool) -> None:
        table = self.table
        try:
            if rescan:
                table.clear()
                self._listed.clear()
                self._matched = []
                index = 0
                # A while loop, not a for over a copy: rows that arrive meanwhile are included in order.
                while index < len(self._keys):
                    end = min(index + SCAN_CHUNK, len(self._keys))
                    self._matched.extend(key for key in self._keys[index:end] if self._matches(key))
                    index = end
                    if index >= len(self._keys):
                        break  # no await between the last check and the flag: no row is missed
                    self._list_next_rows()
                    await asyncio.sleep(0)
                self._scanning = False
            while self._list_next_rows():
                await asyncio.sleep(0)
        finally:
            if generation == self._refill_generation:
                self._refilling = False
                self._scanning = False
                self._update_status()

    def _list_next_rows(self) -> bool:
        """Move up to ADD_CHUNK matching rows into the DataTable; False when the window is full."""
        want = min(self._limit, len(self._matched))
        start = len(self._listed)
        if start >= want:
            self._update_status()
            return False
        table = self.table
        for key in self._matched[start : min(want, start + ADD_CHUNK)]:
            table.add_row(*self._cells[key], key=key)
            self._listed[key] = None
        self._update_status()
        return True

    def watch_busy(self, busy: bool) -> None:
        if not self.is_mounted:
            return
        self.query_one(".filter-loading", LoadingIndicator).display = busy
        self._update_status()

    def watch_error(self, _: str) -> None:
        if self.is_mounted:
            self._update_status()

    def _status_text(self) -> str:
        text = shown_of(self.total, self.shown, self.noun, self.busy)
        if self.shown > self._limit:
            text += f" · first {self._limit:,} listed: move down for more, / to filter"
        if self.error:
            text += f" · stopped: {self.error}"
        return text

    def _update_status(self) -> None:
        if self.is_mounted:
            status = self.query_one(".filter-status", Static)
            status.update(self._status_text())
            status.set_class(bool(self.error), "-error")
