"""Carry out a plan step by step, and undo what it made if anything fails or is cancelled.

Every kind of step a plan can hold is defined here once, in `STEP_KINDS`: the API call it
makes, how to make it (`do`) and the call that takes it back (`takes_back`, plain data: a
`journal.UndoCall`), side by side. The planner builds steps of these kinds; `apply_plan` runs
each step's `do` and, on failure or cancel, the undo of what this run made, newest first.

Only what this run created is undone (access key, inline policy, user; attached role policy,
role; a bucket only while it is still empty). A reused user or an existing role is never
deleted; repairs to our own role are put back as they were. IAM is eventually consistent, so
the first call that depends on a new key or role is retried with bounded exponential backoff,
reported as "waiting" events.

Idempotent creates. A create whose answer is lost may have happened, and the SDK retries it
once (`session.APPLY_TIMEOUTS`). So every user and role is created with a tag unique to this
run (`journal.run_tag`): on EntityAlreadyExists the tag says whether this run made it (then
its undo is kept and the run carries on) or somebody else did (the step fails and says so).
A retried CreateBucket answered BucketAlreadyOwnedByYou is this run's own first attempt.
CreateAccessKey lists the user's keys first when the user is not new; when the SDK retried
it, or it failed without a clear answer, every key not known before and not returned is
deleted at once (its secret was never shown) and the result's `notes` say so. A create that
failed without a clear answer (no response, a 5xx, a retry) is undone like a completed one,
guarded by the run tag, so nothing it may have made is left behind.

Journal. Before each create the run writes what it is about to make, and the call that
removes it, to its journal (`core.journal`); the journal goes when the run ends cleanly or
its rollback completes, and stays (for `recover`) when something could not be undone.

Secrets never appear in events, messages, logs, exception text, or the journal.

Public API:
- `StepKind(action, do, takes_back=None, intent=None, done_message=..., sends_access_policy=False)`
  with `.undo(ctx, step, made) -> UndoOutcome` and `.undo_title(step, made)`; the kinds
  (`CREATE_BUCKET`, `TAG_BUCKET`, `CREATE_USER`, `PUT_USER_POLICY`, `CREATE_ACCESS_KEY`,
  `WAIT_FOR_NEW_KEY`, `CREATE_ROLE`, `ATTACH_ROLE_POLICY`, `UPDATE_ROLE`,
  `ASSUME_ROLE`, `GET_FEDERATION_TOKEN`) and `STEP_KINDS` (by action)
- `ApplyStatus` (a `str` enum: running, done, failed, waiting, cancelled, rolling-back, undone,
  undo-failed); `ApplyEvent(index, title, status, message)`
- `ApplyResult(ok, credentials, completed, undone, not_undone, error, cancelled, notes,
  journal_path)`
- `apply_plan(ctx, plan, on_event=None, is_cancelled=lambda: False, *, sleep=time.sleep,
  wait_budget_seconds=20.0, journal=True) -> ApplyResult` (pass `ctx.for_apply()` for the
  short apply timeouts; the CLI and the app do)
- `PlanBlocked` (raised for a plan with blockers)
- `set_access_key_status(ctx, user, key_id, active)`, `delete_access_key(ctx, user, key_id)`,
  `create_access_key(ctx, user) -> Credentials`, `MAX_ACCESS_KEYS_PER_USER`
- `wait_until_ready(call, operation, on_wait=None, sleep=time.sleep, budget_seconds=20.0, first_delay=0.2)`
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import botocore.exceptions

from s3cred_tui.core import journal as journals
from s3cred_tui.core import policies
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import (
    AccessDenied,
    AlreadyExists,
    Cancelled,
    CredentialsInvalid,
    LimitExceeded,
    S3CredError,
    translate,
)
from s3cred_tui.core.journal import UndoCall, UndoOutcome, perform_undo

if TYPE_CHECKING:
    from s3cred_tui.core.inventory.identity import Identity
    from s3cred_tui.core.plan import Step
    from s3cred_tui.core.session import AwsContext

log = logging.getLogger(__name__)

MAX_ACCESS_KEYS_PER_USER = 2
_NOT_READY_CODES = {"InvalidClientTokenId", "InvalidAccessKeyId", "AccessDenied", "AccessDeniedException"}


class ApplicablePlan(Protocol):
    """What `apply_plan` reads of a plan: credentials (`plan.Plan`) and grants to another account
    (`bucket_grant.GrantPlan`, `third_party_role.ThirdPartyRolePlan`) run through the same engine."""

    @property
    def steps(self) -> list[Step]: ...
    @property
    def blockers(self) -> list[str]: ...
    @property
    def identity(self) -> Identity | None: ...


class ApplyStatus(str, enum.Enum):
    """Where one step (or the undo of one) stands. A `str`, so `status == "done"` holds."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    WAITING = "waiting"
    CANCELLED = "cancelled"
    ROLLING_BACK = "rolling-back"
    UNDONE = "undone"
    UNDO_FAILED = "undo-failed"

    def __str__(self) -> str:  # the plain word in messages and f-strings, on every Python version
        return self.value


