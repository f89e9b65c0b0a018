"""What every screen, modal and widget of the app shares.

- `AppContext`: typed access to the app (`s3cred_app`) and its AWS context (`aws`);
  `s3cred_app_of(app)` for objects that are not widgets.
- `ReportsWorkerFailures`: hands each worker's state change to the app's one error handler
  (`S3CredApp.on_worker_state_changed`), with the error-modal title this node gives a worker.
- `AwsScreen` and `AwsModalScreen`: the base of every screen and modal that reads the account;
  in read-only mode their footers leave out every binding that would change it.

Textual posts `Worker.StateChanged` only to the node that started the worker (it does not
bubble), so the forwarding has to live on every node that starts workers; the deciding (modal
or not, which title, said once) lives in the app alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual.app import App
from textual.binding import ActiveBinding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.worker import Worker

from s3cred_tui.core.session import AwsContext
from s3cred_tui.ui.guards import MUTATING_ACTIONS

if TYPE_CHECKING:
    # Typing only, and only here: the app module imports every screen, so a runtime import
    # would be a circle. Other modules get the typed app through `AppContext` or `s3cred_app_of`.
    from s3cred_tui.ui.app import S3CredApp

    _Node = DOMNode
else:
    _Node = object

ScreenResult = TypeVar("ScreenResult")


def s3cred_app_of(app: App[Any]) -> S3CredApp:
    """The running app, typed (for objects that are not widgets, such as a command provider)."""
    return cast("S3CredApp", app)


class AppContext(_Node):
    """Typed access to the running app. Mix into any widget or screen."""

    @property
    def s3cred_app(self) -> S3CredApp:
        return s3cred_app_of(self.app)

    @property
    def aws(self) -> AwsContext:
        """The app's AWS context at this moment (a profile switch replaces it)."""
        return self.s3cred_app.aws


class ReportsWorkerFailures(_Node):
    """Forward every worker state change of this node to the app's error handler.

    `WORKER_ERROR_TITLES` names the error modal per worker group ("Could not build the plan");
    a group without a title gets one from the kind of error ("Access denied") and the worker's
    name in the message ("While listing IAM users: …"). Groups in `WORKER_FAILURES_SHOWN_HERE`
    fail quietly as far as the app is concerned: this node shows the failure in place.
    """

    WORKER_ERROR_TITLES: ClassVar[Mapping[str, str]] = {}
    WORKER_FAILURES_SHOWN_HERE: ClassVar[frozenset[str]] = frozenset()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A host app without the handler (a widget mounted on its own) simply shows nothing.
        report = getattr(self.app, "on_worker_state_changed", None)
        if report is not None:
            report(event)
        self.worker_state_changed(event.worker)

    def worker_state_changed(self, worker: Worker) -> None:
        """What this node itself does when one of its workers changes state; nothing by default."""


# Terminal width (columns) from which the footer also shows the command palette's key.
PALETTE_IN_FOOTER_FROM = 100


def action_name(action: str) -> str:
    """`copy('ini')` -> `copy`, `app.quit` -> `quit`: the action a binding runs, without arguments."""
    return action.split("(", 1)[0].rsplit(".", 1)[-1]


class HidesMutatingActions(AppContext):
    """In read-only mode, bindings that would change the account are left out of the footer.

    Their keys still reach the action, which refuses with a notice saying why
    (`guards.require_writable`): a key pressed from habit gets an answer, not silence.
    """

    @property
    def active_bindings(self) -> dict[str, ActiveBinding]:
        bindings: dict[str, ActiveBinding] = super().active_bindings  # type: ignore[misc]
        if not getattr(self.app, "read_only", False):
            return bindings
        return {key: b for key, b in bindings.items() if action_name(b.binding.action) not in MUTATING_ACTIONS}


class AwsScreen(HidesMutatingActions, ReportsWorkerFailures, Screen[ScreenResult]):
    """A full screen of the app."""

    def on_mount(self) -> None:
        # Textual calls this besides a subclass's own on_mount (handlers run along the MRO).
        # A compact footer keeps every key of a screen visible at 80 columns.
        for footer in self.query(Footer):
            footer.compact = True
        self._fit_footer()

    def on_resize(self) -> None:
        self._fit_footer()

    def _fit_footer(self) -> None:
        """The palette's key (ctrl+p) only where the screen's own keys still fit beside it."""
        for footer in self.query(Footer):
            footer.show_command_palette = self.app.size.width >= PALETTE_IN_FOOTER_FROM


class AwsModalScreen(HidesMutatingActions, ReportsWorkerFailures, ModalScreen[ScreenResult]):
    """A modal that reads the account (the pickers)."""
