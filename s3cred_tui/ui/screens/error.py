"""Modals that show one message a person can act on (never a traceback), closed with OK."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class MessageModal(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("modals.tcss")
    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="message.close", tooltip="Close this message"),
    ]
    DIALOG_CLASSES = "modal-dialog"

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.message_title = title
        self.message_text = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes=self.DIALOG_CLASSES):
            yield Label(self.message_title, id="modal-title", classes="modal-title")
            yield Static(self.message_text, id="modal-message", classes="modal-message", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("OK", id="ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class ErrorModal(MessageModal):
    BINDINGS = [
        Binding("escape,enter", "close", "Close", id="error.close", tooltip="Close this message"),
    ]
    DIALOG_CLASSES = "modal-dialog error-dialog"

    @property
    def error_title(self) -> str:
        return self.message_title

    @property
    def error_message(self) -> str:
        return self.message_text
