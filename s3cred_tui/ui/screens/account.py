"""The main screen: who you are, and the account's buckets and IAM users."""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import errors
from s3cred_tui.ui import formatting
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.messages import BucketsPage, CountsLoaded, ListingDone, RegionsLoaded, UsersPage
from s3cred_tui.ui.widgets.filter_table import FilterTable
from s3cred_tui.ui.widgets.identity_bar import IdentityBar
from s3cred_tui.ui.widgets.worker_reporting import ForwardWorkerStates

# Rows reach the table in chunks this size, so one huge page (moto's list_users ignores
# MaxItems) is still added between key presses rather than in one long block.
ROWS_PER_MESSAGE = 250
# Counts and regions are looked up in batches this size by one background worker each.
LOOKUP_BATCH = 50
# Threads per lookup. Every busy thread queues for the GIL ahead of the event loop (a 5 ms
# slice each): 16 + 16 of them stalled key presses for 150-200 ms, and more threads than
# this do not make one endpoint answer faster.
LOOKUP_THREADS = 4
# How often the rows on screen are handed to the lookup threads, which look them up first.
VISIBLE_EVERY_SECONDS = 0.25
_DONE = object()

BUCKET_COLUMNS = (("name", "Bucket"), ("region", "Region"), ("created", "Created (UTC)"))
USER_COLUMNS = (
    ("name", "User"),
    ("created", "Created (UTC)"),
    ("keys", "Keys"),
    ("policies", "Policies"),
    ("groups", "Groups"),
    ("path", "Path"),
)
PENDING = Text("…", style="dim")


class VisibleNames:
    """The names of the rows on screen, shared with a lookup thread.

    The event loop replaces the whole tuple and the thread reads it whole: one attribute
    assignment, so no lock is needed.
    """

    def __init__(self) -> None:
        self._names: tuple[str, ...] = ()

    def set(self, names: list[str]) -> None:
        self._names = tuple(names)

    def any_of(self, pending: dict[str, None]) -> bool:
        return any(name in pending for name in self._names)

    def first_of(self, pending: dict[str, None], limit: int) -> list[str]:
        return [name for name in self._names if name in pending][:limit]


class ListingsGate:
    """Opens once both listings have ended (done or failed).

    Region and count lookups are hundreds of requests from 16 threads each: started
    alongside the listings they slow the one answer everyone waits for (moto's
    list_users took 1.5 s longer), so they wait for the lists.
    """

    def __init__(self, listings: int = 2) -> None:
        self._left = listings
        self._lock = threading.Lock()
        self._open = threading.Event()

    def ended(self) -> None:
        with self._lock:
            self._left -= 1
            if self._left <= 0:
                self._open.set()

    def wait(self, timeout: float) -> bool:
        return self._open.wait(timeout)


def _policy_counts_or_nothing(aws: Any) -> dict[str, Any]:
    """Every user's policy and group counts in one call, or {} when that call is refused
    (the counts are then read user by user, which needs narrower permissions)."""
    from s3cred_tui.core.inventory import user_policy_counts

    try:
        return user_policy_counts(aws)
    except errors.S3CredError:
        return {}


def _keep_out_of_full_collections() -> None:
    """Move every object alive now out of the collector's reach (`gc.freeze`).

    Measured at 5,000 users: each full collection re-scanned the imported modules, the
    botocore models and every row, holding the event loop for 70-140 ms. Those live as
    long as the screen; rows dropped by a refresh are acyclic and still freed by
    reference counting.
    """
    gc.freeze()


