"""The main screen: who you are, and the account's buckets and IAM users.

The screen shows; `ui.loading` decides what is asked of AWS and for which rows. Each worker
below runs one `AccountLoad` method and posts what it hands over as a message: the two
listings and the two whole-account reads start together, and per-row lookups start for rows
on screen that those cannot fill.
"""

from __future__ import annotations

import gc
from datetime import datetime
from pathlib import Path

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
from s3cred_tui.core.stale import thresholds_from
from s3cred_tui.ui import console_links, formatting
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.loading import AccountLoad, InventorySource
from s3cred_tui.ui.stale_columns import (
    STALE_COLUMNS,
    STALE_FILTER,
    pending_cells,
    stale_cells,
)
from s3cred_tui.ui.widgets.filter_table import FilterTable
from s3cred_tui.ui.widgets.identity_bar import IdentityBar

# How often the rows on screen are checked for cells only a per-row lookup can fill.
VISIBLE_EVERY_SECONDS = 0.25


# Messages the workers post. Each carries the `generation` of the load that produced it, so
# a page from a load that a refresh has superseded (thread workers cannot be killed) is
# recognised and dropped.


class BucketsPage(Message):
    def __init__(self, generation: int, buckets: list[BucketSummary]) -> None:
        super().__init__()
        self.generation = generation
        self.buckets = buckets


class RegionsLoaded(Message):
    def __init__(self, generation: int, regions: dict[str, str | errors.S3CredError]) -> None:
        super().__init__()
        self.generation = generation
        self.regions = regions


class UsersPage(Message):
    def __init__(self, generation: int, users: list[UserSummary]) -> None:
        super().__init__()
        self.generation = generation
        self.users = users


class CountsLoaded(Message):
    """Keys, policies and groups of users looked up one by one."""

    def __init__(self, generation: int, counts: dict[str, UserCounts | errors.S3CredError]) -> None:
        super().__init__()
        self.generation = generation
        self.counts = counts


class PoliciesLoaded(Message):
    """Policy and group counts of a page of users, from the one-pass read."""

    def __init__(self, generation: int, policies: dict[str, PolicyCounts]) -> None:
        super().__init__()
        self.generation = generation
        self.policies = policies


class KeysLoaded(Message):
    """Users' keys from the credential report."""

    def __init__(self, generation: int, keys: dict[str, ReportUser]) -> None:
        super().__init__()
        self.generation = generation
        self.keys = keys


class ListingDone(Message):
    """A listing reached its last page (`what` is "buckets" or "users")."""

    def __init__(self, generation: int, what: str) -> None:
        super().__init__()
        self.generation = generation
        self.what = what


def _keep_out_of_full_collections() -> None:
    """Move every object alive now out of the collector's reach (`gc.freeze`).

    Measured at 5,000 users: each full collection re-scanned the imported modules, the
    botocore models and every row, holding the event loop for 70-140 ms. Those live as
    long as the screen; rows dropped by a refresh are acyclic and still freed by
    reference counting.
    """
    gc.freeze()


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


