"""Step three of the create flow: make the changes, one checklist line per API call.

`apply_plan` runs in a thread worker and reports every step through `on_event`; the worker
posts each event back to this screen. Cancel sets a flag that apply_plan checks between steps
(a thread cannot be interrupted mid-call), after which it rolls back what it made.

The same screen applies a grant to another account (`GrantPlan`, `ThirdPartyRolePlan`): those
make no credentials, so success goes straight to the grant's result screen.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Footer, Label, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.apply import ApplyEvent, ApplyResult, apply_plan
from s3cred_tui.core.bucket_grant import GrantPlan
from s3cred_tui.core.plan import Plan
from s3cred_tui.core.third_party_role import ThirdPartyRolePlan
from s3cred_tui.ui.screens.confirm import HoldsSecret
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

# status -> (icon, style, words after the title)
STATUS_LOOK: dict[str, tuple[str, str, str]] = {
    "pending": ("·", "dim", ""),
    "running": ("", "bold", "running…"),
    "done": ("✓", "green", ""),
    "failed": ("✗", "bold red", "failed"),
    "waiting": ("⏳", "yellow", "waiting for IAM"),
    "cancelled": ("–", "dim", "not run (cancelled)"),
    "rolling-back": ("↺", "yellow", "undoing…"),
    "undone": ("↺", "yellow", "undone"),
    "undo-failed": ("✗", "bold red", "could NOT be undone"),
}


ROLLBACK_STATUSES = ("rolling-back", "undone", "undo-failed")

# Plans this screen applies: credentials, or a grant to another account (no credentials).
AppliedPlan = Plan | GrantPlan | ThirdPartyRolePlan


class ApplyProgress(Message):
    """One `ApplyEvent` from apply_plan, posted from the apply worker thread."""

    def __init__(self, event: ApplyEvent) -> None:
        super().__init__()
        self.event = event


class ApplyFinished(Message):
    """apply_plan returned its `ApplyResult` (success, failure with rollback, or cancelled)."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__()
        self.result = result


@dataclass
class StepState:
    """What the checklist knows about one step; `undo_title` is set once rollback reaches it."""

    status: str = "pending"
    message: str = ""
    undo_title: str = ""
    waits: int = 0


def step_line(title: str, state: StepState, spinner_frame: int = 0) -> Text:
    status = state.status
    icon, style, words = STATUS_LOOK.get(status, ("?", "", status))
    if status == "running":
        icon = SPINNER_FRAMES[spinner_frame % len(SPINNER_FRAMES)]
    line = Text()
    line.append(f" {icon} ", style=style)
    line.append(title, style=style if status in ("failed", "undo-failed") else "")
    if status == "waiting":
        detail = f"{words} (retry {state.waits}): {state.message}"
    elif status == "failed":
        detail = f"failed: {state.message}" if state.message else words
    elif status == "running":
        detail = f"calling {state.message}…" if state.message else words
    elif status in ROLLBACK_STATUSES:
        detail = f"{words}: {state.undo_title}" + (f" — {state.message}" if status == "undo-failed" else "")
    else:
        detail = state.message or words
    if detail:
        line.append(f"  {detail}", style="dim" if status in ("done", "pending", "cancelled") else style)
    return line


def outcome_text(result: ApplyResult) -> Text:
    """What happened, what was rolled back, and (in red) whatever could not be."""
    text = Text()
    if result.ok:
        text.append("✓ All done. ", style="bold green")
        if result.credentials is not None:
            text.append("The credentials are on the next screen; the secret is shown once.")
        return text
    if result.cancelled:
        text.append("Cancelled. ", style="bold yellow")
    else:
        text.append("✗ Failed: ", style="bold red")
        text.append(f"{result.error or 'an unknown error'}\n", style="red")
    if result.undone:
        text.append("\nRolled back (removed again):\n", style="bold")
        for item in result.undone:
            text.append(f"  ↺ {item}\n")
    if result.not_undone:
        text.append("\nCould NOT be undone — fix these by hand:\n", style="bold red")
        for item in result.not_undone:
            text.append(f"  ✗ {item}\n", style="red")
        if result.journal_path:
            text.append(f"\nThe journal is kept ({result.journal_path}): `s3cred-tui recover` retries.\n", style="red")
    elif not result.undone:
        text.append("\nNothing had been changed, so there was nothing to roll back.\n")
    else:
        text.append("\nThe account is as it was before.\n", style="green")
    return text.rstrip() or text