@dataclass(frozen=True)
class ApplyEvent:
    index: int
    title: str
    status: ApplyStatus
    message: str = ""


@dataclass
class ApplyResult:
    ok: bool
    credentials: Credentials | None = None
    completed: list[str] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    not_undone: list[str] = field(default_factory=list)  # "what: why it could not be undone"
    error: S3CredError | None = None
    cancelled: bool = False
    # What the run did beyond its plan, in words (a duplicate access key it deleted).
    notes: list[str] = field(default_factory=list)
    # Set when something could not be undone: the journal `recover` can finish from.
    journal_path: str | None = None


class PlanBlocked(S3CredError):
    """The plan has blockers; nothing was done."""


EventSink = Callable[[ApplyEvent], None] | None
Emit = Callable[..., None]


def event_emitter(on_event: EventSink) -> Emit:
    """An `emit(index, title, status, message)` that forwards to `on_event`, shared by apply and deletion."""
    def emit(index: int, title: str, status: ApplyStatus, message: str = "") -> None:
        if on_event is None:
            return
        try:
            on_event(ApplyEvent(index, title, status, message))
        except Exception:  # a broken listener must not stop a rollback half-way
            log.exception("apply event listener failed")

    return emit


def _is_not_ready(error: S3CredError) -> bool:
    return isinstance(error, (CredentialsInvalid, AccessDenied)) and (error.code in _NOT_READY_CODES)


