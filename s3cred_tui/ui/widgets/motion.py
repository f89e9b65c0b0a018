"""One set of motion keys for every list, tree and scrolling pane of the app.

`j`/`k` (and the arrows) move, `g`/`Home` and `G`/`End` jump to the first and last row,
`ctrl+d`/`ctrl+u` move half a screen; in a tree `Left` folds the node (or goes to its parent)
and `Right` unfolds it (or goes to its first child). Screens use the widgets below instead of
Textual's plain ones (a test walks every screen and checks), so a motion key means the same
thing wherever the cursor is, and never anything else (a vim user moving down must never copy
a secret). Bindings carry ids, so a keymap in the config file can move them.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import VerticalScroll
from textual.widgets import DataTable, OptionList, SelectionList, Tree

# Rendered body cells a table keeps across updates of other cells: several screenfuls of a wide list.
KEPT_CELLS = 4000

# The keys that only ever move a cursor or scroll, anywhere in the app.
MOTION_KEYS = frozenset(
    {"j", "k", "h", "l", "g", "G", "ctrl+d", "ctrl+u", "home", "end", "up", "down", "pageup", "pagedown", "left", "right"}
)

MOTION_BINDINGS = [
    Binding("j", "cursor_down", "Down", show=False, id="motion.down"),
    Binding("k", "cursor_up", "Up", show=False, id="motion.up"),
    Binding("g,home", "first", "First", show=False, id="motion.first"),
    Binding("G,end", "last", "Last", show=False, id="motion.last"),
    Binding("ctrl+d", "half_page_down", "Half a page down", show=False, id="motion.half_down"),
    Binding("ctrl+u", "half_page_up", "Half a page up", show=False, id="motion.half_up"),
]


def _half(widget: Any) -> int:
    return max(1, widget.scrollable_content_region.height // 2)


class MotionDataTable(DataTable[Any]):
    """A DataTable moved with the app's motion keys (Home/End go to the first/last row)."""

    BINDINGS = MOTION_BINDINGS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # (row, column, everything else the drawing depends on) -> (the cell's value, its lines).
        # Made first: DataTable's own __init__ already clears the caches (a reactive's watcher).
        self._kept_cells: LRUCache[tuple[Any, ...], tuple[Any, Any]] = LRUCache(KEPT_CELLS)
        # The table's own style while `render_lines` draws (None outside it): see `rich_style`.
        self._style_while_drawing: Any = None
        self._drawing = False
        super().__init__(*args, **kwargs)

    # Textual asks for the table's style once per line drawn, and each ask walks every ancestor's
    # CSS (~0.1 ms: 5 ms of a 45-line frame). Nothing changes a style while lines are drawn, so it is
    # read once per `render_lines`.
    def render_lines(self, crop: Any) -> Any:
        self._drawing, self._style_while_drawing = True, None
        try:
            return super().render_lines(crop)
        finally:
            self._drawing, self._style_while_drawing = False, None

    @property
    def rich_style(self) -> Any:
        if not self._drawing:
            return super().rich_style
        if self._style_while_drawing is None:
            self._style_while_drawing = super().rich_style
        return self._style_while_drawing

    # Textual (8.2) keys every rendered cell by a table-wide update counter, so one `add_row` or
    # `update_cell` anywhere made the next frame draw every cell on screen again through Rich
    # (~0.4 ms a cell: 50-60 ms of event loop for a screenful of rows, every batch while a list
    # loads). A body cell is drawn again here only when its value (by identity: values are replaced,
    # never changed in place), its row's position or height, its width, its style or its cursor and
    # hover state changed; whatever else changes how cells look clears the tables' caches, and this one.
    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Any,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> Any:
        if row_index < 0 or column_index < 0:  # the header and row labels, as Textual draws them
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        row = self.rows.get(row_key) if row_key is not None else None
        if row is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key].get(column_key)
        key = (
            row_key, column_key, row_index, row.height, base_style, width, cursor, hover,
            self._show_hover_cursor, self._pseudo_class_state,
        )  # fmt: skip
        kept = self._kept_cells.get(key)
        if kept is not None and kept[0] is value:
            return kept[1]
        lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        self._keep(key, kept, (value, lines))
        return lines

    # The same for a whole line of a row (Textual keys it by the counter too, and drawing a line
    # of kept cells still costs a third of a millisecond: the row's styles, read from the CSS).
    def _render_line_in_row(
        self, row_key: Any, line_no: int, base_style: Any, cursor_location: Any, hover_location: Any
    ) -> Any:
        row = self.rows.get(row_key)
        row_index = self._row_locations.get(row_key)
        if row is None or row_index is None:  # the header, as Textual draws it
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        if self.cursor_type == "row":  # only whether the cursor (or the mouse) is on this row matters
            cursor_key: Any = (cursor_location.row == row_index, hover_location.row == row_index)
        else:
            cursor_key = (cursor_location, hover_location)
        values = tuple(self._data[row_key].values())
        key = (
            "line", row_key, line_no, row_index, row.height, row.label, base_style, cursor_key, self.cursor_type,
            self.show_cursor, self._show_hover_cursor, self._pseudo_class_state, self.size.width,
            self._row_label_column_width, self.show_row_labels, self._labelled_row_exists, self.fixed_columns,
            tuple(column.get_render_width(self) for column in self.ordered_columns),
        )  # fmt: skip
        kept = self._kept_cells.get(key)
        if kept is not None and len(kept[0]) == len(values) and all(a is b for a, b in zip(kept[0], values)):
            return kept[1]
        lines = super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        self._keep(key, kept, (values, lines))
        return lines

    # And the same for the finished line: Textual crops and joins the row's segments into a Strip
    # again for every line on screen each frame (its line cache is keyed by the counter too).
    def _render_line(self, y: int, x1: int, x2: int, base_style: Any) -> Any:
        try:
            row_key, line_no = self._get_offsets(y)
        except LookupError:  # below the last row: Textual draws a blank line
            return super()._render_line(y, x1, x2, base_style)
        parts = self._render_line_in_row(row_key, line_no, base_style, self.cursor_coordinate, self.hover_coordinate)
        key = ("strip", y, x1, x2, self.size.width, base_style)
        kept = self._kept_cells.get(key)
        if kept is not None and kept[0] is parts:
            return kept[1]
        strip = super()._render_line(y, x1, x2, base_style)
        self._keep(key, kept, (parts, strip))
        return strip

    def _keep(self, key: tuple[Any, ...], stale: tuple[Any, Any] | None, drawn: tuple[Any, Any]) -> None:
        # Textual's LRUCache.set leaves a key already there as it was: a cell drawn again because
        # its value changed must replace what was kept, or it is drawn again every frame after.
        if stale is not None:
            self._kept_cells.discard(key)
        self._kept_cells[key] = drawn

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._kept_cells.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._kept_cells.clear()

    # Textual (8.2) caches each rendered cell without its column's width, and widens an auto-width
    # column on a later idle: a cell drawn between `update_cell`/`add_row` and that idle kept its
    # narrower rendering ("us-eas" for "us-east-1") until something else changed. When a column's
    # width changes, the rendered cells are dropped and drawn again.
    def _update_dimensions(self, new_rows: Any) -> None:
        before = self._column_widths()
        super()._update_dimensions(new_rows)
        self._redraw_if_widths_changed(before)

    def _update_column_widths(self, updated_cells: Any) -> None:
        before = self._column_widths()
        super()._update_column_widths(updated_cells)
        self._redraw_if_widths_changed(before)

    def _column_widths(self) -> list[int]:
        return [column.content_width for column in self.columns.values()]

    def _redraw_if_widths_changed(self, before: list[int]) -> None:
        if self._column_widths() != before:
            # Textual's caches only: the cells kept here are keyed by their width already.
            DataTable._clear_caches(self)
            self.refresh()

    def action_first(self) -> None:
        self.action_scroll_top()

    def action_last(self) -> None:
        self.action_scroll_bottom()

    def action_half_page_down(self) -> None:
        if self.row_count:
            self.move_cursor(row=min(self.row_count - 1, self.cursor_row + _half(self)))

    def action_half_page_up(self) -> None:
        if self.row_count:
            self.move_cursor(row=max(0, self.cursor_row - _half(self)))


