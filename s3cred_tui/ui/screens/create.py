"""Step one of the create flow: say who will use the access and what it may do.

Everything on this screen is pure: the policy preview and the inline messages come from
`core.validation`, `core.draft` and `core.bucket_grant` without any AWS call, so typing is
instant. Only the bucket and prefix pickers read the account, in thread workers, and AWS is
asked about the previewed policy only when the person presses "Ask AWS" (`AwsChecksPanel`).
What the account screen has already listed (users, buckets) is read, never asked for again.

Three audiences: a key of this account (a `CredentialRequest`, reviewed by `open_review`),
another account through the bucket policy (`BucketGrantRequest`) and a role another account
or a service assumes with an ExternalId (`ThirdPartyRoleRequest`), both reviewed by
`open_grant_review`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.events import DescendantFocus
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Static,
    TextArea,
)

from s3cred_tui.core import policies, validation
from s3cred_tui.core.aws_checks import CheckSubject, subject_for_request
from s3cred_tui.core.bucket_grant import (
    BUCKET_POLICY_LIMIT,
    BucketGrantRequest,
    grant_statements,
    principal_arn_for,
)
from s3cred_tui.core.draft import Draft, draft_request
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.third_party_role import ThirdPartyRoleRequest, validate_external_id
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.create_flow import CreateFlowScreen
from s3cred_tui.ui.screens.create_pickers import BucketPickerModal, PrefixPickerModal
from s3cred_tui.ui.widgets.aws_checks_panel import AwsChecksPanel
from s3cred_tui.ui.widgets.policy_json import PolicyJsonArea
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel


class Audience(str, enum.Enum):
    """Who will use the access: the form's first choice."""

    SELF = "self"  # a key of this account: today's form
    BUCKET_POLICY = "bucket-policy"  # another account, through a bucket-policy statement
    ROLE = "role"  # another account or a service, through a role it assumes with an ExternalId

    @property
    def label(self) -> str:
        return {
            Audience.SELF: "A key of this account",
            Audience.BUCKET_POLICY: "Another AWS account: bucket-policy grant",
            Audience.ROLE: "Another account or a service: a role it assumes (ExternalId)",
        }[self]

    @property
    def other_account(self) -> bool:
        return self is not Audience.SELF


class Scope(str, enum.Enum):
    """What inside the buckets: everything (or prefixes), or exact object keys."""

    PREFIXES = "prefixes"
    KEYS = "keys"


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

AUDIENCE_HELP = {
    Audience.SELF: "An IAM user's key or temporary keys, made in this account.",
    Audience.BUCKET_POLICY: (
        "A statement naming the other account is merged into each bucket's policy (others kept); "
        "that account must also allow its own principal."
    ),
    Audience.ROLE: (
        "A role here that the other account assumes with an external id (AWS's advice for third-party "
        "services); give them the role ARN and the id."
    ),
}

DEFAULT_DURATION = "1h"
# A policy file is a few kilobytes; anything far larger is not one (and would stall the form).
MAX_POLICY_FILE_BYTES = 1024 * 1024

# Fields named by validation problems, mapped to the message line under the form field at fault.
# "policy" problems belong to the custom policy box when there is one, else to the preview.
FIELD_MESSAGE_IDS = {
    "buckets": "error-buckets",
    "prefix": "error-prefix",
    "keys": "error-keys",
    "username": "error-username",
    "duration": "error-duration",
    "policy": "error-policy",
    "grant": "error-grant",
    "role": "error-role",
    "external-id": "error-external-id",
    "region": "error-region",
    "access": "error-access",
}
CUSTOM_POLICY_MESSAGE_ID = "error-access"
# Where `known_account_warnings` are said: below the checkbox that would answer them.
WARNING_MESSAGE_IDS = {"buckets": "warning-buckets", "username": "warning-username"}
GENERAL_MESSAGE_ID = "error-general"
# The inputs marked invalid when their field has a problem.
FIELD_INPUT_IDS = {
    "buckets": "buckets",
    "prefix": "prefix",
    "username": "username",
    "duration": "duration",
    "grant": "grant-principal",
    "role": "grant-role-name",
    "external-id": "external-id",
    "region": "bucket-region",
}

