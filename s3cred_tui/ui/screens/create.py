"""Step one of the create flow: say what the credentials may do.

Everything on this screen is pure: the policy preview and the inline messages come from
`core.validation` and `core.policies` without any AWS call, so typing is instant. Only the
bucket and prefix pickers read the account, in thread workers, and AWS is asked about the
previewed policy only when the person presses "Ask AWS" (`AwsChecksPanel`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Checkbox, Footer, Input, Label, RadioButton, RadioSet, Static, TextArea

from s3cred_tui.core import validation
from s3cred_tui.core.aws_checks import CheckSubject, subject_for_request
from s3cred_tui.core.draft import Draft, draft_request
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest, PrefixMode
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen
from s3cred_tui.ui.screens.create_pickers import BucketPickerModal, PrefixPickerModal
from s3cred_tui.ui.widgets.aws_checks_panel import AwsChecksPanel
from s3cred_tui.ui.widgets.policy_json import PolicyJsonArea
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel

PREFIX_MODE_HELP = {
    PrefixMode.PLAIN: "Plain: a folder-like prefix; * and ? are refused so nothing matches by accident.",
    PrefixMode.LITERAL: "Literal: * ? and $ are ordinary characters of the key (escaped for IAM).",
    PrefixMode.PATTERN: "Pattern: * and ? are IAM wildcards (e.g. logs/*/2024/); use with care.",
}

KIND_HELP = {
    CredentialKind.PERMANENT: "An IAM user with an inline policy and an access key that lasts until deleted.",
    CredentialKind.ASSUME_ROLE: "Temporary keys from sts:AssumeRole, limited by a session policy.",
    CredentialKind.FEDERATION_TOKEN: "Temporary keys from sts:GetFederationToken (only an IAM user may call it).",
}

DEFAULT_DURATION = "1h"

# Fields named by validation problems, mapped to the message line under the form field at fault.
# "policy" problems belong to the custom policy box when there is one, else to the preview.
FIELD_MESSAGE_IDS = {
    "buckets": "error-buckets",
    "prefix": "error-prefix",
    "username": "error-username",
    "duration": "error-duration",
    "policy": "error-policy",
}
CUSTOM_POLICY_MESSAGE_ID = "error-access"
GENERAL_MESSAGE_ID = "error-general"

_SEPARATORS = re.compile(r"[\s,]+")


def split_bucket_names(text: str) -> tuple[str, ...]:
    """`a, b  c` -> ("a", "b", "c"), without duplicates, order kept."""
    seen: dict[str, None] = {}
    for name in _SEPARATORS.split(text.strip()):
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


@dataclass(frozen=True)
class FormState:
    """Everything typed or ticked on the form, as plain values."""

    buckets_text: str = ""
    access: AccessLevel = AccessLevel.READ_ONLY
    custom_policy_text: str = ""
    prefix: str = ""
    prefix_mode: PrefixMode = PrefixMode.PLAIN
    kind: CredentialKind = CredentialKind.PERMANENT
    username: str = ""
    reuse_existing_user: bool = False
    create_buckets: bool = False
    duration_text: str = DEFAULT_DURATION
    permissions_boundary: bool = True


@dataclass(frozen=True)
class FormOutcome:
    """The request a form describes, its problems, and the policy preview (when one can be built)."""

    request: CredentialRequest
    problems: tuple[ValidationError, ...]
    policy_text: str | None
    policy_size: int
    policy_limit: int
    policy_limit_label: str
    preview_note: str
    draft: Draft  # the request as the core judges it; `draft.request` is normalised when `ok`

    @property
    def ok(self) -> bool:
        return not self.problems


def evaluate_form(form: FormState) -> FormOutcome:
    """Turn the form into a request, every problem with it, and its policy. Pure: no AWS call."""
    local_problems: list[ValidationError] = []

    custom_policy = None
    if form.access is AccessLevel.CUSTOM and form.custom_policy_text.strip():
        try:
            # Not bare json.loads: deeply nested text raises RecursionError there.
            custom_policy = validation.loads_json(form.custom_policy_text, "The custom policy")
        except ValidationError as exc:
            local_problems.append(exc)

    duration_seconds = None
    if form.kind.temporary:
        try:
            duration_seconds = validation.parse_duration(form.duration_text.strip())
        except ValidationError as exc:
            local_problems.append(exc)

    request = CredentialRequest(
        buckets=split_bucket_names(form.buckets_text),
        access=form.access,
        prefix=form.prefix.strip(),
        prefix_mode=form.prefix_mode,
        kind=form.kind,
        duration_seconds=duration_seconds,
        username=(form.username.strip() or None) if not form.kind.temporary else None,
        reuse_existing_user=form.reuse_existing_user and not form.kind.temporary,
        create_buckets=form.create_buckets,
        custom_policy=custom_policy,
        permissions_boundary=form.permissions_boundary,
    )

    draft = draft_request(request)
    fields_at_fault = {problem.field for problem in local_problems}
    problems = list(local_problems)
    for problem in draft.problems:
        if problem.field in fields_at_fault:
            continue  # the form's own message for this field is the more precise one
        problems.append(problem)

    limit, limit_label = draft.limit, draft.limit_name
    fields_at_fault = {problem.field for problem in problems}
    if (
        draft.policy is None
        or fields_at_fault & {"buckets", "prefix"}
        or (fields_at_fault & {"policy"} and form.access is AccessLevel.CUSTOM)
    ):
        return FormOutcome(
            request, tuple(problems), None, 0, limit, limit_label, "Fix the highlighted fields to see the policy.", draft
        )
    # A generated policy over the size limit is reported as a problem, and still shown.
    return FormOutcome(request, tuple(problems), draft.policy_text, draft.size, limit, limit_label, "", draft)


def aws_check_subject(outcome: FormOutcome) -> CheckSubject | None:
    """What AWS is asked about from the form: the previewed policy alone (the review adds the boundary,
    the bucket policies and the new user). None while there is no policy to ask about."""
    if outcome.policy_text is None:
        return None
    request = outcome.request
    try:
        prefix = validation.normalise_prefix(request.prefix, request.prefix_mode)
    except ValidationError:
        return None
    return subject_for_request(json.loads(outcome.policy_text), request.buckets, request.access, prefix)


def open_create_screen(app: Any, buckets: list[str] | tuple[str, ...] = (), prefix: str = "") -> bool:
    """Open the create flow unless the app is read-only (then say why). True when opened."""
    return bool(app.open_create(buckets, prefix))


class CreateScreen(CreateFlowScreen):
    """The form. `buckets` and `prefix` prefill it (from the bucket being browsed)."""

    CSS_PATH = [
        Path(__file__).with_name("create.tcss"),
        Path(__file__).parent.parent / "widgets" / "policy_preview.tcss",
    ]
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="create.cancel", tooltip="Leave without creating anything"),
        Binding("ctrl+r", "review", "Review plan", id="create.review", tooltip="See every API call before anything happens"),
        Binding("ctrl+b", "pick_buckets", "Pick buckets", id="create.pick_buckets", tooltip="Choose from the account's buckets"),
        Binding("ctrl+o", "pick_prefix", "Browse prefixes", id="create.pick_prefix", tooltip="Choose a prefix inside the first bucket"),
    ]

    def __init__(self, buckets: list[str] | tuple[str, ...] = (), prefix: str = "", user: str | None = None) -> None:
        super().__init__()
        self.initial_buckets = list(buckets)
        self.initial_prefix = prefix
        # A user to add a key to (`c` on the Users tab): its name, and "reuse it" ticked.
        self.initial_user = user
        self.outcome: FormOutcome | None = None
        self._simulated_target: tuple[str, str] | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="create-body"):
            with VerticalScroll(id="create-form"):
                yield Label("Create credentials", id="create-title")

                yield Label("Buckets (separate with commas or spaces)", classes="field-label")
                with Horizontal(classes="field-row"):
                    yield Input(", ".join(self.initial_buckets), placeholder="my-bucket, other-bucket", id="buckets")
                    yield Button("Pick…", id="pick-buckets", tooltip="Choose from the account's buckets (ctrl+b)")
                yield Static("", id="error-buckets", classes="field-error", markup=False)
                yield Checkbox("Create buckets that do not exist yet", id="create-buckets", compact=True)

                yield Label("Access", classes="field-label")
                with RadioSet(id="access", compact=True):
                    for level in AccessLevel:
                        yield RadioButton(level.label, value=level is AccessLevel.READ_ONLY, id=f"access-{level.value}")
                yield PolicyJsonArea(
                    "", read_only=False, id="custom-policy", classes="hidden", show_line_numbers=True,
                    placeholder='{"Version": "2012-10-17", "Statement": [...]}',
                )
                yield Static("", id="error-access", classes="field-error", markup=False)

                yield Label("Prefix (optional: limit access to keys under it)", classes="field-label")
                with Horizontal(classes="field-row"):
                    yield Input(self.initial_prefix, placeholder="reports/2024/", id="prefix")
                    yield Button("Browse…", id="pick-prefix", tooltip="Choose a prefix inside the first bucket (ctrl+o)")
                with RadioSet(id="prefix-mode", compact=True):
                    for mode in PrefixMode:
                        yield RadioButton(mode.value.capitalize(), value=mode is PrefixMode.PLAIN, id=f"prefix-mode-{mode.value}")
                yield Static(PREFIX_MODE_HELP[PrefixMode.PLAIN], id="prefix-mode-help", classes="field-help", markup=False)
                yield Static("", id="error-prefix", classes="field-error", markup=False)

                yield Label("Kind of credentials", classes="field-label")
                with RadioSet(id="kind", compact=True):
                    yield RadioButton("Permanent: IAM user + access key", value=True, id="kind-permanent")
                    yield RadioButton("Temporary: assume a role", id="kind-assume-role")
                    yield RadioButton("Temporary: federation token", id="kind-federation-token")
                yield Static(KIND_HELP[CredentialKind.PERMANENT], id="kind-help", classes="field-help", markup=False)

                with Vertical(id="permanent-options"):
                    yield Label("User name (optional)", classes="field-label")
                    yield Input(self.initial_user or "", id="username", placeholder="s3.read-only.BUCKET")
                    yield Static("", id="error-username", classes="field-error", markup=False)
                    yield Checkbox(
                        "Reuse the user if it already exists (adds a key to it)",
                        value=bool(self.initial_user),
                        id="reuse-user",
                        compact=True,
                    )
                    yield Checkbox(
                        "Cap a new user with an S3-only permissions boundary",
                        value=self.s3cred_app.settings.permissions_boundary,
                        id="boundary",
                        compact=True,
                        tooltip="AmazonS3ReadOnlyAccess or AmazonS3FullAccess: whatever is attached later, S3 only",
                    )

                with Vertical(id="temporary-options", classes="hidden"):
                    yield Label("Duration (15m to 12h, e.g. 900, 45m, 1h30m)", classes="field-label")
                    yield Input(DEFAULT_DURATION, id="duration")
                    yield Static("", id="error-duration", classes="field-error", markup=False)

                yield Static("", id="error-general", classes="field-error", markup=False)
                with Horizontal(id="create-buttons"):
                    yield Button("Review plan", id="review", variant="primary", disabled=True)
                    yield Button("Cancel", id="cancel")
            with Vertical(id="create-side"):
                yield PolicyPreview(id="preview")
                yield Static("", id="error-policy", classes="field-error", markup=False)
                yield SimulatePanel(title="Simulate a request against this policy (offline)", id="simulate")
                # AWS is asked only when the person presses its button: typing never calls AWS.
                yield AwsChecksPanel(id="create-aws-checks")
        yield Footer()

    def on_mount(self) -> None:
        if not require_writable(self.app, "create credentials"):
            # Leave once mounted: popping a screen that is still mounting would strand its children.
            self.call_after_refresh(self._leave_unopened)
            return
        self.refresh_outcome()
        self.query_one("#buckets", Input).focus()

    def _leave_unopened(self) -> None:
        self.dismiss()  # not awaited: a screen cannot await its own dismissal

    # -- reading the form ------------------------------------------------------------------

    def _pressed_value(self, radio_set_id: str, prefix: str) -> str:
        button = self.query_one(f"#{radio_set_id}", RadioSet).pressed_button
        assert button is not None and button.id is not None
        return button.id.removeprefix(prefix)

    def form_state(self) -> FormState:
        return FormState(
            buckets_text=self.query_one("#buckets", Input).value,
            access=AccessLevel(self._pressed_value("access", "access-")),
            custom_policy_text=self.query_one("#custom-policy", TextArea).text,
            prefix=self.query_one("#prefix", Input).value,
            prefix_mode=PrefixMode(self._pressed_value("prefix-mode", "prefix-mode-")),
            kind=CredentialKind(self._pressed_value("kind", "kind-")),
            username=self.query_one("#username", Input).value,
            reuse_existing_user=self.query_one("#reuse-user", Checkbox).value,
            create_buckets=self.query_one("#create-buckets", Checkbox).value,
            duration_text=self.query_one("#duration", Input).value,
            permissions_boundary=self.query_one("#boundary", Checkbox).value,
        )

    # -- reacting to changes --------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self) -> None:
        self.refresh_outcome()

    @on(TextArea.Changed, "#custom-policy")
    def _custom_policy_changed(self) -> None:
        self.refresh_outcome()

    @on(RadioSet.Changed)
    def _choice_changed(self, event: RadioSet.Changed) -> None:
        form = self.form_state()
        self.query_one("#custom-policy").set_class(form.access is not AccessLevel.CUSTOM, "hidden")
        self.query_one("#permanent-options").set_class(form.kind.temporary, "hidden")
        self.query_one("#temporary-options").set_class(not form.kind.temporary, "hidden")
        self.query_one("#prefix-mode-help", Static).update(PREFIX_MODE_HELP[form.prefix_mode])
        self.query_one("#kind-help", Static).update(KIND_HELP[form.kind])
        self.refresh_outcome()

    def refresh_outcome(self) -> None:
        form = self.form_state()
        outcome = evaluate_form(form)
        self.outcome = outcome
        self._show_problems(outcome.problems)
        self._update_username_placeholder(outcome.request)
        preview = self.query_one(PolicyPreview)
        if outcome.policy_text is None:
            preview.show_unavailable(outcome.preview_note)
        else:
            preview.show_policy(outcome.policy_text, outcome.policy_size, outcome.policy_limit, outcome.policy_limit_label)
        self._update_simulation(outcome)
        self.query_one(AwsChecksPanel).set_subject(aws_check_subject(outcome), "Fix the highlighted fields to ask AWS.")
        self.query_one("#review", Button).disabled = not outcome.ok

    def _update_simulation(self, outcome: FormOutcome) -> None:
        """Keep the simulator on the previewed policy; move its bucket/key only when the form's do.

        Without a policy (the form is invalid) it answers nothing rather than about the last one."""
        if outcome.policy_text is None:
            self.query_one(SimulatePanel).show_unavailable(f"Nothing to simulate yet. {outcome.preview_note}")
            return
        target = (outcome.request.buckets[0] if outcome.request.buckets else "", outcome.request.prefix)
        moved = target != self._simulated_target
        self._simulated_target = target
        self.query_one(SimulatePanel).set_policies(
            [("preview", json.loads(outcome.policy_text))],
            bucket=target[0] if moved else None,
            key=target[1] if moved else None,
        )

    def _show_problems(self, problems: tuple[ValidationError, ...]) -> None:
        custom = self.form_state().access is AccessLevel.CUSTOM
        messages: dict[str, list[str]] = {}
        for problem in problems:
            target = FIELD_MESSAGE_IDS.get(problem.field, GENERAL_MESSAGE_ID)
            if problem.field == "policy" and custom:
                target = CUSTOM_POLICY_MESSAGE_ID
            messages.setdefault(target, []).append(problem.message)
        for target in {*FIELD_MESSAGE_IDS.values(), CUSTOM_POLICY_MESSAGE_ID, GENERAL_MESSAGE_ID}:
            line = self.query_one(f"#{target}", Static)
            text = "\n".join(messages.get(target, ()))
            line.update(text)
            line.set_class(not text, "hidden")
        invalid_inputs = {
            "buckets": "error-buckets" in messages,
            "prefix": "error-prefix" in messages,
            "username": "error-username" in messages,
            "duration": "error-duration" in messages,
        }
        for input_id, invalid in invalid_inputs.items():
            self.query_one(f"#{input_id}", Input).set_class(invalid, "-invalid")

    def _update_username_placeholder(self, request: CredentialRequest) -> None:
        buckets = request.buckets or ("BUCKET",)
        placeholder = validation.default_user_name(buckets, request.access)
        self.query_one("#username", Input).placeholder = f"{placeholder} (default)"

    # -- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "review": self.action_review,
            "cancel": self.action_close,
            "pick-buckets": self.action_pick_buckets,
            "pick-prefix": self.action_pick_prefix,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_review(self) -> None:
        if not require_writable(self.app, "create credentials"):
            return
        self.refresh_outcome()
        outcome = self.outcome
        if outcome is None or not outcome.ok:
            self.notify("Fix the highlighted fields first.", severity="warning")
            return
        self.s3cred_app.open_review(outcome.draft.request)

    def action_pick_buckets(self) -> None:
        current = split_bucket_names(self.query_one("#buckets", Input).value)
        self.app.push_screen(BucketPickerModal(list(current)), self._buckets_picked)

    def _buckets_picked(self, chosen: list[str] | None) -> None:
        if chosen is None:
            return
        self.query_one("#buckets", Input).value = ", ".join(chosen)

    def action_pick_prefix(self) -> None:
        buckets = split_bucket_names(self.query_one("#buckets", Input).value)
        if not buckets:
            self.notify("Type or pick a bucket first: prefixes are browsed inside it.", severity="warning")
            return
        prefix = self.query_one("#prefix", Input).value.strip()
        self.app.push_screen(PrefixPickerModal(buckets[0], prefix), self._prefix_picked)

    def _prefix_picked(self, chosen: str | None) -> None:
        if chosen is not None:
            self.query_one("#prefix", Input).value = chosen
