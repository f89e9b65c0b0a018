"""Step two of the create flow: the plan, in plain words, before anything changes.

`build_plan` only reads the account (does the bucket exist? the user? the role?), so it runs
as soon as the screen opens. Nothing is created until the person presses Apply.

A custom policy is shown with its review next to it (what it really grants, parliament's
findings, every way it reaches beyond the named buckets). A broad one needs an explicit yes in
a ConfirmModal after Apply; only then is the plan acknowledged and applied.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Footer, Label, LoadingIndicator, Static
from textual.worker import get_current_worker

from s3cred_tui.core import policies
from s3cred_tui.core.apply import CREATE_ROLE, CREATE_USER
from s3cred_tui.core.aws_checks import subject_for_plan
from s3cred_tui.core.journal import RUN_TAG_KEY
from s3cred_tui.core.plan import Plan, Step, build_plan
from s3cred_tui.core.policy_checks import PolicyReview
from s3cred_tui.core.request import AccessLevel, CredentialRequest
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.create_flow import PlanReviewScreen
from s3cred_tui.ui.widgets.aws_checks_panel import AwsChecksPanel
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview

BLOCKED_HINT = "Nothing will be changed. Go back (Esc) and change the request, then review again."
CONFIRM_HINT = "Apply asks you to confirm this first; nothing has been changed yet."
CHECKING_CUSTOM = "Custom policy (checking what it grants…)"


def request_summary(request: CredentialRequest, headline: str | None = None) -> str:
    """`Read only on s3://a/reports/, s3://b/reports/ as a permanent IAM user (s3.read-only.a)`.

    A custom policy is described by its review's `headline` (what it really grants), never by
    the buckets it was written for."""
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
    if request.access is AccessLevel.CUSTOM:
        return f"{headline or CHECKING_CUSTOM} — {how}"
    return f"{request.access.label} on {where} {how}"


def review_text(review: PolicyReview, custom: bool) -> Text:
    """The review, for beside the policy: headline, broad grants, findings, notes. A custom
    policy's broad grants need confirming; extra statements on a generated policy are warned about."""
    text = Text()
    if custom:
        text.append(review.headline + "\n", style="bold")
    if review.broad:
        title = "Beyond the named buckets (needs your confirmation)" if custom else "Extra statements beyond the named buckets"
        text.append(f"\n{title}\n", style="bold yellow")
        for reason in review.broad:
            text.append(f"  ⚠ {reason}\n", style="yellow")
    if review.findings:
        text.append("\nparliament findings (lines of the policy shown above)\n", style="bold")
        for finding in review.findings:
            text.append(f"  • {finding.text}\n")
    elif not review.notes:
        text.append("\nparliament: no findings\n", style="dim")
    for note in review.notes:
        text.append(f"  {note}\n", style="dim")
    return text.rstrip() or text


def broad_policy_question(review: PolicyReview) -> str:
    reasons = "\n".join(f"• {reason}" for reason in review.broad)
    return f"{review.headline}.\n\nThis policy grants more than the named buckets:\n{reasons}\n\nCreate credentials with it anyway?"


def step_extras(step: Step) -> list[str]:
    """What else a call sends that matters to a reviewer: its tags (with the run marker a user or
    role gets when applied) and a permissions boundary."""
    lines = []
    tags = [f"{tag['Key']}={tag['Value']}" for tag in step.params.get("Tags", [])]
    if step.kind in (CREATE_USER, CREATE_ROLE):
        tags.append(f"{RUN_TAG_KEY}=<this run's id>")
    if tags:
        lines.append("tags: " + ", ".join(tags))
    if step.params.get("PermissionsBoundary"):
        lines.append(f"permissions boundary: {step.params['PermissionsBoundary']}")
    return lines


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
            for line in step_extras(step):
                text.append(f"      {line}\n", style="dim")
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
    if plan.ok_once_acknowledged:
        text.append("\nNeeds your confirmation\n", style="bold yellow")
        for blocker in plan.blockers:
            text.append(f"  ⚠ {blocker}\n", style="yellow")
        text.append(f"\n{CONFIRM_HINT}\n", style="italic")
    elif plan.blockers:
        text.append("\nBlocked: this plan cannot be applied\n", style="bold red")
        for blocker in plan.blockers:
            text.append(f"  ✗ {blocker}\n", style="red")
        text.append(f"\n{BLOCKED_HINT}\n", style="red")
    return text.rstrip() or text