_SEPARATORS = re.compile(r"[\s,]+")


def split_bucket_names(text: str) -> tuple[str, ...]:
    """`a, b  c` -> ("a", "b", "c"), without duplicates, order kept."""
    seen: dict[str, None] = {}
    for name in _SEPARATORS.split(text.strip()):
        if name:
            seen.setdefault(name, None)
    return tuple(seen)


def split_keys(text: str) -> tuple[str, ...]:
    """One object key per line, kept exactly (S3 keys may hold spaces and commas); blank lines dropped."""
    return tuple(dict.fromkeys(line for line in text.splitlines() if line.strip()))


def read_policy_file(path: str) -> str:
    """The text of a policy file a person named (`~` expanded); every failure is one line naming the
    field and what to do, never a traceback."""
    shown = validation.printable(path, 80)
    if not path.strip():
        raise ValidationError("policy-file", "Policy file: type the path of a JSON policy file, then press Load.")
    try:
        location = Path(os.path.expanduser(path.strip()))
        if location.is_dir():
            raise ValidationError("policy-file", f"Policy file {shown!r} is a folder; name the JSON file inside it.")
        if location.stat().st_size > MAX_POLICY_FILE_BYTES:
            raise ValidationError("policy-file", f"Policy file {shown!r} is over 1 MB; a policy is a few kilobytes.")
        return location.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError("policy-file", f"Policy file {shown!r}: {exc.strerror or exc}; check the path.") from None
    except UnicodeDecodeError:
        raise ValidationError("policy-file", f"Policy file {shown!r} is not UTF-8 text; save it as UTF-8 JSON.") from None
    except ValueError as exc:  # a NUL in the path
        raise ValidationError("policy-file", f"Policy file {shown!r} is not a usable path ({exc}).") from None


@dataclass(frozen=True)
class FormState:
    """Everything typed or ticked on the form, as plain values, and what the app already knows
    (the caller's kind, the account's listed users and buckets; None when not fully listed)."""

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
    audience: Audience = Audience.SELF
    grant_principal: str = ""
    grant_role_name: str = ""
    external_id: str = ""
    extra_prefixes: tuple[str, ...] = ()
    scope: Scope = Scope.PREFIXES
    keys_text: str = ""
    list_keys: bool = False
    bucket_region: str = ""
    caller_type: str | None = None  # `Identity.principal_type`, None until whoami answers
    known_users: frozenset[str] | None = None
    known_buckets: frozenset[str] | None = None