class ApplyScreen(HoldsSecret, CreateFlowScreen):
    CSS_PATH = Path(__file__).with_name("apply.tcss")
    # One Esc, named for what it does now: Cancel while the plan runs, Back once it has stopped.
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="apply.cancel", tooltip="Stop after the current step and undo"),
        Binding("escape", "leave", "Back", id="apply.back", tooltip="Leave this screen"),
    ]
    WORKER_ERROR_TITLES = {"apply": "Applying the plan failed"}

    def __init__(self, plan: AppliedPlan) -> None:
        super().__init__()
        self.plan = plan
        self.failed_outright = False  # apply_plan itself raised: there is no result
        self.states: list[StepState] = [StepState() for _ in plan.steps]
        self.result: ApplyResult | None = None
        # Once the credentials exist and before the result screen shows them, quitting asks first.
        self.holds_unsaved_secret = False
        self.cancel_requested = threading.Event()
        self._spinner_frame = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="apply-main"):
            yield Label("Applying the plan", id="apply-title")
            with VerticalScroll(id="apply-steps"):
                for index, step in enumerate(self.plan.steps):
                    yield Static(step_line(step.title, StepState()), id=f"step-{index}", classes="apply-step")
            yield Static("Working… Cancel stops after the current step and rolls back.", id="apply-outcome")
            with Horizontal(id="apply-buttons"):
                yield Button("Cancel", id="cancel", variant="error", tooltip="Stop after the current step and undo")
                yield Button("Show credentials", id="show", variant="success", classes="hidden")
                yield Button("Back to the form", id="back", classes="hidden")
                yield Button("Close", id="close", classes="hidden")
        yield Footer()

    def on_mount(self) -> None:
        self._spinner = self.set_interval(0.1, self._spin)
        self.run_plan()

    @work(thread=True, exclusive=True, exit_on_error=False, group="apply", name="applying the plan")
    def run_plan(self) -> None:
        worker = get_current_worker()
        result = apply_plan(
            # The app's own context: its timeouts are already bounded (core/session.py DEFAULT_TIMEOUTS),
            # and Cancel stops between steps.
            self.aws,
            self.plan,
            on_event=lambda event: self.post_message(ApplyProgress(event)),
            is_cancelled=lambda: self.cancel_requested.is_set() or worker.is_cancelled,
            # The demo account vanishes with its server, so a journal of it could never be recovered.
            journal=self.s3cred_app.demo_note is None,
        )
        self.post_message(ApplyFinished(result))

    # -- progress -------------------------------------------------------------------------

    def on_apply_progress(self, message: ApplyProgress) -> None:
        message.stop()
        event: ApplyEvent = message.event
        if not 0 <= event.index < len(self.states):
            return
        state = self.states[event.index]
        state.status = event.status
        if event.status in ROLLBACK_STATUSES:
            state.undo_title = event.title
            state.message = event.message if event.status == "undo-failed" else state.message
        else:
            state.message = event.message
        if event.status == "waiting":
            state.waits += 1
        self._render_step(event.index)

    def _render_step(self, index: int) -> None:
        self.query_one(f"#step-{index}", Static).update(
            step_line(self.plan.steps[index].title, self.states[index], self._spinner_frame)
        )

    def _spin(self) -> None:
        self._spinner_frame += 1
        for index, state in enumerate(self.states):
            if state.status == "running":
                self._render_step(index)

    def on_apply_finished(self, message: ApplyFinished) -> None:
        message.stop()
        self.show_result(message.result)

    def show_result(self, result: ApplyResult) -> None:
        self.result = result
        self.holds_unsaved_secret = result.ok and result.credentials is not None
        self._spinner.stop()
        self.refresh_bindings()
        if result.completed:
            # Something was made (and maybe undone): the lists behind this flow are read again.
            self.s3cred_app.account_changed()
        if result.ok and not isinstance(self.plan, Plan):
            # A grant makes no credentials: what the other side needs is the next screen.
            self.s3cred_app.open_grant_result(self.plan)
            return
        for index, state in enumerate(self.states):
            if state.status == "pending" and result.cancelled:
                state.status = "cancelled"
            elif state.status == "pending" and not result.ok:
                state.message = "not run"
            self._render_step(index)
        self.query_one("#apply-outcome", Static).update(outcome_text(result))
        self.query_one("#apply-outcome").set_class(not result.ok, "failed")
        self.query_one("#cancel").add_class("hidden")
        if result.ok:
            self.query_one("#show").remove_class("hidden")
            self.query_one("#show", Button).focus()
        else:
            self.query_one("#back").remove_class("hidden")
            self.query_one("#close").remove_class("hidden")
            self.query_one("#back", Button).focus()

    @property
    def running(self) -> bool:
        return self.result is None and not self.failed_outright

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            return self.running
        if action == "leave":
            return not self.running
        return super().check_action(action, parameters)

    def worker_state_changed(self, worker: Worker) -> None:
        """apply_plan itself raised (it normally reports failures in its result); the app shows the error."""
        if worker.group != "apply" or worker.state is not WorkerState.ERROR:
            return
        self.failed_outright = True
        self.refresh_bindings()
        self._spinner.stop()
        self.query_one("#apply-outcome", Static).update(
            Text("✗ Applying stopped with an unexpected error; check the account for partial changes.", style="bold red")
        )
        self.query_one("#cancel").add_class("hidden")
        self.query_one("#close").remove_class("hidden")
        self.query_one("#close", Button).focus()

    # -- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "cancel": self.action_cancel_apply,
            "show": self.action_show_credentials,
            "back": self.action_back_to_form,
            "close": self.action_close,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def action_cancel_apply(self) -> None:
        if self.result is not None or self.cancel_requested.is_set():
            return
        self.cancel_requested.set()
        self.query_one("#cancel", Button).disabled = True
        self.query_one("#apply-outcome", Static).update("Cancelling: finishing the current step, then rolling back…")

    def action_cancel(self) -> None:
        self.action_cancel_apply()

    def action_leave(self) -> None:
        if self.result is None:
            self.action_close()  # apply_plan raised: the form's request may be what failed
        elif self.result.ok:
            # The secret exists only in this result; never let Esc throw it away.
            self.action_show_credentials()
        else:
            self.action_back_to_form()

    def action_show_credentials(self) -> None:
        if self.result is None or not self.result.ok or self.result.credentials is None:
            return
        self.s3cred_app.open_result(self.result.credentials, self.plan)

    def action_back_to_form(self) -> None:
        """Back to the create form (the review's plan is stale after a failed apply)."""
        self.s3cred_app.return_to_create_form()

    def action_close(self) -> None:
        self.s3cred_app.close_create_flow()
