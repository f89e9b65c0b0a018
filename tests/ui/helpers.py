"""Helpers shared by the UI tests: one way to build the app and one way to let it settle."""

from __future__ import annotations

from textual.worker import WorkerFailed

from s3cred_tui.core.session import SessionConfig
from s3cred_tui.ui.app import S3CredApp


def make_app(read_only: bool = False, config: SessionConfig | None = None, clock=None) -> S3CredApp:
    """The app on the default (mocked) account; animations off, since key presses wait for them."""
    app = S3CredApp(config or SessionConfig(region="us-east-1"), read_only=read_only)
    app.animation_level = "none"
    if clock is not None:
        app.clock = clock
    return app


async def settle(pilot, rounds: int = 3) -> None:
    """Let every worker finish and every message it posted be handled (a bounded number of rounds).

    A failed worker is the app's to show; tests look at what it showed.
    """
    for _ in range(rounds):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass
        await pilot.pause()


async def wait_until(pilot, condition, what: str, timeout: float = 10.0, step: float = 0.05) -> None:
    """Pause until `condition()` holds; fail naming `what` after `timeout` seconds instead of hanging."""
    for _ in range(int(timeout / step)):
        if condition():
            return
        await pilot.pause(step)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
