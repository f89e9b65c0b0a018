"""Rotate one access key of a user, one explicit step at a time (`core.rotation`).

The steps are listed with where each stands; the one button does the next step, and asks first
where a step cannot be taken back: deactivating the old key (only once the person says the new
one is in place), deleting it (or leaving it inactive). The new secret is shown once, in the
new-key dialog (a `HoldsSecret`: every way out asks first). Stop ends the rotation where it is,
and "Discard the new key" deletes a new key that will not be used; the line under the steps
always says which keys exist and which work.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, Footer, Static
from textual.worker import Worker, WorkerState

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.inventory import access_keys_of
from s3cred_tui.core.rotation import (
    STEP_TITLES,
    Rotation,
    RotationCheck,
    RotationEvent,
    RotationStep,
    check_rotation,
)
from s3cred_tui.ui import formatting
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.widgets.motion import MotionScroll
from s3cred_tui.ui.widgets.new_key import NewKeyModal

STEP_LOOK = {
    "pending": ("·", "dim"),
    "done": ("✓", "green"),
    "skipped": ("–", "dim"),
    "failed": ("✗", "bold red"),
    "stopped": ("■", "yellow"),
}


class RotationChecked(Message):
    def __init__(self, check: RotationCheck, rotation: Rotation | None) -> None:
        super().__init__()
        self.check = check
        self.rotation = rotation


class RotationProgress(Message):
    def __init__(self, event: RotationEvent) -> None:
        super().__init__()
        self.event = event


class RotationKeyCreated(Message):
    def __init__(self, credentials: Credentials) -> None:
        super().__init__()
        self.credentials = credentials


class RotationStepEnded(Message):
    """A step's worker returned (its events were posted before this)."""


