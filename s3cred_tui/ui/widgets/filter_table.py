"""A DataTable with an in-memory type-to-filter Input and a status line.

The full list lives here (not in the DataTable), so filtering never calls AWS. Rows
arrive page by page from workers; a filter change refills the table in chunks,
yielding to the event loop between chunks so thousands of rows never freeze input.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import DataTable, Input, LoadingIndicator, Static
from textual.widgets.data_table import ColumnKey

from s3cred_tui.ui.formatting import shown_of

REFILL_CHUNK = 400


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

    class LeaveFilter(Message):
        def __init__(self, source: FilterInput) -> None:
            super().__init__()
            self.source = source

    class Opened(Message):
        """Enter, or a click on the highlighted row."""

        def __init__(self, table: "FilterTable", key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> "FilterTable":
            return self.table

    busy: reactive[bool] = reactive(False)
    error: reactive[str] = reactive("")

    def __init__(
        self,
        noun: str,
        columns: Sequence[tuple[str, str]],
        *,
        placeholder: str = "Type to filter…",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.columns = list(columns)
        self.placeholder = placeholder
        self._keys: list[str] = []
        self._cells: dict[str, list[Any]] = {}
        self._shown: set[str] = set()
        self._filter = ""
        self._refilling = False
        self._asked_width: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder=self.placeholder, classes="filter-input")
        table: DataTable[Any] = DataTable(cursor_type="row", zebra_stripes=True, classes="filter-data")
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
        return len(self._shown)

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

    def focus_filter(self) -> None:
        self.filter_input.focus()

    def focus_table(self) -> None:
        self.table.focus()

    def clear_rows(self) -> None:
        self._keys.clear()
        self._cells.clear()
        self._shown.clear()
        self._asked_width.clear()
        self.table.clear()
        self.error = ""
        self._update_status()

    def add_rows(self, rows: Iterable[tuple[str, Sequence[Any]]]) -> None:
        """Append rows (key, cells); keys already present are updated in place."""
        table = self.table
        for key, cells in rows:
            if key in self._cells:
                for (column, _), value in zip(self.columns, cells):
                    self.update_cell(key, column, value)
                continue
            self._keys.append(key)
            self._cells[key] = list(cells)
            # During a refill the refill loop picks new rows up itself, keeping order.
            if not self._refilling and self._matches(key):
                table.add_row(*cells, key=key)
                self._shown.add(key)
        self._update_status()

    def remove_row(self, key: str) -> None:
        if key not in self._cells:
            return
        self._keys.remove(key)
        del self._cells[key]
        if key in self._shown:
            self._shown.discard(key)
            self.table.remove_row(key)
        self._update_status()

    def update_cell(self, key: str, column: str, value: Any) -> None:
        cells = self._cells.get(key)
        if cells is None:
            return
        index = next(i for i, (name, _) in enumerate(self.columns) if name == column)
        cells[index] = value
        if key in self._shown:
            self.table.update_cell(key, column, value, update_width=self._widens(column, value))

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

    def _apply_filter(self, text: str) -> None:
        self._filter = text.strip().lower()
        self._refill()

    @work(exclusive=True, group="filter-refill")
    async def _refill(self) -> None:
        table = self.table
        self._refilling = True
        try:
            table.clear()
            self._shown.clear()
            index = 0
            # A while loop, not a for over a copy: pages that arrive meanwhile are included in order.
            while index < len(self._keys):
                chunk = []
                while index < len(self._keys) and len(chunk) < REFILL_CHUNK:
                    key = self._keys[index]
                    index += 1
                    if self._matches(key):
                        chunk.append(key)
                for key in chunk:
                    table.add_row(*self._cells[key], key=key)
                    self._shown.add(key)
                self._update_status()
                await asyncio.sleep(0)
        finally:
            self._refilling = False
            self._update_status()

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
        if self.error:
            text += f" · stopped: {self.error}"
        return text

    def _update_status(self) -> None:
        if self.is_mounted:
            status = self.query_one(".filter-status", Static)
            status.update(self._status_text())
            status.set_class(bool(self.error), "-error")
