"""What the create-credentials screens share: the way out of the flow and failed-worker handling.

The flow is create → review → apply → result. Closing it pops every one of those screens at
once, so a person lands back where they started (the bucket or account view).
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.ui.screens.error import ErrorModal


class PlanReady(Message):
    """build_plan finished (posted from the review screen's worker)."""

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan


class ApplyProgress(Message):
    """One `ApplyEvent` from apply_plan, posted from the apply worker thread."""

    def __init__(self, event: Any) -> None:
        super().__init__()
        self.event = event


class ApplyFinished(Message):
    """apply_plan returned its `ApplyResult` (success, failure with rollback, or cancelled)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class CreateFlowScreen(Screen[None]):
    """Base of every screen in the create flow."""

    # Worker group name -> title of the error modal shown when that worker fails.
    WORKER_ERROR_TITLES: dict[str, str] = {}

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is not WorkerState.ERROR:
            return
        title = self.WORKER_ERROR_TITLES.get(event.worker.group)
        if title is None:
            return
        event.stop()
        error = event.worker.error
        self.worker_failed(event.worker.group, error)
        self.app.push_screen(ErrorModal(title, error_text(error)))

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        """Hook for screens that must update themselves when a worker fails."""


def error_text(error: BaseException | None) -> str:
    """One line a person can act on; typed errors carry their own safe message."""
    if error is None:
        return "Unknown error."
    typed = error if isinstance(error, S3CredError) else translate(error)
    return typed.message


async def _pop_flow(app: Any) -> None:
    while len(app.screen_stack) > 1 and isinstance(app.screen, CreateFlowScreen):
        await app.pop_screen()


def close_create_flow(app: Any) -> None:
    """Leave the create flow entirely. Scheduled on the app, because a screen cannot await its own removal."""
    app.call_later(_pop_flow, app)