class MotionTree(Tree[Any]):
    """A Tree with the app's motion keys, and Left/Right to fold and unfold.

    (Textual reads BINDINGS only from widget classes, so this is a base class, not a mixin.)
    """

    BINDINGS = [
        *MOTION_BINDINGS,
        Binding("left,h", "fold", "Fold", show=False, id="motion.fold"),
        Binding("right,l", "unfold", "Unfold", show=False, id="motion.unfold"),
    ]

    def action_first(self) -> None:
        self.action_scroll_home()

    def action_last(self) -> None:
        self.action_scroll_end()

    def action_half_page_down(self) -> None:
        self.cursor_line = min(self.last_line, self.cursor_line + _half(self))
        self.scroll_to_line(self.cursor_line, animate=False)

    def action_half_page_up(self) -> None:
        self.cursor_line = max(0, self.cursor_line - _half(self))
        self.scroll_to_line(self.cursor_line, animate=False)

    def action_fold(self) -> None:
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded and node.allow_expand:
            node.collapse()
        elif node.parent is not None:
            self.move_cursor(node.parent)

    def action_unfold(self) -> None:
        node = self.cursor_node
        if node is None or not node.allow_expand:
            return
        if not node.is_expanded:
            node.expand()
        elif node.children:
            self.move_cursor(node.children[0])


def _move_highlight(option_list: OptionList, by: int) -> None:
    if option_list.option_count:
        current = option_list.highlighted or 0
        option_list.highlighted = max(0, min(option_list.option_count - 1, current + by))


class MotionOptionList(OptionList):
    """An OptionList with the app's motion keys."""

    BINDINGS = MOTION_BINDINGS

    def action_half_page_down(self) -> None:
        _move_highlight(self, _half(self))

    def action_half_page_up(self) -> None:
        _move_highlight(self, -_half(self))


class MotionSelectionList(SelectionList[str]):
    """A SelectionList (ticks with Space) with the app's motion keys."""

    BINDINGS = MOTION_BINDINGS

    def action_half_page_down(self) -> None:
        _move_highlight(self, _half(self))

    def action_half_page_up(self) -> None:
        _move_highlight(self, -_half(self))


class MotionScroll(VerticalScroll):
    """A scrolling pane (help, plans, explanations) moved with the same keys as a list."""

    BINDINGS = MOTION_BINDINGS

    def action_cursor_down(self) -> None:
        self.scroll_down(animate=False)

    def action_cursor_up(self) -> None:
        self.scroll_up(animate=False)

    def action_first(self) -> None:
        self.scroll_home(animate=False)

    def action_last(self) -> None:
        self.scroll_end(animate=False)

    def action_half_page_down(self) -> None:
        self.scroll_relative(y=_half(self), animate=False)

    def action_half_page_up(self) -> None:
        self.scroll_relative(y=-_half(self), animate=False)
