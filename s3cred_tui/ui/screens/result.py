"""Step four of the create flow: the new credentials, shown once.

The secret is masked until the person reveals it, and leaves this screen only through the
clipboard actions they choose; nothing here logs it or writes it to a file. Every way out of the
screen (Esc, Done, and the app's quit keys) asks first (`confirm.HoldsSecret`).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Footer, Label, Static

from s3cred_tui.core import credentials as formats
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.plan import Plan
from s3cred_tui.core.request import AccessLevel, PrefixMode
from s3cred_tui.ui.clipboard import copy_and_notify
from s3cred_tui.ui.formatting import date
from s3cred_tui.ui.screens.confirm import (
    HoldsSecret,
    LeaveSecretModal,
    leave_secret_question,
)
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen
from s3cred_tui.ui.widgets.probe_panel import ProbePanel

SHOWN_ONCE_WARNING = (
    "⚠ The secret access key is shown only now. AWS cannot show it again: copy it somewhere safe "
    "before you leave this screen."
)

# button id -> (what the notice calls it, how to render it); every copy but the key id holds the secret
COPY_ACTIONS = {
    "copy-key-id": ("access key id", lambda creds: creds.access_key_id),
    "copy-secret": ("secret access key", lambda creds: creds.secret_access_key),
    "copy-ini": ("INI block", formats.to_ini),
    "copy-env": ("export lines", formats.to_env),
    "copy-json": ("JSON", formats.to_json),
    "copy-process": ("credential_process JSON", formats.to_credential_process),
}


def expiry_text(expiration: datetime | None) -> str:
    return "never (until the key is deleted)" if expiration is None else f"{date(expiration)} UTC"


class ResultScreen(HoldsSecret, CreateFlowScreen):
    CSS_PATH = Path(__file__).with_name("result.tcss")
    BINDINGS = [
        Binding("r", "toggle_secret", "Reveal/hide", id="result.reveal", tooltip="Show or mask the secret"),
        Binding("k", "copy('copy-key-id')", "Copy key id", id="result.copy_key_id", tooltip="Copy the access key id"),
        Binding("s", "copy('copy-secret')", "Copy secret", id="result.copy_secret", tooltip="Copy the secret access key"),
        Binding("i", "copy('copy-ini')", "Copy INI", id="result.copy_ini", tooltip="Copy a ~/.aws/credentials block"),
        Binding("e", "copy('copy-env')", "Copy exports", id="result.copy_env", tooltip="Copy shell export lines"),
        Binding("j", "copy('copy-json')", "Copy JSON", id="result.copy_json", tooltip="Copy the keys as JSON"),
        Binding("p", "copy('copy-process')", "Copy credential_process", id="result.copy_process",
                tooltip="Copy the JSON a credential_process command prints"),
        Binding("escape", "done", "Done", id="result.done", tooltip="Leave (asks first: the secret cannot be shown again)"),
    ]

    def __init__(self, credentials: Credentials, plan: Plan, *, autostart_probe: bool = True) -> None:
        super().__init__()
        self.credentials = credentials
        self.plan = plan
        self.autostart_probe = autostart_probe
        self.revealed = False

    def compose(self) -> ComposeResult:
        creds = self.credentials
        with VerticalScroll(id="result-main"):
            yield Label("Your new credentials", id="result-title")
            yield Static(SHOWN_ONCE_WARNING, id="result-warning", markup=False)
            with Grid(id="result-fields"):
                yield Label("Access key id", classes="result-label")
                yield Static(creds.access_key_id, id="key-id", markup=False)
                yield Label("Secret access key", classes="result-label")
                yield Static(creds.masked_secret, id="secret", markup=False)
                if creds.session_token is not None:
                    yield Label("Session token", classes="result-label")
                    yield Static(self._token_text(), id="session-token", markup=False)
                yield Label("Expires", classes="result-label")
                yield Static(expiry_text(creds.expiration), id="expires", markup=False)
                if creds.user_name:
                    yield Label("IAM user", classes="result-label")
                    yield Static(creds.user_name, id="user-name", markup=False)
                yield Label("Can", classes="result-label")
                yield Static(self._scope_text(), id="scope", markup=False)
            with Horizontal(classes="result-buttons"):
                yield Button("Reveal secret", id="reveal", variant="warning", tooltip="Show or mask the secret (r)")
                yield Button("Copy key id", id="copy-key-id", tooltip="Copy the access key id (k)")
                yield Button("Copy secret", id="copy-secret", tooltip="Copy the secret access key (s)")
                yield Button("Copy INI", id="copy-ini", tooltip="Copy a ~/.aws/credentials block (i)")
            with Horizontal(classes="result-buttons"):
                yield Button("Copy export lines", id="copy-env", tooltip="Copy shell export lines (e)")
                yield Button("Copy JSON", id="copy-json", tooltip="Copy the keys as JSON (j)")
                yield Button("Copy credential_process", id="copy-process", tooltip="Copy credential_process JSON (p)")
                yield Button("Done", id="done", variant="primary", tooltip="Leave this screen (Esc)")
            request = self.plan.request
            if request.access is AccessLevel.CUSTOM or request.prefix_mode is PrefixMode.PATTERN:
                # The probe compares against an access level and a literal prefix; neither exists here.
                yield Static(
                    "The live probe needs an access level and a plain prefix to compare against; "
                    "for a custom policy or a wildcard pattern, check it with Simulate instead.",
                    id="probe-unavailable",
                    markup=False,
                )
            else:
                yield ProbePanel(
                    creds, request.buckets, request.access, request.prefix, autostart=self.autostart_probe, id="result-probe"
                )
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#copy-ini", Button).focus()

    def _token_text(self) -> str:
        token = self.credentials.session_token or ""
        if self.revealed:
            return token
        return f"{len(token):,} characters, hidden (included in INI, export and JSON copies)"

    def _scope_text(self) -> str:
        request = self.plan.request
        where = ", ".join(f"s3://{bucket}/{request.prefix}" for bucket in request.buckets)
        return f"{request.access.label} on {where}"

    def action_toggle_secret(self) -> None:
        self.revealed = not self.revealed
        secret = self.credentials.secret_access_key if self.revealed else self.credentials.masked_secret
        self.query_one("#secret", Static).update(Text(secret, style="bold" if self.revealed else ""))
        if self.credentials.session_token is not None:
            self.query_one("#session-token", Static).update(self._token_text())
        self.query_one("#reveal", Button).label = "Hide secret" if self.revealed else "Reveal secret"

    def action_copy(self, button_id: str) -> None:
        what, render = COPY_ACTIONS[button_id]
        copy_and_notify(self.app, render(self.credentials), what)
        if button_id != "copy-key-id":
            self.secret_copied(what)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "reveal":
            self.action_toggle_secret()
        elif button_id == "done":
            self.action_done()
        elif button_id in COPY_ACTIONS:
            self.action_copy(button_id)

    def action_done(self) -> None:
        def leave(confirmed: bool | None) -> None:
            if confirmed:
                self.secret_left()
                self.s3cred_app.close_create_flow()

        self.app.push_screen(
            LeaveSecretModal(leave_secret_question(self.secret_copies, "Leave"), confirm_label="Yes, leave"), leave
        )
