"""IAM roles, read-only: who can assume each one (decided by the policy evaluator), its
policies, its reach into S3, and when it was last used.

Every role comes from one paginated authorization-details pass (`inventory.iter_role_details`);
who can assume each is worked out in the same worker (`reach.who_can_assume`), so the list shows
it as a column. The highlighted role's reach is read back from its policies (`reach.reach_of`).
"""

from __future__ import annotations

import json
from datetime import datetime

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker, get_current_worker

from s3cred_tui.core.inventory import RoleDetail, iter_role_details
from s3cred_tui.core.made import describe_reach
from s3cred_tui.core.reach import TrustEntry, reach_of, who_can_assume
from s3cred_tui.core.tags import is_ours
from s3cred_tui.ui import formatting
from s3cred_tui.ui.screens.iam_list import IamListScreen

ROLE_COLUMNS = (
    ("name", "Role"),
    ("trust", "Who can assume it"),
    ("policies", "Policies"),
    ("used", "Last used"),
    ("ours", "Made here"),
)


class RolesPage(Message):
    def __init__(self, roles: list[tuple[RoleDetail, tuple[TrustEntry, ...]]]) -> None:
        super().__init__()
        self.roles = roles


class RolesDone(Message):
    pass


def trust_summary(entries: tuple[TrustEntry, ...]) -> Text:
    allowed = [e.who + (" (conditional)" if e.conditional else "") for e in entries if e.allowed]
    if not allowed:
        return Text("nobody", style="dim")
    anyone = any(e.principal == "*" for e in entries if e.allowed)
    return Text("; ".join(allowed), style="bold red" if anyone else "")


def role_text(role: RoleDetail, entries: tuple[TrustEntry, ...], now: datetime) -> Text:
    text = Text(f"Role {role.name}\n", style="bold")
    text.append(f"{role.arn}\n", style="dim")
    if role.description:
        text.append(f"{role.description}\n")
    text.append("Who can assume it (the policy evaluator):\n", style="dim")
    for entry in entries:
        mark, style = ("✓", "green") if entry.allowed else ("✗", "red")
        text.append(f" {mark} ", style=style)
        text.append(entry.who)
        if entry.conditional:
            text.append(f" when {', '.join(entry.conditional)} match", style="yellow")
        text.append(f"\n   {entry.reason}\n", style="dim")
    if not entries:
        text.append(" nobody (no Allow statement names a principal)\n")
    text.append("Reach into S3: ", style="dim")
    text.append(describe_reach(reach_of(role.policy_documents(), principal_arn=role.arn or None)) + "\n")
    text.append("Policies: ", style="dim")
    text.append((", ".join(where for where, _ in role.policy_documents()) or "none") + "\n")
    unreadable = [p.name for p in role.attached_policies if p.document is None]
    if unreadable:
        text.append(f"Could not be read (not evaluated): {', '.join(unreadable)}\n", style="yellow")
    if role.boundary_arn:
        text.append("Boundary: ", style="dim")
        text.append(role.boundary_arn + "\n")
    text.append("Last used: ", style="dim")
    text.append(formatting.last_used(role.last_used, role.last_used_region, now) + "\n")
    if role.tags:
        text.append("Tags: ", style="dim")
        text.append(", ".join(f"{k}={v}" for k, v in sorted(role.tags.items())) + "\n")
    text.append("\nTrust policy\n", style="dim")
    text.append(json.dumps(role.trust_policy, indent=2))
    return text


class RolesScreen(IamListScreen):
    KIND = "roles"
    SINGULAR = "role"
    COLUMNS = ROLE_COLUMNS
    BINDINGS = [
        Binding("escape", "back", "Back", id="roles.back", tooltip="Back to the previous screen"),
        Binding("slash", "focus_filter", "Filter", key_display="/", id="roles.filter", tooltip="Type to filter the roles"),
        Binding("r", "refresh", "Refresh", id="roles.refresh", tooltip="Read the roles again"),
    ]
    WORKER_ERROR_TITLES = {"roles": "Could not read the roles"}

    def __init__(self) -> None:
        super().__init__()
        self.roles: dict[str, tuple[RoleDetail, tuple[TrustEntry, ...]]] = {}

    def forget_entries(self) -> None:
        self.roles = {}

    @work(thread=True, exclusive=True, exit_on_error=False, group="roles", name="reading IAM roles")
    def load(self) -> None:
        worker = get_current_worker()
        for page in iter_role_details(self.aws):
            if worker.is_cancelled:
                return
            self.post_message(RolesPage([(role, who_can_assume(role.trust_policy, role.arn)) for role in page]))
        self.post_message(RolesDone())

    def on_roles_page(self, message: RolesPage) -> None:
        now = self.s3cred_app.clock()
        rows = []
        for role, entries in message.roles:
            self.roles[role.name] = (role, entries)
            rows.append((role.name, [
                role.name,
                trust_summary(entries),
                str(len(role.inline_policies) + len(role.attached_policies)),
                formatting.last_used(role.last_used, role.last_used_region, now),
                Text("✓", style="green") if is_ours(role.tags) else "",
            ]))
        self.table.add_rows(rows)
        self._explain()

    def on_roles_done(self, message: RolesDone) -> None:
        self.table.busy = False
        self.query_one("#roles-title", Static).update(
            Text.assemble(("Roles (read-only)   ", "bold"), (formatting.count(len(self.roles), "role"), "dim"))
        )
        self._explain()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain()

    def _explain(self) -> None:
        key = self.table.highlighted_key()
        why = self.query_one("#role-why", Static)
        if key is None or key not in self.roles:
            why.update("" if self.roles else Text("No roles read yet.", style="dim"))
            return
        role, entries = self.roles[key]
        why.update(role_text(role, entries, self.s3cred_app.clock()))

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "roles" and worker.is_finished:
            self.table.busy = False
