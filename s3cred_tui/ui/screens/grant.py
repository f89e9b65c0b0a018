"""Granting another account or a third-party service: the plan, then applying it.

Two ways, both built by the core and run by the same apply engine as credentials
(`core/apply.apply_plan`): a bucket-policy statement naming the other account
(`core/bucket_grant.py`), or a role that account assumes with an external id
(`core/third_party_role.py`). Neither makes a key of this account.

`GrantReviewScreen` builds the plan in a thread worker (read-only calls) and shows, per bucket,
the bucket policy before and after as a diff, the Block Public Access and Object Ownership
findings, warnings and blockers; for the role, its trust policy (with the ExternalId condition)
and its permissions. Apply is offered only for a plan that can run; the credentials' `ApplyScreen` runs it (Cancel
stops between steps and rolls back; the journal is kept except for the demo account), then the
app opens the grant's result screen.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static
from textual.worker import get_current_worker

from s3cred_tui.core.bucket_grant import BucketGrantRequest, GrantPlan, build_grant_plan
from s3cred_tui.core.policies import policy_json
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.third_party_role import (
    ThirdPartyRolePlan,
    ThirdPartyRoleRequest,
    build_third_party_role_plan,
)
from s3cred_tui.ui.screens.create_flow import PlanReviewScreen
from s3cred_tui.ui.widgets.motion import MotionScroll

GrantRequest = BucketGrantRequest | ThirdPartyRoleRequest
AnyGrantPlan = GrantPlan | ThirdPartyRolePlan

BLOCKED_HINT = "Nothing will be changed. Go back (Esc) and change the request."
BOTH_SIDES = (
    "Cross-account access needs both sides: this account's grant, and an identity policy in the "
    "other account allowing its principal."
)


def grant_summary(request: GrantRequest) -> str:
    """`Read only on s3://backups/db/ for account 111122223333, through the bucket policy`."""
    scopes = request.keys or request.prefixes or ("",)
    where = ", ".join(f"s3://{bucket}/{scope}" for bucket in request.buckets for scope in scopes)
    who = f"account {request.principal}" if request.principal.isdigit() else request.principal
    how = (
        "through a role it assumes with an external id"
        if isinstance(request, ThirdPartyRoleRequest)
        else "through the bucket policy"
    )
    return f"{AccessLevel(request.access).label} on {where} for {who}, {how}"


def diff_text(diff: str) -> Text:
    """A unified diff with added lines green and removed lines red."""
    text = Text()
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            text.append(line + "\n", style="bold")
        elif line.startswith("+"):
            text.append(line + "\n", style="green")
        elif line.startswith("-"):
            text.append(line + "\n", style="red")
        elif line.startswith("@@"):
            text.append(line + "\n", style="cyan")
        else:
            text.append(line + "\n", style="dim")
    return text


def _policy_block(text: Text, title: str, document: dict | None) -> None:
    text.append(f"\n{title}\n", style="bold")
    text.append(policy_json(document or {}) + "\n")


def _outcome(text: Text, plan: AnyGrantPlan) -> None:
    if plan.facts:
        text.append("\nWhat the account looks like now\n", style="bold")
        for fact in plan.facts:
            text.append(f"  • {fact}\n")
    if plan.warnings:
        text.append("\nWarnings\n", style="bold yellow")
        for warning in plan.warnings:
            text.append(f"  ⚠ {warning}\n", style="yellow")
    if plan.blockers:
        text.append("\nBlocked: this plan cannot be applied\n", style="bold red")
        for blocker in plan.blockers:
            text.append(f"  ✗ {blocker}\n", style="red")
        text.append(f"\n{BLOCKED_HINT}\n", style="red")
    else:
        text.append(
            "\nNothing has been changed yet. Apply makes these calls in order; if one fails, "
            "the ones before it are undone.\n",
            style="italic",
        )


def grant_plan_text(plan: AnyGrantPlan) -> Text:
    """The whole plan, for the review: calls, diffs or role policies, facts, warnings, blockers."""
    text = Text()
    text.append("API calls, in order\n", style="bold")
    for number, step in enumerate(plan.steps, start=1):
        text.append(f"{number:>2}. ", style="dim")
        text.append(step.action, style="bold cyan")
        text.append(f"  {step.title}\n")
    if isinstance(plan, GrantPlan):
        for bucket, diff in plan.diffs.items():
            text.append(f"\nBucket policy of {bucket}, before and after\n", style="bold")
            text.append_text(diff_text(diff) if diff else Text("  (no change)\n", style="dim"))
        _policy_block(text, "The other account attaches to its principal (its side of the grant)", plan.other_account_policy)
    else:
        trust, permissions = plan.steps[0].document, plan.steps[1].document
        _policy_block(text, f"Trust policy of {plan.role_name} (only with external id {plan.external_id})", trust)
        _policy_block(text, "Permissions of the role", permissions)
        _policy_block(text, "The other account attaches to its principal (to assume the role)", plan.other_account_policy)
    text.append(f"\n{BOTH_SIDES}\n", style="italic")
    _outcome(text, plan)
    return text.rstrip() or text


class GrantPlanReady(Message):
    """The grant's plan was built (posted from the review screen's worker)."""

    def __init__(self, plan: AnyGrantPlan) -> None:
        super().__init__()
        self.plan = plan


class GrantReviewScreen(PlanReviewScreen):
    CSS_PATH = Path(__file__).with_name("grant.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="grant.back", tooltip="Change the request"),
        Binding("ctrl+a", "apply", "Apply", id="grant.apply", tooltip="Make every change listed here"),
    ]
    WORKER_ERROR_TITLES = {"grant-plan": "Could not build the plan"}
    PLAN_GROUP = "grant-plan"
    ID_PREFIX = "grant"

    def __init__(self, request: GrantRequest) -> None:
        super().__init__()
        self.request = request
        self.plan: AnyGrantPlan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="grant-main"):
            yield Label("Review the grant", id="grant-title")
            yield Static(grant_summary(self.request), id="grant-summary", markup=False)
            yield LoadingIndicator(id="grant-loading")
            with MotionScroll(id="grant-plan-scroll"):
                yield Static("Reading the account (read-only calls)…", id="grant-plan")
            with Horizontal(id="grant-buttons"):
                yield Button("Apply", id="apply", variant="warning", disabled=True, tooltip="Make these changes (ctrl+a)")
                yield Button("Back", id="back", tooltip="Change the request (Esc)")
        yield Footer()

    @work(thread=True, exclusive=True, exit_on_error=False, group="grant-plan", name="building the plan")
    def load_plan(self) -> None:
        identity = self.s3cred_app.identity
        if isinstance(self.request, ThirdPartyRoleRequest):
            plan: AnyGrantPlan = build_third_party_role_plan(self.aws, self.request, identity=identity)
        else:
            plan = build_grant_plan(self.aws, self.request, identity=identity)
        if not get_current_worker().is_cancelled:
            self.post_message(GrantPlanReady(plan))

    def on_grant_plan_ready(self, message: GrantPlanReady) -> None:
        message.stop()
        self.show_plan(message.plan)

    def show_plan(self, plan: AnyGrantPlan) -> None:
        self.plan = plan
        self.refresh_bindings()
        self.query_one("#grant-loading").display = False
        self.query_one("#grant-plan", Static).update(grant_plan_text(plan))
        apply_button = self.query_one("#apply", Button)
        apply_button.disabled = not plan.ok
        if plan.ok:
            apply_button.focus()
        else:
            self.query_one("#grant-plan-scroll").focus()

