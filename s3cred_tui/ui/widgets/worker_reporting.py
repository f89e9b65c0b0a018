"""Send every worker's state change to the app's single error handler.

Textual posts `Worker.StateChanged` only to the node that started the worker (it does
not bubble), so screens forward it; the app alone decides how a failure is shown.
Screens may also react locally (an inline "stopped" status) via `worker_state_changed`.
"""

from __future__ import annotations

from textual.worker import Worker


class ForwardWorkerStates:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report = getattr(self.app, "on_worker_state_changed", None)  # type: ignore[attr-defined]
        if report is not None:
            report(event)
        self.worker_state_changed(event.worker)

    def worker_state_changed(self, worker: Worker) -> None:
        """Screen-specific follow-up; the default does nothing."""
