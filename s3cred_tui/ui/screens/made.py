"""Made by s3cred-tui: every user, role and bucket carrying its tag, and a reviewed cleanup.

What is shown is read by `core.made.find_made` (reach read back from the policies through the
evaluator, key ages and last use, who can assume each role); staleness follows the thresholds
of the settings. The cleanup is `core.cleanup`: the plan is read first and shown whole in the
question (what goes, what cannot be undone, what is kept and why), then applied with every
step listed here as it runs; Esc stops it between steps and puts back what it can of the item
under way. The result says what was removed, put back, and left.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Footer, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.apply import ApplyEvent
from s3cred_tui.core.cleanup import (
    CleanupPlan,
    CleanupResult,
    apply_cleanup,
    plan_cleanup,
)
from s3cred_tui.core.made import (
    MadeInventory,
    MadeRole,
    MadeUser,
    describe_reach,
    find_made,
)
from s3cred_tui.core.stale import stale_word, thresholds_from
from s3cred_tui.ui import formatting
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.error import ErrorModal, MessageModal
from s3cred_tui.ui.widgets.motion import MotionDataTable, MotionScroll

# How many cleanup events stay on screen.
EVENT_LINES = 8
EVENT_LOOK = {
    "running": ("…", "bold"),
    "done": ("✓", "green"),
    "failed": ("✗", "bold red"),
    "cancelled": ("–", "dim"),
    "rolling-back": ("↺", "yellow"),
    "undone": ("↺", "yellow"),
    "undo-failed": ("✗", "bold red"),
}


class MadeLoaded(Message):
    def __init__(self, made: MadeInventory) -> None:
        super().__init__()
        self.made = made


class CleanupPlanned(Message):
    def __init__(self, plan: CleanupPlan) -> None:
        super().__init__()
        self.plan = plan


class CleanupProgress(Message):
    def __init__(self, event: ApplyEvent) -> None:
        super().__init__()
        self.event = event


class CleanupFinished(Message):
    def __init__(self, result: CleanupResult) -> None:
        super().__init__()
        self.result = result


def cleanup_question(plan: CleanupPlan) -> str:
    count = len(plan.items)
    return (
        f"Remove {formatting.count(count, 'item')} that s3cred-tui made?\n\n{plan.describe()}\n\n"
        "Anything using these users' keys or this role stops working at once. A failure part-way puts back what "
        "it can of the item under way; deleted access keys cannot come back."
    )


def user_detail(user: MadeUser, now: Any) -> Text:
    text = Text(f"User {user.name}\n", style="bold")
    text.append("Reach: ", style="dim")
    text.append(describe_reach(user.reach) + "\n")
    text.append("Policies: ", style="dim")
    text.append((", ".join(user.policies) or "none") + "\n")
    text.append("Boundary: ", style="dim")
    text.append((user.boundary_arn or "none") + "\n")
    text.append("Console password: ", style="dim")
    text.append(("yes" if user.console_access else "no") + "\n")
    for key in user.keys:
        text.append(f"Key {key.id} ", style="dim")
        used = f"last used {formatting.last_used(key.last_used, key.last_used_service, now)}" if key.last_used else "never used"
        text.append(f"{key.status.lower()}, {formatting.age(key.created, now)} old, {used}\n")
    for reason in user.stale.reasons:
        text.append(f"! {reason}\n", style="yellow")
    for note in user.notes:
        text.append(f"{note}\n", style="yellow")
    return text


def role_detail(role: MadeRole, now: Any) -> Text:
    text = Text(f"Role {role.name}" + (" (the helper role)" if role.is_helper else "") + "\n", style="bold")
    text.append("Reach: ", style="dim")
    text.append(describe_reach(role.reach))
    if role.is_helper:
        text.append(" (each session is narrowed by its session policy)", style="dim")
    text.append("\nPolicies: ", style="dim")
    text.append((", ".join(role.policies) or "none") + "\n")
    text.append("Last used: ", style="dim")
    text.append(formatting.last_used(role.last_used, None, now) + "\n")
    text.append("Who can assume it (the policy evaluator):\n", style="dim")
    for entry in role.trust:
        mark, style = ("✓", "green") if entry.allowed else ("✗", "red")
        text.append(f" {mark} ", style=style)
        text.append(entry.who)
        if entry.conditional:
            text.append(f" when {', '.join(entry.conditional)} match", style="yellow")
        text.append("\n")
    if not role.trust:
        text.append(" nobody\n")
    if role.only_you is not None and not role.only_you.ok:
        text.append("Not only you: ", style="yellow")
        text.append(" ".join(role.only_you.reasons) + "\n")
    return text


class MadeScreen(AwsScreen[None]):
    # Focus lands on the list (not the filter box or whatever comes first), so keys work at once.
    AUTO_FOCUS = "#made-users"
    CSS_PATH = Path(__file__).with_name("made.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="made.back", tooltip="Back (stops a cleanup under way first)"),
        Binding("space", "mark", "Mark", id="made.mark", tooltip="Mark or unmark the highlighted item for cleanup"),
        Binding("x", "cleanup", "Clean up…", id="made.cleanup", tooltip="Remove the marked items (or all of them), after review"),
        Binding("t", "rotate", "Rotate key…", id="made.rotate", tooltip="Rotate an access key of the highlighted user"),
        Binding("enter", "open", "Open", id="made.open", tooltip="Open the highlighted user"),
        Binding("r", "refresh", "Refresh", id="made.refresh", tooltip="Read everything again"),
    ]
    WORKER_ERROR_TITLES = {
        "made-load": "Could not read what s3cred-tui made",
        "cleanup-plan": "Could not plan the cleanup",
        "cleanup": "The cleanup failed",
    }

    def __init__(self) -> None:
        super().__init__()
        self.made: MadeInventory | None = None
        self.marked: set[str] = set()
        self.cleanup_worker: Worker[None] | None = None
        # Esc asks the cleanup to stop between steps (the worker itself runs to its rollback's end).
        self.stop_cleanup = threading.Event()
        self.events: list[ApplyEvent] = []
        self._table_id = "made-users"

    def compose(self) -> ComposeResult:
        yield Static(Text("Made by s3cred-tui   reading…", style="bold"), id="made-title")
        with Horizontal(id="made-body"):
            with MotionScroll(id="made-lists"):
                yield Static("Users", id="made-users-title", classes="section-title")
                yield self._table("made-users", ("✓", "User", "Stale", "Active keys", "Oldest key", "Last used", "Reach"))
                yield Static("Roles", id="made-roles-title", classes="section-title")
                yield self._table("made-roles", ("✓", "Role", "Who can assume it", "Last used", "Reach"))
                yield Static("Buckets", id="made-buckets-title", classes="section-title")
                yield self._table("made-buckets", ("✓", "Bucket", "Region", "Created (UTC)"))
            with MotionScroll(id="made-detail"):
                yield Static("", id="made-why")
        yield Static("", id="made-progress")
        yield Footer()

    @staticmethod
    def _table(table_id: str, columns: tuple[str, ...]) -> MotionDataTable:
        table = MotionDataTable(cursor_type="row", id=table_id, classes="made-table")
        for column in columns:
            table.add_column(column)
        return table

    def on_mount(self) -> None:
        self.query_one("#made-users", MotionDataTable).focus()
        self.action_refresh()

    # -- reading ----------------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.cleanup_worker is not None and self.cleanup_worker.is_running:
            self.notify("A cleanup is under way; refresh once it ends.", severity="warning")
            return
        self.query_one("#made-title", Static).update(Text("Made by s3cred-tui   reading…", style="bold"))
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="made-load", name="reading what s3cred-tui made")
    def load(self) -> None:
        app = self.s3cred_app
        made = find_made(
            self.aws,
            identity=app.identity,
            now=app.clock(),
            thresholds=thresholds_from(getattr(app, "settings", None)),
            is_cancelled=lambda: get_current_worker().is_cancelled,
        )
        if not get_current_worker().is_cancelled:
            self.post_message(MadeLoaded(made))

    def on_made_loaded(self, message: MadeLoaded) -> None:
        self.made = message.made
        self.marked &= set(self._labels())
        self._fill()

    def _labels(self) -> list[str]:
        made = self.made
        if made is None:
            return []
        return ([f"user {u.name}" for u in made.users] + [f"role {r.name}" for r in made.roles]
                + [f"bucket {b.name}" for b in made.buckets])

    def _mark_cell(self, label: str) -> Text:
        return Text("✓", style="bold yellow") if label in self.marked else Text(" ")

    def _fill(self) -> None:
        made = self.made
        if made is None:
            return
        now = self.s3cred_app.clock()
        users = self.query_one("#made-users", MotionDataTable)
        roles = self.query_one("#made-roles", MotionDataTable)
        buckets = self.query_one("#made-buckets", MotionDataTable)
        for table in (users, roles, buckets):
            table.clear()
        for user in made.users:
            oldest = f"{user.stale.oldest_key_days} days" if user.stale.oldest_key_days is not None else "—"
            stale = stale_word(user.stale)
            users.add_row(
                self._mark_cell(f"user {user.name}"),
                user.name,
                Text(stale, style="bold yellow") if stale else "",
                f"{user.stale.active_keys} of {len(user.keys)}",
                oldest,
                formatting.last_used(user.stale.last_used, user.stale.last_used_service, now),
                describe_reach(user.reach),
                key=user.name,
            )
        for role in made.roles:
            who = ", ".join(e.who for e in role.can_assume) or "nobody"
            roles.add_row(
                self._mark_cell(f"role {role.name}"),
                role.name + (" (helper)" if role.is_helper else ""),
                Text(who, style="" if role.only_you is None or role.only_you.ok else "yellow"),
                formatting.last_used(role.last_used, None, now),
                describe_reach(role.reach),
                key=role.name,
            )
        for bucket in made.buckets:
            buckets.add_row(
                self._mark_cell(f"bucket {bucket.name}"), bucket.name, bucket.region or "—", formatting.date(bucket.created),
                key=bucket.name,
            )
        for what, count in (("users", len(made.users)), ("roles", len(made.roles)), ("buckets", len(made.buckets))):
            self.query_one(f"#made-{what}-title", Static).update(f"{what.capitalize()} ({count})" if count else
                                                                 f"{what.capitalize()}: none")
        self._show_title()
        self._explain()

    def _show_title(self) -> None:
        made = self.made
        if made is None:
            return
        title = Text("Made by s3cred-tui   ", style="bold")
        title.append(
            f"{formatting.count(len(made.users), 'user')} · {formatting.count(len(made.roles), 'role')} · "
            f"{formatting.count(len(made.buckets), 'bucket')}",
            style="dim",
        )
        if self.marked:
            title.append(f" · {len(self.marked)} marked", style="yellow")
        for problem in made.problems:
            title.append(f"\n{problem}", style="yellow")
        self.query_one("#made-title", Static).update(title)

    # -- what is highlighted ----------------------------------------------------------------

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Filling the three tables highlights a row in each: only the focused one is "highlighted".
        if event.data_table.id == self._table_id:
            self._explain()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        if event.widget.id in ("made-users", "made-roles", "made-buckets"):
            self._table_id = event.widget.id
            self._explain()

    def _highlighted_item(self) -> tuple[str, str] | None:
        table = self.query_one(f"#{self._table_id}", MotionDataTable)
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        kind = {"made-users": "user", "made-roles": "role", "made-buckets": "bucket"}[self._table_id]
        return kind, str(row_key.value)

    def _explain(self) -> None:
        why = self.query_one("#made-why", Static)
        item = self._highlighted_item()
        made = self.made
        if item is None or made is None:
            why.update("Nothing made by s3cred-tui here yet." if made is not None and not self._labels() else "")
            return
        kind, name = item
        now = self.s3cred_app.clock()
        if kind == "user":
            user = next((u for u in made.users if u.name == name), None)
            why.update(user_detail(user, now) if user else "")
        elif kind == "role":
            role = next((r for r in made.roles if r.name == name), None)
            why.update(role_detail(role, now) if role else "")
        else:
            bucket = next((b for b in made.buckets if b.name == name), None)
            why.update(
                Text.assemble((f"Bucket {name}\n", "bold"), ("Region: ", "dim"), (bucket.region or "unknown") if bucket else "",
                              ("\nA cleanup removes it only while it is empty.", "dim"))
            )

    # -- actions ------------------------------------------------------------------------------

    def action_mark(self) -> None:
        item = self._highlighted_item()
        if item is None:
            return
        label = f"{item[0]} {item[1]}"
        self.marked.symmetric_difference_update({label})
        table = self.query_one(f"#{self._table_id}", MotionDataTable)
        table.update_cell_at((table.cursor_row, 0), self._mark_cell(label))
        self._show_title()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        # Enter on a row reaches the table first: it opens, as the screen's own Enter would.
        if event.data_table.id == self._table_id:
            event.stop()
            self.action_open()

    def action_open(self) -> None:
        item = self._highlighted_item()
        if item is not None and item[0] == "user":
            self.s3cred_app.open_user(item[1])
        elif item is not None and item[0] == "bucket":
            self.s3cred_app.open_bucket(item[1])

    def action_rotate(self) -> None:
        item = self._highlighted_item()
        if item is None or item[0] != "user":
            self.notify("Highlight a user (in the Users table) to rotate one of its keys.", severity="warning")
            return
        self.s3cred_app.open_rotate(item[1])

    def action_cleanup(self) -> None:
        if not require_writable(self.app, "clean up what s3cred-tui made"):
            return
        if self.made is None:
            self.notify("Still reading.", severity="warning")
            return
        if self.cleanup_worker is not None and self.cleanup_worker.is_running:
            self.notify("A cleanup is already under way.", severity="warning")
            return
        labels = sorted(self.marked) if self.marked else self._labels()
        if not labels:
            self.notify("Nothing made by s3cred-tui to clean up.")
            return
        self.plan(self.made, labels)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cleanup-plan", name="reading what the cleanup removes")
    def plan(self, made: MadeInventory, labels: list[str]) -> None:
        plan = plan_cleanup(
            self.aws, made, names=labels, identity=self.s3cred_app.identity, caller_key_id=self.aws.caller_access_key_id()
        )
        self.post_message(CleanupPlanned(plan))

    def on_cleanup_planned(self, message: CleanupPlanned) -> None:
        plan = message.plan
        if plan.is_empty:
            self.app.push_screen(MessageModal("Nothing to remove", plan.describe()))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.events = []
                self.stop_cleanup.clear()
                self.cleanup_worker = self.run_cleanup(plan)

        self.app.push_screen(ConfirmModal(cleanup_question(plan), f"Remove {formatting.count(len(plan.items), 'item')}"), answered)

    @work(thread=True, exclusive=True, exit_on_error=False, group="cleanup", name="cleaning up")
    def run_cleanup(self, plan: CleanupPlan) -> None:
        result = apply_cleanup(
            self.aws.for_apply(), plan, lambda event: self.post_message(CleanupProgress(event)), self.stop_cleanup.is_set
        )
        self.post_message(CleanupFinished(result))

    def on_cleanup_progress(self, message: CleanupProgress) -> None:
        self.events = (self.events + [message.event])[-EVENT_LINES:]
        lines = Text()
        for event in self.events:
            icon, style = EVENT_LOOK.get(str(event.status), ("·", ""))
            lines.append(f" {icon} {event.title}", style=style)
            if event.message and str(event.status) != "running":
                lines.append(f" - {event.message}", style="dim")
            lines.append("\n")
        lines.append(" Esc stops between steps and puts back what it can.", style="dim")
        self.query_one("#made-progress", Static).update(lines)

    def on_cleanup_finished(self, message: CleanupFinished) -> None:
        result = message.result
        self.query_one("#made-progress", Static).update("")
        account = self.s3cred_app.account_screen()
        for label in result.removed:
            self.marked.discard(label)
            if label.startswith("user ") and account is not None:
                account.forget_user(label[len("user "):])
        if result.ok:
            self.app.push_screen(MessageModal("Cleaned up", result.summary()))
        else:
            self.app.push_screen(ErrorModal("Cleanup stopped", result.summary()))
        self.load()

    def action_back(self) -> None:
        if self.cleanup_worker is not None and self.cleanup_worker.is_running:
            self.stop_cleanup.set()
            self.notify("Stopping the cleanup after the current step; what it can is put back.", severity="warning")
            return
        self.app.pop_screen()

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "cleanup" and worker.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.load()