def _batches(items: list[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def region_cell(value: Any) -> Text | str:
    if isinstance(value, errors.AccessDenied):
        return Text("no access", style="dim")
    if isinstance(value, errors.S3CredError):
        return Text("unknown", style="dim")
    return value or PENDING


def counts_cells(value: Any) -> dict[str, Text | str]:
    if isinstance(value, errors.S3CredError):
        unknown = Text("?", style="dim")
        return {"keys": unknown, "policies": unknown, "groups": unknown}
    keys = str(value.access_keys)
    policies = value.inline_policies + value.attached_policies
    return {
        "keys": Text(keys, style="bold yellow") if value.access_keys >= 2 else keys,
        "policies": f"{policies} ({value.inline_policies} inline)" if value.inline_policies else str(policies),
        "groups": str(value.groups),
    }


class AccountScreen(ForwardWorkerStates, Screen[None]):
    CSS_PATH = Path(__file__).with_name("account.tcss")
    BINDINGS = [
        Binding("1", "show_tab('buckets')", "Buckets", id="account.buckets", tooltip="Show the account's S3 buckets"),
        Binding("2", "show_tab('users')", "Users", id="account.users", tooltip="Show the account's IAM users"),
        Binding("slash", "focus_filter", "Filter", key_display="/", id="account.filter", tooltip="Type to filter the list"),
        Binding(
            "c",
            "create",
            "Create credentials",
            id="account.create",
            tooltip="Make least-privilege credentials for the highlighted bucket",
        ),
        Binding("r", "refresh", "Refresh", id="account.refresh", tooltip="Reload buckets and users from AWS"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._regions_queue: queue.Queue[Any] = queue.Queue()
        self._counts_queue: queue.Queue[Any] = queue.Queue()
        self._listings: dict[str, Worker[None]] = {}
        self._visible_buckets = VisibleNames()
        self._visible_users = VisibleNames()

    def compose(self) -> ComposeResult:
        yield IdentityBar()
        with Vertical(id="account-body"):
            with TabbedContent(id="lists", initial="buckets"):
                with TabPane("Buckets [1]", id="buckets"):
                    yield FilterTable(
                        "bucket", BUCKET_COLUMNS, placeholder="Filter buckets by name or region…  (/)", id="bucket-table"
                    )
                with TabPane("IAM users [2]", id="users"):
                    yield FilterTable("user", USER_COLUMNS, placeholder="Filter users…  (/)", id="user-table")
            yield Static(self._hint_text("buckets"), id="account-hint")
        yield Footer()

    def _hint_text(self, tab: str) -> str:
        if self.app.read_only:  # type: ignore[attr-defined]
            return "Enter: open · /: filter · read-only mode: browsing only, nothing can be changed"
        if tab == "users":
            return "Enter: keys, policies and actions for the highlighted user · /: filter · ctrl+p: commands"
        return "Enter: browse the highlighted bucket · c: create credentials for it · /: filter · ctrl+p: commands"

    def on_mount(self) -> None:
        _keep_out_of_full_collections()
        self.action_refresh()
        self.buckets.focus_table()
        self.set_interval(VISIBLE_EVERY_SECONDS, self._share_visible_rows)

    def _share_visible_rows(self) -> None:
        self._visible_buckets.set(self.buckets.visible_keys())
        self._visible_users.set(self.users.visible_keys())

    @property
    def buckets(self) -> FilterTable:
        return self.query_one("#bucket-table", FilterTable)

    @property
    def users(self) -> FilterTable:
        return self.query_one("#user-table", FilterTable)

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def active_table(self) -> FilterTable:
        return self.users if self.active_tab == "users" else self.buckets

    def bucket_names(self) -> list[str]:
        return self.buckets.keys

    def user_names(self) -> list[str]:
        return self.users.keys

    # -- actions ---------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        (self.users if tab == "users" else self.buckets).focus_table()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.query_one("#account-hint", Static).update(self._hint_text(self.active_tab))
        if not self.active_table().filter_input.has_focus:
            self.active_table().focus_table()

    def action_focus_filter(self) -> None:
        self.active_table().focus_filter()

    def action_refresh(self) -> None:
        self._generation += 1
        for table in (self.buckets, self.users):
            table.clear_rows()
            table.busy = True
        # Fresh queues: a superseded lookup worker still holds the old one and drains nothing new.
        self._regions_queue = queue.Queue()
        self._counts_queue = queue.Queue()
        gate = ListingsGate()
        self._listings = {
            "buckets": self.load_buckets(self._generation, self._regions_queue, gate),
            "users": self.load_users(self._generation, self._counts_queue, gate),
        }
        self._visible_buckets = VisibleNames()
        self._visible_users = VisibleNames()
        self.load_regions(self._generation, self._regions_queue, self._visible_buckets, gate)
        self.load_counts(self._generation, self._counts_queue, self._visible_users, gate)

    def action_create(self) -> None:
        if self.active_tab == "buckets":
            bucket = self.buckets.highlighted_key()
            self.open_create([bucket] if bucket else [])
        else:
            self.open_create([])

    def open_create(self, buckets: list[str], prefix: str = "") -> None:
        from s3cred_tui.ui.screens.create import CreateScreen

        if not require_writable(self.app, "create credentials"):
            return
        self.app.push_screen(CreateScreen(buckets=buckets, prefix=prefix))

    def open_bucket(self, name: str) -> None:
        from s3cred_tui.ui.screens.bucket import BucketScreen

        row = self.buckets.row(name)
        region = row[1] if row and isinstance(row[1], str) else None
        self.app.push_screen(BucketScreen(name, region=region))

    def open_user(self, name: str) -> None:
        from s3cred_tui.ui.screens.user import UserScreen

        self.app.push_screen(UserScreen(name))

    @on(FilterTable.Opened, "#bucket-table")
    def _bucket_opened(self, event: FilterTable.Opened) -> None:
        self.open_bucket(event.key)

    @on(FilterTable.Opened, "#user-table")
    def _user_opened(self, event: FilterTable.Opened) -> None:
        self.open_user(event.key)

    def forget_user(self, name: str) -> None:
        """A user was deleted elsewhere in the app: drop its row without a full reload."""
        self.users.remove_row(name)

    @work(thread=True, exit_on_error=False, group="recount", name="counting keys and policies")
    def recount_user(self, name: str) -> None:
        """A user's keys or policies changed on another screen: refresh its row."""
        from s3cred_tui.core.inventory import user_counts

        self.post_message(CountsLoaded(self._generation, user_counts(self.app.aws, [name])))  # type: ignore[attr-defined]

    # -- workers (threads: they only post messages) ---------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="buckets", name="listing S3 buckets")
    def load_buckets(self, generation: int, regions: queue.Queue[Any], gate: ListingsGate) -> None:
        from s3cred_tui.core.inventory import iter_bucket_pages

        worker = get_current_worker()
        try:
            for page in iter_bucket_pages(self.app.aws):  # type: ignore[attr-defined]
                for chunk in _batches(page, ROWS_PER_MESSAGE):
                    if worker.is_cancelled:
                        return
                    self.post_message(BucketsPage(generation, chunk))
                    regions.put([b.name for b in chunk if not b.region])
            self.post_message(ListingDone(generation, "buckets"))
        finally:
            regions.put(_DONE)
            gate.ended()

    @work(thread=True, exclusive=True, exit_on_error=False, group="regions", name="looking up bucket regions")
    def load_regions(
        self, generation: int, pending: queue.Queue[Any], wanted: VisibleNames, gate: ListingsGate
    ) -> None:
        from s3cred_tui.core.inventory import bucket_regions

        def lookup(names: list[str]) -> RegionsLoaded:
            return RegionsLoaded(generation, bucket_regions(self.app.aws, names, max_workers=LOOKUP_THREADS))  # type: ignore[attr-defined]

        self._drain(pending, wanted, gate, lookup)

    @work(thread=True, exclusive=True, exit_on_error=False, group="users", name="listing IAM users")
    def load_users(self, generation: int, counts: queue.Queue[Any], gate: ListingsGate) -> None:
        from s3cred_tui.core.inventory import iter_user_pages

        worker = get_current_worker()
        try:
            for page in iter_user_pages(self.app.aws):  # type: ignore[attr-defined]
                for chunk in _batches(page, ROWS_PER_MESSAGE):
                    if worker.is_cancelled:
                        return
                    self.post_message(UsersPage(generation, chunk))
                    counts.put([u.name for u in chunk])
            self.post_message(ListingDone(generation, "users"))
        finally:
            counts.put(_DONE)
            gate.ended()

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts", name="counting keys and policies")
    def load_counts(
        self, generation: int, pending: queue.Queue[Any], wanted: VisibleNames, gate: ListingsGate
    ) -> None:
        from s3cred_tui.core import inventory

        aws = self.app.aws  # type: ignore[attr-defined]
        # Filled after the first batch (the rows on screen, counted user by user): from then
        # on one call per user (its keys) instead of four.
        known: dict[str, Any] = {}
        batches = 0

        def lookup(names: list[str]) -> CountsLoaded:
            nonlocal known, batches
            if batches == 1 and not known:
                known = _policy_counts_or_nothing(aws)
            batches += 1
            covered = {name: known[name] for name in names if name in known}
            if covered:
                return CountsLoaded(generation, inventory.user_counts(aws, names, max_workers=LOOKUP_THREADS, policy_counts=covered))
            return CountsLoaded(generation, inventory.user_counts(aws, names, max_workers=LOOKUP_THREADS))

        self._drain(pending, wanted, gate, lookup)

    def _drain(self, pending: queue.Queue[Any], wanted: VisibleNames, gate: ListingsGate, lookup: Any) -> None:
        """Look up names from `pending` in batches until the listing says it is done.

        Names on screen (`wanted`) go first, so the rows a person is looking at fill in
        before the thousands below them.
        """
        worker = get_current_worker()
        while not gate.wait(timeout=0.2):
            if worker.is_cancelled:
                return
        names: dict[str, None] = {}
        finished = False
        while not worker.is_cancelled:
            ready = finished or len(names) >= LOOKUP_BATCH or wanted.any_of(names)
            try:
                # Take everything already queued before choosing a batch; wait only when idle.
                item = pending.get_nowait() if ready else pending.get(timeout=0.2)
            except queue.Empty:
                item = None
            if item is _DONE:
                finished = True
                continue
            if item:
                names.update(dict.fromkeys(item))
                continue
            if not ready:
                continue
            if not names:
                return
            batch = wanted.first_of(names, LOOKUP_BATCH)
            for name in names:
                if len(batch) >= LOOKUP_BATCH:
                    break
                if name not in batch:
                    batch.append(name)
            for name in batch:
                del names[name]
            if worker.is_cancelled:
                return
            self.post_message(lookup(batch))

    # -- results (event loop) ---------------------------------------------------------------

    def on_buckets_page(self, message: BucketsPage) -> None:
        if message.generation != self._generation:
            return
        self.buckets.add_rows(
            (b.name, [b.name, b.region or PENDING, formatting.date(b.created)]) for b in message.buckets
        )

    def on_regions_loaded(self, message: RegionsLoaded) -> None:
        if message.generation != self._generation:
            return
        for name, region in message.regions.items():
            self.buckets.update_cell(name, "region", region_cell(region))

    def on_users_page(self, message: UsersPage) -> None:
        if message.generation != self._generation:
            return
        self.users.add_rows(
            (u.name, [u.name, formatting.date(u.created), PENDING, PENDING, PENDING, u.path or "/"])
            for u in message.users
        )

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        if message.generation != self._generation:
            return
        for name, value in message.counts.items():
            for column, cell in counts_cells(value).items():
                self.users.update_cell(name, column, cell)

    def on_listing_done(self, message: ListingDone) -> None:
        if message.generation == self._generation:
            (self.users if message.what == "users" else self.buckets).busy = False
            _keep_out_of_full_collections()

    def worker_state_changed(self, worker: Worker) -> None:
        # Only the current listing may change the status line; a superseded one just ends.
        if worker is not self._listings.get(worker.group):
            return
        if worker.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        table = self.users if worker.group == "users" else self.buckets
        table.busy = False
        if worker.state is WorkerState.ERROR and worker.error is not None:
            table.error = errors.translate(worker.error).message
