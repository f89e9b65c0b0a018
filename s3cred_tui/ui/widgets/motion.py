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
from textual.containers import VerticalScroll
from textual.widgets import DataTable, OptionList, SelectionList, Tree

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
            self._clear_caches()
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
