"""The grant is made: what the other account (or the service) needs now, and how to take it back.

A bucket-policy grant: the statement the other account attaches to its own principal
(cross-account access needs an allow on both sides). A third-party role: the role ARN and
external id to paste into the service's settings, and the policy its account attaches so its
principal may assume the role. Copies go through the app (`copy_plain`, `ui/clipboard.py`):
nothing here is a secret (an external id is shown to the service by design).

Taking it back: the app has no revoke screen, so the result names the plan's `revoke_command`
(`s3cred-tui revoke-grant BUCKET… --account …`, or `cleanup 'role NAME'` for the role, which
the Made screen also offers).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Footer, Label, Static

from s3cred_tui.core.bucket_grant import GrantPlan
from s3cred_tui.core.policies import policy_json
from s3cred_tui.core.third_party_role import ThirdPartyRolePlan
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen
from s3cred_tui.ui.widgets.motion import MotionScroll

BOTH_SIDES = (
    "Cross-account access needs both sides. This account now allows it; the other account must "
    "also attach the policy below to its principal, or every request is still refused."
)


def result_text(plan: GrantPlan | ThirdPartyRolePlan) -> Text:
    text = Text()
    if isinstance(plan, ThirdPartyRolePlan):
        text.append("Give the service these two values (its settings for an AWS role):\n", style="bold")
        # Each value on a line of its own, so a long ARN wraps as itself, not under its label.
        text.append("  Role ARN\n", style="bold")
        text.append(f"    {plan.role_arn}\n")
        text.append("  External id\n", style="bold")
        text.append(f"    {plan.external_id}\n")
        where = "Its account attaches this to the principal that assumes the role"
    else:
        buckets = ", ".join(plan.request.buckets)
        text.append(f"The bucket policy of {buckets} now allows {plan.principal_arn}.\n", style="bold")
        where = "The other account attaches this to its principal (a user or role there)"
    text.append(f"\n{BOTH_SIDES}\n", style="yellow")
    text.append(f"\n{where}:\n", style="bold")
    text.append(policy_json(plan.other_account_policy) + "\n")
    text.append("\nTo take it back later:\n", style="bold")
    text.append(f"  {plan.revoke_command}\n")
    if isinstance(plan, ThirdPartyRolePlan):
        text.append("  (or the Made by s3cred-tui screen, m on the account screen)\n", style="dim")
    return text.rstrip() or text


class GrantResultScreen(CreateFlowScreen):
    CSS_PATH = Path(__file__).with_name("grant.tcss")
    BINDINGS = [
        Binding("Y", "copy_arn", "Copy ARN", id="grant_result.copy_arn", tooltip="Copy the role ARN (role) or the grantee's ARN"),
        Binding("E", "copy_external_id", "Copy ext. id", id="grant_result.copy_external_id", tooltip="Copy the external id"),
        Binding("P", "copy_policy", "Copy policy", id="grant_result.copy_policy", tooltip="Copy the other account's policy"),
        Binding("escape", "done", "Done", id="grant_result.done", tooltip="Leave the grant flow"),
    ]

    def __init__(self, plan: GrantPlan | ThirdPartyRolePlan) -> None:
        super().__init__()
        self.plan = plan

    @property
    def is_role(self) -> bool:
        return isinstance(self.plan, ThirdPartyRolePlan)

    def compose(self) -> ComposeResult:
        title = "Role made for the service" if self.is_role else "Grant added to the bucket policy"
        with MotionScroll(id="grant-result-main"):
            yield Label(f"✓ {title}", id="grant-result-title")
            yield Static(result_text(self.plan), id="grant-result-body")
        with Horizontal(id="grant-result-actions"):
            if self.is_role:
                yield Button("Copy ARN", id="copy-arn", tooltip="Copy the role ARN (Y)")
                yield Button("Copy ext. id", id="copy-external-id", tooltip="Copy the external id (E)")
            yield Button("Copy policy", id="copy-policy", tooltip="Copy the other account's policy (P)")
            yield Button("Copy revoke", id="copy-revoke", tooltip="Copy the command that takes the grant back")
            yield Button("Done", id="done", variant="primary", tooltip="Esc")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#grant-result-main").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No external id to copy for a bucket-policy grant: its key is left out of the footer."""
        if action == "copy_external_id" and not self.is_role:
            return False
        return super().check_action(action, parameters)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        actions = {
            "copy-arn": self.action_copy_arn,
            "copy-external-id": self.action_copy_external_id,
            "copy-policy": self.action_copy_policy,
            "copy-revoke": self.action_copy_revoke,
            "done": self.action_done,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            action()

    def action_copy_arn(self) -> None:
        if isinstance(self.plan, ThirdPartyRolePlan):
            self.s3cred_app.copy_plain(self.plan.role_arn, "the role ARN")
        else:
            self.s3cred_app.copy_plain(self.plan.principal_arn, "the grantee's ARN")

    def action_copy_external_id(self) -> None:
        if isinstance(self.plan, ThirdPartyRolePlan):
            self.s3cred_app.copy_plain(self.plan.external_id, "the external id")

    def action_copy_policy(self) -> None:
        self.s3cred_app.copy_plain(policy_json(self.plan.other_account_policy), "the other account's policy")

    def action_copy_revoke(self) -> None:
        self.s3cred_app.copy_plain(self.plan.revoke_command, "the revoke command")

    def action_done(self) -> None:
        self.s3cred_app.close_create_flow()
