"""Which IAM users can list / read / write / delete in a bucket at a prefix.

Mount it with one line on a bucket's detail screen:

    yield AccessMapPanel(self.bucket, prefix=self.highlighted_prefix())

Users and their policies are read once, in a thread worker that stops between pages when
cancelled; boundaries are fetched once per ARN. Changing the prefix re-evaluates from memory
(in a worker too, since thousands of users take a moment) without calling AWS again.
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
)
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import UserDetail, iter_authorization_details
from s3cred_tui.core.request import PrefixMode
from s3cred_tui.core.simulate import Decision
from s3cred_tui.core.validation import normalise_prefix
from s3cred_tui.ui import formatting
from s3cred_tui.ui.base import AppContext, ReportsWorkerFailures
from s3cred_tui.ui.widgets.motion import MotionDataTable, MotionScroll

# Users evaluated between cancellation checks, and rows added between yields to the event loop.
EVALUATION_CHUNK = 200
ROW_CHUNK = 300


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
    text = Text(entry.user, style="bold")
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
        def __init__(self, details: list[Any], boundaries: dict[str, Any]) -> None:
            super().__init__()
            self.details = details
            self.boundaries = boundaries

    class Progress(Message):
        def __init__(self, scanned: int) -> None:
            super().__init__()
            self.scanned = scanned

    class Evaluated(Message):
        def __init__(self, generation: int, prefix: str, entries: list[UserAccess]) -> None:
            super().__init__()
            self.generation = generation
            self.prefix = prefix
            self.entries = entries

    def __init__(self, bucket: str, prefix: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.bucket = bucket
        self.initial_prefix = prefix
        self.prefix = prefix
        self.details: list[Any] | None = None
        self.boundaries: dict[str, Any] = {}
        self.entries: list[UserAccess] = []
        self.generation = 0
        self.border_title = f"Who can do what in {bucket}"

    def compose(self) -> ComposeResult:
        with Horizontal(id="map-controls"):
            yield Label("At prefix", id="map-prefix-label")
            yield Input(self.initial_prefix, placeholder="(whole bucket)", id="map-prefix", tooltip="Re-evaluate at another prefix (no AWS calls)")
            yield Checkbox("Show users with no access", False, id="map-show-all", tooltip="Also list users who can do nothing here")
        yield Static("Reading IAM users and policies…", id="map-status")
        table: DataTable[Any] = MotionDataTable(cursor_type="row", id="map-table")
        table.add_column("User", key="user")
        for capability in CAPABILITIES:
            table.add_column(capability.capitalize(), key=capability)
        table.add_column("Notes", key="notes")
        yield table
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
        boundaries = fetch_boundary_documents(self.aws, [d.boundary_arn for d in details])
        if not worker.is_cancelled:
            self.post_message(self.Loaded(details, boundaries))

    def on_access_map_panel_progress(self, message: Progress) -> None:
        message.stop()
        self._status(f"Reading IAM users and policies… {message.scanned:,} users so far")

    def on_access_map_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        self.details = message.details
        self.boundaries = message.boundaries
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

    @work(thread=True, exclusive=True, exit_on_error=False, group="access-map-eval", name="evaluating policies")
    def _evaluate(self, generation: int, details: list[Any], prefix: str) -> None:
        worker = get_current_worker()
        entries: list[UserAccess] = []
        for start in range(0, len(details), EVALUATION_CHUNK):
            if worker.is_cancelled:
                return
            entries.extend(access_map(details[start : start + EVALUATION_CHUNK], self.bucket, prefix, self.boundaries))
        if not worker.is_cancelled:
            self.post_message(self.Evaluated(generation, prefix, entries))

    async def on_access_map_panel_evaluated(self, message: Evaluated) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self.prefix = message.prefix
        self.entries = message.entries
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
        return [e for e in self.entries if self.show_all or e.has_any_access or e.error]

    async def _fill_table(self) -> None:
        generation = self.generation
        table = self.query_one("#map-table", DataTable)
        table.clear()
        visible = self.visible_entries()
        for start in range(0, len(visible), ROW_CHUNK):
            for entry in visible[start : start + ROW_CHUNK]:
                table.add_row(
                    Text(entry.user),
                    *(mark(entry.decision(c)) for c in CAPABILITIES),
                    note_for(entry),
                    key=entry.user,
                )
            await asyncio.sleep(0)  # let keys and repaints through between chunks
            if generation != self.generation:
                return
        hidden = len(self.entries) - len(visible)
        with_access = sum(1 for e in self.entries if e.has_any_access)
        status = (
            f"s3://{self.bucket}/{self.prefix}: {formatting.count(with_access, 'user')} with some access"
            f" of {len(self.entries):,}"
        )
        if hidden:
            status += f" · {hidden:,} without access hidden (tick “Show users with no access”)"
        status += " · IAM policies only, bucket policies not included"
        self._status(status)
        self._explain_highlighted()

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
        if worker.state is WorkerState.ERROR and worker.group in ("access-map-load", "access-map-eval"):
            message = getattr(worker.error, "message", None) or str(worker.error)
            self._status(Text(f"Could not build the access map: {message}", style="bold red"))
