"""One bucket: its prefixes, loaded a level at a time, and the users whose policies reach it."""

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
from textual.widgets import DataTable, Footer, Static, Tree
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.ui import formatting
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.messages import PrefixPageLoaded, ReferencingUsers
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
        Binding("r", "refresh", "Refresh", id="bucket.refresh", tooltip="Reload prefixes and users from AWS"),
        Binding("u", "focus_users", "Users", id="bucket.users", tooltip="Move to the list of users that reach this bucket"),
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
            # The side column holds panels about who can reach the bucket.
            with Vertical(id="bucket-side"):
                yield Static("Users whose policies reach this bucket", classes="section-title")
                table: DataTable[Any] = DataTable(cursor_type="row", id="referencing-users")
                table.add_column("User", key="user")
                table.add_column("Through", key="via")
                yield table
                yield Static("", id="referencing-status")
        yield Footer()

    def _title_text(self) -> Text:
        return Text.assemble(
            ("Bucket ", "dim"),
            (self.bucket, "bold"),
            ("   Region ", "dim"),
            (self.bucket_region or "…", ""),
            ("   Enter expands a prefix · c creates credentials for the highlighted prefix", "dim"),
        )

    def on_mount(self) -> None:
        self.action_refresh()

    @property
    def prefix_tree(self) -> Tree[Any]:
        return self.query_one("#prefix-tree", Tree)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_focus_users(self) -> None:
        self.query_one("#referencing-users", DataTable).focus()

    def action_refresh(self) -> None:
        tree = self.prefix_tree
        tree.reset(Text(self.bucket, style="bold"), PrefixData(""))
        self.objects_loaded = self.bytes_loaded = self.prefixes_loaded = 0
        self._update_stats()
        tree.focus()
        self.load_page(tree.root)
        tree.root.expand()
        table = self.query_one("#referencing-users", DataTable)
        table.clear()
        self.query_one("#referencing-status", Static).update("Reading IAM policies…")
        self.find_referencing_users()

    def highlighted_prefix(self) -> str:
        node = self.prefix_tree.cursor_node
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

    # -- users ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="referencing", name="reading IAM policies")
    def find_referencing_users(self) -> None:
        from s3cred_tui.core.inventory import document_references_bucket, iter_authorization_details

        worker = get_current_worker()
        scanned = 0
        for page in iter_authorization_details(self.app.aws):  # type: ignore[attr-defined]
            if worker.is_cancelled:
                return
            scanned += len(page)
            found = []
            for detail in page:
                via = [where for where, doc in detail.policy_documents() if document_references_bucket(doc, self.bucket)]
                if via:
                    found.append((detail.name, ", ".join(via)))
            self.post_message(ReferencingUsers(found, done=False, scanned=scanned))
        self.post_message(ReferencingUsers([], done=True, scanned=scanned))

    def on_referencing_users(self, message: ReferencingUsers) -> None:
        table = self.query_one("#referencing-users", DataTable)
        for name, via in message.names:
            if name not in table.rows:
                table.add_row(name, via, key=name)
        found = formatting.count(table.row_count, "user")
        if message.done:
            text = f"{found} of {message.scanned:,} checked · identity policies only"
        else:
            text = f"{found} so far, {message.scanned:,} checked…"
        self.query_one("#referencing-status", Static).update(text)

    @on(DataTable.RowSelected, "#referencing-users")
    def _open_user(self, event: DataTable.RowSelected) -> None:
        from s3cred_tui.ui.screens.user import UserScreen

        if event.row_key.value:
            self.app.push_screen(UserScreen(event.row_key.value))

    def worker_state_changed(self, worker: Any) -> None:
        from textual.worker import WorkerState

        if worker.group == "referencing" and worker.state is WorkerState.ERROR:
            status = self.query_one("#referencing-status", Static)
            status.update(Text(f"Could not read IAM policies: {getattr(worker.error, 'message', worker.error)}", style="red"))
