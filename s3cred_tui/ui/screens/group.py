"""IAM groups, read-only: their members, their policies, and the reach those policies give
every member in S3 (read back through the policy evaluator).

Groups and their members come from one authorization-details pass (`inventory.group_details`).
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.worker import Worker

from s3cred_tui.core.inventory import GroupInfo, group_details
from s3cred_tui.core.made import describe_reach
from s3cred_tui.core.reach import reach_of
from s3cred_tui.ui import formatting
from s3cred_tui.ui.screens.iam_list import IamListScreen

GROUP_COLUMNS = (("name", "Group"), ("members", "Members"), ("policies", "Policies"), ("reach", "Reach into S3"))


class GroupsLoaded(Message):
    def __init__(self, groups: list[tuple[GroupInfo, str]]) -> None:
        super().__init__()
        self.groups = groups


def group_text(group: GroupInfo, reach: str) -> Text:
    text = Text(f"Group {group.name}\n", style="bold")
    text.append(f"{group.arn}\n", style="dim")
    text.append("Members: ", style="dim")
    text.append((", ".join(group.members) or "none") + "\n")
    text.append("Reach into S3 (every member gets it): ", style="dim")
    text.append(reach + "\n")
    text.append("Policies: ", style="dim")
    text.append((", ".join(where for where, _ in group.policy_documents()) or "none") + "\n")
    unreadable = [p.name for p in group.attached_policies if p.document is None]
    if unreadable:
        text.append(f"Could not be read (not evaluated): {', '.join(unreadable)}\n", style="yellow")
    return text


class GroupsScreen(IamListScreen):
    KIND = "groups"
    SINGULAR = "group"
    COLUMNS = GROUP_COLUMNS
    BINDINGS = [
        Binding("escape", "back", "Back", id="groups.back", tooltip="Back to the previous screen"),
        Binding("slash", "focus_filter", "Filter", key_display="/", id="groups.filter", tooltip="Type to filter the groups"),
        Binding("r", "refresh", "Refresh", id="groups.refresh", tooltip="Read the groups again"),
    ]
    WORKER_ERROR_TITLES = {"groups": "Could not read the groups"}

    def __init__(self) -> None:
        super().__init__()
        self.groups: dict[str, tuple[GroupInfo, str]] = {}

    def forget_entries(self) -> None:
        self.groups = {}

    @work(thread=True, exclusive=True, exit_on_error=False, group="groups", name="reading IAM groups")
    def load(self) -> None:
        # Evaluated here, off the event loop: every group's policies through the evaluator.
        groups = group_details(self.aws)
        self.post_message(GroupsLoaded([(g, describe_reach(reach_of(g.policy_documents()))) for g in groups]))

    def on_groups_loaded(self, message: GroupsLoaded) -> None:
        rows = []
        for group, reach in message.groups:
            self.groups[group.name] = (group, reach)
            policies = len(group.inline_policies) + len(group.attached_policies)
            rows.append((group.name, [group.name, str(len(group.members)), str(policies), reach]))
        self.table.add_rows(rows)
        self.table.busy = False
        self.query_one("#groups-title", Static).update(
            Text.assemble(("Groups (read-only)   ", "bold"), (formatting.count(len(self.groups), "group"), "dim"))
        )
        self._explain()

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._explain()

    def _explain(self) -> None:
        key = self.table.highlighted_key()
        why = self.query_one("#group-why", Static)
        if key is None or key not in self.groups:
            why.update("" if self.groups else Text("No groups.", style="dim"))
            return
        why.update(group_text(*self.groups[key]))

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "groups" and worker.is_finished:
            self.table.busy = False
