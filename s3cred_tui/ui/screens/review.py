"""Step two of the create flow: the plan, in plain words, before anything changes.

`build_plan` only reads the account (does the bucket exist? the user? the role?), so it runs
as soon as the screen opens. Nothing is created until the person presses Apply.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static
from textual.worker import get_current_worker

from s3cred_tui.core import policies
from s3cred_tui.core.plan import Plan, build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen, PlanReady
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview

BLOCKED_HINT = "Nothing will be changed. Go back (Esc) and change the request, then review again."


def request_summary(request: CredentialRequest) -> str:
    """`Read only on s3://a/reports/, s3://b/reports/ as a permanent IAM user (s3.read-only.a)`."""
    where = ", ".join(f"s3://{bucket}/{request.prefix}" for bucket in request.buckets)
    if request.temporary:
        minutes = (request.duration_seconds or 0) // 60
        span = f"{minutes // 60} h {minutes % 60} min" if minutes % 60 else f"{minutes // 60} h"
        if minutes < 60:
            span = f"{minutes} min"
        how = f"as temporary credentials ({request.kind.value}, {span})"
    else:
        how = f"as a permanent IAM user ({request.username})"
        if request.reuse_existing_user:
            how += ", reusing it if it exists"
    return f"{request.access.label} on {where} {how}"


def plan_policy(plan: Plan) -> dict[str, Any]:
    """The policy that limits the new credentials (the user's inline policy or the session policy)."""
    return policies.policy_for_request(plan.request)


def plan_text(plan: Plan) -> Text:
    """Steps, facts, warnings and blockers as styled text (blockers in red)."""
    text = Text()
    text.append("API calls, in order\n", style="bold")
    if plan.steps:
        for number, step in enumerate(plan.steps, start=1):
            text.append(f"{number:>2}. ", style="dim")
            text.append(step.action, style="bold cyan")
            text.append(f"  {step.title}")
            if step.policy is not None:
                text.append("  (sends a policy)", style="dim")
            text.append("\n")
    else:
        text.append("   (none)\n", style="dim")
    if plan.facts:
        text.append("\nWhat the account looks like now\n", style="bold")
        for fact in plan.facts:
            text.append(f"  • {fact}\n")
    if plan.warnings:
        text.append("\nWarnings\n", style="bold yellow")
        for warning in plan.warnings:
            text.append(f"  ⚠ {warning}\n", style="yellow")
    if plan.ok:
        text.append(
            "\nNothing has been changed yet. Apply makes these calls in order; "
            "if one fails, the ones before it are undone.\n",
            style="italic",
        )
    if plan.blockers:
        text.append("\nBlocked: this plan cannot be applied\n", style="bold red")
        for blocker in plan.blockers:
            text.append(f"  ✗ {blocker}\n", style="red")
        text.append(f"\n{BLOCKED_HINT}\n", style="red")
    return text.rstrip() or text


class ReviewScreen(CreateFlowScreen):
    CSS_PATH = [
        Path(__file__).with_name("review.tcss"),
        Path(__file__).parent.parent / "widgets" / "policy_preview.tcss",
    ]
    BINDINGS = [
        Binding("escape", "back", "Back", id="review.back", tooltip="Change the request"),
        Binding("ctrl+a", "apply", "Apply", id="review.apply", tooltip="Make every change listed here"),
    ]
    WORKER_ERROR_TITLES = {"plan": "Could not build the plan"}

    def __init__(self, request: CredentialRequest) -> None:
        super().__init__()
        self.request = request
        self.plan: Plan | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="review-body"):
            with Vertical(id="review-main"):
                yield Label("Review plan", id="review-title")
                yield Static(request_summary(self.request), id="review-summary", markup=False)
                yield LoadingIndicator(id="review-loading")
                with VerticalScroll(id="review-plan-scroll"):
                    yield Static("Reading the account (read-only calls)…", id="review-plan")
                with Horizontal(id="review-buttons"):
                    yield Button("Apply", id="apply", variant="warning", disabled=True, tooltip="Make these changes (ctrl+a)")
                    yield Button("Back", id="back", tooltip="Change the request (Esc)")
            with Vertical(id="review-side"):
                yield PolicyPreview("Policy to attach", id="review-policy")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()
        self.load_plan()

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan", name="building the plan")
    def load_plan(self) -> None:
        plan = build_plan(self.app.aws, self.request, identity=getattr(self.app, "identity", None))
        if not get_current_worker().is_cancelled:
            self.post_message(PlanReady(plan))

    def on_plan_ready(self, message: PlanReady) -> None:
        message.stop()
        self.show_plan(message.plan)

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.query_one("#review-loading").display = False
        self.query_one("#review-plan", Static).update(plan_text(plan))
        document = plan_policy(plan)
        limit, what = (
            (policies.SESSION_POLICY_LIMIT, "session policy")
            if plan.request.temporary
            else (policies.INLINE_USER_POLICY_LIMIT, "inline user policy")
        )
        self.query_one("#review-policy", PolicyPreview).show_policy(
            policies.policy_json(document), policies.policy_size(document), limit, what
        )
        apply_button = self.query_one("#apply", Button)
        apply_button.disabled = not plan.ok
        if plan.ok:
            apply_button.focus()

    def worker_failed(self, group: str, error: BaseException | None) -> None:
        self.query_one("#review-loading").display = False
        self.query_one("#review-plan", Static).update(Text("The plan could not be built; nothing was changed.", style="red"))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "apply":
            self.action_apply()
        elif event.button.id == "back":
            self.action_back()

    def action_back(self) -> None:
        self.workers.cancel_group(self, "plan")
        self.app.pop_screen()

    def action_apply(self) -> None:
        from s3cred_tui.ui.screens.apply import ApplyScreen

        if self.plan is None or not self.plan.ok:
            self.notify("This plan cannot be applied: see what is blocking it.", severity="warning")
            return
        if not require_writable(self.app, "apply the plan"):
            return
        self.app.push_screen(ApplyScreen(self.plan))
