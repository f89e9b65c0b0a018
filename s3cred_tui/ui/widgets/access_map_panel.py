"""Which IAM users (and roles, groups and bucket-policy principals) can list / read / write /
delete in a bucket at a prefix.

Mount it with one line on a bucket's detail screen:

    yield AccessMapPanel(self.bucket, prefix=self.highlighted_prefix())

Users and their policies are read once, in a thread worker that stops between pages when
cancelled; boundaries are fetched once per ARN. The bucket policy is one S3 call; groups are the
users' own (members from the same read); roles are read (one authorization-details pass) when
"Roles" is ticked, so a bucket opens with no IAM call beyond the users' pass.
The users' table is evaluated with the bucket policy; a second table lists roles, groups and the
principals only the bucket policy names (hidden when none has access). Changing the prefix
re-evaluates from memory (in a worker too, since thousands of users take a moment) without
calling AWS again.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Checkbox, DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.access_map import (
    CAPABILITIES,
    UserAccess,
    access_map,
    fetch_boundary_documents,
    fetch_bucket_policy,
    group_access_map,
    role_access_map,
)
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import RoleDetail, UserDetail, iter_authorization_details, iter_role_details
from s3cred_tui.core.reach import bucket_policy_access
from s3cred_tui.core.request import PrefixMode
from s3cred_tui.core.simulate import Decision
from s3cred_tui.core.validation import normalise_prefix
from s3cred_tui.ui import formatting
from s3cred_tui.ui.base import AppContext, ReportsWorkerFailures
from s3cred_tui.ui.memory import freeze_after_load
from s3cred_tui.ui.pacing import ROWS_BETWEEN_YIELDS, give_the_loop_a_turn, rows_per_step
from s3cred_tui.ui.widgets.motion import MotionDataTable, MotionScroll

# Users evaluated between cancellation checks (and turns given to the event loop).
EVALUATION_CHUNK = ROWS_BETWEEN_YIELDS


def _load_css() -> str:
    return Path(__file__).with_name("access_map_panel.tcss").read_text(encoding="utf-8")


def mark(decision: Decision | None) -> Text:
    if decision is None:
        return Text("!", style="bold yellow")
    return Text("✓", style="bold green") if decision.allowed else Text("✗", style="red")


def note_for(entry: UserAccess) -> Text:
    if entry.error:
        return Text(entry.error, style="yellow")
    parts = []
    if entry.boundary_arn:
        parts.append(f"boundary {entry.boundary_arn.rsplit('/', 1)[-1]}")
    parts.extend(entry.notes)
    return Text("; ".join(parts), style="dim")


def explain(entry: UserAccess) -> Text:
    """The why behind a row: one line per capability with its deciding statements."""
    text = Text(entry.user if entry.kind == "user" else f"{entry.kind} {entry.user}", style="bold")
    if entry.via:
        text.append(f" ({entry.via})", style="dim")
    if entry.error:
        text.append(f"\n{entry.error}", style="yellow")
        return text
    for capability in CAPABILITIES:
        decision = entry.decision(capability)
        assert decision is not None
        text.append(f"\n{capability}: ", style="bold")
        text.append(decision.reason, style="green" if decision.allowed else "")
    for note in entry.notes:
        text.append(f"\n{note}", style="yellow")
    return text


class AccessMapPanel(AppContext, ReportsWorkerFailures, Vertical):
    """A table of users × capabilities for `bucket` at `prefix` (from IAM policies; bucket policies not included)."""

    DEFAULT_CSS = _load_css()

    class Loaded(Message):
        def __init__(
            self,
            details: list[Any],
            boundaries: dict[str, Any],
            roles: list[RoleDetail] | None = None,
            bucket_policy: dict | None = None,
            bucket_policy_problem: str | None = None,
        ) -> None:
            super().__init__()
            self.details = details
            self.boundaries = boundaries
            self.roles = roles or []
            self.bucket_policy = bucket_policy
            self.bucket_policy_problem = bucket_policy_problem

    class RolesRead(Message):
        def __init__(self, roles: list[RoleDetail], boundaries: dict[str, Any]) -> None:
            super().__init__()
            self.roles = roles
            self.boundaries = boundaries

    class Progress(Message):
        def __init__(self, scanned: int) -> None:
            super().__init__()
            self.scanned = scanned

    class Evaluated(Message):
        def __init__(
            self, generation: int, prefix: str, entries: list[UserAccess], others: list[UserAccess] | None = None
        ) -> None:
            super().__init__()
            self.generation = generation
            self.prefix = prefix
            self.entries = entries
            self.others = others or []

    def __init__(self, bucket: str, prefix: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bucket = bucket
        self.initial_prefix = prefix
        self.prefix = prefix
        self.details: list[Any] | None = None
        self.boundaries: dict[str, Any] = {}
        self.entries: list[UserAccess] = []
        # Roles, groups and principals only the bucket policy names (the second table).
        self.others: list[UserAccess] = []
        self.roles: list[RoleDetail] = []
        self.bucket_policy: dict | None = None
        self.bucket_policy_problem: str | None = None
        self.generation = 0
        self.border_title = f"Who can do what in {bucket}"
        self.border_subtitle = "IAM policies only, not bucket policies"

    def compose(self) -> ComposeResult:
        with Horizontal(id="map-controls"):
            yield Label("At prefix", id="map-prefix-label")
            yield Input(
                self.initial_prefix,
                placeholder="(whole bucket)",
                compact=True,
                id="map-prefix",
                tooltip="Re-evaluate at another prefix (no AWS calls)",
            )
            yield Checkbox(
                "Users with no access", False, compact=True, id="map-show-all", tooltip="Also list users who can do nothing here"
            )
            yield Checkbox(
                "Roles", False, compact=True, id="map-roles",
                tooltip="Also read the account's roles (one more pass over IAM) and show what their sessions can do here",
            )
        yield Static("Reading IAM users and policies…", id="map-status")
        table: DataTable[Any] = MotionDataTable(cursor_type="row", id="map-table")
        table.add_column("User", key="user")
        for capability in CAPABILITIES:
            table.add_column(capability.capitalize(), key=capability)
        table.add_column("Notes", key="notes")
        yield table
        others: DataTable[Any] = MotionDataTable(cursor_type="row", id="map-others", classes="hidden")
        others.add_column("Role, group or bucket-policy principal", key="who")
        for capability in CAPABILITIES:
            others.add_column(capability.capitalize(), key=capability)
        others.add_column("Notes", key="notes")
        yield others
        # The why of the highlighted row, whole: it scrolls (focus it with Tab, then j/k) rather than being cut.
        with MotionScroll(id="map-why-scroll"):
            yield Static("", id="map-why")

    def on_mount(self) -> None:
        self.load()

    # -- loading (AWS) -----------------------------------------------------------------------

    def load(self) -> None:
        """(Re)read users, policies and boundaries from AWS, then evaluate."""
        self.details = None
        self._status("Reading IAM users and policies…")
        self._read_account()

    @work(thread=True, exclusive=True, exit_on_error=False, group="access-map-load", name="reading IAM users and policies")
    def _read_account(self) -> None:
        worker = get_current_worker()
        details: list[UserDetail] = []
        for page in iter_authorization_details(self.aws):
            if worker.is_cancelled:
                return
            details.extend(page)
            self.post_message(self.Progress(len(details)))
        if worker.is_cancelled:
            return
        bucket_policy, problem = None, None
        try:
            bucket_policy = fetch_bucket_policy(self.aws, self.bucket)
        except S3CredError as exc:
            problem = exc.message
        boundaries = fetch_boundary_documents(self.aws, [d.boundary_arn for d in details])
        if not worker.is_cancelled:
            self.post_message(self.Loaded(details, boundaries, None, bucket_policy, problem))
        if self.query_one("#map-roles", Checkbox).value:
            self._read_roles()

    @work(thread=True, exclusive=True, exit_on_error=False, group="access-map-roles", name="reading IAM roles")
    def _read_roles(self) -> None:
        worker = get_current_worker()
        roles: list[RoleDetail] = []
        for page in iter_role_details(self.aws):
            if worker.is_cancelled:
                return
            roles.extend(page)
        boundaries = fetch_boundary_documents(self.aws, [r.boundary_arn for r in roles])
        if not worker.is_cancelled:
            self.post_message(self.RolesRead(roles, boundaries))

    def on_access_map_panel_roles_read(self, message: RolesRead) -> None:
        message.stop()
        self.roles = message.roles
        self.boundaries = {**self.boundaries, **message.boundaries}
        self.evaluate_prefix(self.query_one("#map-prefix", Input).value)

    @on(Checkbox.Changed, "#map-roles")
    def _roles_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if event.value:
            self._status("Reading IAM roles…")
            self._read_roles()
        else:
            self.roles = []
            self.evaluate_prefix(self.query_one("#map-prefix", Input).value)

    def on_access_map_panel_progress(self, message: Progress) -> None:
        message.stop()
        self._status(f"Reading IAM users and policies… {message.scanned:,} users so far")

    def on_access_map_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        self.details = message.details
        # Every user's IAM details, kept as long as the bucket is open: out of full collections.
        freeze_after_load()
        self.boundaries = message.boundaries
        self.bucket_policy = message.bucket_policy
        self.bucket_policy_problem = message.bucket_policy_problem
        self.border_subtitle = (
            "IAM policies and the bucket policy" if self.bucket_policy is not None
            else "IAM policies; the bucket has no policy" if self.bucket_policy_problem is None
            else "IAM policies only: the bucket policy could not be read"
        )
        self.evaluate_prefix(self.query_one("#map-prefix", Input).value)

    # -- evaluating (pure) -------------------------------------------------------------------

    def evaluate_prefix(self, typed: str) -> None:
        try:
            prefix = normalise_prefix(typed, PrefixMode.LITERAL)
        except S3CredError as exc:
            self._status(Text(exc.message, style="bold red"))
            return
        if self.details is None:
            return
        self.generation += 1
        self._status(f"Evaluating {formatting.count(len(self.details), 'user')} at s3://{self.bucket}/{prefix}…")
        self._evaluate(self.generation, list(self.details), prefix)

    # A description of its own: Textual's default one is the repr of every argument, made on the
    # event loop (5,000 users' details: ~60 ms).
    @work(
        thread=True, exclusive=True, exit_on_error=False, group="access-map-eval", name="evaluating policies",
        description="evaluating every user's policies for the access map",
    )  # fmt: skip
    def _evaluate(self, generation: int, details: list[Any], prefix: str) -> None:
        worker = get_current_worker()
        entries: list[UserAccess] = []
        policy = self.bucket_policy
        for start in range(0, len(details), EVALUATION_CHUNK):
            if worker.is_cancelled:
                return
            entries.extend(
                access_map(details[start : start + EVALUATION_CHUNK], self.bucket, prefix, self.boundaries, policy)
            )
            give_the_loop_a_turn()
        others = role_access_map(self.roles, self.bucket, prefix, self.boundaries, policy)
        others += group_access_map(details, self.bucket, prefix)
        known = [d.summary.arn for d in details] + [r.arn for r in self.roles]
        others += bucket_policy_access(policy, self.bucket, prefix, self._account(details), known)
        if not worker.is_cancelled:
            self.post_message(self.Evaluated(generation, prefix, entries, others))

    def _account(self, details: list[Any]) -> str | None:
        """The bucket's account: the signed-in identity's, else the one the users' ARNs name."""
        identity = self.s3cred_app.identity
        if identity is not None:
            return identity.account
        arns = [d.summary.arn for d in details] + [r.arn for r in self.roles]
        parts = next((a.split(":") for a in arns if a and a.count(":") >= 5), None)
        return parts[4] if parts else None

    async def on_access_map_panel_evaluated(self, message: Evaluated) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.prefix = message.prefix
        self.entries = message.entries
        self.others = message.others
        await self._fill_table()

    @on(Input.Changed, "#map-prefix")
    def _prefix_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.evaluate_prefix(event.value)

    @on(Checkbox.Changed, "#map-show-all")
    async def _show_all_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        await self._fill_table()

    # -- table -------------------------------------------------------------------------------

    @property
    def show_all(self) -> bool:
        return self.query_one("#map-show-all", Checkbox).value

    def visible_entries(self) -> list[UserAccess]:
        show_all = self.show_all  # a query: once, not once per user
        return [e for e in self.entries if show_all or e.has_any_access or e.error]

    async def _fill_table(self) -> None:
        generation = self.generation
        table = self.query_one("#map-table", DataTable)
        table.clear()
        visible = self.visible_entries()
        start = 0
        while start < len(visible):
            # A frame's worth of rows where they land on screen, larger steps below it (`ui.pacing`).
            # The table grows with its rows (its height now is not how many it will show): up to a
            # screen's height of rows counts as landing on screen.
            on_screen = start < int(table.scroll_y) + max(table.size.height, self.app.size.height)
            stop = start + rows_per_step(len(table.columns), on_screen)
            for entry in visible[start:stop]:
                table.add_row(
                    Text(entry.user),
                    *(mark(entry.decision(c)) for c in CAPABILITIES),
                    note_for(entry),
                    key=entry.user,
                )
            start = stop
            if on_screen:
                # The table's wait: this runs in the panel's own task, whose own wait returns at once.
                await table.wait_for_refresh()
            else:
                await asyncio.sleep(0)  # let keys and repaints through between steps
            if generation != self.generation:
                return
        self._fill_others()
        hidden = len(self.entries) - len(visible)
        with_access = sum(1 for e in self.entries if e.has_any_access)
        status = (
            f"s3://{self.bucket}/{self.prefix}: {formatting.count(with_access, 'user')} with some access"
            f" of {len(self.entries):,}"
        )
        if hidden:
            status += f" · {hidden:,} without access hidden"
        if self.bucket_policy_problem:
            status += f" · the bucket policy could not be read ({self.bucket_policy_problem}): not included"
        self._status(status)
        self._explain_highlighted()

    def visible_others(self) -> list[UserAccess]:
        show_all = self.show_all
        return [e for e in self.others if show_all or e.has_any_access or e.error]

    def _fill_others(self) -> None:
        """Roles, groups and bucket-policy principals: a table of their own, shown only when it has rows."""
        table = self.query_one("#map-others", DataTable)
        table.clear()
        for entry in self.visible_others():
            label = Text(f"{entry.kind} ", style="dim")
            label.append(entry.user)
            if entry.via:
                label.append(f" ({entry.via})", style="dim")
            table.add_row(label, *(mark(entry.decision(c)) for c in CAPABILITIES), note_for(entry),
                          key=f"{entry.kind} {entry.user}")
        table.set_class(table.row_count == 0, "hidden")

    def other(self, kind: str, name: str) -> UserAccess | None:
        return next((e for e in self.others if e.kind == kind and e.user == name), None)

    @on(DataTable.RowHighlighted, "#map-others")
    def _other_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        entry = next((e for e in self.others if f"{e.kind} {e.user}" == event.row_key.value), None)
        self.query_one("#map-why", Static).update(explain(entry) if entry is not None else "")

    @on(DataTable.RowHighlighted, "#map-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._explain_highlighted()

    def _explain_highlighted(self) -> None:
        table = self.query_one("#map-table", DataTable)
        why = self.query_one("#map-why", Static)
        if table.row_count == 0:
            why.update("")
            return
        row_key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key
        entry = next((e for e in self.entries if e.user == row_key.value), None)
        why.update(explain(entry) if entry is not None else "")

    def entry(self, user: str) -> UserAccess | None:
        return next((e for e in self.entries if e.user == user), None)

    def _status(self, text: str | Text) -> None:
        self.query_one("#map-status", Static).update(text)

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.state is WorkerState.ERROR and worker.group in ("access-map-load", "access-map-eval", "access-map-roles"):
            message = getattr(worker.error, "message", None) or str(worker.error)
            self._status(Text(f"Could not build the access map: {message}", style="bold red"))
