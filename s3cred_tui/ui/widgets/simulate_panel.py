"""Offline "would AWS allow this?" for a set of policies, with the statement that decides.

Nothing here calls AWS: the answer comes from `core.simulate.evaluate`, so it also shows what
emulators (and the live probe against them) cannot: Conditions, boundaries, session policies.

Mount it with one line, e.g. on a user's detail screen:

    yield SimulatePanel(detail.policy_documents(), bucket="reports", boundary=boundary_document)

and on the create screen, keep it in step with the live preview policy:

    yield SimulatePanel([("preview", policy)], bucket=bucket, key=prefix, id="simulate")
    self.query_one(SimulatePanel).set_policies([("preview", new_policy)], bucket=new_bucket)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.simulate import S3_PROBE_KEY, Decision, PolicyError, RequestContext, evaluate

# (operation id, menu label, action); None is "type any action".
OPERATIONS: tuple[tuple[str, str, str | None], ...] = (
    ("list", "list (s3:ListBucket)", "s3:ListBucket"),
    ("read", "read (s3:GetObject)", "s3:GetObject"),
    ("write", "write (s3:PutObject)", "s3:PutObject"),
    ("delete", "delete (s3:DeleteObject)", "s3:DeleteObject"),
    ("action", "any action…", None),
)
_ACTIONS = {op: action for op, _label, action in OPERATIONS}

# S3 actions whose resource is the bucket itself; everything else is asked on an object.
_BUCKET_ACTION_PREFIXES = ("s3:listbucket", "s3:getbucket", "s3:putbucket", "s3:deletebucket", "s3:createbucket")

NamedPolicy = tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class Simulation:
    """One evaluated request: the decision, or the problem that prevented it."""

    action: str
    resource: str
    decision: Decision | None = None
    problem: str | None = None
    policy_problem: bool = False


def _name_policies(policies: Iterable[Any]) -> list[NamedPolicy]:
    named = []
    for index, policy in enumerate(policies):
        if isinstance(policy, tuple):
            named.append((str(policy[0]), policy[1]))
        else:
            named.append((f"policy {index + 1}", policy))
    return named


def request_for(operation: str, typed_action: str, bucket: str, key: str, principal_arn: str | None = None) -> RequestContext:
    """The request a person means by "operation on bucket/key".

    Listing asks about the bucket with `s3:prefix` set to `key`, as an S3 client listing that
    folder would; object operations ask about `bucket/key`. A typed action without a service
    prefix is taken as an S3 action; a bucket-level S3 action asks about the bucket; an object
    action on an empty key or a folder (`reports/`) asks about a key inside it.
    """
    action = _ACTIONS.get(operation) or typed_action.strip()
    if action and ":" not in action:
        action = f"s3:{action}"
    bucket_arn = f"arn:aws:s3:::{bucket}"
    is_bucket_action = action.lower().startswith(_BUCKET_ACTION_PREFIXES)
    context: dict[str, Any] = {}
    if action.lower().startswith("s3:listbucket"):
        context["s3:prefix"] = key
    if is_bucket_action:
        resource = bucket_arn
    elif not key or key.endswith("/"):
        # An object action on a folder means "on a key inside it", as the access map asks.
        resource = f"{bucket_arn}/{key}{S3_PROBE_KEY}"
    else:
        resource = f"{bucket_arn}/{key}"
    return RequestContext(action, resource, context, principal_arn)


def simulate(
    policies: Iterable[Any],
    operation: str,
    typed_action: str,
    bucket: str,
    key: str,
    *,
    boundary: Any = None,
    session_policy: Any = None,
    principal_arn: str | None = None,
) -> Simulation:
    """Evaluate one request; never raises for bad input or an unreadable policy."""
    bucket = bucket.strip()
    if not bucket:
        return Simulation("", "", problem="Type a bucket name to ask about.")
    request = request_for(operation, typed_action, bucket, key, principal_arn)
    if not request.action:
        return Simulation("", request.resource, problem="Type an action, such as s3:GetObjectTagging.")
    try:
        decision = evaluate(request, _name_policies(policies), boundary=boundary, session_policy=session_policy)
    except PolicyError as exc:
        return Simulation(request.action, request.resource, problem=f"This policy cannot be evaluated: {exc.message}", policy_problem=True)
    except S3CredError as exc:
        return Simulation(request.action, request.resource, problem=exc.message)
    return Simulation(request.action, request.resource, decision=decision)


def verdict_text(simulation: Simulation) -> Text:
    decision = simulation.decision
    if decision is None:
        return Text("? no answer", style="bold yellow")
    if decision.allowed:
        return Text("✓ ALLOW", style="bold green")
    if decision.decision == "ExplicitDeny":
        return Text("✗ DENY (explicit Deny statement)", style="bold red")
    return Text("✗ DENY (no statement allows it)", style="bold red")


def deciding_text(decision: Decision) -> Text:
    """One line per deciding statement: policy name · Sid · effect."""
    if not decision.deciding:
        return Text("Decided by: no statement (implicit deny)", style="dim")
    text = Text("Decided by:")
    for statement in decision.deciding:
        sid = f"Sid {statement.sid!r}" if statement.sid else f"statement [{statement.index}] (no Sid)"
        effect_style = "green" if statement.effect == "Allow" else "red"
        text.append("\n  • ")
        text.append(statement.policy_name, style="bold")
        text.append(f" · {sid} · ")
        text.append(statement.effect, style=effect_style)
    return text


def _load_css() -> str:
    return Path(__file__).with_name("simulate_panel.tcss").read_text(encoding="utf-8")


class SimulatePanel(Vertical):
    """Pick an operation, a bucket and a key or prefix; see Allow/Deny and why.

    `policies` are documents or `(name, document)` pairs (names appear in the answer);
    `boundary` and `session_policy` are optional documents or pairs; `principal_arn` lets
    `${aws:username}` resolve. Evaluates as the person types: it is pure and fast.
    """

    DEFAULT_CSS = _load_css()

    def __init__(
        self,
        policies: Iterable[Any] = (),
        *,
        bucket: str = "",
        key: str = "",
        operation: str = "read",
        boundary: Any = None,
        session_policy: Any = None,
        principal_arn: str | None = None,
        title: str = "Simulate a request (offline)",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title
        self.policies = _name_policies(policies)
        self.boundary = boundary
        self.session_policy = session_policy
        self.principal_arn = principal_arn
        self._initial = (operation if operation in _ACTIONS else "read", bucket, key)
        self.last: Simulation | None = None
        # Why there is nothing to evaluate (`show_unavailable`), or None.
        self.unavailable: str | None = None

    def compose(self) -> ComposeResult:
        operation, bucket, key = self._initial
        with Horizontal(classes="sim-inputs"):
            yield Select(
                [(label, op) for op, label, _ in OPERATIONS],
                value=operation,
                allow_blank=False,
                compact=True,
                id="sim-operation",
                tooltip="What the request does",
            )
            yield Input(placeholder="s3:GetObjectTagging", compact=True, id="sim-action", tooltip="Any IAM action, e.g. s3:GetObjectTagging")
            yield Input(bucket, placeholder="bucket", compact=True, id="sim-bucket", tooltip="The bucket the request goes to")
            yield Input(key, placeholder="object key or prefix", compact=True, id="sim-key", tooltip="An object key, or the prefix a listing asks for")
        yield Label("", id="sim-request", markup=False)
        yield Static("", id="sim-verdict")
        yield Static("", id="sim-deciding")
        yield Static("", id="sim-reason", markup=False)

    def on_mount(self) -> None:
        self._show_action_input()
        self.refresh_answer()

    # -- inputs ------------------------------------------------------------------------------

    def set_policies(
        self,
        policies: Iterable[Any],
        *,
        boundary: Any = None,
        session_policy: Any = None,
        bucket: str | None = None,
        key: str | None = None,
    ) -> None:
        """Replace what is evaluated (e.g. the create form's live preview) and answer again.

        `bucket` and `key` update those fields only when given, so a person's own choice
        there is kept while the policy changes underneath.
        """
        self.policies = _name_policies(policies)
        self.unavailable = None
        self.boundary = boundary
        self.session_policy = session_policy
        if bucket is not None:
            self.query_one("#sim-bucket", Input).value = bucket
        if key is not None:
            self.query_one("#sim-key", Input).value = key
        self.refresh_answer()

    def show_unavailable(self, reason: str) -> None:
        """Nothing to evaluate (the create form is invalid): say why, instead of an answer about a
        policy that no longer exists. The next `set_policies` answers again."""
        self.policies = []
        self.unavailable = reason
        self.last = None
        self.query_one("#sim-request", Label).update("")
        self.query_one("#sim-verdict", Static).update("")
        self.query_one("#sim-deciding", Static).update("")
        reason_line = self.query_one("#sim-reason", Static)
        reason_line.update(reason)
        reason_line.set_class(False, "sim-error")

    def ask(self, operation: str, bucket: str | None = None, key: str | None = None, action: str | None = None) -> Simulation | None:
        """Set the fields as a person would and return the answer (used by hosts and tests)."""
        self.query_one("#sim-operation", Select).value = operation
        if action is not None:
            self.query_one("#sim-action", Input).value = action
        if bucket is not None:
            self.query_one("#sim-bucket", Input).value = bucket
        if key is not None:
            self.query_one("#sim-key", Input).value = key
        self._show_action_input()
        return self.refresh_answer()

    @on(Select.Changed, "#sim-operation")
    def _operation_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._show_action_input()
        self.refresh_answer()

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        if event.input.id in ("sim-action", "sim-bucket", "sim-key"):
            event.stop()
            self.refresh_answer()

    def _show_action_input(self) -> None:
        self.query_one("#sim-action", Input).display = self.query_one("#sim-operation", Select).value == "action"

    # -- answer ------------------------------------------------------------------------------

    def refresh_answer(self) -> Simulation | None:
        if self.unavailable is not None:
            return None
        operation = self.query_one("#sim-operation", Select).value
        simulation = simulate(
            self.policies,
            str(operation),
            self.query_one("#sim-action", Input).value,
            self.query_one("#sim-bucket", Input).value,
            self.query_one("#sim-key", Input).value,
            boundary=self.boundary,
            session_policy=self.session_policy,
            principal_arn=self.principal_arn,
        )
        self.last = simulation
        request = self.query_one("#sim-request", Label)
        request.update(f"{simulation.action} on {simulation.resource}" if simulation.action else "")
        verdict = self.query_one("#sim-verdict", Static)
        deciding = self.query_one("#sim-deciding", Static)
        reason = self.query_one("#sim-reason", Static)
        if simulation.decision is None:
            verdict.update(verdict_text(simulation) if simulation.policy_problem else "")
            deciding.update("")
            reason.update(simulation.problem or "")
            reason.set_class(simulation.policy_problem, "sim-error")
        else:
            verdict.update(verdict_text(simulation))
            deciding.update(deciding_text(simulation.decision))
            reason.update(simulation.decision.reason)
            reason.set_class(False, "sim-error")
        return simulation
