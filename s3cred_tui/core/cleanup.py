"""Removing what s3cred-tui made: a plan a person reviews, then applied with rollback and a report.

`plan_cleanup` reads, for each user, role and bucket of a `made.MadeInventory` (or the ones
named), every call that removing it takes, before anything is removed: a user through
`core.deletion.read_user_deletion` (everything that blocks `DeleteUser`), a role with its
instance profiles and policies, a bucket only while it is empty (s3cred-tui never deletes
data). What must not go is refused with the reason, never silently skipped: the user this app
is signed in as, the role it is signed in through, a bucket holding objects.

`apply_cleanup` removes the reviewed items one by one, users first (so nothing is left using a
role or bucket), then roles, then buckets. Before each item it reads it again; an item that
changed since the review is not touched, and the run stops there. A failure or a cancel in the
middle of an item puts back what can be put back (policies, group memberships, instance
profiles, each with its document as read in the plan), newest first, and the result says
exactly what was removed, what was restored, what could not be (a deleted access key cannot
return), and which items were never started. Items removed before the stop stay removed.

Events are `apply.ApplyEvent`s (one index per step across the whole plan), so the app shows
a cleanup with the same widget as a create. No secret is ever read or reported.

Public API:
- `CleanupStep(title, operation, method, params, service="iam", region=None, undo=None)`;
  `CleanupItem(kind, name, steps, refusal=None)` (`.label`); `CleanupPlan(items, refused)`
  (`.steps`, `.describe()`, `.to_dict()`, `.is_empty`)
- `plan_cleanup(ctx, made, *, names=None, identity=None, caller_key_id=None) -> CleanupPlan`
- `CleanupResult(removed, restored, not_restored, untouched, changed, error, cancelled, failed_item)`
  (`.ok`, `.summary()`, `.to_dict()`)
- `apply_cleanup(ctx, plan, on_event=None, is_cancelled=...) -> CleanupResult`
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.apply import ApplyEvent, ApplyStatus, event_emitter
from s3cred_tui.core.deletion import (
    UserDeletion,
    read_user_deletion,
    run_user_deletion,
    self_deletion_refusal,
)
from s3cred_tui.core.errors import NotFound, S3CredError, translate
from s3cred_tui.core.inventory.pages import all_items

if TYPE_CHECKING:
    from s3cred_tui.core.inventory import Identity
    from s3cred_tui.core.made import MadeInventory
    from s3cred_tui.core.session import AwsContext

USER, ROLE, BUCKET = "user", "role", "bucket"
# Removing users first leaves nothing using a role or a bucket that goes after them.
_ORDER = {USER: 0, ROLE: 1, BUCKET: 2}


@dataclass(frozen=True)
class CleanupStep:
    """One removal call, and the call that puts it back (None: it cannot be undone)."""

    title: str
    operation: str
    method: str
    params: dict[str, Any]
    service: str = "iam"
    region: str | None = None
    undo: tuple[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class CleanupItem:
    kind: str  # "user", "role" or "bucket"
    name: str
    steps: tuple[CleanupStep, ...]
    refusal: str | None = None  # why it stays (then `steps` is empty)
    deletion: UserDeletion | None = None  # a user's reviewed removals, to compare with a re-read

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class CleanupPlan:
    items: tuple[CleanupItem, ...]  # to remove, in order
    refused: tuple[CleanupItem, ...]  # kept, each with its reason

    @property
    def steps(self) -> list[tuple[CleanupItem, CleanupStep]]:
        return [(item, step) for item in self.items for step in item.steps]

    @property
    def is_empty(self) -> bool:
        return not self.items

    def describe(self) -> str:
        lines: list[str] = []
        if not self.items:
            lines.append("Nothing to remove.")
        for item in self.items:
            lines.append(f"Remove {item.label}:")
            for step in item.steps:
                lasting = "" if step.undo else "  (cannot be undone)"
                lines.append(f"  - {step.title}{lasting}")
        for item in self.refused:
            lines.append(f"Keep {item.label}: {item.refusal}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "remove": [
                {
                    "kind": item.kind,
                    "name": item.name,
                    "steps": [
                        {"title": s.title, "operation": s.operation, "can_be_undone": s.undo is not None}
                        for s in item.steps
                    ],
                }
                for item in self.items
            ],
            "keep": [{"kind": item.kind, "name": item.name, "reason": item.refusal} for item in self.refused],
        }


# -- reading the plan ----------------------------------------------------------------------------

# How a user's removal (`core.deletion`) is put back; the others cannot be.
_USER_UNDO: dict[str, Callable[[dict[str, Any], AwsContext], tuple[str, dict[str, Any]]]] = {
    "detach_user_policy": lambda p, ctx: ("attach_user_policy", dict(p)),
    "remove_user_from_group": lambda p, ctx: ("add_user_to_group", dict(p)),
    "delete_user_policy": lambda p, ctx: (
        "put_user_policy",
        dict(p, PolicyDocument=_document_text(
            _call(ctx.iam.get_user_policy, "iam:GetUserPolicy", **p)["PolicyDocument"]
        )),
    ),
}


def _call(method: Callable[..., Any], operation: str, **params: Any) -> Any:
    try:
        return method(**params)
    except Exception as exc:
        raise translate(exc, operation) from None


def _document_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))


def _user_item(ctx: AwsContext, name: str, identity: Identity | None, caller_key_id: str | None) -> CleanupItem:
    refusal = self_deletion_refusal(identity, name, caller_key_id)
    if refusal is not None:
        return CleanupItem(USER, name, (), refusal=refusal)
    deletion = read_user_deletion(ctx, name)
    steps = []
    for removal in deletion.removals:
        make_undo = _USER_UNDO.get(removal.method)
        steps.append(
            CleanupStep(
                removal.title, removal.operation, removal.method, dict(removal.params),
                undo=make_undo(removal.params, ctx) if make_undo else None,
            )
        )
    return CleanupItem(USER, name, tuple(steps), deletion=deletion)


def _role_item(ctx: AwsContext, name: str, identity: Identity | None) -> CleanupItem:
    if identity is not None and identity.principal_type == "assumed-role" and identity.name == name:
        return CleanupItem(
            ROLE, name, (),
            refusal=f"You are signed in through role {name}; removing it would cut this session off part-way.",
        )
    iam = ctx.iam
    _call(iam.get_role, "iam:GetRole", RoleName=name)
    steps: list[CleanupStep] = []
    for profile in all_items(iam.list_instance_profiles_for_role, "InstanceProfiles",
                             "iam:ListInstanceProfilesForRole", RoleName=name):
        params = {"InstanceProfileName": profile["InstanceProfileName"], "RoleName": name}
        steps.append(CleanupStep(f"Remove role {name} from instance profile {profile['InstanceProfileName']}",
                                 "iam:RemoveRoleFromInstanceProfile", "remove_role_from_instance_profile", params,
                                 undo=("add_role_to_instance_profile", dict(params))))
    for policy in all_items(iam.list_attached_role_policies, "AttachedPolicies",
                            "iam:ListAttachedRolePolicies", RoleName=name):
        params = {"RoleName": name, "PolicyArn": policy["PolicyArn"]}
        steps.append(CleanupStep(f"Detach policy {policy['PolicyName']} from role {name}", "iam:DetachRolePolicy",
                                 "detach_role_policy", params, undo=("attach_role_policy", dict(params))))
    for policy_name in all_items(iam.list_role_policies, "PolicyNames", "iam:ListRolePolicies", RoleName=name):
        params = {"RoleName": name, "PolicyName": policy_name}
        document = _call(iam.get_role_policy, "iam:GetRolePolicy", **params)["PolicyDocument"]
        steps.append(CleanupStep(f"Delete inline policy {policy_name} of role {name}", "iam:DeleteRolePolicy",
                                 "delete_role_policy", params,
                                 undo=("put_role_policy", dict(params, PolicyDocument=_document_text(document)))))
    steps.append(CleanupStep(f"Delete role {name}", "iam:DeleteRole", "delete_role", {"RoleName": name}))
    return CleanupItem(ROLE, name, tuple(steps))


def _bucket_item(ctx: AwsContext, name: str, region: str | None) -> CleanupItem:
    s3 = ctx.client("s3", region) if region else ctx.s3
    listing = _call(s3.list_object_versions, "s3:ListObjectVersions", Bucket=name, MaxKeys=1)
    if listing.get("Versions") or listing.get("DeleteMarkers"):
        return CleanupItem(
            BUCKET, name, (),
            refusal=f"Bucket {name} holds objects; s3cred-tui never deletes data. Empty it first if it should go.",
        )
    step = CleanupStep(f"Delete empty bucket {name}", "s3:DeleteBucket", "delete_bucket", {"Bucket": name},
                       service="s3", region=region)
    return CleanupItem(BUCKET, name, (step,))


def plan_cleanup(
    ctx: AwsContext,
    made: MadeInventory,
    *,
    names: Iterable[str] | None = None,
    identity: Identity | None = None,
    caller_key_id: str | None = None,
) -> CleanupPlan:
    """Read what removing each made item takes (read-only calls); `names` ("user NAME", "role NAME",
    "bucket NAME", or a bare name) limits the plan to those items."""
    wanted = set(names) if names is not None else None
    identity = identity if identity is not None else made.identity

    def chosen(kind: str, name: str) -> bool:
        return wanted is None or name in wanted or f"{kind} {name}" in wanted

    items: list[CleanupItem] = []
    for user in made.users:
        if chosen(USER, user.name):
            items.append(_user_item(ctx, user.name, identity, caller_key_id))
    for role in made.roles:
        if chosen(ROLE, role.name):
            items.append(_role_item(ctx, role.name, identity))
    for bucket in made.buckets:
        if chosen(BUCKET, bucket.name):
            items.append(_bucket_item(ctx, bucket.name, bucket.region))
    items.sort(key=lambda item: _ORDER[item.kind])
    return CleanupPlan(
        items=tuple(item for item in items if item.refusal is None),
        refused=tuple(item for item in items if item.refusal is not None),
    )


# -- applying ------------------------------------------------------------------------------------


@dataclass
class CleanupResult:
    removed: list[str] = field(default_factory=list)  # items gone, by label
    restored: list[str] = field(default_factory=list)  # steps of the stopped item put back
    not_restored: list[str] = field(default_factory=list)  # steps of the stopped item that stay done: why
    untouched: list[str] = field(default_factory=list)  # items never started
    changed: list[str] = field(default_factory=list)  # items that changed since the review (not touched)
    error: S3CredError | None = None
    cancelled: bool = False
    failed_item: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.cancelled and not self.changed and not self.untouched

    def summary(self) -> str:
        if self.ok:
            return f"Removed {len(self.removed)} item{'s' if len(self.removed) != 1 else ''}: {', '.join(self.removed) or 'nothing'}."
        if self.cancelled:
            head = "Stopped on request"
        elif self.changed:
            head = f"Stopped: {', '.join(self.changed)} changed since the plan was reviewed; review it again"
        else:
            head = f"Stopped at {self.failed_item}: {self.error}"
        parts = [head, f"Removed: {', '.join(self.removed) or 'nothing'}"]
        if self.restored:
            parts.append(f"Put back: {'; '.join(self.restored)}")
        if self.not_restored:
            parts.append(f"Could not be put back: {'; '.join(self.not_restored)}")
        if self.untouched:
            parts.append(f"Not touched: {', '.join(self.untouched)}")
        return ". ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "removed": list(self.removed),
            "restored": list(self.restored),
            "not_restored": list(self.not_restored),
            "untouched": list(self.untouched),
            "changed": list(self.changed),
            "cancelled": self.cancelled,
            "failed_item": self.failed_item,
            "error": self.error.message if self.error else None,
        }


class _Stop(Exception):
    """The current item stopped (failure or cancel); its done steps are rolled back."""

    def __init__(self, error: S3CredError | None, done: list[CleanupStep]) -> None:
        super().__init__(str(error))
        self.error = error
        self.done = done


def _client(ctx: AwsContext, step: CleanupStep) -> Any:
    if step.service == "s3":
        return ctx.client("s3", step.region) if step.region else ctx.s3
    return ctx.iam


def apply_cleanup(
    ctx: AwsContext,
    plan: CleanupPlan,
    on_event: Callable[[ApplyEvent], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> CleanupResult:
    """Remove the plan's items in order; stop at the first failure, cancel or change, roll back
    what can be of the item under way, and report (see the module docstring)."""

    emit = event_emitter(on_event)
    result = CleanupResult()
    offsets: list[int] = []
    total = 0
    for item in plan.items:
        offsets.append(total)
        total += len(item.steps)

    for position, item in enumerate(plan.items):
        first = offsets[position]
        if is_cancelled():
            result.cancelled = True
            result.untouched = [i.label for i in plan.items[position:]]
            if item.steps:
                emit(first, item.steps[0].title, ApplyStatus.CANCELLED)
            return result
        try:
            if item.kind == USER:
                _remove_user(ctx, item, first, emit, is_cancelled)
            else:
                _check_unchanged(ctx, item)
                _remove_steps(ctx, item, first, emit, is_cancelled)
        except _Changed:
            result.changed.append(item.label)
            result.untouched = [i.label for i in plan.items[position:]]
            return result
        except _Stop as stop:
            result.failed_item = item.label
            result.error = stop.error
            result.cancelled = stop.error is None
            _roll_back(ctx, item, stop.done, first, emit, result)
            result.untouched = [i.label for i in plan.items[position + 1 :]]
            return result
        result.removed.append(item.label)
    return result


class _Changed(Exception):
    """The item is not what the plan reviewed: nothing of it was touched."""


def _remove_steps(ctx: AwsContext, item: CleanupItem, first: int, emit: Any, is_cancelled: Callable[[], bool]) -> None:
    done: list[CleanupStep] = []
    for offset, step in enumerate(item.steps):
        index = first + offset
        if is_cancelled():
            emit(index, step.title, ApplyStatus.CANCELLED)
            raise _Stop(None, done)
        emit(index, step.title, ApplyStatus.RUNNING, step.operation)
        try:
            getattr(_client(ctx, step), step.method)(**step.params)
        except Exception as exc:
            error = translate(exc, step.operation)
            if isinstance(error, NotFound):
                # Removed by someone else since the re-read: the goal of this step holds.
                emit(index, step.title, ApplyStatus.DONE, "already gone")
                continue
            emit(index, step.title, ApplyStatus.FAILED, error.message)
            raise _Stop(error, done) from None
        done.append(step)
        emit(index, step.title, ApplyStatus.DONE)


def _check_unchanged(ctx: AwsContext, item: CleanupItem) -> None:
    """Read a role or bucket again: the same calls must still be what removing it takes."""
    try:
        fresh = _role_item(ctx, item.name, None) if item.kind == ROLE else _bucket_item(ctx, item.name, item.steps[0].region)
    except NotFound:
        raise _Changed() from None
    if fresh.refusal is not None or [s.title for s in fresh.steps] != [s.title for s in item.steps]:
        raise _Changed()


def _remove_user(ctx: AwsContext, item: CleanupItem, first: int, emit: Any, is_cancelled: Callable[[], bool]) -> None:
    """A user goes through `core.deletion`: read again (a change since the review stops here),
    then its removals run there, with this plan's step indices."""
    try:
        fresh = read_user_deletion(ctx, item.name)
    except NotFound:
        raise _Changed() from None
    if item.deletion is None or fresh.describe() != item.deletion.describe():
        raise _Changed()

    def forward(event: ApplyEvent) -> None:
        emit(first + event.index, event.title, ApplyStatus(str(event.status)), event.message)

    outcome = run_user_deletion(ctx, fresh, forward, is_cancelled)
    if outcome.ok:
        return
    done = [step for step in item.steps if step.title in outcome.removed]
    raise _Stop(outcome.error, done)


def _roll_back(
    ctx: AwsContext, item: CleanupItem, done: list[CleanupStep], first: int, emit: Any, result: CleanupResult
) -> None:
    """Put back what the stopped item lost, newest first; say what cannot come back."""
    for step in reversed(done):
        index = first + item.steps.index(step)
        if step.undo is None:
            result.not_restored.append(f"{step.title}: this cannot be undone")
            continue
        method, params = step.undo
        emit(index, step.title, ApplyStatus.ROLLING_BACK, method)
        try:
            getattr(_client(ctx, step), method)(**params)
        except Exception as exc:
            error = translate(exc, step.operation)
            result.not_restored.append(f"{step.title}: putting it back failed ({error.message})")
            emit(index, step.title, ApplyStatus.UNDO_FAILED, error.message)
            continue
        result.restored.append(step.title)
        emit(index, step.title, ApplyStatus.UNDONE)