def policy_cells(value: PolicyCounts | UserCounts) -> dict[str, Text | str]:
    policies = value.inline_policies + value.attached_policies
    return {
        "policies": f"{policies} ({value.inline_policies} inline)" if value.inline_policies else str(policies),
        "groups": str(value.groups),
    }


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
        # For the stale columns: users' creation dates (listing) and keys (credential report).
        self._created: dict[str, datetime | None] = {}
        self._reports: dict[str, ReportUser] = {}

    def compose(self) -> ComposeResult:
        yield IdentityBar()
        with Vertical(id="account-body"):
            with TabbedContent(id="lists", initial="buckets"):
                with TabPane("Buckets [1]", id="buckets"):
                    yield FilterTable(
                        "bucket", BUCKET_COLUMNS, placeholder="Filter buckets by name or region…  (/)", id="bucket-table"
                    )
                with TabPane("IAM users [2]", id="users"):
                    yield FilterTable(
                        "user", USER_COLUMNS, placeholder=f"Filter users…  (/)   {STALE_FILTER} lists stale access",
                        id="user-table",
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
        _keep_out_of_full_collections()
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
        self._created, self._reports = {}, {}
        for table in (self.buckets, self.users):
            table.clear_rows()
            table.busy = True
        # A fresh load: a superseded lookup worker still holds the old one and drains nothing new.
        load = self._load = AccountLoad(InventorySource(self.aws))
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="buckets", name="listing S3 buckets")
    def load_buckets(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()
        load.list_buckets(
            lambda rows: self.post_message(BucketsPage(generation, rows)),
            lambda: self.post_message(ListingDone(generation, "buckets")),
            lambda: worker.is_cancelled,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="users", name="listing IAM users")
    def load_users(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()
        load.list_users(
            lambda rows: self.post_message(UsersPage(generation, rows)),
            lambda: self.post_message(ListingDone(generation, "users")),
            lambda: worker.is_cancelled,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="policy-counts", name="reading users' policies")
    def read_policy_counts(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()
        load.read_policy_counts(lambda page: self.post_message(PoliciesLoaded(generation, page)), lambda: worker.is_cancelled)

    @work(thread=True, exclusive=True, exit_on_error=False, group="key-report", name="reading the credential report")
    def read_key_report(self, generation: int, load: AccountLoad) -> None:
        worker = get_current_worker()
        load.read_key_report(lambda keys: self.post_message(KeysLoaded(generation, keys)), lambda: worker.is_cancelled)

    @work(thread=True, exit_on_error=False, group="row-lookups", name="looking up rows on screen")
    def look_up_rows(self, generation: int, load: AccountLoad, what: str, names: list[str]) -> None:
        if what == "buckets":
            load.look_up_buckets(names, lambda regions: self.post_message(RegionsLoaded(generation, regions)))
        else:
            load.look_up_users(names, lambda counts: self.post_message(CountsLoaded(generation, counts)))

    # -- results (event loop) ---------------------------------------------------------------

    def on_buckets_page(self, message: BucketsPage) -> None:
        if message.generation != self._generation:
            return
        self.buckets.add_rows(
            (b.name, [b.name, b.region or PENDING, formatting.date(b.created)]) for b in message.buckets
        )
        self._look_up_visible_rows()

    def on_regions_loaded(self, message: RegionsLoaded) -> None:
        if message.generation != self._generation:
            return
        self.buckets.update_cells({name: {"region": region_cell(region)} for name, region in message.regions.items()})

    def on_users_page(self, message: UsersPage) -> None:
        if message.generation != self._generation:
            return
        self.users.add_rows(
            (u.name, [u.name, formatting.date(u.created), PENDING, PENDING, PENDING, *pending_cells(PENDING), u.path or "/"])
            for u in message.users
        )
        self._created.update({u.name: u.created for u in message.users})
        self._show_stale([u.name for u in message.users if u.name in self._reports])
        self._look_up_visible_rows()

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        if message.generation != self._generation:
            return
        self.users.update_cells({name: counts_cells(value) for name, value in message.counts.items()})

    def on_policies_loaded(self, message: PoliciesLoaded) -> None:
        if message.generation != self._generation:
            return
        self.users.update_cells({name: policy_cells(value) for name, value in message.policies.items()})

    def on_keys_loaded(self, message: KeysLoaded) -> None:
        if message.generation != self._generation:
            return
        self.users.update_cells({name: {"keys": keys_cell(user.access_keys)} for name, user in message.keys.items()})
        self._reports.update(message.keys)
        self._show_stale(list(message.keys))

    def _show_stale(self, names: list[str]) -> None:
        """Stale-access cells of users whose keys the credential report gave (flags per `core.stale`)."""
        if not names:
            return
        now = self.s3cred_app.clock()
        thresholds = thresholds_from(getattr(self.s3cred_app, "settings", None))
        self.users.update_cells(
            {name: stale_cells(self._reports[name], self._created.get(name), now, thresholds) for name in names}
        )

    def action_open_roles(self) -> None:
        self.s3cred_app.open_roles()

    def action_open_groups(self) -> None:
        self.s3cred_app.open_groups()

    def action_open_made(self) -> None:
        self.s3cred_app.open_made()

    def on_listing_done(self, message: ListingDone) -> None:
        if message.generation == self._generation:
            (self.users if message.what == "users" else self.buckets).busy = False
            _keep_out_of_full_collections()
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
