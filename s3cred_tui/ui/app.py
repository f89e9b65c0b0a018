"""The Textual application: one AWS context, the account screen, and the error handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import errors
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.ui.commands import S3CredCommands
from s3cred_tui.ui.formatting import utc_now
from s3cred_tui.ui.messages import IdentityLoaded
from s3cred_tui.ui.screens.error import ErrorModal

ERROR_TITLES: tuple[tuple[type[errors.S3CredError], str], ...] = (
    (errors.CredentialsMissing, "No AWS credentials"),
    (errors.CredentialsExpired, "AWS credentials expired"),
    (errors.CredentialsInvalid, "AWS credentials not accepted"),
    (errors.AccessDenied, "Access denied"),
    (errors.Throttled, "AWS is throttling requests"),
    (errors.EndpointUnreachable, "Cannot reach AWS"),
    (errors.NotFound, "Not found"),
    (errors.LimitExceeded, "AWS limit reached"),
    (errors.ValidationError, "Invalid input"),
)


def error_title(error: errors.S3CredError) -> str:
    for kind, title in ERROR_TITLES:
        if isinstance(error, kind):
            return title
    return "Something went wrong"


class S3CredApp(App[None]):
    """`app.aws` is the shared AWS context; `app.identity` is set once whoami answers."""

    TITLE = "s3cred-tui"
    SUB_TITLE = "least-privilege S3 credentials"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {S3CredCommands}
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Leave s3cred-tui"),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            key_display="?",
            id="app.help",
            tooltip="Screens, keys, and what read-only mode means",
        ),
    ]

    identity: reactive[Any] = reactive(None, init=False)

    def __init__(self, config: SessionConfig, *, read_only: bool = False, demo_note: str | None = None) -> None:
        super().__init__()
        self.config = config
        self.read_only = read_only
        self.demo_note = demo_note
        self.startup_error: errors.S3CredError | None = None
        self.aws = self._context_for(config)
        self._errors_on_screen: set[str] = set()
        # Ages ("3 days") are measured against this; tests pin it for stable snapshots.
        self.clock: Callable[[], datetime] = utc_now

    def _context_for(self, config: SessionConfig) -> AwsContext:
        try:
            return AwsContext(config)
        except errors.S3CredError as exc:
            # A missing profile must not stop the app: say so, and fall back to the default chain.
            self.startup_error = exc
            return AwsContext(replace(config, profile=None))

    def on_mount(self) -> None:
        from s3cred_tui.ui.screens.account import AccountScreen

        self.theme = "textual-dark"
        self.push_screen(AccountScreen())
        self.load_identity()
        if self.startup_error is not None:
            self.show_error(self.startup_error)

    @work(thread=True, exclusive=True, exit_on_error=False, group="identity", name="checking who you are")
    def load_identity(self) -> None:
        from s3cred_tui.core.inventory import whoami

        identity = whoami(self.aws)
        if not get_current_worker().is_cancelled:
            self.post_message(IdentityLoaded(identity))

    def on_identity_loaded(self, message: IdentityLoaded) -> None:
        self.identity = message.identity

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes something a person reads."""
        if event.state is not WorkerState.ERROR:
            return
        error = errors.translate(event.worker.error) if event.worker.error is not None else None
        if error is None or isinstance(error, errors.Cancelled):
            return
        self.show_error(error, doing=event.worker.name)

    def show_error(self, error: errors.S3CredError, doing: str | None = None) -> None:
        # Several workers often fail for one reason (no credentials): say it once.
        reason = error.message
        if reason in self._errors_on_screen:
            return
        self._errors_on_screen.add(reason)
        message = f"While {doing}:\n\n{reason}" if doing else reason
        self.push_screen(ErrorModal(error_title(error), message), lambda _: self._errors_on_screen.discard(reason))

    def action_help(self) -> None:
        from s3cred_tui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def available_profiles(self) -> list[str]:
        import botocore.session

        try:
            return sorted(botocore.session.Session().available_profiles)
        except Exception:  # an unreadable config file means no profiles to offer, not a crash
            return []

    def switch_profile(self, profile: str) -> None:
        """Act as another profile: new clients, new identity, every list reloaded."""
        from s3cred_tui.ui.screens.account import AccountScreen

        config = replace(self.config, profile=profile, access_key_id=None, secret_access_key=None, session_token=None)
        try:
            context = AwsContext(config)
        except errors.S3CredError as exc:
            self.show_error(exc, doing=f"switching to profile {profile}")
            return
        self.config = config
        self.aws = context
        self.identity = None
        self.load_identity()
        while len(self.screen_stack) > 2 and not isinstance(self.screen, AccountScreen):
            self.pop_screen()
        if isinstance(self.screen, AccountScreen):
            self.screen.action_refresh()
        self.notify(f"Now using profile {profile}.", title="Profile")

    def account_screen(self) -> Any:
        from s3cred_tui.ui.screens.account import AccountScreen

        for screen in self.screen_stack:
            if isinstance(screen, AccountScreen):
                return screen
        return None


def run_app(config: SessionConfig, *, read_only: bool = False, demo_note: str | None = None) -> None:
    S3CredApp(config, read_only=read_only, demo_note=demo_note).run()
