"""One bucket: its prefixes, loaded a level at a time, and who can do what at the highlighted one.

The access map on the right owns the reading of IAM users and policies (one worker, one
result); moving through the prefix tree only re-evaluates it at the new prefix, offline.

The tree stays cheap however much of a bucket is browsed: a page of keys is added a chunk
per event-loop turn (labels made a chunk at a time too), each change edits only the tree's
lines concerned (`PrefixTree`), a collapsed prefix drops what was loaded under it (expanding
it again lists it afresh), and a node holds only its key and size, not the S3 record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from rich.cells import cell_len
from rich.text import Span, Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import PrefixPage, bucket_region, iter_prefix_pages
from s3cred_tui.ui import console_links, formatting
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.memory import FreezeAtDoublings
from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel
from s3cred_tui.ui.widgets.prefix_tree import PrefixTree

# One S3 page of keys per expand; "load more…" fetches the next.
PREFIX_PAGE_SIZE = 500
# Tree nodes added per event-loop turn (labels made, lines spliced in and the lines after them
# renumbered, a pass over the loaded lines), so a page takes a few turns rather than one long one.
ADD_CHUNK = 250


@dataclass(slots=True)
class PrefixData:
    prefix: str
    pages: Iterator[PrefixPage] | None = None
    loading: bool = False  # a page is being listed or added to the tree
    loaded: bool = False
    # What this prefix's own children hold, so evicting them takes it off the totals.
    objects: int = 0
    bytes: int = 0
    prefixes: int = 0


class ObjectData(NamedTuple):
    """An object's node: its key and size only, never the S3 record. (Still tracked by the
    garbage collector: CPython stops tracking only exact tuples of untracked values.)"""

    key: str
    size: int


@dataclass(slots=True)
class MoreData:
    """The "load more…" leaf: selecting it asks the parent's listing for its next page."""

    parent: PrefixData = field(repr=False)


class PrefixPageLoaded(Message):
    """`node` is the tree node listed and `source` its data when the listing began.

    The worker only carries the node back; it is read and changed on the event loop.
    """

    def __init__(self, node: TreeNode[Any], source: PrefixData, page: PrefixPage | None, has_more: bool) -> None:
        super().__init__()
        self.node = node
        self.source = source
        self.page = page
        self.has_more = has_more


class PrefixPageFailed(PrefixPageLoaded):
    """The listing failed (no page); the app's error handler shows the modal."""


def prefix_label(prefix: str, parent_prefix: str) -> Text:
    return Text(prefix[len(parent_prefix) :], style="bold")


def object_label(key: str, parent_prefix: str, size_bytes: int) -> Text:
    name = key[len(parent_prefix) :] or key
    size = formatting.size(size_bytes)
    # One string and one span (Text.assemble keeps a list of three strings per label).
    start = len(name) + 2
    return Text(f"{name}  {size}", spans=[Span(start, start + len(size), "dim")])


# Nodes loaded at which the tree is first collected and frozen (`ui/memory.py`), then each time
# the largest tree this process has seen grows by as many again: a full collection walks ~10
# objects a node not yet frozen (~1 us each), so with 20,000 nodes loaded one took 100-280 ms,
# and freezing only at doublings still left 8,000 nodes to walk (50-90 ms). Frozen nodes are
# skipped by collections and still freed when their prefix collapses (`PrefixTree` leaves no
# cycles behind). Browsing (expanding one prefix after another, collapsing each) never grows
# the tree this far, so it never freezes.
FREEZE_EVERY_NODES = 2000
_large_trees = FreezeAtDoublings(FREEZE_EVERY_NODES, at_most_every=FREEZE_EVERY_NODES)


# The note shown under the root of a bucket with nothing in it (a leaf with no data).
EMPTY_BUCKET = object()


