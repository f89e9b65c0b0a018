"""A Tree that stays quick with tens of thousands of nodes loaded: its lines are edited, not rebuilt.

Textual's Tree (8.x) keeps one line per shown node and throws them all away whenever anything
changes: adding a child, expanding, collapsing or removing a node rebuilds every line and
measures every label (~90 ms at 20,000 lines, an event-loop stall each time). Here those four
edits splice just the lines concerned into the list (renumbering the lines after them, a cheap
pass), and the widest line is kept in a count of line widths. Only the lines of the window that
an edit changed are painted again, and the scrollable size is set without a layout of the screen
(which would repaint the whole tree and every scrollbar on screen at each chunk of children added).
Anything else (a resize, a style change, a reset) still rebuilds everything, as Textual does.

Only this widget's own methods edit incrementally: `add_children`, `drop_children`,
`remove_node`, and `expand`/`collapse` of its nodes. Textual's `TreeNode.add`/`remove` still
work (they rebuild).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.text import Text
from textual._loop import loop_last
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets._tree import TreeNode, _TreeLine

from s3cred_tui.ui.widgets.motion import MotionTree

# Where a node stands in the tree's lines (`PrefixTree._where`).
SHOWN, HIDDEN, UNKNOWN = "shown", "hidden", "unknown"
# The expand/collapse icon ("▶ ") takes two cells before an expandable node's label.
ICON_CELLS = 2


class FoldingNode(TreeNode[Any]):
    """A node whose expand and collapse edit the tree's lines instead of rebuilding them."""

    # The label last measured and its width (`PrefixTree.get_label_width`): kept on the node,
    # not in a table of the tree's (an entry and a tuple more per node, walked by every
    # full collection of the garbage collector).
    _measured_label: Text | None = None
    _label_width: int = 0

    def expand(self) -> FoldingNode:
        was_expanded = self._expanded
        self._expand(False)  # marks it expanded and posts NodeExpanded
        tree: PrefixTree = self._tree  # type: ignore[assignment]
        if not was_expanded:
            tree._show_descendants(self)
        return self

    def collapse(self) -> FoldingNode:
        was_expanded = self._expanded
        self._collapse(False)  # marks it collapsed and posts NodeCollapsed
        tree: PrefixTree = self._tree  # type: ignore[assignment]
        if was_expanded:
            tree._hide_descendants(self)
        return self


