"""A yes/no question before anything irreversible; dismisses with True only on an explicit yes."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class ConfirmModal(ModalScreen[bool]):
    CSS_PATH = Path(__file__).with_name("modals.tcss")
    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel", tooltip="Go back without changing anything"),
        Binding("y", "confirm", "Confirm", id="confirm.yes", tooltip="Do it"),
    ]

    def __init__(self, question: str, confirm_label: str = "Confirm", danger: bool = True) -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog confirm-dialog"):
            yield Label("Please confirm", id="modal-title", classes="modal-title")
            yield Static(self.question, id="modal-message", classes="modal-message", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel", id="cancel", variant="default")
                yield Button(self.confirm_label, id="confirm", variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        # The safe answer has focus, so a stray Enter never destroys anything.
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)