def kms_text(plan: Plan) -> Text:
    """What the plan adds for buckets whose default encryption is a customer-managed KMS key, and
    why: the key found per bucket, the actions, and what each condition limits. Empty without one."""
    grants = plan.request.kms_keys
    text = Text()
    if not grants:
        return text
    text.append("KMS: buckets encrypted with a customer-managed key\n", style="bold")
    for grant in grants:
        text.append(f"  • {grant.bucket}: default encryption (SSE-KMS) with key {grant.key_arn}")
        text.append(", S3 Bucket Key on\n" if grant.bucket_key_enabled else "\n")
    access = plan.request.access
    if access.can_write:
        why = (
            "kms:GenerateDataKey to write (and kms:Decrypt, which reading and multipart uploads need): "
            "S3 asks KMS on behalf of the caller, so without them every write is refused"
        )
    else:
        why = "kms:Decrypt to read: S3 asks KMS on behalf of the caller, so without it every read is refused"
    text.append(f"  The policy adds {why}. Never kms:*; only these keys:\n")
    statements = [
        statement
        for statement in (plan.policy or {}).get("Statement", [])
        if isinstance(statement, dict) and str(statement.get("Sid", "")).startswith(policies.SID_KMS)
    ]
    for statement in statements:
        condition = statement.get("Condition", {})
        via = condition.get("StringEquals", {}).get("kms:ViaService", "")
        contexts = condition.get("StringLike", {}).get("kms:EncryptionContext:aws:s3:arn", [])
        text.append(f"  {statement.get('Resource')}\n", style="cyan")
        text.append(f"    kms:ViaService = {via}: only through S3 in the bucket's region, never a direct KMS call\n")
        text.append(
            f"    kms:EncryptionContext:aws:s3:arn = {', '.join(contexts)}: only for the granted objects "
            "(with an S3 Bucket Key S3 names the bucket)\n"
        )
    text.append("  SSE-S3 and the AWS-managed aws/s3 key need nothing extra.", style="dim")
    return text


class PlanReady(Message):
    """build_plan finished (posted from the review screen's worker)."""

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan


class ReviewScreen(PlanReviewScreen):
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
                    yield Static("", id="review-kms", classes="hidden")
                with Horizontal(id="review-buttons"):
                    yield Button("Apply", id="apply", variant="warning", disabled=True, tooltip="Make these changes (ctrl+a)")
                    yield Button("Back", id="back", tooltip="Change the request (Esc)")
            with Vertical(id="review-side"):
                yield PolicyPreview("Policy to attach", id="review-policy")
                with VerticalScroll(id="review-checks-scroll"):
                    yield Static("", id="review-checks")
                # AWS's own simulator and Access Analyzer on the same policy, asked as soon as the plan is read.
                yield AwsChecksPanel(automatic=True, disagreement_is_a_bug=True, id="review-aws-checks")
        yield Footer()

    @work(thread=True, exclusive=True, exit_on_error=False, group="plan", name="building the plan")
    def load_plan(self) -> None:
        plan = build_plan(self.aws, self.request, identity=self.s3cred_app.identity)
        if not get_current_worker().is_cancelled:
            self.post_message(PlanReady(plan))

    def on_plan_ready(self, message: PlanReady) -> None:
        message.stop()
        self.show_plan(message.plan)

    def can_apply(self) -> bool:
        """A plan that can be applied, or can once its broad custom policy is confirmed."""
        plan = self.plan
        return plan is not None and (plan.ok or plan.ok_once_acknowledged)

    def show_plan(self, plan: Plan) -> None:
        self.plan = plan
        self.refresh_bindings()
        self.query_one("#review-loading").display = False
        self.query_one("#review-plan", Static).update(plan_text(plan))
        kms = kms_text(plan)
        self.query_one("#review-kms", Static).update(kms)
        self.query_one("#review-kms").set_class(not kms.plain, "hidden")
        draft = plan.draft  # the policy that limits the new credentials, with its size and limit
        self.query_one("#review-policy", PolicyPreview).show_policy(
            draft.policy_text, draft.size, draft.limit, draft.limit_name
        )
        review = plan.policy_review
        if plan.request.access is AccessLevel.CUSTOM:
            self.query_one("#review-summary", Static).update(request_summary(plan.request, review.headline if review else None))
        self.query_one("#review-checks-scroll").display = review is not None
        if review is not None:
            self.query_one("#review-checks", Static).update(review_text(review, custom=plan.request.custom_policy is not None))
        if plan.policy is not None:
            self.query_one(AwsChecksPanel).set_subject(subject_for_plan(plan))
        apply_button = self.query_one("#apply", Button)
        apply_button.disabled = not (plan.ok or plan.ok_once_acknowledged)
        if plan.ok:
            apply_button.focus()

    def action_apply(self) -> None:
        plan = self.plan
        if plan is not None and plan.ok_once_acknowledged:
            assert plan.policy_review is not None
            self.app.push_screen(
                ConfirmModal(broad_policy_question(plan.policy_review), confirm_label="Use this policy"),
                self._broad_policy_answered,
            )
            return
        super().action_apply()

    def _broad_policy_answered(self, confirmed: bool | None) -> None:
        plan = self.plan
        if not confirmed or plan is None or not plan.ok_once_acknowledged:
            return  # Cancel: the plan stays as it was, still asking
        plan.acknowledge_broad_policy()
        self.show_plan(plan)
        self.s3cred_app.open_apply(plan)
