"""One bucket: its prefixes, loaded a level at a time, and who can do what at the highlighted one.

The access map on the right owns the reading of IAM users and policies (one worker, one
result); moving through the prefix tree only re-evaluates it at the new prefix, offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.ui import formatting
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.messages import PrefixPageLoaded
from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel
from s3cred_tui.ui.widgets.worker_reporting import ForwardWorkerStates

# One S3 page of keys per expand; "load more…" fetches the next.
PREFIX_PAGE_SIZE = 500


@dataclass
class PrefixData:
    prefix: str
    pages: Iterator[Any] | None = None
    loading: bool = False
    loaded: bool = False


@dataclass
class ObjectData:
    key: str
    size: int


@dataclass
class MoreData:
    """The "load more…" leaf: selecting it asks the parent's listing for its next page."""

    parent: PrefixData = field(repr=False)


class PrefixPageFailed(PrefixPageLoaded):
    """Carries the error in `page`; the app's error handler shows the modal."""


def prefix_label(prefix: str, parent_prefix: str) -> Text:
    return Text(prefix[len(parent_prefix) :], style="bold")


def object_label(key: str, parent_prefix: str, size_bytes: int) -> Text:
    name = key[len(parent_prefix) :] or key
    return Text.assemble((name, ""), ("  ", ""), (formatting.size(size_bytes), "dim"))


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


class BucketScreen(ForwardWorkerStates, Screen[None]):
    CSS_PATH = Path(__file__).with_name("bucket.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="bucket.back", tooltip="Back to the account"),
        Binding(
            "c",
            "create",
            "Create credentials",
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
    ]

    def __init__(self, bucket: str, region: str | None = None) -> None:
        super().__init__()
        self.bucket = bucket
        self.bucket_region = region
        self.objects_loaded = 0
        self.bytes_loaded = 0
        self.prefixes_loaded = 0

    def compose(self) -> ComposeResult:
        yield Static(self._title_text(), id="bucket-title")
        with Horizontal(id="bucket-body"):
            with Vertical(id="prefix-pane"):
                yield Static("Prefixes and objects", classes="section-title")
                tree: Tree[Any] = Tree(Text(self.bucket, style="bold"), data=PrefixData(""), id="prefix-tree")
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
    def prefix_tree(self) -> Tree[Any]:
        return self.query_one("#prefix-tree", Tree)

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
        from s3cred_tui.ui.screens.create import CreateScreen

        if not require_writable(self.app, "create credentials"):
            return
        self.app.push_screen(CreateScreen(buckets=[self.bucket], prefix=self.highlighted_prefix()))

    # -- prefixes ---------------------------------------------------------------------------

    @on(Tree.NodeExpanded, "#prefix-tree")
    def _expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        data = event.node.data
        if isinstance(data, PrefixData) and not data.loaded and not data.loading:
            self.load_page(event.node)

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
        from s3cred_tui.core.inventory import bucket_region, iter_prefix_pages

        try:
            if data.pages is None:
                if self.bucket_region is None:
                    try:
                        self.bucket_region = bucket_region(self.app.aws, self.bucket)  # type: ignore[attr-defined]
                    except S3CredError:
                        pass  # the listing below will say what is wrong, if anything
                data.pages = iter_prefix_pages(
                    self.app.aws, self.bucket, data.prefix, page_size=PREFIX_PAGE_SIZE, region=self.bucket_region  # type: ignore[attr-defined]
                )
            page = next(data.pages, None)
        except Exception as exc:
            self.post_message(PrefixPageFailed(node, data, exc, has_more=False))
            raise
        if not get_current_worker().is_cancelled:
            self.post_message(PrefixPageLoaded(node, data, page, has_more=page is not None and not page.is_last))

    def on_prefix_page_loaded(self, message: PrefixPageLoaded) -> None:
        node = message.node
        if node.data is not message.source or not self._still_in_tree(node):
            return  # a refresh replaced this part of the tree meanwhile
        data: PrefixData = node.data
        data.loading = False
        self.query_one("#bucket-title", Static).update(self._title_text())
        plain_label = Text(self.bucket, style="bold") if node.is_root else prefix_label(data.prefix, self._parent_prefix(node))
        for child in list(node.children):
            if isinstance(child.data, MoreData):
                child.remove()
        if isinstance(message, PrefixPageFailed):
            data.pages = None
            node.set_label(Text.assemble(plain_label, ("  could not list (r retries)", "red")))
            return
        node.set_label(plain_label)
        data.loaded = True
        page = message.page
        if page is not None:
            for prefix in page.prefixes:
                node.add(prefix_label(prefix, data.prefix), data=PrefixData(prefix))
            for obj in page.objects:
                if obj.key == data.prefix:
                    continue  # the "folder marker" object some tools create
                node.add_leaf(object_label(obj.key, data.prefix, obj.size), data=ObjectData(obj.key, obj.size))
                self.objects_loaded += 1
                self.bytes_loaded += obj.size
            self.prefixes_loaded += len(page.prefixes)
            if not page.prefixes and not page.objects and node.is_root:
                node.add_leaf(Text("(empty bucket)", style="dim"))
        if message.has_more:
            node.add_leaf(Text("load more…", style="italic cyan"), data=MoreData(data))
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
        self.query_one("#prefix-stats", Static).update(
            f"Loaded so far: {formatting.count(self.objects_loaded, 'object')}, "
            f"{formatting.size(self.bytes_loaded)}, {formatting.count(self.prefixes_loaded, 'prefix', 'prefixes')}"
        )

    # -- access map ----------------------------------------------------------------------

    @on(DataTable.RowSelected, "#map-table")
    def _open_user(self, event: DataTable.RowSelected) -> None:
        from s3cred_tui.ui.screens.user import UserScreen

        event.stop()
        if event.row_key.value:
            self.app.push_screen(UserScreen(event.row_key.value))
