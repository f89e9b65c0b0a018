"""Runs a previous process left unfinished: what they created, and rolling it back.

An apply keeps a journal of what it creates (`core.journal`); a run that died (killed, power
loss) leaves its journal behind. On start the app lists those runs here, by ARN, and offers to
roll them back now or later. Rolling back runs `journal.recover` in a worker and reports every
item in place; a run that cannot be rolled back (another account, an endpoint that is gone)
says why and keeps its journal, so the next start offers it again.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.journal import RunInfo, UnfinishedRun, context_for, recover
from s3cred_tui.core.session import AwsContext
from s3cred_tui.ui.base import AwsModalScreen
from s3cred_tui.ui.guards import require_writable

# recover's event status -> (mark, style)
RECOVER_LOOK: dict[str, tuple[str, str]] = {
    "undone": ("✓ removed", "green"),
    "absent": ("· already gone", "dim"),
    "kept": ("• kept", "yellow"),
    "undo-failed": ("✗ NOT removed", "bold red"),
    "run-failed": ("✗ not rolled back", "bold red"),
    "finished": ("✓", "green"),
}


class RecoverProgress(Message):
    """One item of a rollback, posted from the worker."""

    def __init__(self, status: str, text: str) -> None:
        super().__init__()
        self.status = status
        self.text = text


class RecoverFinished(Message):
    def __init__(self, complete: bool) -> None:
        super().__init__()
        self.complete = complete


def run_lines(run: UnfinishedRun) -> Text:
    """One run: where and when, then each thing it created (or may have), by ARN."""
    text = Text()
    if run.info is None:
        text.append(f"• Unreadable journal {run.path}: {run.problem}. Check the account by hand, then delete the file.\n",
                    style="yellow")
        return text
    info = run.info
    where = info.endpoint_url or (f"profile {info.profile}" if info.profile else "AWS")
    text.append(f"Run {info.run_id[:8]}", style="bold")
    text.append(f", started {info.started} by {info.caller_arn} in account {info.account} via {where}:\n", style="dim")
    for entry in run.entries:
        text.append(f"  • {entry.kind} {entry.name}  ", style="")
        text.append(entry.arn, style="cyan")
        if not entry.created:
            text.append("  (may exist: the run stopped during the call that creates it)", style="dim")
        text.append("\n")
    return text


class UnfinishedRunsModal(AwsModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("modals.tcss")
    DEFAULT_CSS = """
    UnfinishedRunsModal {
        align: center middle;
        background: $background 60%;
    }
    UnfinishedRunsModal .recover-dialog {
        width: 100;
        border: thick $warning;
    }
    UnfinishedRunsModal #recover-runs, UnfinishedRunsModal #recover-log {
        height: auto;
        max-height: 14;
    }
    UnfinishedRunsModal .hidden {
        display: none;
    }
    """
    BINDINGS = [
        Binding("escape", "later", "Later", id="recover.later", tooltip="Close; the next start asks again"),
    ]
    WORKER_ERROR_TITLES = {"recover": "Could not roll back"}

    def __init__(self, runs: list[UnfinishedRun]) -> None:
        super().__init__()
        self.runs = runs
        self.rolling_back = False
        self.finished: bool | None = None  # after a rollback: True when everything was removed
        self.log_lines: list[Text] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog recover-dialog"):
            yield Label("Unfinished runs: things were created and never rolled back", classes="modal-title")
            yield Static(
                "A previous s3cred-tui run stopped before it finished (killed, or the machine went down) and "
                "did not remove what it had created:",
                classes="modal-message",
                markup=False,
            )
            with VerticalScroll(id="recover-runs"):
                yield Static(Text("\n").join(run_lines(run) for run in self.runs), id="recover-list")
            with VerticalScroll(id="recover-log", classes="hidden"):
                yield Static("", id="recover-log-text")
            with Horizontal(classes="modal-buttons"):
                yield Button("Later", id="later", tooltip="Close; the next start asks again (Esc)")
                yield Button("Roll back now", id="roll-back", variant="error",
                             tooltip="Remove what these runs created, newest first")

    def on_mount(self) -> None:
        # The safe answer has focus: nothing is deleted by a stray Enter.
        self.query_one("#later", Button).focus()
        if self.s3cred_app.read_only:
            self.query_one("#roll-back", Button).disabled = True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "roll-back":
            self.action_roll_back()
        elif event.button.id == "later":
            self.action_later()

    def action_later(self) -> None:
        if self.rolling_back:
            self.notify("Rolling back; wait for it to finish.", severity="warning")
            return
        self.dismiss(None)

    def action_roll_back(self) -> None:
        if self.rolling_back or self.finished is not None or not require_writable(self.app, "roll back unfinished runs"):
            return
        self.rolling_back = True
        self.query_one("#roll-back", Button).disabled = True
        self.query_one("#later", Button).disabled = True
        self.query_one("#recover-log").remove_class("hidden")
        self.roll_back()

    def _context_for(self, info: RunInfo) -> AwsContext:
        """The app's own context when the run went where the app goes (no second credential prompt)."""
        app_aws = self.aws
        app_endpoint = app_aws.config.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        if info.endpoint_url == app_endpoint and info.profile == app_aws.profile:
            return app_aws
        return context_for(info)

    @work(thread=True, exclusive=True, exit_on_error=False, group="recover", name="rolling back unfinished runs")
    def roll_back(self) -> None:
        complete = True
        for run in self.runs:
            if get_current_worker().is_cancelled:
                return
            if run.info is None or run.in_progress:
                complete = False
                continue
            try:
                result = recover(run, self._context_for(run.info),
                                 on_event=lambda status, text: self.post_message(RecoverProgress(status, text)))
            except S3CredError as error:
                complete = False
                self.post_message(RecoverProgress("run-failed", f"run {run.info.run_id[:8]}: {error.message}"))
                continue
            complete = complete and result.ok
        self.post_message(RecoverFinished(complete))

    def on_recover_progress(self, message: RecoverProgress) -> None:
        mark, style = RECOVER_LOOK.get(message.status, ("·", ""))
        self.log_lines.append(Text.assemble((mark, style), "  ", message.text))
        self.query_one("#recover-log-text", Static).update(Text("\n").join(self.log_lines))

    def on_recover_finished(self, message: RecoverFinished) -> None:
        self.rolling_back = False
        self.s3cred_app.account_changed()
        self.finished = message.complete
        later = self.query_one("#later", Button)
        later.disabled = False
        later.label = "Close"
        later.focus()
        closing = (
            "Rolled back: nothing these runs created is left."
            if message.complete
            else "Not everything could be removed (see above); those journals stay: the next start offers it "
            "again, or run `s3cred-tui recover`."
        )
        self.on_recover_progress(RecoverProgress("finished" if message.complete else "run-failed", closing))

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "recover" and worker.state is WorkerState.ERROR:
            # The worker failed (the app shows why): let the person close the dialog.
            self.rolling_back = False
            later = self.query_one("#later", Button)
            later.disabled = False
            later.label = "Close"
