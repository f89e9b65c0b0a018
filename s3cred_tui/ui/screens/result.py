"""Step four of the create flow: the new credentials, shown once.

The secret is masked until the person reveals it (`v`), and leaves this screen only through the
copy menu (`y`, then a format letter: never a motion key), or, where the clipboard will probably
not work, a file only the person can read, written when they ask; nothing here logs it. Every
way out of the screen (Esc, Done, and the app's quit keys) asks first (`confirm.HoldsSecret`). Reveal, Copy… and Done stay docked above the footer at any size.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import Button, Footer, Input, Label, Static

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.plan import Plan
from s3cred_tui.core.request import AccessLevel, PrefixMode
from s3cred_tui.ui.formatting import date
from s3cred_tui.ui.screens.confirm import (
    HoldsSecret,
    LeaveSecretModal,
    leave_secret_question,
)
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen
from s3cred_tui.ui.widgets.copy_menu import (
    CopyFormat,
    CopyMenuModal,
    copy_credentials,
    copy_formats,
)
from s3cred_tui.ui.widgets.motion import MotionScroll
from s3cred_tui.ui.widgets.probe_panel import ProbePanel

SHOWN_ONCE_WARNING = (
    "⚠ The secret access key is shown only now. AWS cannot show it again: copy it somewhere safe "
    "before you leave this screen."
)
# The INI section when the config file names none and the credentials carry no user name.
FALLBACK_INI_PROFILE = "s3cred-tui"


def expiry_text(expiration: datetime | None) -> str:
    return "never (until the key is deleted)" if expiration is None else f"{date(expiration)} UTC"


def default_ini_profile(credentials: Credentials, configured: str | None = None) -> str:
    """The `[section]` of "Copy INI": the configured name, else the IAM user's, never `default`
    (pasting a `[default]` block would overwrite the person's own default profile)."""
    return configured or credentials.user_name or FALLBACK_INI_PROFILE


class ResultScreen(HoldsSecret, CreateFlowScreen):
    CSS_PATH = Path(__file__).with_name("result.tcss")
    BINDINGS = [
        Binding("v", "toggle_secret", "Reveal/hide", id="result.reveal", tooltip="Show or mask the secret"),
        Binding("y", "copy_menu", "Copy…", id="result.copy", tooltip="Copy the key id, the secret, or a whole block"),
        Binding("p", "probe", "Probe again", id="result.probe", tooltip="Run the live probe with the new key again"),
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
        with MotionScroll(id="result-main"):
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
                yield Label("INI profile", classes="result-label")
                yield Input(
                    default_ini_profile(creds, self.s3cred_app.settings.ini_profile),
                    compact=True,
                    id="ini-profile",
                    tooltip="The [section] name of the INI block y then i copies",
                )
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
        with Horizontal(id="result-actions"):
            yield Button("Reveal secret (v)", id="reveal", variant="warning", compact=True, tooltip="Show or mask the secret")
            yield Button("Copy… (y)", id="copy", variant="primary", compact=True, tooltip="Choose what to copy")
            yield Button("Done (Esc)", id="done", compact=True, tooltip="Leave this screen (asks first)")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#copy", Button).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "probe" and not self.query(ProbePanel):
            return False  # nothing to probe again (custom policy or pattern)
        return super().check_action(action, parameters)

    def _token_text(self) -> str:
        token = self.credentials.session_token or ""
        if self.revealed:
            return token
        return f"{len(token):,} characters, hidden (included in INI, export and JSON copies)"

    def _scope_text(self) -> str:
        request = self.plan.request
        where = ", ".join(f"s3://{bucket}/{request.prefix}" for bucket in request.buckets)
        return f"{request.access.label} on {where}"

    @property
    def ini_profile(self) -> str:
        typed = self.query_one("#ini-profile", Input).value.strip()
        return typed or default_ini_profile(self.credentials, self.s3cred_app.settings.ini_profile)

    def action_toggle_secret(self) -> None:
        self.revealed = not self.revealed
        secret = self.credentials.secret_access_key if self.revealed else self.credentials.masked_secret
        self.query_one("#secret", Static).update(Text(secret, style="bold" if self.revealed else ""))
        if self.credentials.session_token is not None:
            self.query_one("#session-token", Static).update(self._token_text())
        self.query_one("#reveal", Button).label = "Hide secret (v)" if self.revealed else "Reveal secret (v)"

    def action_copy_menu(self) -> None:
        self.app.push_screen(CopyMenuModal(copy_formats(self.ini_profile)), self.copy)

    def copy(self, choice: CopyFormat | None) -> None:
        """Copy in the chosen format (None: the menu was closed) and remember a copy that held the secret."""
        if choice is None:
            return
        copy_credentials(self.app, self.credentials, choice, on_copied=self.secret_copied, on_saved=self.secret_saved)

    def action_probe(self) -> None:
        for panel in self.query(ProbePanel):
            if not panel.running:
                panel.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        button_id = event.button.id or ""
        if button_id == "reveal":
            self.action_toggle_secret()
        elif button_id == "copy":
            self.action_copy_menu()
        elif button_id == "done":
            self.action_done()

    def action_done(self) -> None:
        def leave(confirmed: bool | None) -> None:
            if confirmed:
                self.secret_left()
                self.s3cred_app.close_create_flow()

        self.app.push_screen(
            LeaveSecretModal(
                leave_secret_question(self.secret_copies, "Leave", self.secret_files), confirm_label="Yes, leave"
            ), leave
        )
