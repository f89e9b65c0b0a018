"""The main screen: who you are, and the account's buckets and IAM users.

The screen shows; `ui.loading` decides what is asked of AWS and for which rows. Each worker
below runs one `AccountLoad` method and posts what it hands over as a message: the two
listings and the two whole-account reads start together, and per-row lookups start for rows
on screen that those cannot fill.

The event loop only places what the workers made: every cell (dates, counts, the stale-access
review) is made on the worker's thread, and what arrives is applied in bounded batches, one
per turn of the loop (`_flush`), so the table repaints once per batch, never per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import errors, inventory
from s3cred_tui.core.inventory import (
    BucketSummary,
    PolicyCounts,
    ReportUser,
    UserCounts,
    UserSummary,
)
from s3cred_tui.core.stale import StaleThresholds, thresholds_from
from s3cred_tui.ui import console_links, formatting
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.loading import AccountLoad, InventorySource
from s3cred_tui.ui.memory import freeze_after_load
from s3cred_tui.ui.pacing import let_the_loop_run
from s3cred_tui.ui.stale_columns import (
    STALE_COLUMNS,
    STALE_FILTER,
    pending_cells,
    stale_cells,
)
from s3cred_tui.ui.widgets.filter_table import FilterTable, Sortable
from s3cred_tui.ui.widgets.identity_bar import IdentityBar

# How often the rows on screen are checked for cells only a per-row lookup can fill.
VISIBLE_EVERY_SECONDS = 0.25
# At most this many rows and row updates are placed per turn of the event loop (~10 ms of work).
ROWS_PER_FLUSH = 500
UPDATES_PER_FLUSH = 1500

Cells = dict[str, Any]
Row = tuple[str, list[Any]]


# Messages the workers post. Each carries the `generation` of the load that produced it, so
# a page from a load that a refresh has superseded (thread workers cannot be killed) is
# recognised and dropped.


class BucketsPage(Message):
    """Rows of listed buckets, cells made."""

    def __init__(self, generation: int, rows: list[Row]) -> None:
        super().__init__()
        self.generation = generation
        self.rows = rows


class RegionsLoaded(Message):
    def __init__(self, generation: int, regions: dict[str, str | errors.S3CredError]) -> None:
        super().__init__()
        self.generation = generation
        self.regions = regions


class UsersPage(Message):
    """Rows of listed users, cells made (stale-access cells too, where the report came first)."""

    def __init__(self, generation: int, rows: list[Row], stale: dict[str, Cells]) -> None:
        super().__init__()
        self.generation = generation
        self.rows = rows
        self.stale = stale


class CountsLoaded(Message):
    """Keys, policies and groups of users looked up one by one."""

    def __init__(self, generation: int, counts: dict[str, UserCounts | errors.S3CredError]) -> None:
        super().__init__()
        self.generation = generation
        self.counts = counts


class PoliciesLoaded(Message):
    """Policy and group cells of a page of users, from the one-pass read."""

    def __init__(self, generation: int, cells: dict[str, Cells]) -> None:
        super().__init__()
        self.generation = generation
        self.cells = cells


class KeysLoaded(Message):
    """Users' key and stale-access cells from the credential report; `users_in_report`: how
    many users it holds (the expected total of the users' list)."""

    def __init__(self, generation: int, cells: dict[str, Cells], users_in_report: int) -> None:
        super().__init__()
        self.generation = generation
        self.cells = cells
        self.users_in_report = users_in_report


class ListingDone(Message):
    """A listing reached its last page (`what` is "buckets" or "users")."""

    def __init__(self, generation: int, what: str) -> None:
        super().__init__()
        self.generation = generation
        self.what = what


BUCKET_COLUMNS = (("name", "Bucket"), ("region", "Region"), ("created", "Created (UTC)"))
USER_COLUMNS = (
    ("name", "User"),
    ("created", "Created (UTC)"),
    ("keys", "Keys"),
    ("policies", "Policies"),
    ("groups", "Groups"),
    *STALE_COLUMNS,
    ("path", "Path"),
)
PENDING = Text("…", style="dim")


def region_cell(value: str | errors.S3CredError | None) -> Text | str:
    if isinstance(value, errors.AccessDenied):
        return Text("no access", style="dim")
    if isinstance(value, errors.S3CredError):
        return Text("unknown", style="dim")
    return value or PENDING


def keys_cell(access_keys: int) -> Text | str:
    return Text(str(access_keys), style="bold yellow") if access_keys >= 2 else str(access_keys)


def policy_cells(value: PolicyCounts | UserCounts) -> dict[str, Any]:
    policies = value.inline_policies + value.attached_policies
    return {
        # Sorted by the number of policies, not by the text "3 (1 inline)".
        "policies": Sortable(f"{policies} ({value.inline_policies} inline)", policies)
        if value.inline_policies
        else str(policies),
        "groups": str(value.groups),
    }


def bucket_row(bucket: BucketSummary) -> Row:
    return bucket.name, [bucket.name, bucket.region or PENDING, formatting.date(bucket.created)]


def user_row(user: UserSummary) -> Row:
    return user.name, [
        user.name, formatting.date(user.created), PENDING, PENDING, PENDING, *pending_cells(PENDING), user.path or "/",
    ]  # fmt: skip


def _age_seconds(when: datetime | None, now: datetime) -> float | None:
    if when is None:
        return None
    # The report's times carry their zone; one without is UTC, as IAM's always are.
    return (now - (when if when.tzinfo else when.replace(tzinfo=timezone.utc))).total_seconds()


def user_stale_cells(
    report_user: ReportUser, created: datetime | None, now: datetime, thresholds: StaleThresholds
) -> Cells:
    """The stale-access cells (`ui.stale_columns`), sorted by the real ages: seconds since the
    oldest key was made and since any key was last used, not their text."""
    cells: Cells = stale_cells(report_user, created, now, thresholds)
    rotated = [key.last_rotated for key in report_user.keys if key.last_rotated is not None]
    cells["oldest_key"] = Sortable(cells["oldest_key"], _age_seconds(min(rotated), now) if rotated else None)
    cells["last_used"] = Sortable(cells["last_used"], _age_seconds(report_user.keys_last_used, now))
    return cells


def counts_cells(value: UserCounts | errors.S3CredError) -> dict[str, Text | str]:
    if isinstance(value, errors.S3CredError):
        unknown = Text("?", style="dim")
        return {"keys": unknown, "policies": unknown, "groups": unknown}
    return {"keys": keys_cell(value.access_keys), **policy_cells(value)}


class AccountScreen(AwsScreen[None]):
    CSS_PATH = Path(__file__).with_name("account.tcss")
    BINDINGS = [
        Binding("1", "show_tab('buckets')", "Buckets", show=False, id="account.buckets", tooltip="Show the account's S3 buckets"),
        Binding("2", "show_tab('users')", "Users", show=False, id="account.users", tooltip="Show the account's IAM users"),
        Binding("slash", "focus_filter", "Filter", key_display="/", id="account.filter", tooltip="Type to filter the list"),
        Binding(
            "c",
            "create",
            "Create",
            id="account.create",
            tooltip="Least-privilege credentials for the highlighted bucket (on Users: a key for the highlighted user)",
        ),
        Binding("r", "refresh", "Refresh", id="account.refresh", tooltip="Reload buckets and users from AWS"),
        Binding("3", "open_roles", "Roles", id="account.roles", tooltip="The account's IAM roles: who can assume each"),
        Binding("4", "open_groups", "Groups", id="account.groups", tooltip="The account's IAM groups, members and reach"),
        Binding("m", "open_made", "Made here", id="account.made", tooltip="Everything s3cred-tui made; rotate or clean up"),
        Binding("y", "copy_name", "Copy name", show=False, id="account.copy_name", tooltip="Copy the highlighted name"),
        Binding("Y", "copy_arn", "Copy ARN", show=False, id="account.copy_arn", tooltip="Copy the highlighted ARN"),
        Binding("o", "open_console", "Console", show=False, id="account.console", tooltip="Open it in the AWS console"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._generation = 0
        self._load: AccountLoad | None = None
        self._listings: dict[str, Worker[None]] = {}
        # What the workers made, waiting to be placed by `_flush` (rows, then cell updates).
        self._rows_waiting: dict[str, list[Row]] = {"buckets": [], "users": []}
        self._cells_waiting: dict[str, dict[str, Cells]] = {"buckets": {}, "users": {}}
        self._flush_scheduled = False
        # Listings whose last page came, while rows of it may still wait for `_flush`.
        self._listed_all: set[str] = set()

    def compose(self) -> ComposeResult:
        yield IdentityBar()
        with Vertical(id="account-body"):
            with TabbedContent(id="lists", initial="buckets"):
                with TabPane("Buckets [1]", id="buckets"):
                    yield FilterTable(
                        "bucket",
                        BUCKET_COLUMNS,
                        placeholder="Filter buckets by name or region…  (/)",
                        progress_label="Listing S3 buckets",
                        id="bucket-table",
                    )
                with TabPane("IAM users [2]", id="users"):
                    yield FilterTable(
                        "user", USER_COLUMNS, placeholder=f"Filter users…  (/)   {STALE_FILTER} lists stale access",
                        progress_label="Reading IAM users", id="user-table",
                    )
            yield Static(self._hint_text("buckets"), id="account-hint")
        yield Footer()

    def _hint_text(self, tab: str) -> str:
        if self.s3cred_app.read_only:
            return "Enter: open · /: filter · read-only mode: browsing only, nothing can be changed"
        if tab == "users":
            return "Enter: keys, policies and actions for the highlighted user · /: filter · ctrl+p: commands"
        return "Enter: browse the highlighted bucket · c: create credentials for it · /: filter · ctrl+p: commands"

    def on_mount(self) -> None:
        freeze_after_load()
        self.action_refresh()
        self.buckets.focus_table()
        self.set_interval(VISIBLE_EVERY_SECONDS, self._look_up_visible_rows)

    def _look_up_visible_rows(self) -> None:
        """Start per-row lookups for rows on screen that no whole-account read will fill."""
        load = self._load
        if load is None:
            return
        for what, table in (("buckets", self.buckets), ("users", self.users)):
            names = load.rows_to_look_up(what, table.visible_keys())
            if names:
                self.look_up_rows(self._generation, load, what, names)

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

    def loaded_names(self, what: str) -> list[str] | None:
        """Every name of a listing ("users" or "buckets") once it was read to its end; None while it
        loads, or when it failed or was stopped (the create form then says nothing about names)."""
        worker = self._listings.get(what)
        table = self.users if what == "users" else self.buckets
        if worker is None or worker.state is not WorkerState.SUCCESS or table.busy or table.error:
            return None
        return table.keys

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
        self.s3cred_app.ensure_identity()  # whoami failed before: ask again with the lists
        self._generation += 1
        self._rows_waiting = {"buckets": [], "users": []}
        self._cells_waiting = {"buckets": {}, "users": {}}
        self._listed_all = set()
        for table in (self.buckets, self.users):
            table.clear_rows()
            table.expected_total = None
            table.busy = True
        # A fresh load: a superseded lookup worker still holds the old one and drains nothing new.
        head_start = self.s3cred_app.take_account_head_start()
        load = self._load = AccountLoad(InventorySource(self.aws, head_start))
        self._listings = {
            "buckets": self.load_buckets(self._generation, load),
            "users": self.load_users(self._generation, load),
        }
        self.read_policy_counts(self._generation, load)
        self.read_key_report(self._generation, load)

    def action_create(self) -> None:
        if self.active_tab == "buckets":
            bucket = self.buckets.highlighted_key()
            self.open_create([bucket] if bucket else [])
        else:
            self.s3cred_app.open_create([], user=self.users.highlighted_key())

    def _highlighted(self) -> tuple[str, str | None, str | None] | None:
        """(name, ARN, console URL) of the highlighted row of the tab shown, or None."""
        table = self.active_table()
        name = table.highlighted_key()
        if name is None:
            return None
        row = table.row(name) or []
        if self.active_tab == "users":
            identity = self.s3cred_app.identity
            path = str(row[-1]) if row else "/"
            return name, console_links.user_arn(identity.account if identity else None, name, path), console_links.user_url(name)
        region = row[1] if len(row) > 1 and isinstance(row[1], str) else None
        return name, console_links.bucket_arn(name), console_links.bucket_url(name, region)

    def action_copy_name(self) -> None:
        highlighted = self._highlighted()
        if highlighted is not None:
            self.s3cred_app.copy_plain(highlighted[0], "the name")

    def action_copy_arn(self) -> None:
        highlighted = self._highlighted()
        if highlighted is None:
            return
        if highlighted[1] is None:
            self.notify("The account id is not known yet (whoami has not answered).", severity="warning")
            return
        self.s3cred_app.copy_plain(highlighted[1], "the ARN")

    def action_open_console(self) -> None:
        highlighted = self._highlighted()
        if highlighted is not None and highlighted[2] is not None:
            self.s3cred_app.open_in_console(highlighted[2], highlighted[0])

    def open_create(self, buckets: list[str], prefix: str = "") -> None:
        self.s3cred_app.open_create(buckets, prefix)

    def open_bucket(self, name: str) -> None:
        row = self.buckets.row(name)
        region = row[1] if row and isinstance(row[1], str) else None
        self.s3cred_app.open_bucket(name, region=region)

    def open_user(self, name: str) -> None:
        self.s3cred_app.open_user(name)

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
        self.post_message(CountsLoaded(self._generation, inventory.user_counts(self.aws, [name])))

    # -- workers (threads: they only post messages) ---------------------------------------

    # The callbacks below run on the worker's thread: cells are made there, not on the loop.

    def _stale_cells_of(self, users: Mapping[str, tuple[ReportUser, datetime | None]]) -> dict[str, Cells]:
        now = self.s3cred_app.clock()
        thresholds = thresholds_from(getattr(self.s3cred_app, "settings", None))
        cells = {}
        for index, (name, (report_user, created)) in enumerate(users.items()):
            let_the_loop_run(index)
            cells[name] = user_stale_cells(report_user, created, now, thresholds)
        return cells

    @work(thread=True, exclusive=True, exit_on_error=False, group="buckets", name="listing S3 buckets")
    def load_buckets(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()
        load.list_buckets(
            lambda buckets: self.post_message(BucketsPage(generation, [bucket_row(b) for b in buckets])),
            lambda: self.post_message(ListingDone(generation, "buckets")),
            lambda: worker.is_cancelled,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="users", name="listing IAM users")
    def load_users(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()

        def listed(users: list[UserSummary]) -> None:
            rows = [user_row(u) for u in users]
            # Users the report reached first: their stale-access cells are made here.
            stale = self._stale_cells_of(load.reported_of([u.name for u in users]))
            self.post_message(UsersPage(generation, rows, stale))

        load.list_users(listed, lambda: self.post_message(ListingDone(generation, "users")), lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, exit_on_error=False, group="policy-counts", name="reading users' policies")
    def read_policy_counts(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()

        def counted(page: dict[str, PolicyCounts]) -> None:
            self.post_message(PoliciesLoaded(generation, {name: policy_cells(value) for name, value in page.items()}))

        load.read_policy_counts(counted, lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, exit_on_error=False, group="key-report", name="reading the credential report")
    def read_key_report(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()

        def reported(users: dict[str, ReportUser]) -> None:
            cells: dict[str, Cells] = {name: {"keys": keys_cell(user.access_keys)} for name, user in users.items()}
            # Users listed already; the listing makes the others' stale cells when they arrive.
            for name, stale in self._stale_cells_of(load.listed_of(list(users))).items():
                cells[name].update(stale)
            self.post_message(KeysLoaded(generation, cells, load.users_in_report))

        load.read_key_report(reported, lambda: worker.is_cancelled)

    @work(thread=True, exit_on_error=False, group="row-lookups", name="looking up rows on screen")
    def look_up_rows(self, generation: int, load: AccountLoad, what: str, names: list[str]) -> None:
        if what == "buckets":
            load.look_up_buckets(names, lambda regions: self.post_message(RegionsLoaded(generation, regions)))
        else:
            load.look_up_users(names, lambda counts: self.post_message(CountsLoaded(generation, counts)))

    # -- results (event loop) ---------------------------------------------------------------

    def on_buckets_page(self, message: BucketsPage) -> None:
        if message.generation == self._generation:
            self._rows_waiting["buckets"].extend(message.rows)
            self._schedule_flush()

    def on_regions_loaded(self, message: RegionsLoaded) -> None:
        if message.generation == self._generation:
            self._cells_arrived("buckets", {name: {"region": region_cell(r)} for name, r in message.regions.items()})

    def on_users_page(self, message: UsersPage) -> None:
        if message.generation == self._generation:
            self._rows_waiting["users"].extend(message.rows)
            self._cells_arrived("users", message.stale)

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        if message.generation == self._generation:
            self._cells_arrived("users", {name: counts_cells(value) for name, value in message.counts.items()})

    def on_policies_loaded(self, message: PoliciesLoaded) -> None:
        if message.generation == self._generation:
            self._cells_arrived("users", message.cells)

    def on_keys_loaded(self, message: KeysLoaded) -> None:
        if message.generation == self._generation:
            self.users.expected_total = message.users_in_report
            self._cells_arrived("users", message.cells)

    def _cells_arrived(self, what: str, cells: Mapping[str, Cells]) -> None:
        waiting = self._cells_waiting[what]
        for name, values in cells.items():
            waiting.setdefault(name, {}).update(values)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        # After the messages already queued: what arrives together is placed together.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    def _flush(self) -> None:
        """Place what the workers made: at most `ROWS_PER_FLUSH` rows and `UPDATES_PER_FLUSH`
        rows' cell updates per list, then the next turn of the loop goes on."""
        self._flush_scheduled = False
        more = placed = False
        for what, table in (("buckets", self.buckets), ("users", self.users)):
            rows = self._rows_waiting[what]
            if rows:
                table.add_rows(rows[:ROWS_PER_FLUSH])
                del rows[:ROWS_PER_FLUSH]
                placed = True
            cells = self._cells_waiting[what]
            if cells:
                names = list(cells)[:UPDATES_PER_FLUSH]
                table.update_cells({name: cells.pop(name) for name in names})
            more = more or bool(rows) or bool(cells)
        if placed:
            # Rows live as long as the list: no full collection (run by whichever thread
            # allocates, holding the GIL) should walk them again while the rest loads.
            freeze_after_load()
        if more:
            self._schedule_flush()
        self._end_listings_placed()
        self._look_up_visible_rows()

    def action_open_roles(self) -> None:
        self.s3cred_app.open_roles()

    def action_open_groups(self) -> None:
        self.s3cred_app.open_groups()

    def action_open_made(self) -> None:
        self.s3cred_app.open_made()

    def on_listing_done(self, message: ListingDone) -> None:
        if message.generation == self._generation:
            self._listed_all.add(message.what)
            self._end_listings_placed()

    def _end_listings_placed(self) -> None:
        """A listing is done once AWS gave its last page and `_flush` placed its last row."""
        for what in list(self._listed_all):
            if not self._rows_waiting[what]:
                self._listed_all.discard(what)
                (self.users if what == "users" else self.buckets).busy = False
                freeze_after_load()
                self._look_up_visible_rows()

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
