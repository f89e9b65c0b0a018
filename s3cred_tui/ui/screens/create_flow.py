"""What the create-credentials screens share.

The flow is create → review → apply → result, each reached through the app
(`open_review`, `open_apply`, `open_result`). Leaving it (`app.close_create_flow()`) pops
every one of those screens at once, so a person lands back where they started (the bucket or
account view); `app.return_to_create_form()` goes back to the form after a failed apply.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState

from s3cred_tui.ui.base import AwsScreen


class CreateFlowScreen(AwsScreen[None]):
    """Base of every screen in the create flow: how the app knows which screens to pop."""


class PlanReviewScreen(CreateFlowScreen):
    """What the credentials review and the grant review share: the plan is built on a worker
    (group `PLAN_GROUP`), shown, and applied only when it can be; Back cancels the build.

    A subclass composes `#{ID_PREFIX}-loading`, `#{ID_PREFIX}-plan` and the `#apply` / `#back`
    buttons, builds its plan in `load_plan` and shows it in `show_plan`.
    """

    PLAN_GROUP: ClassVar[str] = "plan"
    ID_PREFIX: ClassVar[str] = "review"

    plan: Any

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()
        self.load_plan()

    def load_plan(self) -> None:
        raise NotImplementedError

    def can_apply(self) -> bool:
        """Whether Apply is offered (in the footer, on ctrl+a, as a button)."""
        return self.plan is not None and self.plan.ok

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "apply" and not self.can_apply():
            return False
        return super().check_action(action, parameters)

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group != self.PLAN_GROUP or worker.state is not WorkerState.ERROR:
            return  # the app shows the error itself, titled by WORKER_ERROR_TITLES
        self.query_one(f"#{self.ID_PREFIX}-loading").display = False
        self.query_one(f"#{self.ID_PREFIX}-plan", Static).update(
            Text("The plan could not be built; nothing was changed.", style="red")
        )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.action_apply()
        elif event.button.id == "back":
            self.action_back()

    def action_back(self) -> None:
        self.workers.cancel_group(self, self.PLAN_GROUP)
        self.app.pop_screen()

    def action_apply(self) -> None:
        if self.plan is None or not self.plan.ok:
            self.notify("This plan cannot be applied: see what is blocking it.", severity="warning")
            return
        self.s3cred_app.open_apply(self.plan)