GrantRequest = BucketGrantRequest | ThirdPartyRoleRequest


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
    # For another account: the request `open_grant_review` takes (None while there are problems).
    grant: GrantRequest | None = None
    # What the simulator evaluates: the previewed policy, or for a bucket-policy grant the same
    # access without its Principal (what the other account's principal may do, given both sides).
    simulated_policy: dict[str, Any] | None = None
    audience: Audience = Audience.SELF
    # What the account's loaded lists say the review would refuse (`known_account_warnings`):
    # shown beside the field, never blocking (the review reads the account and decides).
    warnings: tuple[ValidationError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def duration_limits(form: FormState) -> validation.DurationRange:
    return validation.duration_range(form.kind, form.caller_type)


def _scope_fields(form: FormState) -> dict[str, Any]:
    """The request's prefix, prefixes, keys and listing from the fields that apply (hidden ones
    never count: a custom policy has no prefix, exact keys no prefix)."""
    if form.access is AccessLevel.CUSTOM:
        return {"prefix": "", "prefixes": (), "keys": (), "list_keys": False}
    if form.scope is Scope.KEYS:
        listing = form.list_keys and not form.audience.other_account  # grants have no listing of keys
        return {"prefix": "", "prefixes": (), "keys": split_keys(form.keys_text), "list_keys": listing}
    extras = tuple(p.strip() for p in form.extra_prefixes if p.strip())
    return {"prefix": form.prefix.strip(), "prefixes": extras, "keys": (), "list_keys": False}


def evaluate_form(form: FormState) -> FormOutcome:
    """Turn the form into a request, every problem with it, and its policy. Pure: no AWS call."""
    outcome = _evaluate_grant(form) if form.audience.other_account else _evaluate_key(form)
    return dataclasses.replace(outcome, warnings=known_account_warnings(form))


def _evaluate_key(form: FormState) -> FormOutcome:
    """A key of this account: a `CredentialRequest` judged by the draft."""
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
            duration_seconds = validation.parse_duration(form.duration_text.strip(), duration_limits(form))
        except ValidationError as exc:
            local_problems.append(exc)

    bucket_region = None
    if form.create_buckets and form.bucket_region.strip():
        try:
            bucket_region = validation.validate_region(form.bucket_region)
        except ValidationError as exc:
            local_problems.append(exc)

    request = CredentialRequest(
        buckets=split_bucket_names(form.buckets_text),
        access=form.access,
        **_scope_fields(form),
        prefix_mode=form.prefix_mode,
        kind=form.kind,
        duration_seconds=duration_seconds,
        username=(form.username.strip() or None) if not form.kind.temporary else None,
        reuse_existing_user=form.reuse_existing_user and not form.kind.temporary,
        create_buckets=form.create_buckets,
        bucket_region=bucket_region,
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
    fields_at_fault = {problem.field for problem in problems}

    limit, limit_label = draft.limit, draft.limit_name
    if (
        draft.policy is None
        or fields_at_fault & {"buckets", "prefix", "keys"}
        or (fields_at_fault & {"policy"} and form.access is AccessLevel.CUSTOM)
    ):
        return FormOutcome(
            request, tuple(problems), None, 0, limit, limit_label, "Fix the highlighted fields to see the policy.", draft
        )
    # A generated policy over the size limit is reported as a problem, and still shown.
    return FormOutcome(
        request, tuple(problems), draft.policy_text, draft.size, limit, limit_label, "", draft, simulated_policy=draft.policy
    )


def _grant_limit(audience: Audience) -> tuple[int, str]:
    """The size a grant's document must fit, and what AWS calls it."""
    if audience is Audience.ROLE:
        return policies.ROLE_POLICY_LIMIT, "role inline policy"
    return BUCKET_POLICY_LIMIT, "bucket policy, this grant's statements"


def _evaluate_grant(form: FormState) -> FormOutcome:
    """Another account: the principal, the role fields, and the scope; the preview is the role's
    policy, or the statements merged into each bucket policy (the largest bucket's are measured)."""
    problems: list[ValidationError] = []
    principal_arn = None
    try:
        principal_arn = principal_arn_for(form.grant_principal)
    except ValidationError as exc:
        problems.append(exc)
    role_name = external_id = None
    if form.audience is Audience.ROLE:
        if form.grant_role_name.strip():
            try:
                role_name = validation.validate_role_name(form.grant_role_name.strip())
            except ValidationError as exc:
                problems.append(exc)
        if form.external_id.strip():
            try:
                external_id = validate_external_id(form.external_id.strip())
            except ValidationError as exc:
                problems.append(exc)
    if form.access is AccessLevel.CUSTOM:
        problems.append(
            ValidationError(
                "access",
                "A grant to another account is read only, write only or read and write; "
                "a custom policy is only for keys of this account.",
            )
        )

    request = CredentialRequest(
        buckets=split_bucket_names(form.buckets_text), access=form.access, **_scope_fields(form), prefix_mode=form.prefix_mode
    )
    draft = draft_request(request)
    # The draft measures against a key's limit; a grant has its own (below).
    problems.extend(problem for problem in draft.problems if problem.field != "policy")
    fields_at_fault = {problem.field for problem in problems}

    limit, limit_label = _grant_limit(form.audience)
    if draft.policy is None or fields_at_fault & {"buckets", "prefix", "keys", "access"}:
        return FormOutcome(
            request, tuple(problems), None, 0, limit, limit_label, "Fix the highlighted fields to see the policy.", draft,
            audience=form.audience,
        )
    buckets = split_bucket_names(form.buckets_text)
    scope = {
        "prefixes": validation.normalise_prefixes(request.all_prefixes, form.prefix_mode),
        "keys": tuple(request.keys),
    }
    if form.audience is Audience.ROLE:
        text, size = draft.policy_text, draft.size
        if size > limit:
            problems.append(
                ValidationError("policy", f"The role policy is {size:,} characters; a role's inline policies allow {limit:,}.")
            )
    elif principal_arn is None:
        note = "Name the other account to see the statements added to each bucket policy."
        return FormOutcome(
            request, tuple(problems), None, 0, limit, limit_label, note, draft,
            simulated_policy=draft.policy, audience=form.audience,
        )
    else:
        per_bucket = [
            grant_statements(bucket, form.access, principal_arn, scope["prefixes"], scope["keys"], form.prefix_mode)
            for bucket in buckets
        ]
        text = policies.policy_json({"Version": policies.POLICY_VERSION, "Statement": [s for b in per_bucket for s in b]})
        size = max(policies.policy_size({"Version": policies.POLICY_VERSION, "Statement": b}) for b in per_bucket)

    grant: GrantRequest | None = None
    if not problems:
        common = {
            "buckets": buckets,
            "principal": form.grant_principal.strip(),
            "access": form.access,
            "prefixes": scope["prefixes"],
            "keys": scope["keys"],
            "prefix_mode": form.prefix_mode,
        }
        if form.audience is Audience.ROLE:
            grant = ThirdPartyRoleRequest(**common, role_name=role_name, external_id=external_id)
        else:
            grant = BucketGrantRequest(**common)
    return FormOutcome(
        request, tuple(problems), text, size, limit, limit_label, "", draft,
        grant=grant, simulated_policy=draft.policy, audience=form.audience,
    )


def known_account_warnings(form: FormState) -> tuple[ValidationError, ...]:
    """What the account's lists (as the account screen loaded them) already show the plan would
    refuse: a bucket that does not exist, a user name that is taken. Nothing when a list is not
    fully loaded (`None`). Warnings, not problems: a list can be a moment old, and the review
    reads the account and decides."""
    request = CredentialRequest(buckets=split_bucket_names(form.buckets_text), access=form.access)
    problems = []
    creating = form.create_buckets and not form.audience.other_account
    if form.known_buckets is not None and not creating:
        missing = []
        for name in request.buckets:
            try:
                valid = validation.validate_bucket_name(name)
            except ValidationError:
                continue  # the draft says what is wrong with the name
            if valid not in form.known_buckets:
                missing.append(valid)
        if missing:
            names = ", ".join(missing)
            verb = "does" if len(missing) == 1 else "do"
            fix = (
                "a grant needs buckets that exist; pick them with ctrl+b."
                if form.audience.other_account
                else "tick “Create buckets that do not exist yet”, or pick existing ones (ctrl+b)."
            )
            problems.append(ValidationError("buckets", f"{names} {verb} not exist in this account; {fix}"))
    permanent = form.audience is Audience.SELF and not form.kind.temporary
    if form.known_users is not None and permanent and not form.reuse_existing_user and request.buckets:
        name = form.username.strip()
        if not name:
            try:
                name = validation.default_user_name(request.buckets, form.access)
            except (ValidationError, ValueError):
                name = ""
        if name and name in form.known_users:
            problems.append(
                ValidationError(
                    "username",
                    f"User {name} already exists; tick “Reuse the user” to add a key to it, or choose another name.",
                )
            )
    return tuple(problems)


def aws_check_subject(outcome: FormOutcome) -> CheckSubject | None:
    """What AWS is asked about from the form: the previewed policy alone (the review adds the boundary,
    the bucket policies and the new user). None while there is no policy to ask about, and for
    another account (the grant's review shows both sides)."""
    if outcome.policy_text is None or outcome.audience.other_account:
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
        # The prefix field the picker fills: the one last focused (the first one until then).
        self._prefix_target_id = "prefix"
        self._extra_prefix_count = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="create-body"):
            with VerticalScroll(id="create-form"):
                yield Label("Create credentials: who will use them?", id="create-title")
                with RadioSet(id="audience", compact=True):
                    for audience in Audience:
                        yield RadioButton(audience.label, value=audience is Audience.SELF, id=f"audience-{audience.value}")
                yield Static(AUDIENCE_HELP[Audience.SELF], id="audience-help", classes="field-help hidden", markup=False)
                with Vertical(id="grant-options", classes="hidden"):
                    yield Label("Other account id or principal ARN", classes="field-label")
                    yield Input(placeholder="123456789012 or arn:aws:iam::123456789012:role/NAME", id="grant-principal")
                    yield Static("", id="error-grant", classes="field-error", markup=False)
                    with Vertical(id="role-options", classes="hidden"):
                        yield Label("Role name (optional: blank = generated)", classes="field-label")
                        yield Input(placeholder="s3cred-third-party-ACCOUNT-…", id="grant-role-name")
                        yield Static("", id="error-role", classes="field-error", markup=False)
                        yield Label("External id (optional: blank = generated)", classes="field-label")
                        yield Input(placeholder="a random id is made for you", id="external-id")
                        yield Static("", id="error-external-id", classes="field-error", markup=False)

                yield Label("Buckets (separate with commas or spaces)", classes="field-label")
                with Horizontal(classes="field-row"):
                    yield Input(", ".join(self.initial_buckets), placeholder="my-bucket, other-bucket", id="buckets")
                    yield Button("Pick…", id="pick-buckets", tooltip="Choose from the account's buckets (ctrl+b)")
                yield Static("", id="error-buckets", classes="field-error", markup=False)
                yield Checkbox("Create buckets that do not exist yet", id="create-buckets", compact=True)
                yield Static("", id="warning-buckets", classes="field-warning hidden", markup=False)
                with Vertical(id="bucket-region-options", classes="hidden"):
                    yield Label("Region for new buckets", classes="field-label")
                    yield Input(self.aws.region or "", placeholder="us-east-1", id="bucket-region")
                    yield Static("", id="error-region", classes="field-error", markup=False)

                yield Label("Access", classes="field-label")
                with RadioSet(id="access", compact=True):
                    for level in AccessLevel:
                        yield RadioButton(level.label, value=level is AccessLevel.READ_ONLY, id=f"access-{level.value}")
                with Vertical(id="custom-options", classes="hidden"):
                    with Horizontal(classes="field-row"):
                        yield Input(placeholder="load a policy from a file: path/to/policy.json", id="policy-file")
                        yield Button("Load", id="load-policy", tooltip="Read the JSON file into the policy box")
                    yield Static("", id="error-policy-file", classes="field-error hidden", markup=False)
                    yield PolicyJsonArea(
                        "", read_only=False, id="custom-policy", show_line_numbers=True,
                        placeholder='{"Version": "2012-10-17", "Statement": [...]}',
                    )
                yield Static("", id="error-access", classes="field-error", markup=False)

                with Vertical(id="scope-options"):
                    # The choice doubles as the label: prefixes are optional (none = the whole bucket).
                    with RadioSet(id="scope", compact=True):
                        yield RadioButton("Whole bucket or under prefixes", value=True, id="scope-prefixes")
                        yield RadioButton("Exact keys", id="scope-keys")
                    with Vertical(id="prefix-options"):
                        with Horizontal(classes="field-row"):
                            yield Input(self.initial_prefix, placeholder="prefix (optional), e.g. reports/2024/", id="prefix")
                            yield Button("Browse…", id="pick-prefix", tooltip="Choose a prefix inside the first bucket (ctrl+o)")
                            yield Button("+", id="add-prefix", classes="small-button", tooltip="Add another prefix")
                        yield Vertical(id="extra-prefixes")
                        with RadioSet(id="prefix-mode", compact=True):
                            for mode in PrefixMode:
                                yield RadioButton(mode.value.capitalize(), value=mode is PrefixMode.PLAIN, id=f"prefix-mode-{mode.value}")
                        yield Static(PREFIX_MODE_HELP[PrefixMode.PLAIN], id="prefix-mode-help", classes="field-help", markup=False)
                        yield Static("", id="error-prefix", classes="field-error", markup=False)
                    with Vertical(id="key-options", classes="hidden"):
                        yield Label("Exact object keys, one per line", classes="field-label")
                        yield TextArea("", id="keys", soft_wrap=False, placeholder="reports/2024.csv")
                        yield Checkbox("Also allow listing exactly these keys", id="list-keys", compact=True)
                        yield Static("", id="error-keys", classes="field-error", markup=False)

                with Vertical(id="self-options"):
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
                        yield Static("", id="warning-username", classes="field-warning hidden", markup=False)

                    with Vertical(id="temporary-options", classes="hidden"):
                        yield Label("Duration (15m to 12h, e.g. 900, 45m, 1h30m)", id="duration-label", classes="field-label")
                        yield Input(DEFAULT_DURATION, id="duration")
                        yield Static("", id="duration-help", classes="field-help", markup=False)
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
        # whoami may answer after the form opens: the duration limits depend on who is asking.
        self.watch(self.app, "identity", lambda _identity: self._choice_changed(), init=False)
        self._choice_changed()
        self.query_one("#buckets", Input).focus()

    def _leave_unopened(self) -> None:
        self.dismiss()  # not awaited: a screen cannot await its own dismissal

    # -- reading the form ------------------------------------------------------------------

    def _pressed_value(self, radio_set_id: str, prefix: str) -> str:
        button = self.query_one(f"#{radio_set_id}", RadioSet).pressed_button
        assert button is not None and button.id is not None
        return button.id.removeprefix(prefix)

    def _known_names(self) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """The account screen's users and buckets, when each list is fully loaded (else None)."""
        account = self.s3cred_app.account_screen()
        if account is None:
            return None, None
        users = account.loaded_names("users")
        buckets = account.loaded_names("buckets")
        return (
            frozenset(users) if users is not None else None,
            frozenset(buckets) if buckets is not None else None,
        )

    def form_state(self) -> FormState:
        identity = self.s3cred_app.identity
        known_users, known_buckets = self._known_names()
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
            audience=Audience(self._pressed_value("audience", "audience-")),
            grant_principal=self.query_one("#grant-principal", Input).value,
            grant_role_name=self.query_one("#grant-role-name", Input).value,
            external_id=self.query_one("#external-id", Input).value,
            extra_prefixes=tuple(field.value for field in self.query(".extra-prefix").results(Input)),
            scope=Scope(self._pressed_value("scope", "scope-")),
            keys_text=self.query_one("#keys", TextArea).text,
            list_keys=self.query_one("#list-keys", Checkbox).value,
            bucket_region=self.query_one("#bucket-region", Input).value,
            caller_type=identity.principal_type if identity is not None else None,
            known_users=known_users,
            known_buckets=known_buckets,
        )

    # -- reacting to changes --------------------------------------------------------------

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event: Input.Changed | Checkbox.Changed) -> None:
        if isinstance(event, Input.Changed) and event.input.id == "policy-file":
            self._show_policy_file_problem("")  # a new path: the old complaint no longer applies
            return
        if isinstance(event, Checkbox.Changed) and event.checkbox.id == "create-buckets":
            self._show_what_applies(self.form_state())
        self.refresh_outcome()

    @on(TextArea.Changed, "#custom-policy")
    @on(TextArea.Changed, "#keys")
    def _text_changed(self) -> None:
        self.refresh_outcome()

    @on(RadioSet.Changed)
    def _choice_changed(self) -> None:
        form = self.form_state()
        self._show_what_applies(form)
        self.query_one("#prefix-mode-help", Static).update(PREFIX_MODE_HELP[form.prefix_mode])
        self.query_one("#kind-help", Static).update(KIND_HELP[form.kind])
        self.query_one("#audience-help", Static).update(AUDIENCE_HELP[form.audience])
        self._show_duration_limits(form)
        self.refresh_outcome()

    def _show_what_applies(self, form: FormState) -> None:
        """Hide every field that does not apply to the choices made (hidden fields never count)."""
        other = form.audience.other_account
        custom = form.access is AccessLevel.CUSTOM
        keys = form.scope is Scope.KEYS
        shown = {
            "#grant-options": other,
            "#role-options": form.audience is Audience.ROLE,
            "#create-buckets": not other,
            "#bucket-region-options": not other and form.create_buckets,
            "#custom-options": custom,
            "#scope-options": not custom,
            "#prefix-options": not keys,
            "#key-options": keys,
            "#list-keys": not other,
            "#audience-help": other,
            "#self-options": not other,
            "#permanent-options": not form.kind.temporary,
            "#temporary-options": form.kind.temporary,
        }
        for selector, visible in shown.items():
            self.query_one(selector).set_class(not visible, "hidden")

    def _show_duration_limits(self, form: FormState) -> None:
        """The label says the range of the method chosen; the help line says why it is that range."""
        if not form.kind.temporary:
            return
        limits = duration_limits(form)
        self.query_one("#duration-label", Label).update(f"Duration ({limits.span}, e.g. 900, 45m, 1h30m)")
        reason = limits.reason[0].upper() + limits.reason[1:] + "."
        self.query_one("#duration-help", Static).update(reason)

    def refresh_outcome(self) -> None:
        form = self.form_state()
        outcome = evaluate_form(form)
        self.outcome = outcome
        self._show_problems(outcome, form)
        self._update_username_placeholder(outcome.request)
        preview = self.query_one(PolicyPreview)
        preview.border_title = {
            Audience.SELF: "Policy preview",
            Audience.BUCKET_POLICY: "Statements added to each bucket policy",
            Audience.ROLE: "The role's policy",
        }[form.audience]
        if outcome.policy_text is None:
            preview.show_unavailable(outcome.preview_note)
        else:
            preview.show_policy(outcome.policy_text, outcome.policy_size, outcome.policy_limit, outcome.policy_limit_label)
        self._update_simulation(outcome)
        self.query_one(AwsChecksPanel).set_subject(
            aws_check_subject(outcome),
            "AWS's checks are for keys of this account; the grant's review shows both sides."
            if form.audience.other_account
            else "Fix the highlighted fields to ask AWS.",
        )
        self.query_one("#review", Button).disabled = not outcome.ok

    def _update_simulation(self, outcome: FormOutcome) -> None:
        """Keep the simulator on the previewed policy; move its bucket/key only when the form's do.

        Without a policy (the form is invalid) it answers nothing rather than about the last one."""
        if outcome.simulated_policy is None:
            self.query_one(SimulatePanel).show_unavailable(f"Nothing to simulate yet. {outcome.preview_note}")
            return
        request = outcome.request
        place = request.prefix or (request.keys[0] if request.keys else "")
        target = (request.buckets[0] if request.buckets else "", place)
        moved = target != self._simulated_target
        self._simulated_target = target
        name = "grant" if outcome.audience.other_account else "preview"
        self.query_one(SimulatePanel).set_policies(
            [(name, outcome.simulated_policy)],
            bucket=target[0] if moved else None,
            key=target[1] if moved else None,
        )

    def _show_problems(self, outcome: FormOutcome, form: FormState) -> None:
        custom = form.access is AccessLevel.CUSTOM
        messages: dict[str, list[str]] = {}
        for problem in outcome.problems:
            target = FIELD_MESSAGE_IDS.get(problem.field, GENERAL_MESSAGE_ID)
            if problem.field == "policy" and custom:
                target = CUSTOM_POLICY_MESSAGE_ID
            messages.setdefault(target, []).append(problem.message)
        invalid_fields = {FIELD_MESSAGE_IDS.get(problem.field) for problem in outcome.problems}
        for warning in outcome.warnings:
            messages.setdefault(WARNING_MESSAGE_IDS[warning.field], []).append(f"⚠ {warning.message}")
        for target in {*FIELD_MESSAGE_IDS.values(), *WARNING_MESSAGE_IDS.values(), CUSTOM_POLICY_MESSAGE_ID, GENERAL_MESSAGE_ID}:
            line = self.query_one(f"#{target}", Static)
            text = "\n".join(messages.get(target, ()))
            line.update(text)
            line.set_class(not text, "hidden")
        for field, input_id in FIELD_INPUT_IDS.items():
            invalid = FIELD_MESSAGE_IDS[field] in invalid_fields
            self.query_one(f"#{input_id}", Input).set_class(invalid, "-invalid")

    def _update_username_placeholder(self, request: CredentialRequest) -> None:
        buckets = request.buckets or ("BUCKET",)
        placeholder = validation.default_user_name(buckets, request.access)
        self.query_one("#username", Input).placeholder = f"{placeholder} (default)"

    def _show_policy_file_problem(self, message: str) -> None:
        line = self.query_one("#error-policy-file", Static)
        line.update(message)
        line.set_class(not message, "hidden")

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        widget = event.widget
        if isinstance(widget, Input) and widget.id and (widget.id == "prefix" or widget.has_class("extra-prefix")):
            self._prefix_target_id = widget.id

    # -- actions --------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        button = event.button
        if button.has_class("remove-prefix"):
            event.stop()
            self._remove_prefix_row(button)
            return
        actions = {
            "review": self.action_review,
            "cancel": self.action_close,
            "pick-buckets": self.action_pick_buckets,
            "pick-prefix": self.action_pick_prefix,
            "add-prefix": self.add_prefix_row,
            "load-policy": self.load_policy_file,
        }
        action = actions.get(button.id or "")
        if action is not None:
            event.stop()
            action()

    def add_prefix_row(self, value: str = "") -> Input:
        """Another prefix field (S3 keys may hold commas and spaces, so one field per prefix)."""
        self._extra_prefix_count += 1
        number = self._extra_prefix_count + 1
        field = Input(value, placeholder="another/prefix/", id=f"prefix-{number}", classes="extra-prefix")
        remove = Button("✕", id=f"remove-prefix-{number}", classes="remove-prefix small-button", tooltip="Remove this prefix")
        row = Horizontal(field, remove, classes="field-row extra-prefix-row")
        self.query_one("#extra-prefixes").mount(row)
        field.focus()
        self.refresh_outcome()
        return field

    def _remove_prefix_row(self, button: Button) -> None:
        row = button.parent
        if row is None:
            return
        field = row.query_one(Input)
        if field.id == self._prefix_target_id:
            self._prefix_target_id = "prefix"
        field.add_class("removed")  # gone from form_state at once, before the row is unmounted
        field.remove_class("extra-prefix")
        row.remove()
        self.query_one("#prefix", Input).focus()
        self.refresh_outcome()

    def load_policy_file(self) -> None:
        """Read the named file into the custom policy box; a problem is one line under the path."""
        path = self.query_one("#policy-file", Input).value
        try:
            text = read_policy_file(path)
        except ValidationError as exc:
            self._show_policy_file_problem(exc.message)
            return
        self._show_policy_file_problem("")
        self.query_one("#custom-policy", TextArea).load_text(text)
        self.refresh_outcome()
        self.notify(f"Loaded the policy from {validation.printable(path.strip(), 80)}.")

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
        if outcome.grant is not None:
            self.s3cred_app.open_grant_review(outcome.grant)
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
        prefix = self._prefix_target().value.strip()
        self.app.push_screen(PrefixPickerModal(buckets[0], prefix), self._prefix_picked)

    def _prefix_target(self) -> Input:
        matches = self.query(f"#{self._prefix_target_id}").results(Input)
        return next(iter(matches), None) or self.query_one("#prefix", Input)

    def _prefix_picked(self, chosen: str | None) -> None:
        if chosen is not None:
            self._prefix_target().value = chosen
