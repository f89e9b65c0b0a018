"""Guided access-key rotation: explicit steps, each reported, any of them a place to stop.

    check -> create the new key -> show it once -> probe it -> deactivate the old key
          -> delete the old key (or leave it inactive)

The order is the point. A user holds at most two keys, so the check says which key must go
first when both slots are taken (an inactive key, or the other one). The old key is
deactivated only after the person confirms the new one is in place (`deactivate_old(confirmed)`),
and deleted only after a further confirmation (`finish(delete=True)`); `finish(delete=False)`
leaves it inactive, to be reactivated if something still needed it. A stop at any point leaves
a state `summary()` describes exactly (which keys exist and which work); nothing is undone
behind the person's back, and `stop(discard_new=True)` deletes a new key that will not be used.

A rotation whose new key is already there (two keys: the one named, and a newer active one) is
resumed at the deactivation: the newer key is taken as the replacement, and its last use is
shown as the sign that it is in place (its secret is not known, so it cannot be probed).

The key this app signs with is never deactivated or deleted here (`deletion.self_deletion_refusal`):
sign in with the new key first. The secret lives only in `Rotation.credentials` (masked in
`repr`) and is never in an event, message or exception.

Public API:
- `RotationStep` (check, create, show, probe, deactivate, delete), `STEP_TITLES`
- `RotationEvent(step, status, message)`; `status` is "done", "skipped", "failed" or "stopped"
- `RotationCheck(user, keys, old_key, blocker, replacement, notes)` (`.ok`)
- `check_rotation(ctx, user, key_id=None, *, identity=None, caller_key_id=None) -> RotationCheck`
- `Rotation(ctx, check, *, on_event=None, identity=None, caller_key_id=None)`: `.create_new_key()
  -> Credentials`, `.mark_shown()`, `.probe_new_key(sleep=..., budget_seconds=20.0, is_cancelled=...)`,
  `.deactivate_old(confirmed)`, `.finish(delete)`, `.stop(reason="...", discard_new=False)`,
  `.next_step`, `.finished`, `.stopped`, `.summary()`, `.events`, `.new_key_id`
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from s3cred_tui.core.apply import (
    MAX_ACCESS_KEYS_PER_USER,
    create_access_key,
    delete_access_key,
    set_access_key_status,
    wait_until_ready,
)
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.deletion import self_deletion_refusal
from s3cred_tui.core.errors import NotFound, S3CredError
from s3cred_tui.core.inventory import AccessKeyInfo, access_keys_of

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


class RotationStep(str, enum.Enum):
    CHECK = "check"
    CREATE = "create"
    SHOW = "show"
    PROBE = "probe"
    DEACTIVATE = "deactivate"
    DELETE = "delete"

    def __str__(self) -> str:
        return self.value


STEP_TITLES = {
    RotationStep.CHECK: "Check the user's keys",
    RotationStep.CREATE: "Create the new key",
    RotationStep.SHOW: "Show the new key (once)",
    RotationStep.PROBE: "Check that AWS accepts the new key",
    RotationStep.DEACTIVATE: "Deactivate the old key, once the new one is in place",
    RotationStep.DELETE: "Delete the old key, or leave it inactive",
}
_ORDER = list(RotationStep)


@dataclass(frozen=True)
class RotationEvent:
    step: RotationStep
    status: str  # "done", "skipped", "failed", "stopped"
    message: str


@dataclass(frozen=True)
class RotationCheck:
    user: str
    keys: tuple[AccessKeyInfo, ...]
    old_key: AccessKeyInfo | None
    blocker: str | None
    # A newer active key already there: the rotation resumes at the deactivation with it.
    replacement: AccessKeyInfo | None = None
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.blocker is None


def _when(key: AccessKeyInfo) -> str:
    created = key.created.strftime("%Y-%m-%d") if key.created else "an unknown date"
    return f"{key.id} ({key.status.lower()}, created {created})"


def _used(key: AccessKeyInfo) -> str:
    if key.last_used is None:
        return "never used"
    where = f" ({key.last_used_service})" if key.last_used_service else ""
    return f"last used {key.last_used.strftime('%Y-%m-%d %H:%M')} UTC{where}"


def check_rotation(
    ctx: AwsContext,
    user: str,
    key_id: str | None = None,
    *,
    identity: Any = None,
    caller_key_id: str | None = None,
) -> RotationCheck:
    """Read the user's keys and decide which one is replaced, or why the rotation cannot start.

    Raises `NotFound` for a missing user; a key id the user does not have is a blocker.
    """
    keys = access_keys_of(ctx, user)
    notes: list[str] = []

    def blocked(text: str, old: AccessKeyInfo | None = None) -> RotationCheck:
        return RotationCheck(user, keys, old, text, None, tuple(notes))

    if key_id is not None:
        old = next((k for k in keys if k.id == key_id), None)
        if old is None:
            held = ", ".join(k.id for k in keys) or "none"
            return blocked(f"User {user} has no access key {key_id} (its keys: {held}).")
    elif not keys:
        return blocked(f"User {user} has no access key to rotate.")
    elif len(keys) == 1:
        old = keys[0]
    else:
        return blocked(
            f"User {user} has {len(keys)} keys: {', '.join(_when(k) for k in keys)}. Name the one to replace "
            "(--key-id); AWS allows two, so the other one must go first unless it is already the replacement."
        )
    if self_deletion_refusal(identity, user, caller_key_id, old.id):
        notes.append(
            f"{old.id} is the key this app is signed in with: the new key can be made, but the old one is "
            "deactivated only once you sign in with the new one."
        )
    others = [k for k in keys if k.id != old.id]
    if len(keys) < MAX_ACCESS_KEYS_PER_USER:
        return RotationCheck(user, keys, old, None, None, tuple(notes))
    other = others[0]
    newer = other.created is not None and old.created is not None and other.created > old.created
    if other.status == "Active" and newer:
        notes.append(
            f"{other.id} was made after {old.id} and is active ({_used(other)}): it is taken as the new key, "
            "so the rotation continues at deactivating the old one."
        )
        return RotationCheck(user, keys, old, None, other, tuple(notes))
    why = "it is inactive" if other.status != "Active" else "it is older than the key to replace"
    return blocked(
        f"User {user} already has {MAX_ACCESS_KEYS_PER_USER} keys, the most AWS allows. {other.id} must go first "
        f"({why}; {_used(other)}): delete it, then rotate {old.id}.",
        old,
    )


class Rotation:
    """One rotation in progress; each method is one step, in order (see the module docstring)."""

    def __init__(
        self,
        ctx: AwsContext,
        check: RotationCheck,
        *,
        on_event: Callable[[RotationEvent], None] | None = None,
        identity: Any = None,
        caller_key_id: str | None = None,
    ) -> None:
        if not check.ok or check.old_key is None:
            raise S3CredError(check.blocker or "There is no key to rotate.", code="RotationBlocked")
        self.ctx = ctx
        self.user = check.user
        self.old_key_id = check.old_key.id
        self.old_status = check.old_key.status  # "Active", "Inactive", or "deleted"
        self.identity = identity
        self.caller_key_id = caller_key_id
        self.events: list[RotationEvent] = []
        self.credentials: Credentials | None = None
        self.new_key_id: str | None = None
        self.probed = False
        self.finished = False
        self.stopped = False
        self._on_event = on_event
        self._next: RotationStep | None = RotationStep.CREATE
        self._report(RotationStep.CHECK, "done", f"Replacing {_when(check.old_key)} of {self.user}.")
        if check.replacement is not None:
            self.new_key_id = check.replacement.id
            for step in (RotationStep.CREATE, RotationStep.SHOW, RotationStep.PROBE):
                self._report(step, "skipped", f"{check.replacement.id} is already there ({_used(check.replacement)}).")
            self._next = RotationStep.DEACTIVATE

    # -- state -----------------------------------------------------------------------------

    @property
    def next_step(self) -> RotationStep | None:
        return None if self.finished or self.stopped else self._next

    def _report(self, step: RotationStep, status: str, message: str) -> None:
        event = RotationEvent(step, status, message)
        self.events.append(event)
        if self._on_event is not None:
            self._on_event(event)

    def _expect(self, step: RotationStep) -> None:
        if self.next_step != step:
            where = f"the next step is: {STEP_TITLES[self.next_step].lower()}" if self.next_step else "it has ended"
            raise S3CredError(f"This rotation cannot {STEP_TITLES[step].lower()} now: {where}.", code="RotationOrder")

    def _fail(self, step: RotationStep, error: S3CredError) -> NoReturn:
        self._report(step, "failed", error.message)
        raise error

    # -- steps -------------------------------------------------------------------------------

    def create_new_key(self) -> Credentials:
        self._expect(RotationStep.CREATE)
        try:
            credentials = create_access_key(self.ctx, self.user)
        except S3CredError as exc:
            self._fail(RotationStep.CREATE, exc)
        self.credentials = credentials
        self.new_key_id = credentials.access_key_id
        self._report(RotationStep.CREATE, "done", f"Created {credentials.access_key_id}; {self.old_key_id} still works.")
        self._next = RotationStep.SHOW
        return credentials

    def mark_shown(self) -> None:
        """The secret was put in front of the person (the screen or stdout): it cannot be shown again."""
        self._expect(RotationStep.SHOW)
        self._report(RotationStep.SHOW, "done", f"The secret of {self.new_key_id} was shown; AWS cannot show it again.")
        self._next = RotationStep.PROBE

    def probe_new_key(
        self,
        sleep: Callable[[float], None] = time.sleep,
        budget_seconds: float = 20.0,
        is_cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Sign a request with the new key (sts:GetCallerIdentity) until AWS accepts it, and check
        it acts as this user. A failure can be retried; the keys stay as they are."""
        self._expect(RotationStep.PROBE)
        credentials = self.credentials
        assert credentials is not None
        sts = self.ctx.for_keys(credentials.access_key_id, credentials.secret_access_key).sts
        try:
            answer = wait_until_ready(
                sts.get_caller_identity, "sts:GetCallerIdentity", sleep=sleep, budget_seconds=budget_seconds,
                is_cancelled=is_cancelled,
            )
        except S3CredError as exc:
            self._fail(RotationStep.PROBE, S3CredError(
                f"AWS did not accept {self.new_key_id} ({exc.message}); both keys are as they were.",
                code=exc.code, operation="sts:GetCallerIdentity",
            ))
        arn = str(answer.get("Arn", ""))
        if not (":user/" in arn and arn.rsplit("/", 1)[-1] == self.user):
            self._fail(RotationStep.PROBE, S3CredError(
                f"{self.new_key_id} signs as {arn}, not as user {self.user}.", code="ProbeMismatch"
            ))
        self.probed = True
        self._report(RotationStep.PROBE, "done", f"AWS accepts {self.new_key_id} as {arn}.")
        self._next = RotationStep.DEACTIVATE

    def deactivate_old(self, confirmed: bool) -> None:
        """Only with `confirmed` (the person says the new key is in place); otherwise the rotation stops."""
        self._expect(RotationStep.DEACTIVATE)
        if not confirmed:
            self.stop("You did not confirm that the new key is in place")
            return
        refusal = self_deletion_refusal(self.identity, self.user, self.caller_key_id, self.old_key_id)
        if refusal is not None:
            self._report(RotationStep.DEACTIVATE, "stopped", refusal)
            self.stopped = True
            return
        if self.old_status != "Active":
            self._report(RotationStep.DEACTIVATE, "skipped", f"{self.old_key_id} is already inactive.")
        else:
            try:
                set_access_key_status(self.ctx, self.user, self.old_key_id, active=False)
            except S3CredError as exc:
                self._fail(RotationStep.DEACTIVATE, exc)
            self.old_status = "Inactive"
            self._report(RotationStep.DEACTIVATE, "done",
                         f"{self.old_key_id} is inactive: anything still using it now fails (it can be reactivated).")
        self._next = RotationStep.DELETE

    def finish(self, delete: bool) -> None:
        """Delete the old key (a further confirmation), or leave it inactive."""
        self._expect(RotationStep.DELETE)
        if not delete:
            self._report(RotationStep.DELETE, "skipped", f"{self.old_key_id} is left inactive; delete it once you are sure.")
            self.finished = True
            return
        refusal = self_deletion_refusal(self.identity, self.user, self.caller_key_id, self.old_key_id)
        if refusal is not None:
            self._report(RotationStep.DELETE, "stopped", refusal)
            self.stopped = True
            return
        try:
            delete_access_key(self.ctx, self.user, self.old_key_id)
        except NotFound:
            pass  # deleted by someone else meanwhile: the goal holds
        except S3CredError as exc:
            self._fail(RotationStep.DELETE, exc)
        self.old_status = "deleted"
        self._report(RotationStep.DELETE, "done", f"{self.old_key_id} deleted.")
        self.finished = True

    def stop(self, reason: str = "Stopped on request", discard_new: bool = False) -> None:
        """End the rotation here; with `discard_new`, delete the new key first (before the old one
        was deactivated only: afterwards the new key is the one that works)."""
        if self.finished or self.stopped:
            return
        step = self.next_step or RotationStep.DELETE
        message = reason
        if discard_new and self.credentials is not None and self.old_status == "Active":
            try:
                delete_access_key(self.ctx, self.user, self.credentials.access_key_id)
            except NotFound:
                pass
            except S3CredError as exc:
                self._report(step, "failed", f"Deleting the new key {self.new_key_id} failed: {exc.message}")
                self.stopped = True
                raise
            message += f"; the new key {self.new_key_id} was deleted"
            self.new_key_id = None
            self.credentials = None
        self.stopped = True
        self._report(step, "stopped", message + ".")

    def summary(self) -> str:
        """Where the keys stand now, in one paragraph."""
        old, new = self.old_key_id, self.new_key_id
        if self.old_status == "deleted":
            state = f"{old} was deleted; {new} is {self.user}'s key."
        elif self.old_status == "Inactive":
            state = f"{old} is inactive (it can be reactivated) and {new} is active."
            if not self.finished:
                state += f" Delete {old} once you are sure nothing needs it."
        elif new is None:
            state = f"Nothing was changed: {old} is still {self.old_status.lower()}."
        else:
            state = f"Both keys work: {new} (new) and {old} (old, still active)."
            if not self.probed and self.credentials is not None:
                state += f" {new} has not been checked with AWS yet."
            state += f" Finish by rotating {old} of {self.user} again once {new} is in place, or delete {new}."
        if self.finished:
            return f"Rotation of {self.user} finished. {state}"
        if self.stopped:
            return f"Rotation of {self.user} stopped. {state}"
        return state
