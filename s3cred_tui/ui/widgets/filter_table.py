"""A DataTable with an in-memory type-to-filter Input and a status line.

The full list lives here (not in the DataTable), so filtering never calls AWS. The
DataTable only ever holds a window of the rows that match the filter (the first
`WINDOW_ROWS`, growing as the cursor nears its end): Textual measures every row it is
given, so 5,000 rows in the table cost seconds of frozen input while 200 cost nothing a
person notices. Rows reach the table a few dozen per event-loop turn.

Sorting (`S` picks the next column, `I` inverts, a click on a header sorts by it) orders the
matching rows here too, by each cell's value (`Sortable` gives one where the text is not it:
an age, "3 (1 inline)"); numbers as numbers, and cells still loading or empty last. It is
stable, and holds while rows stream in: new rows are placed at most every
`RESORT_EVERY_SECONDS`, and the window is rebuilt only when its rows changed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

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
from s3cred_tui.ui.pacing import NEW_CELLS_PER_FRAME, rows_per_step
from s3cred_tui.ui.widgets.motion import MotionDataTable

# Rows the DataTable holds before the cursor asks for more; a few screens' worth.
WINDOW_ROWS = 200
# The window grows when the cursor is this close to its last row.
WINDOW_MARGIN = 20
# Cells of rows added to the DataTable per event-loop turn, and drawn for the first time per frame
# where new rows land on screen: `ui.pacing`.
# The same bound for cells of rows on screen given new values (a whole-account answer can update
# every visible row at once): the rest are drawn in the next frames. The table's own cells (what
# `row()` gives, what sorting and filtering read) change at once.
UPDATED_CELLS_PER_FRAME = NEW_CELLS_PER_FRAME
# Keys tested against a new filter per event-loop turn.
SCAN_CHUNK = 1000
# While rows stream into a sorted list, they are put in order at most this often.
RESORT_EVERY_SECONDS = 0.3
# While loading, the status line is redrawn at most this often: its width follows its text,
# so each redraw lays the whole screen out again (a few ms per rows added, thousands of times).
STATUS_EVERY_SECONDS = 0.2
# Cells that hold no value yet (sorted last, whichever way).
NO_VALUE = {"", "…", "—", "?"}
SORT_MARKS = {False: " ▲", True: " ▼"}


class Sortable(NamedTuple):
    """A cell shown as `shown` and sorted by `value` (None: no value, sorted last)."""

    shown: Any
    value: Any


def cell_text(cell: Any) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


def sort_value(cell: Any) -> tuple[int, float, str] | None:
    """How a shown cell sorts: numbers (1,234 too) by value before text; no value: None."""
    text = cell_text(cell).strip()
    if text in NO_VALUE:
        return None
    try:
        return (0, float(text.replace(",", "")), "")
    except ValueError:
        return (1, 0.0, text.casefold())


def progress_text(label: str, so_far: int, expected: int | None) -> str:
    """`Reading IAM users… 1,200 / 5,001`, or `… 1,200 so far` when the total is not known
    (or the list has outgrown it: a total read earlier than the list)."""
    if expected is not None and so_far <= expected:
        return f"{label}… {so_far:,} / {expected:,}"
    return f"{label}… {so_far:,} so far"


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
        Binding("S", "sort_next", "Sort", show=False, id="filter.sort", tooltip="Sort by the next column (then as listed)"),
        Binding("I", "sort_invert", "Invert sort", show=False, id="filter.sort_invert", tooltip="Invert the sort order"),
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
    # How many rows the list will hold, when something said so (the credential report's users).
    expected_total: reactive[int | None] = reactive(None)

    def __init__(
        self,
        noun: str,
        columns: Sequence[tuple[str, str]],
        *,
        placeholder: str = "Type to filter…",
        progress_label: str | None = None,
        window_rows: int = WINDOW_ROWS,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.noun = noun
        self.columns = list(columns)
        self._column_index = {name: index for index, (name, _) in enumerate(self.columns)}
        self.placeholder = placeholder
        # What the status line says while busy ("Reading IAM users… 1,200 / 5,001"); None: "loading…".
        self.progress_label = progress_label
        self.window_rows = max(1, window_rows)
        self._keys: list[str] = []
        self._cells: dict[str, list[Any]] = {}
        # Sort values of cells given as `Sortable`, by row key and column.
        self._sort_values: dict[str, dict[str, Any]] = {}
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._resort_timer: Any = None
        # The highlighted row when the window was rebuilt in a new order: the cursor follows it.
        self._follow: str | None = None
        self._status_shown = ""
        self._status_shown_at = 0.0
        self._status_timer: Any = None
        # Cells set before their row was added (a whole-account answer can beat the listing).
        self._early: dict[str, dict[str, Any]] = {}
        # New values of cells on screen waiting for a frame of their own ((row key, column) -> value),
        # and how many more may be drawn before the next frame (`UPDATED_CELLS_PER_FRAME`).
        self._to_draw: dict[tuple[str, str], Any] = {}
        self._draw_budget = UPDATED_CELLS_PER_FRAME
        self._budget_renews = False
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
        self._table: DataTable[Any] | None = None

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
        # Found once: a query walks the children, and updates ask for the table once per cell.
        if self._table is None:
            self._table = self.query_one(DataTable)
        return self._table

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
        self._sort_values.clear()
        self._early.clear()
        self._to_draw.clear()
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
                self.update_cells({key: dict(zip((column for column, _ in self.columns), cells))})
                continue
            self._keys.append(key)
            cells = [self._unwrap(key, column, value) for (column, _), value in zip(self.columns, cells)]
            for column, value in self._early.pop(key, {}).items():
                cells[self._column_index[column]] = self._unwrap(key, column, value)
            self._cells[key] = cells
            if not self._scanning and self._matches(key):
                self._matched.append(key)
                added = True
        if added and self.sort_column is not None:
            self._resort_soon()
        elif added and not self._refilling and self.is_mounted:
            self._start_refill(rescan=False)
        self._update_status()

    def _unwrap(self, key: str, column: str, value: Any) -> Any:
        """The cell to show; a `Sortable`'s value is kept apart for sorting."""
        if isinstance(value, Sortable):
            self._sort_values.setdefault(key, {})[column] = value.value
            return value.shown
        values = self._sort_values.get(key)
        if values is not None:
            values.pop(column, None)
        return value

    def remove_row(self, key: str) -> None:
        if key not in self._cells:
            return
        self._keys.remove(key)
        del self._cells[key]
        self._sort_values.pop(key, None)
        if key in self._matched:
            self._matched.remove(key)
        if key in self._listed:
            del self._listed[key]
            self.table.remove_row(key)
            for waiting in [cell for cell in self._to_draw if cell[0] == key]:
                del self._to_draw[waiting]
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
        reordered = False
        for key, values in updates.items():
            cells = self._cells.get(key)
            if cells is None:
                self._early.setdefault(key, {}).update(values)
                continue
            on_screen = key in listed and self._is_on_screen(key)
            for column, value in values.items():
                value = self._unwrap(key, column, value)
                cells[self._column_index[column]] = value
                reordered = reordered or column == self.sort_column
                if on_screen:
                    self._draw_soon(key, column, value)
                elif key in listed:
                    table.update_cell(key, column, value, update_width=self._widens(column, value))
        if reordered:
            self._resort_soon()

    def _is_on_screen(self, key: str) -> bool:
        table = self.table
        first = int(table.scroll_y)
        return first <= table.get_row_index(key) < first + table.size.height

    def _draw_soon(self, key: str, column: str, value: Any) -> None:
        """Give a cell on screen its new value now, or, past this frame's budget, in a later frame."""
        if self._draw_budget > 0 and not self._to_draw:
            self._draw_budget -= 1
            self.table.update_cell(key, column, value, update_width=self._widens(column, value))
        else:
            self._to_draw.pop((key, column), None)  # a newer value goes to the back of the queue
            self._to_draw[(key, column)] = value
        self._renew_budget_after_refresh()

    def _renew_budget_after_refresh(self) -> None:
        if not self._budget_renews:
            self._budget_renews = True
            self.call_after_refresh(self._next_frame)

    def _next_frame(self) -> None:
        self._budget_renews = False
        self._draw_budget = UPDATED_CELLS_PER_FRAME
        table = self.table
        while self._to_draw and self._draw_budget > 0:
            (key, column), value = next(iter(self._to_draw.items()))
            del self._to_draw[(key, column)]
            if key in self._listed:  # still in the DataTable (not cleared or removed meanwhile)
                self._draw_budget -= 1
                table.update_cell(key, column, value, update_width=self._widens(column, value))
        if self._to_draw or self._draw_budget < UPDATED_CELLS_PER_FRAME:
            self._renew_budget_after_refresh()

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
            width = Text.from_markup(value).cell_len if "[" in value else cell_len(value)
        else:
            width = cell_len(str(value))
        # content_width only catches up when the table next idles; until then, cells already
        # asked for count too, or one batch of updates would be re-measured cell by cell.
        widest = max(current.content_width, self._asked_width.get(column, 0))
        if width <= widest:
            return False
        self._asked_width[column] = width
        return True

    # -- sorting -------------------------------------------------------------------------------

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Order the list by `column` (None: as listed), at once."""
        self.sort_column = column
        self.sort_reverse = reverse
        self._show_sort_in_headers()
        self._cancel_resort()
        self._resort()

    def action_sort_next(self) -> None:
        names = [name for name, _ in self.columns]
        if self.sort_column is None:
            self.sort_by(names[0])
        else:
            position = names.index(self.sort_column) + 1
            self.sort_by(names[position] if position < len(names) else None)

    def action_sort_invert(self) -> None:
        self.sort_by(self.sort_column or self.columns[0][0], not self.sort_reverse)

    @on(DataTable.HeaderSelected, ".filter-data")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        self.sort_by(column, reverse=not self.sort_reverse if column == self.sort_column else False)

    def sort_key_of(self, key: str) -> Any:
        column = self.sort_column
        assert column is not None
        explicit = self._sort_values.get(key)
        if explicit is not None and column in explicit:
            value = explicit[column]
            # In the same form as `sort_value`'s, so given and read values compare.
            return None if value is None else sort_value(value) if isinstance(value, str) else (0, float(value), "")
        return sort_value(self._cells[key][self._column_index[column]])

    def ordered(self, keys: Iterable[str]) -> list[str]:
        """`keys` in the sort order; equal values, and rows without one (last), in list order."""
        position = {key: index for index, key in enumerate(self._keys)}
        keys = sorted(keys, key=position.__getitem__)
        if self.sort_column is None:
            return keys
        valued, empty = [], []
        for key in keys:
            value = self.sort_key_of(key)
            (empty if value is None else valued).append((value, key))
        valued.sort(key=lambda pair: pair[0], reverse=self.sort_reverse)
        return [key for _, key in valued] + [key for _, key in empty]

    def _show_sort_in_headers(self) -> None:
        if not self.is_mounted:
            return
        table = self.table
        for name, label in self.columns:
            column = table.columns.get(ColumnKey(name))
            if column is None:
                continue
            column.label = Text(label + SORT_MARKS[self.sort_reverse] if name == self.sort_column else label)
            column.content_width = max(column.content_width, column.label.cell_len)
        table.refresh(layout=True)
        self._update_status()

    def _resort_soon(self) -> None:
        if self._resort_timer is None and self.is_mounted:
            self._resort_timer = self.set_timer(RESORT_EVERY_SECONDS, self._resort)

    def _cancel_resort(self) -> None:
        if self._resort_timer is not None:
            self._resort_timer.stop()
            self._resort_timer = None

    def _resort(self) -> None:
        """Put the matching rows in order; rebuild the table's window only if its rows changed."""
        self._resort_timer = None
        if self._scanning:
            return  # the scan running puts them in order when it ends
        self._matched = self.ordered(self._matched)
        shown = list(self._listed)
        if self._matched[: len(shown)] == shown:
            if not self._refilling and self.is_mounted:
                self._start_refill(rescan=False)
            return
        self._follow = self.highlighted_key()
        self._stop_refill()
        self.table.clear()
        self._listed.clear()
        self._start_refill(rescan=False)

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
                    await self._after_listing(self._list_next_rows())
                if self.sort_column is not None:
                    self._matched = self.ordered(self._matched)
                self._scanning = False
            while listed := self._list_next_rows():
                await self._after_listing(listed)
        finally:
            current = generation == self._refill_generation
            if current:
                self._refilling = False
                self._scanning = False
        # Not when cancelled (the widget closing while rows wait to be drawn): no status line is left.
        if current:
            self._update_status()

    async def _after_listing(self, listed: str) -> None:
        """Let the event loop run between chunks; after rows that land on screen, until they are drawn."""
        if listed == "on screen":
            await self.wait_for_refresh()
        else:
            await asyncio.sleep(0)

    def _rows_on_screen_end(self) -> int:
        """The DataTable's rows before this index are drawn now (none while it has no size)."""
        table = self.table
        return int(table.scroll_y) + table.size.height

    def _list_next_rows(self) -> str:
        """Move the next matching rows into the DataTable, `ADD_CELLS` worth (`NEW_CELLS_PER_FRAME`
        where they land on screen). Says "on screen" or "off screen" for the rows moved, "" when
        the window is full."""
        want = min(self._limit, len(self._matched))
        start = len(self._listed)
        if start >= want:
            self._update_status()
            return ""
        table = self.table
        on_screen = start < self._rows_on_screen_end()
        stop = min(want, start + rows_per_step(len(self.columns), on_screen))
        for key in self._matched[start:stop]:
            table.add_row(*self._cells[key], key=key)
            self._listed[key] = None
            if key == self._follow:
                self._follow = None
                table.move_cursor(row=len(self._listed) - 1)
        self._update_status()
        return "on screen" if on_screen else "off screen"

    def watch_busy(self, busy: bool) -> None:
        if not self.is_mounted:
            return
        self.query_one(".filter-loading", LoadingIndicator).display = busy
        if not busy and self._status_timer is not None:
            self._status_timer.stop()
            self._status_timer = None
        self._update_status()

    def watch_error(self, _: str) -> None:
        if self.is_mounted:
            self._update_status()

    def watch_expected_total(self, _: int | None) -> None:
        if self.is_mounted:
            self._update_status()

    def _status_text(self) -> str:
        if self.busy and self.progress_label:
            text = progress_text(self.progress_label, self.total, self.expected_total)
            if self.shown != self.total:
                text += f" · {self.shown:,} shown"
        else:
            text = shown_of(self.total, self.shown, self.noun, self.busy)
        if self.sort_column is not None:
            label = dict(self.columns)[self.sort_column]
            text += f" · sorted by {label}{' (inverted)' if self.sort_reverse else ''}"
        if self.shown > self._limit:
            text += f" · first {self._limit:,} listed: move down for more, / to filter"
        if self.error:
            text += f" · stopped: {self.error}"
        return text

    def _update_status(self) -> None:
        if not self.is_mounted or self._status_timer is not None:
            return
        wait = self._status_shown_at + STATUS_EVERY_SECONDS - time.monotonic()
        if self.busy and wait > 0:
            self._status_timer = self.set_timer(wait, self._show_status)
        else:
            self._show_status()

    def _show_status(self) -> None:
        self._status_timer = None
        text = self._status_text()
        status = self.query_one(".filter-status", Static)
        status.set_class(bool(self.error), "-error")
        if text != self._status_shown:
            self._status_shown, self._status_shown_at = text, time.monotonic()
            status.update(text)