def wait_until_ready(
    call: Callable[[], Any],
    operation: str,
    on_wait: Callable[[int, float, S3CredError], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    budget_seconds: float = 20.0,
    first_delay: float = 0.2,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> Any:
    """`call()` until it stops failing the way a just-created key or role fails.

    Delays double from `first_delay`; the sum of delays never exceeds `budget_seconds`.
    The last error is raised when the budget is spent.
    """
    delay = first_delay
    slept = 0.0
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except Exception as exc:
            error = translate(exc, operation)
            if not _is_not_ready(error):
                raise error from None
            remaining = budget_seconds - slept
            if remaining <= 0 or is_cancelled():
                raise error from None
            pause = min(delay, remaining)
            if on_wait is not None:
                on_wait(attempt, pause, error)
            sleep(pause)
            slept += pause
            delay *= 2


# ---------------------------------------------------------------------------
# Step kinds: each AWS change a plan can make, with how to take it back


class StepRun:
    """What the steps of one apply share: the AWS context, the credentials made so far, whether a
    role was just created or changed (so assuming it may need to wait), this run's marker, the
    users it created and the keys each user had before, and the step being done."""

    def __init__(
        self,
        ctx: AwsContext,
        emit: Emit,
        is_cancelled: Callable[[], bool],
        sleep: Callable[[float], None],
        budget: float,
        *,
        run_id: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.credentials: Credentials | None = None
        self.role_changed = False
        self.run_id = run_id or journals.new_run_id()
        self.created_users: set[str] = set()
        self.notes: list[str] = []
        self._keys_before: dict[str, list[str]] = {}
        self._emit = emit
        self._is_cancelled = is_cancelled
        self._sleep = sleep
        self._budget = budget
        self._index = 0
        self._title = ""

    def do(self, index: int, step: Step) -> Made | None:
        self._index, self._title = index, step.title
        return step.kind.do(self, step)

    def wait(self, call: Callable[[], Any], operation: str) -> Any:
        """`call()` until a new key or role works, reporting each pause as a "waiting" event."""

        def on_wait(attempt: int, pause: float, error: S3CredError) -> None:
            message = f"not ready yet ({error.code}); retrying in {pause:.1f} s"
            self._emit(self._index, self._title, ApplyStatus.WAITING, message)

        return wait_until_ready(call, operation, on_wait, self._sleep, self._budget, is_cancelled=self._is_cancelled)

    def keys_before(self, user: str) -> list[str]:
        """The access keys `user` had before this run made one (none for a user this run created)."""
        if user in self.created_users:
            return []
        if user not in self._keys_before:
            try:
                keys = self.ctx.iam.list_access_keys(UserName=user).get("AccessKeyMetadata", [])
            except Exception as exc:
                raise translate(exc, "iam:ListAccessKeys") from None
            self._keys_before[user] = [key["AccessKeyId"] for key in keys]
        return self._keys_before[user]

    def note(self, text: str) -> None:
        self.notes.append(text)


# What a step made beyond its params (an access key id): plain data, never a secret, so a record
# of (action, params, made) is enough to undo it later.
Made = dict[str, Any]


def _nothing(made: Made | None) -> str:
    return ""


@dataclass(frozen=True)
class StepKind:
    """One kind of change: the API call (`iam:CreateUser`), how to make it and how to take it back.

    `do(run, step)` makes the change and returns what the undo needs beyond `step.params`, or
    None when this run made nothing to take back. `takes_back(step, made)` is the call that
    takes it back, as data (`UndoCall`, what the journal keeps); kinds without it are never
    rolled back. `intent(run, step)` is what the journal records *before* `do` (default: the
    undo with nothing made yet). `sends_access_policy`: the call carries the plan's policy.
    """

    action: str
    do: Callable[[StepRun, Step], Made | None]
    takes_back: Callable[[Step, Made], UndoCall | None] | None = None
    intent: Callable[[StepRun, Step], UndoCall | None] | None = None
    done_message: Callable[[Made | None], str] = _nothing
    sends_access_policy: bool = False

    def undo(self, ctx: AwsContext, step: Step, made: Made) -> UndoOutcome | None:
        """Take back what `do` made; needs only the step's params and `made` (never a secret)."""
        call = self.takes_back(step, made) if self.takes_back is not None else None
        return perform_undo(ctx, call) if call is not None else None

    def undo_title(self, step: Step, made: Made) -> str:
        call = self.takes_back(step, made) if self.takes_back is not None else None
        return call.title if call is not None else ""

    def intent_of(self, run: StepRun, step: Step) -> UndoCall | None:
        if self.intent is not None:
            return self.intent(run, step)
        return self.takes_back(step, {}) if self.takes_back is not None else None


def _compact(document: Any) -> str:
    return policies.policy_json(document, pretty=False)


def _bucket_client(ctx: AwsContext, step: Step) -> Any:
    region = step.params.get("Region")
    return ctx.client("s3", region) if region else ctx.s3


def _without_region(step: Step) -> dict[str, Any]:
    return {key: value for key, value in step.params.items() if key != "Region"}


def _code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _retried(response_or_error: Any) -> bool:
    """Did the SDK send this call more than once (so an earlier attempt may have taken effect)?"""
    response = getattr(response_or_error, "response", response_or_error)
    if not isinstance(response, dict):
        return False
    return int((response.get("ResponseMetadata") or {}).get("RetryAttempts") or 0) > 0


class _MaybeMade(S3CredError):
    """A create whose outcome could not be settled (its check failed): treat it as made."""


def _maybe_made(exc: BaseException) -> bool:
    """Could a create that raised `exc` have taken effect anyway?

    Only a clear refusal (an AWS error answer below 500, to a call sent once) proves it did
    not; no answer at all (a reset, a timeout), a server error or a retried call might have.
    """
    if isinstance(exc, botocore.exceptions.ClientError):
        status = int((exc.response.get("ResponseMetadata") or {}).get("HTTPStatusCode") or 0)
        return status >= 500 or _retried(exc)
    return isinstance(exc, _MaybeMade) or not isinstance(exc, S3CredError)


def _create_bucket(run: StepRun, step: Step) -> Made:
    bucket = step.params["Bucket"]
    try:
        _bucket_client(run.ctx, step).create_bucket(**_without_region(step))
    except botocore.exceptions.ClientError as exc:
        # Only a retry of this very call can explain "you already own it" for a bucket the plan saw
        # missing; without one, somebody in the account made it since.
        if _code(exc) != "BucketAlreadyOwnedByYou" or not _retried(exc):
            if _code(exc) == "BucketAlreadyOwnedByYou":
                raise AlreadyExists(
                    f"Bucket {bucket} was created in this account after the plan was made, not by this run; "
                    "it was left as it is.",
                    code="BucketAlreadyOwnedByYou",
                    operation=CREATE_BUCKET.action,
                ) from None
            raise
        run.note(f"bucket {bucket}: its creation was retried after a lost answer; the bucket is this run's")
    return {}


def _tag_bucket(run: StepRun, step: Step) -> None:
    _bucket_client(run.ctx, step).put_bucket_tagging(**_without_region(step))


def _with_run_tag(run: StepRun, params: dict[str, Any]) -> dict[str, Any]:
    return dict(params, Tags=[*params.get("Tags", []), journals.run_tag(run.run_id)])


def _create_tagged(run: StepRun, step: Step, what: str, name: str, create: Callable[..., Any], **extra: Any) -> None:
    """Create a user or role carrying this run's marker; an existing one must carry it too."""
    try:
        create(**_with_run_tag(run, step.params), **extra)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise
        try:
            mine = journals.marked_by_run(run.ctx, run.run_id, **{what: name})
        except Exception as check:
            error = translate(check)
            raise _MaybeMade(
                f"{what.capitalize()} {name} already exists and its tags could not be read ({error.message}), "
                "so it is not known whether this run made it.",
                code=error.code,
                operation=step.action,
            ) from None
        if not mine:
            raise AlreadyExists(
                f"{what.capitalize()} {name} was created by somebody else after the plan was made "
                "(it does not carry this run's marker); it was left as it is.",
                code="EntityAlreadyExists",
                operation=step.action,
            ) from None
        run.note(f"{what} {name}: its creation was retried after a lost answer; the {what} is this run's")


def _create_user(run: StepRun, step: Step) -> Made:
    user = step.params["UserName"]
    _create_tagged(run, step, "user", user, run.ctx.iam.create_user)
    run.created_users.add(user)
    return {}


def _put_user_policy(run: StepRun, step: Step) -> Made:
    run.ctx.iam.put_user_policy(PolicyDocument=_compact(step.policy), **step.params)
    return {}


def _unseen_keys_undo(user: str, known: list[str]) -> UndoCall:
    return UndoCall(
        "iam:DeleteAccessKey",
        {"UserName": user, "KnownKeyIds": list(known)},
        f"Delete the access keys this run made for {user}",
    )


def _access_key_intent(run: StepRun, step: Step) -> UndoCall:
    user = step.params["UserName"]
    return _unseen_keys_undo(user, run.keys_before(user))


def _delete_unseen_keys(run: StepRun, user: str, known: list[str], why: str) -> list[str]:
    outcome = perform_undo(run.ctx, _unseen_keys_undo(user, known))
    deleted = [key for key in outcome.detail.split(", ") if key]
    for key in deleted:
        run.note(f"access key {key} of {user} was deleted: {why}; its secret was never shown")
    return deleted


def _create_access_key(run: StepRun, step: Step) -> Made:
    """Exactly one new key whose secret we hold: duplicates from a lost answer are deleted."""
    iam, user = run.ctx.iam, step.params["UserName"]
    known = run.keys_before(user)
    try:
        response = iam.create_access_key(**step.params)
    except Exception as exc:
        if not _maybe_made(exc):
            raise
        # The key may exist without us knowing its secret: delete it now, not on rollback.
        deleted = _delete_unseen_keys(run, user, known, "the call that made it lost its answer")
        if not (deleted and isinstance(translate(exc), LimitExceeded)):
            raise
        response = iam.create_access_key(**step.params)  # the limit was our own lost key: once more
    key = response["AccessKey"]
    if _retried(response):
        _delete_unseen_keys(run, user, [*known, key["AccessKeyId"]], "a retried call made it as well")
    run.credentials = Credentials(
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
        user_name=user,
        region=run.ctx.region,
    )
    return {"AccessKeyId": key["AccessKeyId"]}


def _wait_for_new_key(run: StepRun, step: Step) -> None:
    creds = run.credentials
    if creds is None:
        raise S3CredError("There is no new key to check: the plan has no access-key step before this one.")
    new_sts = run.ctx.for_keys(creds.access_key_id, creds.secret_access_key).sts
    run.wait(new_sts.get_caller_identity, WAIT_FOR_NEW_KEY.action)


def _create_role(run: StepRun, step: Step) -> Made:
    role = step.params["RoleName"]
    _create_tagged(run, step, "role", role, run.ctx.iam.create_role, AssumeRolePolicyDocument=_compact(step.policy))
    run.role_changed = True
    return {}


def _attach_role_policy(run: StepRun, step: Step) -> Made:
    run.ctx.iam.attach_role_policy(**step.params)
    run.role_changed = True
    return {}


def _update_role(run: StepRun, step: Step) -> Made | None:
    run.ctx.iam.update_role(**step.params)
    run.role_changed = True
    return {} if (step.restore or {}).get("MaxSessionDuration") else None


def _current_bucket_policy(s3: Any, bucket: str) -> str | None:
    """The bucket policy's exact text, or None when the bucket has none."""
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as exc:
        if _code(exc) == "NoSuchBucketPolicy":
            return None
        raise


def _put_bucket_policy(run: StepRun, step: Step) -> Made:
    """Put the merged bucket policy, but only over the exact document the plan read (`step.restore`):
    a policy somebody changed since is never overwritten with a merge of the old one."""
    s3 = _bucket_client(run.ctx, step)
    bucket = step.params["Bucket"]
    expected = (step.restore or {}).get("Policy")
    if _current_bucket_policy(s3, bucket) != expected:
        raise S3CredError(
            f"The bucket policy of {bucket} changed since the plan was made; plan again so the change is kept.",
            code="BucketPolicyChanged",
        )
    if step.document is None:
        s3.delete_bucket_policy(Bucket=bucket)  # revoking the only statements left
    else:
        s3.put_bucket_policy(Bucket=bucket, Policy=_compact(step.document))
    return {}


def _bucket_policy_undo(step: Step, made: Made) -> UndoCall:
    """Put back the exact previous document, or delete the policy when there was none."""
    where = {"Bucket": step.params["Bucket"], **({"Region": step.params["Region"]} if step.params.get("Region") else {})}
    previous = (step.restore or {}).get("Policy")
    if previous is None:
        return UndoCall("s3:DeleteBucketPolicy", where, f"Delete the bucket policy of {step.params['Bucket']}")
    return UndoCall(
        "s3:PutBucketPolicy", {**where, "Policy": previous}, f"Restore the previous bucket policy of {step.params['Bucket']}"
    )


def _put_role_policy(run: StepRun, step: Step) -> Made:
    run.ctx.iam.put_role_policy(PolicyDocument=_compact(step.document), **step.params)
    return {}


def _session_policy(step: Step) -> dict[str, str]:
    return {"Policy": _compact(step.policy)} if step.policy is not None else {}


def _assume_role(run: StepRun, step: Step) -> None:
    kwargs = dict(step.params, **_session_policy(step))

    def assume() -> dict:
        return run.ctx.sts.assume_role(**kwargs)

    # A role this run created or changed may not be assumable for a few seconds.
    response = run.wait(assume, ASSUME_ROLE.action) if run.role_changed else assume()
    run.credentials = _temporary(response["Credentials"], run.ctx.region)


def _get_federation_token(run: StepRun, step: Step) -> None:
    response = run.ctx.sts.get_federation_token(**step.params, **_session_policy(step))
    run.credentials = _temporary(response["Credentials"], run.ctx.region)


def _temporary(raw: dict[str, Any], region: str | None) -> Credentials:
    return Credentials(
        access_key_id=raw["AccessKeyId"],
        secret_access_key=raw["SecretAccessKey"],
        session_token=raw.get("SessionToken"),
        expiration=raw.get("Expiration"),
        region=region,
    )


CREATE_BUCKET = StepKind(
    "s3:CreateBucket",
    _create_bucket,
    takes_back=lambda step, made: UndoCall(
        "s3:DeleteBucket",
        {"Bucket": step.params["Bucket"], **({"Region": step.params["Region"]} if step.params.get("Region") else {})},
        f"Delete bucket {step.params['Bucket']}",
    ),
)
TAG_BUCKET = StepKind("s3:PutBucketTagging", _tag_bucket)
CREATE_USER = StepKind(
    "iam:CreateUser",
    _create_user,
    takes_back=lambda step, made: UndoCall(
        "iam:DeleteUser", {"UserName": step.params["UserName"]}, f"Delete user {step.params['UserName']}"
    ),
)
PUT_USER_POLICY = StepKind(
    "iam:PutUserPolicy",
    _put_user_policy,
    takes_back=lambda step, made: UndoCall(
        "iam:DeleteUserPolicy",
        {"UserName": step.params["UserName"], "PolicyName": step.params["PolicyName"]},
        f"Delete inline policy {step.params['PolicyName']} of {step.params['UserName']}",
    ),
    sends_access_policy=True,
)
CREATE_ACCESS_KEY = StepKind(
    "iam:CreateAccessKey",
    _create_access_key,
    takes_back=lambda step, made: (
        UndoCall(
            "iam:DeleteAccessKey",
            {"UserName": step.params["UserName"], "AccessKeyId": made["AccessKeyId"]},
            f"Delete access key {made['AccessKeyId']} of {step.params['UserName']}",
        )
        if made.get("AccessKeyId")
        else None
    ),
    intent=_access_key_intent,
    done_message=lambda made: f"access key {made['AccessKeyId']} created" if made else "",
)
WAIT_FOR_NEW_KEY = StepKind(
    "sts:GetCallerIdentity", _wait_for_new_key, done_message=lambda made: "the new key works"
)
CREATE_ROLE = StepKind(
    "iam:CreateRole",
    _create_role,
    takes_back=lambda step, made: UndoCall(
        "iam:DeleteRole", {"RoleName": step.params["RoleName"]}, f"Delete role {step.params['RoleName']}"
    ),
)
ATTACH_ROLE_POLICY = StepKind(
    "iam:AttachRolePolicy",
    _attach_role_policy,
    takes_back=lambda step, made: UndoCall(
        "iam:DetachRolePolicy",
        {"RoleName": step.params["RoleName"], "PolicyArn": step.params["PolicyArn"]},
        f"Detach {step.params['PolicyArn'].rsplit('/', 1)[-1]} from role {step.params['RoleName']}",
    ),
)
UPDATE_ROLE = StepKind(
    "iam:UpdateRole",
    _update_role,
    takes_back=lambda step, made: (
        UndoCall(
            "iam:UpdateRole",
            {"RoleName": step.params["RoleName"], "MaxSessionDuration": step.restore["MaxSessionDuration"]},
            f"Restore the maximum session of role {step.params['RoleName']}",
        )
        if (step.restore or {}).get("MaxSessionDuration")
        else None
    ),
)
ASSUME_ROLE = StepKind("sts:AssumeRole", _assume_role, sends_access_policy=True)
GET_FEDERATION_TOKEN = StepKind("sts:GetFederationToken", _get_federation_token, sends_access_policy=True)
# The bucket-policy grant to another account (`core/bucket_grant.py`): the step's document is the
# merged policy, its `restore` the exact text it replaces (none: the undo deletes the policy).
PUT_BUCKET_POLICY = StepKind("s3:PutBucketPolicy", _put_bucket_policy, takes_back=_bucket_policy_undo)
# Revoking a grant that was the whole bucket policy (no `document`): undone by putting the text back.
DELETE_BUCKET_POLICY = StepKind("s3:DeleteBucketPolicy", _put_bucket_policy, takes_back=_bucket_policy_undo)
# The permissions of a role another account assumes (`core/third_party_role.py`): the step's document.
PUT_ROLE_POLICY = StepKind(
    "iam:PutRolePolicy",
    _put_role_policy,
    takes_back=lambda step, made: UndoCall(
        "iam:DeleteRolePolicy",
        {"RoleName": step.params["RoleName"], "PolicyName": step.params["PolicyName"]},
        f"Delete inline policy {step.params['PolicyName']} of role {step.params['RoleName']}",
    ),
)

STEP_KINDS: dict[str, StepKind] = {
    kind.action: kind
    for kind in (
        CREATE_BUCKET,
        TAG_BUCKET,
        CREATE_USER,
        PUT_USER_POLICY,
        CREATE_ACCESS_KEY,
        WAIT_FOR_NEW_KEY,
        CREATE_ROLE,
        ATTACH_ROLE_POLICY,
        UPDATE_ROLE,
        ASSUME_ROLE,
        GET_FEDERATION_TOKEN,
        PUT_BUCKET_POLICY,
        DELETE_BUCKET_POLICY,
        PUT_ROLE_POLICY,
    )
}


# ---------------------------------------------------------------------------
# Running a plan


@dataclass(frozen=True)
class _Undo:
    """How to take back one step: a completed one, or a create that may have happened
    (`guarded`: a user or role is then deleted only if it carries this run's marker)."""

    index: int
    step_title: str
    call: UndoCall
    seq: int | None
    guarded: bool = False


_UNDO_RESOURCES = {
    "s3:DeleteBucket": ("bucket", "Bucket"),
    "iam:DeleteUser": ("user", "UserName"),
    "iam:DeleteUserPolicy": ("inline-policy", "UserName"),
    "iam:DeleteAccessKey": ("access-key", "UserName"),
    "iam:DeleteRole": ("role", "RoleName"),
    "iam:DetachRolePolicy": ("role-policy", "RoleName"),
    "iam:UpdateRole": ("role-session", "RoleName"),
    "iam:DeleteRolePolicy": ("role-inline-policy", "RoleName"),
    "s3:PutBucketPolicy": ("bucket-policy", "Bucket"),
    "s3:DeleteBucketPolicy": ("bucket-policy", "Bucket"),
}


def _journal_fields(call: UndoCall, identity: Any) -> tuple[str, str, str]:
    """(kind, name, ARN) of what an undo call removes, for the journal and the reports."""
    kind, key = _UNDO_RESOURCES.get(call.action, ("resource", ""))
    name = str(call.params.get(key, ""))
    arn_text = getattr(identity, "arn", "") or ""
    partition = arn_text.split(":")[1] if arn_text.startswith("arn:") else "aws"
    account = getattr(identity, "account", "") or ""
    if key == "Bucket":
        return kind, name, f"arn:{partition}:s3:::{name}"
    if key == "RoleName":
        return kind, name, f"arn:{partition}:iam::{account}:role/{name}"
    return kind, name, f"arn:{partition}:iam::{account}:user/{name}"


class _Book:
    """The run's journal, or nothing when it could not be written (said once in the notes)."""

    def __init__(self, ctx: AwsContext, plan: ApplicablePlan, run: StepRun, enabled: bool) -> None:
        self.journal: journals.Journal | None = None
        self.identity = plan.identity
        if not enabled:
            return
        try:
            info = journals.run_info_for(
                ctx, getattr(plan.identity, "account", "") or "", getattr(plan.identity, "arn", "") or "", run.run_id
            )
            self.journal = journals.open_journal(info)
        except OSError as exc:
            run.note(
                f"the apply journal could not be written ({exc.strerror or exc}); if this run is killed, "
                "what it made must be found by hand"
            )

    def intend(self, call: UndoCall) -> int | None:
        if self.journal is None:
            return None
        kind, name, arn = _journal_fields(call, self.identity)
        return self.journal.intend(kind, name, arn, call)

    def created(self, seq: int | None, call: UndoCall | None) -> None:
        if self.journal is not None and seq is not None:
            self.journal.created(seq, undo=call)

    def settle(self, seq: int | None, status: str, reason: str = "") -> None:
        if self.journal is None or seq is None:
            return
        if status == "kept":
            self.journal.kept(seq, reason)
        else:
            self.journal.undone(seq)

    def finish(self, result: ApplyResult) -> None:
        """The run is over: the journal goes, unless a rollback left something it lists behind."""
        if self.journal is None:
            return
        if not result.ok and self.journal.pending:
            self.journal.release()
            result.journal_path = str(self.journal.path)
        else:
            self.journal.close()


def apply_plan(
    ctx: AwsContext,
    plan: ApplicablePlan,
    on_event: EventSink = None,
    is_cancelled: Callable[[], bool] = lambda: False,
    *,
    sleep: Callable[[float], None] = time.sleep,
    wait_budget_seconds: float = 20.0,
    journal: bool = True,
) -> ApplyResult:
    """Run the plan's steps in order; on failure or cancellation undo this run's changes, newest first.

    With `journal` (the default) every creation is written ahead to a journal in the state
    directory, so a run that dies can be finished by `journal.recover`.
    """
    if plan.blockers:
        raise PlanBlocked(
            "This plan cannot be applied: " + " ".join(plan.blockers), code="PlanBlocked"
        )
    emit = event_emitter(on_event)
    run = StepRun(ctx, emit, is_cancelled, sleep, wait_budget_seconds)
    book = _Book(ctx, plan, run, journal)
    result = ApplyResult(ok=False)
    done: list[_Undo] = []
    for index, step in enumerate(plan.steps):
        if is_cancelled():
            emit(index, step.title, ApplyStatus.CANCELLED, "cancelled before this step")
            result.cancelled = True
            result.error = Cancelled("Cancelled; what was created has been removed.", code="Cancelled")
            break
        emit(index, step.title, ApplyStatus.RUNNING, step.action)
        kind = step.kind
        intent: UndoCall | None = None
        seq: int | None = None
        try:
            intent = kind.intent_of(run, step)
            if intent is not None:
                seq = book.intend(intent)
            made = run.do(index, step)
        except Exception as exc:
            error = translate(exc, step.action)
            emit(index, step.title, ApplyStatus.FAILED, error.message)
            result.error = error
            result.cancelled = bool(is_cancelled())
            if intent is not None and _maybe_made(exc):
                done.append(_Undo(index, step.title, intent, seq, guarded=True))
            else:
                book.settle(seq, "undone")  # refused outright: nothing was made
            break
        undo = kind.takes_back(step, made) if (made is not None and kind.takes_back is not None) else None
        if undo is not None:
            book.created(seq, undo if undo != intent else None)
            done.append(_Undo(index, step.title, undo, seq))
        else:
            book.settle(seq, "undone")
        result.completed.append(step.title)
        emit(index, step.title, ApplyStatus.DONE, step.kind.done_message(made))
    else:
        result.ok = True
        result.credentials = run.credentials
        result.notes = run.notes
        book.finish(result)
        return result
    _roll_back(ctx, done, emit, result, book, run.run_id)
    result.notes = run.notes
    if result.cancelled and result.not_undone:
        result.error = Cancelled(
            "Cancelled, but some changes could not be undone: " + "; ".join(result.not_undone), code="Cancelled"
        )
    book.finish(result)
    return result


def _roll_back(ctx: AwsContext, done: list[_Undo], emit: Emit, result: ApplyResult, book: _Book, run_id: str) -> None:
    for entry in reversed(done):
        title = entry.call.title
        emit(entry.index, title, ApplyStatus.ROLLING_BACK, entry.step_title)
        try:
            outcome = perform_undo(ctx, entry.call, run_id if entry.guarded else None)
        except Exception as exc:
            reason = translate(exc).message
            result.not_undone.append(f"{title}: {reason}")
            emit(entry.index, title, ApplyStatus.UNDO_FAILED, reason)
            continue
        if entry.guarded and not outcome.removed:
            # The create that failed made nothing (or what exists is somebody else's): nothing to report.
            book.settle(entry.seq, "undone")
            continue
        if outcome.kept is not None:
            result.not_undone.append(f"{title}: {outcome.kept}")
            emit(entry.index, title, ApplyStatus.UNDO_FAILED, outcome.kept)
            book.settle(entry.seq, "kept", outcome.kept)
            continue
        what = f"{title}: {outcome.detail}" if outcome.detail else title
        result.undone.append(what)
        emit(entry.index, title, ApplyStatus.UNDONE, "" if outcome.removed else "already gone")
        book.settle(entry.seq, "undone")


# ---------------------------------------------------------------------------
# User screen operations


def _iam_call(operation: str, call: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return call(**kwargs)
    except Exception as exc:
        raise translate(exc, operation) from None


def set_access_key_status(ctx: AwsContext, user: str, key_id: str, active: bool) -> None:
    _iam_call(
        "iam:UpdateAccessKey",
        ctx.iam.update_access_key,
        UserName=user,
        AccessKeyId=key_id,
        Status="Active" if active else "Inactive",
    )


def delete_access_key(ctx: AwsContext, user: str, key_id: str) -> None:
    _iam_call("iam:DeleteAccessKey", ctx.iam.delete_access_key, UserName=user, AccessKeyId=key_id)


def create_access_key(ctx: AwsContext, user: str) -> Credentials:
    """A new key for rotation; refused when the user already has the two keys AWS allows."""
    keys = _iam_call("iam:ListAccessKeys", ctx.iam.list_access_keys, UserName=user).get("AccessKeyMetadata", [])
    if len(keys) >= MAX_ACCESS_KEYS_PER_USER:
        raise LimitExceeded(
            f"User {user} already has {len(keys)} access keys; AWS allows {MAX_ACCESS_KEYS_PER_USER}. "
            "Delete one before creating another.",
            code="LimitExceeded",
            operation="iam:CreateAccessKey",
        )
    key = _iam_call("iam:CreateAccessKey", ctx.iam.create_access_key, UserName=user)["AccessKey"]
    return Credentials(
        access_key_id=key["AccessKeyId"], secret_access_key=key["SecretAccessKey"], user_name=user, region=ctx.region
    )