def child_label(data: Any, parent_prefix: str) -> Text:
    """The label of a child listed under `parent_prefix` (made when the child is added)."""
    if isinstance(data, PrefixData):
        return prefix_label(data.prefix, parent_prefix)
    if isinstance(data, ObjectData):
        return object_label(data.key, parent_prefix, data.size)
    if isinstance(data, MoreData):
        return Text("load more…", style="italic cyan")
    return Text("(empty bucket)", style="dim")


def prefix_of(node: TreeNode[Any] | None) -> str:
    """The prefix a tree node stands for: its own, or its folder's for an object or "load more…"."""
    if node is None:
        return ""
    data = node.data
    if isinstance(data, PrefixData):
        return data.prefix
    if isinstance(data, MoreData):
        return data.parent.prefix
    if isinstance(data, ObjectData) and node.parent is not None and isinstance(node.parent.data, PrefixData):
        return node.parent.data.prefix
    return ""


class BucketScreen(AwsScreen[None]):
    CSS_PATH = Path(__file__).with_name("bucket.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="bucket.back", tooltip="Back to the account"),
        Binding(
            "c",
            "create",
            "Create",
            id="bucket.create",
            tooltip="Credentials for this bucket, limited to the highlighted prefix",
        ),
        Binding("r", "refresh", "Refresh", id="bucket.refresh", tooltip="Reload prefixes, users and policies from AWS"),
        Binding(
            "u",
            "focus_users",
            "Access map",
            id="bucket.users",
            tooltip="Move to the access map: who can list, read, write and delete at the highlighted prefix",
        ),
        Binding("y", "copy_name", "Copy name", show=False, id="bucket.copy_name", tooltip="Copy s3://bucket/prefix of the highlighted prefix"),
        Binding("Y", "copy_arn", "Copy ARN", show=False, id="bucket.copy_arn", tooltip="Copy the ARN of the highlighted prefix"),
        Binding("o", "open_console", "Console", show=False, id="bucket.console", tooltip="Open the prefix in the AWS console"),
    ]

    def __init__(self, bucket: str, region: str | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.bucket_region = region
        self._region_in_title = region
        self._stats_one_line = False  # whether the loaded-so-far line shown fits on one line
        self.objects_loaded = 0
        self.bytes_loaded = 0
        self.prefixes_loaded = 0

    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), id="bucket-title")
        with Horizontal(id="bucket-body"):
            with Vertical(id="prefix-pane"):
                yield Static("Prefixes and objects", classes="section-title")
                tree = PrefixTree(Text(self.bucket, style="bold"), data=PrefixData(""), id="prefix-tree")
                tree.guide_depth = 3
                yield tree
                yield Static("", id="prefix-stats")
            with Vertical(id="bucket-side"):
                yield AccessMapPanel(self.bucket, id="access-map")
        yield Footer()

    def _title_text(self) -> Text:
        return Text.assemble(
            ("Bucket ", "dim"),
            (self.bucket, "bold"),
            ("   Region ", "dim"),
            (self.bucket_region or "…", ""),
            ("   Enter expands a prefix · the access map follows the highlighted one · c creates credentials", "dim"),
        )

    def on_mount(self) -> None:
        # The access map starts its own (single) read of IAM when it is mounted.
        self._reload_prefixes()

    @property
    def prefix_tree(self) -> PrefixTree:
        return self.query_one("#prefix-tree", PrefixTree)

    @property
    def access_map(self) -> AccessMapPanel:
        return self.query_one("#access-map", AccessMapPanel)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_users(self) -> None:
        self.access_map.query_one("#map-table", DataTable).focus()

    def action_refresh(self) -> None:
        self._reload_prefixes()
        self.access_map.load()

    def _reload_prefixes(self) -> None:
        tree = self.prefix_tree
        tree.reset(Text(self.bucket, style="bold"), PrefixData(""))
        self.objects_loaded = self.bytes_loaded = self.prefixes_loaded = 0
        self._update_stats()
        tree.focus()
        self.load_page(tree.root)
        tree.root.expand()

    def highlighted_prefix(self) -> str:
        return prefix_of(self.prefix_tree.cursor_node)

    @on(Tree.NodeHighlighted, "#prefix-tree")
    def _highlighted(self, event: Tree.NodeHighlighted[Any]) -> None:
        # Setting the map's prefix field re-evaluates from memory; no AWS call.
        self.access_map.query_one("#map-prefix", Input).value = prefix_of(event.node)

    def action_create(self) -> None:
        self.s3cred_app.open_create([self.bucket], self.highlighted_prefix())

    def action_copy_name(self) -> None:
        self.s3cred_app.copy_plain(f"s3://{self.bucket}/{self.highlighted_prefix()}", "the S3 URI")

    def action_copy_arn(self) -> None:
        self.s3cred_app.copy_plain(console_links.bucket_arn(self.bucket, self.highlighted_prefix()), "the ARN")

    def action_open_console(self) -> None:
        prefix = self.highlighted_prefix()
        url = console_links.bucket_url(self.bucket, self.bucket_region, prefix)
        self.s3cred_app.open_in_console(url, f"s3://{self.bucket}/{prefix}")

    # -- prefixes ---------------------------------------------------------------------------

    @on(Tree.NodeExpanded, "#prefix-tree")
    def _expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        data = event.node.data
        if isinstance(data, PrefixData) and not data.loaded and not data.loading:
            self.load_page(event.node)

    @on(Tree.NodeCollapsed, "#prefix-tree")
    def _collapsed(self, event: Tree.NodeCollapsed[Any]) -> None:
        """Drop what was loaded under a collapsed prefix: memory stays bounded however much is browsed."""
        node = event.node
        data = node.data
        if node.is_root or node.is_expanded or not isinstance(data, PrefixData) or not (data.loaded or data.loading):
            return  # (expanded again before this message was handled: keep it)
        self._forget_loaded(node)
        # A fresh PrefixData: a page still on its way for the old one is recognised and dropped.
        node.data = PrefixData(data.prefix)
        self.prefix_tree.drop_children(node)
        node.set_label(prefix_label(data.prefix, self._parent_prefix(node)))
        self._update_stats()

    def _forget_loaded(self, node: TreeNode[Any]) -> None:
        data = node.data
        if isinstance(data, PrefixData):
            self.objects_loaded -= data.objects
            self.bytes_loaded -= data.bytes
            self.prefixes_loaded -= data.prefixes
        for child in node.children:
            self._forget_loaded(child)

    @on(Tree.NodeSelected, "#prefix-tree")
    def _selected(self, event: Tree.NodeSelected[Any]) -> None:
        if isinstance(event.node.data, MoreData) and event.node.parent is not None:
            self.load_page(event.node.parent)

    def load_page(self, node: TreeNode[Any]) -> None:
        data: PrefixData = node.data
        if data.loading:
            return
        data.loading = True
        node.set_label(Text.assemble(node.label, ("  loading…", "dim italic")) if data.pages is None else node.label)
        self._fetch_page(node, data)

    @work(thread=True, exit_on_error=False, group="prefixes", name="listing objects")
    def _fetch_page(self, node: TreeNode[Any], data: PrefixData) -> None:
        try:
            if data.pages is None:
                if self.bucket_region is None:
                    try:
                        self.bucket_region = bucket_region(self.aws, self.bucket)
                    except S3CredError:
                        pass  # the listing below will say what is wrong, if anything
                data.pages = iter_prefix_pages(
                    self.aws, self.bucket, data.prefix, page_size=PREFIX_PAGE_SIZE, region=self.bucket_region
                )
            page = next(data.pages, None)
        except Exception:
            self.post_message(PrefixPageFailed(node, data, None, has_more=False))
            raise
        if not get_current_worker().is_cancelled:
            self.post_message(PrefixPageLoaded(node, data, page, has_more=page is not None and not page.is_last))

    def on_prefix_page_loaded(self, message: PrefixPageLoaded) -> None:
        node = message.node
        if node.data is not message.source or not self._still_in_tree(node):
            return  # a refresh or a collapse replaced this part of the tree meanwhile
        data: PrefixData = node.data
        if self.bucket_region != self._region_in_title:
            # Only when it changed: repainting the title with the lines below it makes the frame
            # repaint everything between them (Textual repaints the box around all changes).
            self._region_in_title = self.bucket_region
            self.query_one("#bucket-title", Static).update(self._title_text())
        plain_label = Text(self.bucket, style="bold") if node.is_root else prefix_label(data.prefix, self._parent_prefix(node))
        for child in list(node.children):
            if isinstance(child.data, MoreData):
                self.prefix_tree.remove_node(child)
        if isinstance(message, PrefixPageFailed):
            data.loading = False
            data.pages = None
            node.set_label(Text.assemble(plain_label, ("  could not list (r retries)", "red")))
            return
        node.set_label(plain_label)
        data.loaded = True
        if not message.has_more:
            # The listing is done: drop it, and with it the last S3 answer it holds (every
            # record as botocore parsed it, ~1 KB a key) while suspended.
            data.pages = None
        page = message.page
        children: list[Any] = []
        if page is not None:
            children += [PrefixData(prefix) for prefix in page.prefixes]
            children += [
                ObjectData(obj.key, obj.size)
                for obj in page.objects
                if obj.key != data.prefix  # the "folder marker" object some tools create
            ]
            if not page.prefixes and not page.objects and node.is_root:
                children.append(EMPTY_BUCKET)
        if message.has_more:
            children.append(MoreData(data))
        self._add_children(node, data, children, 0)

    def _add_children(self, node: TreeNode[Any], data: PrefixData, children: list[Any], start: int) -> None:
        """Add `children[start:]` a chunk per event-loop turn; the page counts as loaded after the last."""
        if node.data is not data or not self._still_in_tree(node):
            return  # collapsed (and evicted) or refreshed meanwhile
        chunk = children[start : start + ADD_CHUNK]
        self.prefix_tree.add_children(
            node,
            [
                (child_label(child, data.prefix), None if child is EMPTY_BUCKET else child, isinstance(child, PrefixData))
                for child in chunk
            ],
        )
        for child in chunk:
            if isinstance(child, PrefixData):
                data.prefixes += 1
                self.prefixes_loaded += 1
            elif isinstance(child, ObjectData):
                data.objects += 1
                data.bytes += child.size
                self.objects_loaded += 1
                self.bytes_loaded += child.size
        if start + ADD_CHUNK < len(children):
            self.call_later(self._add_children, node, data, children, start + ADD_CHUNK)
        else:
            data.loading = False
            _large_trees.grew_to(self.objects_loaded + self.prefixes_loaded)
        self._update_stats()

    def _still_in_tree(self, node: TreeNode[Any]) -> bool:
        while node.parent is not None:
            node = node.parent
        return node is self.prefix_tree.root

    @staticmethod
    def _parent_prefix(node: TreeNode[Any]) -> str:
        parent = node.parent
        return parent.data.prefix if parent is not None and isinstance(parent.data, PrefixData) else ""

    def _update_stats(self) -> None:
        stats = self.query_one("#prefix-stats", Static)
        text = (
            f"Loaded so far: {formatting.count(self.objects_loaded, 'object')}, "
            f"{formatting.size(self.bytes_loaded)}, {formatting.count(self.prefixes_loaded, 'prefix', 'prefixes')}"
        )
        # Updated with every chunk added. A layout of the screen (Textual's default for an update)
        # repaints every scrollbar on it, and so every widget between them; it is only needed
        # when the line may wrap differently, so its height may change.
        one_line = 0 < cell_len(text) <= stats.content_size.width
        stats.update(text, layout=not (one_line and self._stats_one_line))
        self._stats_one_line = one_line

    # -- access map ----------------------------------------------------------------------

    @on(DataTable.RowSelected, "#map-table")
    def _open_user(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value:
            self.s3cred_app.open_user(event.row_key.value)