class RotateScreen(AwsScreen[None]):
    # Focus lands on the list (not the filter box or whatever comes first), so keys work at once.
    AUTO_FOCUS = "#rotate-next"
    CSS_PATH = Path(__file__).with_name("rotate.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="rotate.back", tooltip="Back (asks first while the rotation is part-way)"),
        Binding("ctrl+r", "run", "Next step", id="rotate.next", tooltip="Do the next step (asks first where it cannot be undone)"),
        Binding("s", "stop", "Stop here", id="rotate.stop", tooltip="End the rotation where it stands"),
    ]
    WORKER_ERROR_TITLES = {"rotation-check": "Could not read the user's keys", "rotation": "A rotation step failed"}

    def __init__(self, user_name: str, key_id: str | None = None) -> None:
        super().__init__()
        self.user_name = user_name
        self.key_id = key_id
        self.check: RotationCheck | None = None
        self.rotation: Rotation | None = None
        self.busy_step = False

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("Rotate an access key of ", "dim"), (self.user_name, "bold")), id="rotate-title")
        with MotionScroll(id="rotate-body"):
            yield Static("Reading the user's keys…", id="rotate-steps")
            yield Static("", id="rotate-state")
        with Horizontal(id="rotate-buttons"):
            yield Button("Next step", id="rotate-next", variant="primary")
            yield Button("Leave the old key inactive", id="rotate-leave", classes="hidden")
            yield Button("Discard the new key", id="rotate-discard", variant="error", classes="hidden")
            yield Button("Stop here", id="rotate-stop")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        self.read_keys()

    # -- reading -------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation-check", name="reading the user's keys")
    def read_keys(self) -> None:
        app = self.s3cred_app
        caller_key = self.aws.caller_access_key_id()
        check = check_rotation(self.aws, self.user_name, self.key_id, identity=app.identity, caller_key_id=caller_key)
        rotation = None
        if check.ok:
            rotation = Rotation(
                self.aws.for_apply(), check, on_event=lambda event: self.post_message(RotationProgress(event)),
                identity=app.identity, caller_key_id=caller_key,
            )
        self.post_message(RotationChecked(check, rotation))

    def on_rotation_checked(self, message: RotationChecked) -> None:
        self.check = message.check
        self.rotation = message.rotation
        self._show()

    def on_rotation_progress(self, message: RotationProgress) -> None:
        self._show()

    def on_rotation_step_ended(self, message: RotationStepEnded) -> None:
        self.busy_step = False
        self._show()
        self.refresh_keys()
        account = self.s3cred_app.account_screen()
        if account is not None:
            account.recount_user(self.user_name)

    # -- showing -------------------------------------------------------------------------------

    def _step_states(self) -> dict[RotationStep, tuple[str, str]]:
        states: dict[RotationStep, tuple[str, str]] = {step: ("pending", "") for step in RotationStep}
        for event in self.rotation.events if self.rotation else ():
            states[event.step] = (event.status, event.message)
        return states

    def _show(self) -> None:
        steps = Text()
        check = self.check
        if check is None:
            steps.append("Reading the user's keys…", style="dim")
        else:
            now = self.s3cred_app.clock()
            steps.append("Keys: ", style="dim")
            steps.append(
                ", ".join(
                    f"{k.id} ({k.status.lower()}, {formatting.age(k.created, now)} old, "
                    + (f"last used {formatting.last_used(k.last_used, k.last_used_service, now)})" if k.last_used
                       else "never used)")
                    for k in check.keys
                ) or "none"
            )
            steps.append("\n\n")
            states = self._step_states()
            next_step = self.rotation.next_step if self.rotation else None
            for step in RotationStep:
                status, message = states[step]
                icon, style = STEP_LOOK.get(status, ("?", ""))
                if step == next_step and status == "pending":
                    icon, style = "▸", "bold"
                steps.append(f" {icon} {STEP_TITLES[step]}", style=style)
                if message:
                    steps.append(f"\n     {message}", style="dim" if status != "failed" else "red")
                steps.append("\n")
            for note in check.notes:
                steps.append(f"\n{note}", style="yellow")
        self.query_one("#rotate-steps", Static).update(steps)
        state = self.query_one("#rotate-state", Static)
        if check is not None and not check.ok:
            state.update(Text(check.blocker or "", style="bold red"))
        elif self.rotation is not None:
            state.update(Text(self.rotation.summary(), style="bold"))
        self._show_buttons()

    def _show_buttons(self) -> None:
        rotation = self.rotation
        next_step = rotation.next_step if rotation else None
        labels = {
            RotationStep.CREATE: "Create the new key",
            RotationStep.SHOW: "Show the new key",
            RotationStep.PROBE: "Check the new key with AWS",
            RotationStep.DEACTIVATE: f"New key in place: deactivate {rotation.old_key_id if rotation else ''}…",
            RotationStep.DELETE: f"Delete {rotation.old_key_id if rotation else ''}…",
        }
        button = self.query_one("#rotate-next", Button)
        button.label = labels.get(next_step, "Done") if next_step else "Done"
        button.disabled = next_step is None or self.busy_step
        self.query_one("#rotate-leave", Button).set_class(next_step is not RotationStep.DELETE, "hidden")
        discardable = (
            rotation is not None and rotation.credentials is not None and rotation.old_status == "Active"
            and next_step is not None
        )
        self.query_one("#rotate-discard", Button).set_class(not discardable, "hidden")
        self.query_one("#rotate-stop", Button).disabled = next_step is None

    # -- steps ---------------------------------------------------------------------------------

    def action_run(self) -> None:
        """The next step (ctrl+r, as "run" is on the other forms)."""
        rotation = self.rotation
        if rotation is None or rotation.next_step is None or self.busy_step:
            return
        if not require_writable(self.app, "rotate an access key"):
            return
        step = rotation.next_step
        if step is RotationStep.CREATE:
            self._ask(
                f"Create a new access key for {self.user_name}?\n\nThe secret is shown once, right after it is "
                f"created. {rotation.old_key_id} keeps working until you deactivate it.",
                "Create key", danger=False, then=lambda: self._run(self.create_key),
            )
        elif step is RotationStep.PROBE:
            self._run(self.probe_key)
        elif step is RotationStep.DEACTIVATE:
            self._ask(
                f"Is {rotation.new_key_id} in place everywhere {rotation.old_key_id} was used?\n\nDeactivating "
                f"{rotation.old_key_id} makes anything still using it fail at once. It can be activated again.",
                f"Deactivate {rotation.old_key_id}", then=lambda: self._run(self.deactivate),
            )
        elif step is RotationStep.DELETE:
            self._ask(
                f"Delete {rotation.old_key_id} for good?\n\nA deleted key cannot be brought back. "
                "(Leaving it inactive keeps the way back open.)",
                f"Delete {rotation.old_key_id}", then=lambda: self._run(self.finish, True),
            )

    def _ask(self, question: str, label: str, *, then: Callable[[], object], danger: bool = True) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmModal(question, label, danger=danger), answered)

    def _run(self, start: Callable[..., object], *args: object) -> None:
        self.busy_step = True
        self._show_buttons()
        start(*args)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation", name="creating the new key")
    def create_key(self) -> None:
        assert self.rotation is not None
        try:
            credentials = self.rotation.create_new_key()
        finally:
            self.post_message(RotationStepEnded())
        self.post_message(RotationKeyCreated(credentials))

    def on_rotation_key_created(self, message: RotationKeyCreated) -> None:
        def shown(_: None) -> None:
            if self.rotation is not None and self.rotation.next_step is RotationStep.SHOW:
                self.rotation.mark_shown()
                self._run(self.probe_key)

        self.app.push_screen(NewKeyModal(message.credentials, self.user_name), shown)

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation", name="checking the new key")
    def probe_key(self) -> None:
        assert self.rotation is not None
        try:
            self.rotation.probe_new_key()
        finally:
            self.post_message(RotationStepEnded())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation", name="deactivating the old key")
    def deactivate(self) -> None:
        assert self.rotation is not None
        try:
            self.rotation.deactivate_old(confirmed=True)
        finally:
            self.post_message(RotationStepEnded())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation", name="ending the rotation")
    def finish(self, delete: bool) -> None:
        assert self.rotation is not None
        try:
            self.rotation.finish(delete=delete)
        finally:
            self.post_message(RotationStepEnded())

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation", name="stopping the rotation")
    def stop_rotation(self, reason: str, discard_new: bool) -> None:
        assert self.rotation is not None
        try:
            self.rotation.stop(reason, discard_new=discard_new)
        finally:
            self.post_message(RotationStepEnded())

    def action_stop(self) -> None:
        rotation = self.rotation
        if rotation is None or rotation.next_step is None or self.busy_step:
            return
        self._ask(
            f"Stop the rotation here?\n\n{rotation.summary()}",
            "Stop here", danger=False, then=lambda: self._run(self.stop_rotation, "Stopped on request", False),
        )

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        rotation = self.rotation
        if event.button.id == "rotate-next":
            self.action_run()
        elif event.button.id == "rotate-stop":
            self.action_stop()
        elif event.button.id == "rotate-leave" and rotation is not None and not self.busy_step:
            self._run(self.finish, False)
        elif event.button.id == "rotate-discard" and rotation is not None and not self.busy_step:
            self._ask(
                f"Delete the new key {rotation.new_key_id} and stop?\n\n{rotation.old_key_id} stays as it is "
                "(active). Anything you already gave the new key to stops working.",
                "Discard the new key", then=lambda: self._run(self.stop_rotation, "Stopped", True),
            )

    def action_back(self) -> None:
        rotation = self.rotation
        part_way = rotation is not None and rotation.next_step is not None and (
            rotation.new_key_id is not None or rotation.old_status != "Active"
        )
        if not part_way:
            self.app.pop_screen()
            return
        assert rotation is not None

        def leave() -> None:
            rotation.stop("Left the rotation screen")
            self.app.pop_screen()

        self._ask(f"Leave the rotation part-way?\n\n{rotation.summary()}", "Leave", danger=False, then=leave)

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "rotation" and worker.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.busy_step = False
            self._show()

    def refresh_keys(self) -> None:
        """Re-read the keys (after the rotation ended) so the list above shows what is there now."""
        self.read_current_keys()

    @work(thread=True, exclusive=True, exit_on_error=False, group="rotation-check", name="reading the user's keys")
    def read_current_keys(self) -> None:
        keys = access_keys_of(self.aws, self.user_name)
        if self.check is not None:
            self.post_message(RotationChecked(
                RotationCheck(self.check.user, keys, self.check.old_key, self.check.blocker, self.check.replacement,
                              self.check.notes),
                self.rotation,
            ))