class PrefixTree(MotionTree):
    """A MotionTree whose lines are edited in place by the common changes (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # line width -> how many shown lines have it: the widest line without a pass over all.
        self._width_counts: Counter[int] = Counter()
        super().__init__(*args, **kwargs)

    # -- nodes ------------------------------------------------------------------------------

    def _add_node(self, parent: TreeNode[Any] | None, label: Text, data: Any, expand: bool = False) -> TreeNode[Any]:
        node = FoldingNode(self, parent, self._new_id(), label, data, expanded=expand)
        self._tree_nodes[node._id] = node
        # Textual counts an update here, making every line drawn so far stale; each caller
        # redraws what the new node changes instead (`add_children` through `_splice`, Textual's
        # `TreeNode.add` and `reset` by rebuilding everything).
        return node

    def process_label(self, label: str | Text) -> Text:
        # Textual splits every label into lines to keep the first (a copy per node, twice per
        # add); a one-line Text is kept as it is.
        if isinstance(label, Text) and "\n" not in label.plain:
            return label
        return super().process_label(label)

    def get_label_width(self, node: TreeNode[Any]) -> int:
        # A label is measured once, not at every rebuild (and measured again once replaced).
        label = node._label
        if not isinstance(node, FoldingNode):
            width = label.cell_len
        elif node._measured_label is label:
            width = node._label_width
        else:
            width = node._label_width = label.cell_len
            node._measured_label = label
        return width + (ICON_CELLS if node._allow_expand else 0)

    def add_children(self, parent: TreeNode[Any], children: list[tuple[Text, Any, bool]]) -> list[TreeNode[Any]]:
        """Append (label, data, expandable) children to `parent`, collapsed; one edit of the lines."""
        added = []
        for label, data, expandable in children:
            node = self._add_node(parent, self.process_label(label), data)
            node._allow_expand = expandable
            added.append(node)
        if not added:
            return added
        previous_last = parent._children[-1] if parent._children else None
        parent._children.extend(added)
        parent._updates += 1
        where = self._where(parent)
        if where == UNKNOWN:
            self._invalidate()
            return added
        if where == HIDDEN or not parent._expanded:
            return added  # no line shows the new children
        lines = self._tree_lines_cached
        assert lines is not None
        if previous_last is None:
            at = changed_from = parent._line + 1
        else:
            at = self._subtree_end(previous_last)
            # No longer the last child: its line and the guides of the lines under it change.
            lines[previous_last._line].last = False
            changed_from = previous_last._line
        path = lines[parent._line].path
        new_lines = [_TreeLine([*path, node], last) for last, node in loop_last(added)]
        self._splice(at, at, new_lines, changed_from)
        return added

    def drop_children(self, parent: TreeNode[Any]) -> None:
        """Remove everything under `parent` in one pass; one edit of the lines."""
        where = self._where(parent)
        if where == UNKNOWN:
            self._invalidate()
        elif where == SHOWN and parent._expanded and parent._children:
            self._splice(parent._line + 1, self._subtree_end(parent), [])
        self._forget_subtrees(parent._children)
        parent._children.clear()
        parent._updates += 1

    def remove_node(self, node: TreeNode[Any]) -> None:
        """Remove `node` and everything under it; one edit of the lines."""
        parent = node._parent
        if parent is None:
            raise ValueError("the root of a tree cannot be removed")
        where = self._where(node)
        siblings = parent._children
        new_last = siblings[-2] if siblings[-1] is node and len(siblings) > 1 else None
        if where == SHOWN:
            if new_last is not None:
                # Now the last child: its line and the guides of the lines under it change.
                self._tree_lines_cached[new_last._line].last = True  # type: ignore[index]
            changed_from = node._line if new_last is None else new_last._line
            self._splice(node._line, self._subtree_end(node), [], changed_from)
        siblings.remove(node)
        self._forget_subtrees([node])
        parent._updates += 1
        if where == UNKNOWN:
            self._invalidate()

    def _forget_subtrees(self, roots: list[TreeNode[Any]]) -> None:
        stack = list(roots)
        while stack:
            node = stack.pop()
            stack.extend(node._children)
            self._tree_nodes.pop(node._id, None)
            node._line = -1
            # No parent <-> child cycles left behind: reference counting frees a dropped subtree
            # at once (even objects moved out of the collector's reach), and a message still on
            # its way for a dropped node finds it detached.
            node._parent = None

    # -- lines ------------------------------------------------------------------------------

    def _where(self, node: TreeNode[Any]) -> str:
        """SHOWN if `node` has a line now (every shown node's number is kept up to date), HIDDEN
        if it has none (under a collapsed node), UNKNOWN if the lines are to be rebuilt anyway
        or the edit cannot be placed (the root, when it is not shown)."""
        lines = self._tree_lines_cached
        if lines is None or (node is self.root and not self.show_root):
            return UNKNOWN
        if 0 <= node._line < len(lines) and lines[node._line].path[-1] is node:
            return SHOWN
        return HIDDEN

    def _subtree_end(self, node: TreeNode[Any]) -> int:
        """The line just past `node`'s shown descendants (`node` must be shown)."""
        lines = self._tree_lines_cached
        assert lines is not None
        depth = len(lines[node._line].path)
        end = node._line + 1
        while end < len(lines) and len(lines[end].path) > depth:
            end += 1
        return end

    def _descendant_lines(self, path: list[TreeNode[Any]], node: TreeNode[Any]) -> list[_TreeLine[Any]]:
        """The lines of `node`'s shown descendants, `path` being `node`'s own line's path."""
        lines: list[_TreeLine[Any]] = []
        add_line = lines.append

        def add(parent_path: list[TreeNode[Any]], child: TreeNode[Any], last: bool) -> None:
            child_path = [*parent_path, child]
            add_line(_TreeLine(child_path, last))
            if child._expanded:
                for child_last, grandchild in loop_last(child._children):
                    add(child_path, grandchild, child_last)

        if node._expanded:
            for last, child in loop_last(node._children):
                add(path, child, last)
        return lines

    def _show_descendants(self, node: TreeNode[Any]) -> None:
        where = self._where(node)
        if where == UNKNOWN:
            self._invalidate()
        elif where == SHOWN:
            lines = self._tree_lines_cached
            assert lines is not None
            at = node._line + 1
            # From the node's own line: its icon changed (▶ to ▼).
            self._splice(at, at, self._descendant_lines(lines[node._line].path, node), node._line)

    def _hide_descendants(self, node: TreeNode[Any]) -> None:
        where = self._where(node)
        if where == UNKNOWN:
            self._invalidate()
        elif where == SHOWN:
            self._splice(node._line + 1, self._subtree_end(node), [], node._line)  # (▼ to ▶)

    def _line_width(self, line: _TreeLine[Any]) -> int:
        return self.get_label_width(line.path[-1]) + line._get_guide_width(self.guide_depth, self.show_root)

    def _count(self, line: _TreeLine[Any]) -> None:
        # Kept on the line: a label may change later, and removing the line uncounts what was counted.
        line.width = width = self._line_width(line)  # type: ignore[attr-defined]
        self._width_counts[width] += 1

    def _uncount(self, line: _TreeLine[Any]) -> None:
        width = line.width  # type: ignore[attr-defined]
        self._width_counts[width] -= 1
        if not self._width_counts[width]:
            del self._width_counts[width]

    def _splice(self, start: int, stop: int, new_lines: list[_TreeLine[Any]], changed_from: int | None = None) -> None:
        """Replace lines[start:stop] with `new_lines`, renumber what follows, keep the cursor on its node.

        Lines from `changed_from` (default `start`) on may look different; when they all lie
        below the window, the lines shown are not repainted (only the scrollbar changes).
        """
        lines = self._tree_lines_cached
        assert lines is not None
        cursor_node = self._cursor_node if self.cursor_line != -1 else None
        removed = lines[start:stop]
        for line in removed:
            self._uncount(line)
            line.path[-1]._line = -1
        lines[start:stop] = new_lines
        for line in new_lines:
            self._count(line)
        for number in range(start, len(lines)):
            lines[number].path[-1]._line = number
        self._resize_lines(Size(max(self._width_counts, default=self.size.width), len(lines)))
        if cursor_node is not None:
            # A hidden cursor node leaves the cursor on the line that hid it (the collapsed node).
            self.cursor_line = cursor_node._line if cursor_node._line != -1 else max(0, start - 1)
        first_changed = start if changed_from is None else min(start, changed_from)
        top = self.scroll_offset.y
        if first_changed < top + self.size.height:
            # Every line Textual caches is keyed by this count (and its number): a line that
            # moved must not be drawn from another's cache entry. Only the window's lines from
            # the first changed one down are painted afresh; those above keep what is on screen.
            self._drop_drawn_lines()
            first_shown = max(first_changed, top)
            self.refresh_lines(first_shown, top + self.size.height - first_shown)

    def _resize_lines(self, size: Size) -> None:
        """Set the scrollable size after an edit, updating the scrollbars only.

        Assigning `virtual_size` (a reactive) asks for a layout of the screen and repaints the
        whole tree, every frame lines are added: ~10 ms for the tree's window alone, and the
        screen's other widgets with it. The tree's own size never depends on its lines, so the
        scrollbars (shown, hidden or moved: `_scroll_update`) are all that change; the lines
        themselves are repainted by `_splice` where they changed.
        """
        if size == self.virtual_size:
            return
        # Textual pads every line to the widest (or to the window, if wider).
        padding_changed = max(size.width, self.size.width) != max(self.virtual_size.width, self.size.width)
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)
        if padding_changed:
            # Each shown line is drawn again.
            self._drop_drawn_lines()
            self.refresh()

    def _drop_drawn_lines(self) -> None:
        """Key every line drawn from now on anew, and forget those drawn so far: they were keyed
        by the count bumped here, so none could be used again, yet up to 1,024 of them (each a
        Strip and its caches, ~20 objects in cycles) would stay until pushed out."""
        self._updates += 1
        self._line_cache.clear()  # (Textual's `_clear_line_cache` drops the lines too)

    def _build(self) -> None:
        """Every line from scratch (what Textual's `_build` does), counting the line widths."""
        self._width_counts.clear()
        root = self.root
        if self.show_root:
            lines = [_TreeLine([root], True), *self._descendant_lines([root], root)]
        else:
            lines = []
            for child in root._children:
                lines.append(_TreeLine([child], True))
                lines += self._descendant_lines([child], child)
        for number, line in enumerate(lines):
            line.path[-1]._line = number
            self._count(line)
        self._tree_lines_cached = lines
        self.virtual_size = Size(max(self._width_counts, default=self.size.width), len(lines))
        if self.cursor_line != -1:
            if self.cursor_node is not None:
                self.cursor_line = self.cursor_node._line
            if self.cursor_line >= len(lines):
                self.cursor_line = -1

    def clear(self) -> PrefixTree:
        """Clear all nodes under the root, forgetting them too (Textual's `clear` keeps them
        registered, and restarts node ids, so a refresh would leave the old tree behind)."""
        # Detached too: the cursor may still hold the old root until it moves.
        self._forget_subtrees(self.root._children)
        self.root._children.clear()
        self._tree_nodes.clear()
        super().clear()
        self._tree_nodes[self.root._id] = self.root
        return self
