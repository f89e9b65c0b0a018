"""The one and only showing of a new secret access key: masked until revealed, copyable.

Esc and the app's quit keys ask first (`confirm.HoldsSecret`); the button that closes at once
says what pressing it means ("I have saved it"). `v` reveals, `y` opens the copy menu (as on
the result screen): no single key copies the secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static

from s3cred_tui.core.credentials import to_env
from s3cred_tui.ui.base import AppContext
from s3cred_tui.ui.screens.confirm import (
    HoldsSecret,
    LeaveSecretModal,
    leave_secret_question,
)
from s3cred_tui.ui.widgets.copy_menu import (
    CopyFormat,
    CopyMenuModal,
    copy_credentials,
    copy_formats,
)

# The dialog's own buttons, copied as the menu's formats are (a file offered where the clipboard will not work).
_COPY_SECRET = CopyFormat("s", "the secret access key", lambda creds: creds.secret_access_key, holds_secret=True)
_COPY_ENV = CopyFormat("e", "the key as environment variables", to_env, holds_secret=True, extension="env")


class NewKeyModal(HoldsSecret, AppContext, ModalScreen[None]):
    CSS_PATH = Path(__file__).parent.parent / "screens" / "modals.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="newkey.close", tooltip="Close (asks first: the secret cannot be shown again)"),
        Binding("v", "toggle_secret", "Reveal/hide", id="newkey.reveal", tooltip="Show or mask the secret"),
        Binding("y", "copy_menu", "Copy…", id="newkey.copy", tooltip="Copy the key id, the secret, or a whole block"),
    ]

    def __init__(self, credentials: Any, user_name: str) -> None:
        super().__init__()
        self._credentials = credentials
        self.user_name = user_name
        self.revealed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog new-key-dialog"):
            yield Label(f"New access key for {self.user_name}", classes="modal-title")
            yield Static(
                "AWS shows this secret once and never again. Copy it somewhere safe before closing.",
                classes="modal-message new-key-warning",
            )
            yield Static(self._key_text(), id="new-key-values", classes="modal-message")
            with Horizontal(classes="modal-buttons"):
                yield Button("Reveal (v)", id="toggle-secret")
                yield Button("Copy secret", id="copy-secret")
                yield Button("Copy as env", id="copy-env")
                yield Button("I have saved it", id="done", variant="primary", tooltip="Close; the secret cannot be shown again")
        yield Footer()  # this dialog's keys (v, y, Esc), over the user screen's, which do not reach here

    def _key_text(self) -> Text:
        secret = self._credentials.secret_access_key if self.revealed else self._credentials.masked_secret
        return Text.assemble(
            ("Access key id      ", "dim"),
            (self._credentials.access_key_id, "bold"),
            ("\nSecret access key  ", "dim"),
            (secret, "bold yellow" if self.revealed else "dim"),
        )

    def on_mount(self) -> None:
        self.query_one("#copy-secret", Button).focus()

    def action_toggle_secret(self) -> None:
        self.revealed = not self.revealed
        self.query_one("#new-key-values", Static).update(self._key_text())
        self.query_one("#toggle-secret", Button).label = "Hide (v)" if self.revealed else "Reveal (v)"

    def action_close(self) -> None:
        def leave(confirmed: bool | None) -> None:
            if confirmed:
                self.saved_and_closed()

        self.app.push_screen(
            LeaveSecretModal(
                leave_secret_question(self.secret_copies, "Close", self.secret_files), confirm_label="Yes, close"
            ), leave
        )

    def saved_and_closed(self) -> None:
        self.secret_left()
        self.dismiss(None)

    def action_copy_menu(self) -> None:
        profile = self.s3cred_app.settings.ini_profile or self.user_name
        self.app.push_screen(CopyMenuModal(copy_formats(profile)), self._copy_chosen)

    def _copy_chosen(self, choice: CopyFormat | None) -> None:
        if choice is None:
            return
        copy_credentials(self.app, self._credentials, choice, on_copied=self.secret_copied, on_saved=self.secret_saved)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "toggle-secret":
            self.action_toggle_secret()
        elif event.button.id == "copy-secret":
            self._copy_chosen(_COPY_SECRET)
        elif event.button.id == "copy-env":
            self._copy_chosen(_COPY_ENV)
        elif event.button.id == "done":
            self.saved_and_closed()
