"""A write-ahead journal of what a run is creating, so nothing created is ever forgotten.

While a plan is applied, a small JSON-lines file in the user's state directory
(`platformdirs.user_state_dir("s3cred-tui")/runs/`, or `$S3CRED_TUI_STATE_DIR/runs/`) lists
each resource *before* the call that creates it (an intent, with the call that removes it),
then confirms it once created. A run that ends cleanly, or whose rollback completes, deletes
its journal. A run that dies (SIGKILL, power loss) leaves it behind: `unfinished_runs()`
finds it and `recover()` undoes what it lists, newest first, reporting each by ARN.

Never a secret: records hold names, ARNs, access key ids, regions, the account and where
the calls went (endpoint, profile, region); every write refuses secret-looking fields.

A live run holds an exclusive lock on its journal (released by the OS when the process
dies, however it dies), so recovery never races a run still in progress.

Record lines: `{"record": "run", ...RunInfo}` first, then per resource
`{"record": "intent", "seq", "kind", "name", "arn", "undo"}`, `{"record": "created", "seq",
"arn"?, "undo"?}`, and after a rollback step `{"record": "undone", "seq"}` or
`{"record": "kept", "seq", "reason"}`.

Public API:
- `STATE_DIR_ENV`, `RUN_TAG_KEY`, `state_dir() -> Path`, `runs_dir(directory=None) -> Path`
- `marked_by_run(ctx, run_id, *, user=None, role=None) -> bool | None`
- `UndoCall(action, params, title)`; `RunInfo(run_id, started, pid, account, caller_arn,
  endpoint_url, profile, region)`; `new_run_id() -> str`; `run_tag(run_id) -> dict`
- `run_info_for(ctx, account, caller_arn, run_id=None) -> RunInfo`
- `Journal`: `open_journal(info, directory=None)`, `.intend(kind, name, arn, undo) -> seq`,
  `.created(seq, arn=None, undo=None)`, `.undone(seq)`, `.kept(seq, reason)`, `.pending`,
  `.close()` (done: the file goes), `.release()` (stop, keep the file for `recover`)
- `Entry(seq, kind, name, arn, undo, created)`; `UnfinishedRun(path, info, entries,
  in_progress, problem)` with `.summary()`
- `unfinished_runs(directory=None) -> list[UnfinishedRun]`
- `RecoverResult(undone, absent, kept, not_undone)`, `recover(run, ctx, on_event=None, dry_run=False)`
- `UndoOutcome(removed, kept, detail)` (`REMOVED`, `ABSENT`), `perform_undo(ctx, undo, run_id=None)
  -> UndoOutcome`: the one executor of undo calls, for apply's rollback and for `recover`
- `context_for(info)` -> an `AwsContext` aimed where the run's calls went
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from s3cred_tui.core.errors import NotFound, S3CredError, translate

try:  # POSIX: the OS drops the lock when the process dies, even on SIGKILL
    import fcntl
except ImportError:  # pragma: no cover - Windows falls back to "is the pid alive"
    fcntl = None  # type: ignore[assignment]

STATE_DIR_ENV = "S3CRED_TUI_STATE_DIR"
APP_NAME = "s3cred-tui"
RUN_TAG_KEY = "s3cred-tui-run"
_SECRET_FIELDS = {"secretaccesskey", "sessiontoken", "secret_access_key", "session_token", "password"}


def state_dir() -> Path:
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME))


def runs_dir(directory: Path | str | None = None) -> Path:
    return Path(directory) if directory is not None else state_dir() / "runs"


def new_run_id() -> str:
    return uuid.uuid4().hex


def run_tag(run_id: str) -> dict[str, str]:
    """The tag that marks a user or role as made by this very run (see `apply`)."""
    return {"Key": RUN_TAG_KEY, "Value": run_id}


@dataclass(frozen=True)
class UndoCall:
    """The AWS call that removes (or puts back) one thing: `action` as `iam:DeleteUser`."""

    action: str
    params: dict[str, Any]
    title: str


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    started: str
    pid: int
    account: str
    caller_arn: str
    endpoint_url: str | None
    profile: str | None
    region: str | None
    host: str = field(default_factory=socket.gethostname)


@dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    name: str
    arn: str
    undo: UndoCall
    created: bool  # False: the process may have died during the call that creates it


def _check_no_secret(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in _SECRET_FIELDS:
                raise ValueError(f"refusing to journal a secret field {key!r} in {where}")
            _check_no_secret(item, where)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_no_secret(item, where)


def _undo_dict(undo: UndoCall) -> dict[str, Any]:
    return {"action": undo.action, "params": undo.params, "title": undo.title}


class Journal:
    """One run's journal file, open and locked until `close()`."""

    def __init__(self, path: Path, info: RunInfo, handle: Any):
        self.path = path
        self.info = info
        self._handle = handle
        self._seq = 0
        self._pending: set[int] = set()
        self._closed = False

    def _write(self, record: dict[str, Any]) -> None:
        _check_no_secret(record, self.path.name)
        self._handle.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def intend(self, kind: str, name: str, arn: str, undo: UndoCall) -> int:
        """Before the call that creates `name`: what it is and the call that removes it."""
        self._seq += 1
        self._write({"record": "intent", "seq": self._seq, "kind": kind, "name": name, "arn": arn,
                     "undo": _undo_dict(undo)})
        self._pending.add(self._seq)
        return self._seq

    def created(self, seq: int, arn: str | None = None, undo: UndoCall | None = None) -> None:
        """The call succeeded; `arn`/`undo` when only now known (an access key's id)."""
        record: dict[str, Any] = {"record": "created", "seq": seq}
        if arn is not None:
            record["arn"] = arn
        if undo is not None:
            record["undo"] = _undo_dict(undo)
        self._write(record)

    def undone(self, seq: int) -> None:
        """Taken back, or never made (its create was refused outright)."""
        self._write({"record": "undone", "seq": seq})
        self._pending.discard(seq)

    def kept(self, seq: int, reason: str) -> None:
        """Deliberately left (a bucket that is no longer empty): recover will not retry it."""
        self._write({"record": "kept", "seq": seq, "reason": reason})
        self._pending.discard(seq)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def close(self) -> None:
        """The run ended cleanly or was fully rolled back: the journal goes."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self._handle.close()

    def release(self) -> None:
        """Stop writing but keep the file: something could not be undone, so recover may finish it."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError):
            self._handle.close()


def _lock(handle: Any, exclusive: bool = True, wait: bool = False) -> bool:
    if fcntl is None:
        return True
    flags = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB)
    try:
        fcntl.flock(handle.fileno(), flags)
    except OSError:
        return False
    return True


def open_journal(info: RunInfo, directory: Path | str | None = None) -> Journal:
    folder = runs_dir(directory)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{info.run_id}.jsonl"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
    handle = os.fdopen(descriptor, "a", encoding="utf-8")
    _lock(handle)
    journal = Journal(path, info, handle)
    journal._write({"record": "run", **asdict(info)})
    return journal


def run_info_for(ctx: Any, account: str, caller_arn: str, run_id: str | None = None) -> RunInfo:
    """Where this run's calls go, so that a later `recover` can reach the same account."""
    config = getattr(ctx, "config", None)
    endpoint = getattr(config, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")
    return RunInfo(
        run_id=run_id or new_run_id(),
        started=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        pid=os.getpid(),
        account=account,
        caller_arn=caller_arn,
        endpoint_url=endpoint,
        profile=getattr(ctx, "profile", None),
        region=getattr(ctx, "region", None),
    )


# ---------------------------------------------------------------------------
# Finding unfinished runs


@dataclass
class UnfinishedRun:
    path: Path
    info: RunInfo | None
    entries: list[Entry]  # not yet undone, oldest first
    in_progress: bool  # a live process still holds it
    problem: str | None = None  # why it cannot be read

    def summary(self) -> str:
        if self.info is None:
            return f"unreadable journal {self.path}: {self.problem}"
        what = ", ".join(entry.arn for entry in self.entries) or "nothing left to undo"
        where = self.info.endpoint_url or self.info.profile or "AWS"
        state = " (still running)" if self.in_progress else ""
        return (
            f"run {self.info.run_id[:8]} started {self.info.started} in account {self.info.account} "
            f"via {where}{state}: {what}"
        )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _read(path: Path) -> UnfinishedRun:
    info: RunInfo | None = None
    entries: dict[int, dict[str, Any]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return UnfinishedRun(path, None, [], False, problem=str(exc))
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError:
            if number == len(lines):
                break  # a line cut short by a crash: everything before it stands
            return UnfinishedRun(path, None, [], False, problem=f"line {number} is not JSON")
        kind = record.get("record")
        if kind == "run":
            known = {k: record[k] for k in RunInfo.__dataclass_fields__ if k in record}
            try:
                info = RunInfo(**known)
            except TypeError as exc:
                return UnfinishedRun(path, None, [], False, problem=f"bad header: {exc}")
        elif kind == "intent":
            entries[record["seq"]] = dict(record, created=False)
        elif kind == "created" and record.get("seq") in entries:
            entry = entries[record["seq"]]
            entry["created"] = True
            entry.update({k: record[k] for k in ("arn", "undo") if k in record})
        elif kind in ("undone", "kept"):
            entries.pop(record.get("seq"), None)
    if info is None:
        return UnfinishedRun(path, None, [], False, problem="no run header")
    pending = [
        Entry(
            seq=e["seq"],
            kind=e["kind"],
            name=e["name"],
            arn=e["arn"],
            undo=UndoCall(e["undo"]["action"], dict(e["undo"]["params"]), e["undo"]["title"]),
            created=e["created"],
        )
        for _, e in sorted(entries.items())
    ]
    return UnfinishedRun(path, info, pending, in_progress=False)


def _held_by_live_process(path: Path, info: RunInfo | None) -> bool:
    if fcntl is None:
        return info is not None and info.pid != os.getpid() and _pid_alive(info.pid)
    try:
        with open(path, encoding="utf-8") as handle:
            if not _lock(handle, exclusive=False):
                return True
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    except OSError:
        return False
    return False


def unfinished_runs(directory: Path | str | None = None) -> list[UnfinishedRun]:
    """Journals left by runs that did not finish, oldest first (runs still going are marked)."""
    folder = runs_dir(directory)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.jsonl"), key=lambda p: p.stat().st_mtime):
        run = _read(path)
        run.in_progress = _held_by_live_process(path, run.info)
        if run.info is not None and not run.entries and not run.in_progress:
            # Died after its last undo but before deleting the file: nothing to do.
            with contextlib.suppress(OSError):
                path.unlink()
            continue
        found.append(run)
    return found


# ---------------------------------------------------------------------------
# Undoing


def _s3_for(ctx: Any, params: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    params = dict(params)
    region = params.pop("Region", None)
    return (ctx.client("s3", region) if region else ctx.s3), params


def _tag_value(tags: Any, key: str) -> str | None:
    for tag in tags or []:
        if tag.get("Key") == key:
            return tag.get("Value")
    return None


def marked_by_run(ctx: Any, run_id: str, *, user: str | None = None, role: str | None = None) -> bool | None:
    """Does this user (or role) carry the marker tag of run `run_id`? None when it does not exist."""
    iam = ctx.iam
    try:
        if user is not None:
            tags = iam.list_user_tags(UserName=user).get("Tags")
        else:
            tags = iam.list_role_tags(RoleName=role).get("Tags")
    except Exception as exc:
        if isinstance(translate(exc), NotFound):
            return None
        raise
    return _tag_value(tags, RUN_TAG_KEY) == run_id


def _delete_unseen_keys(ctx: Any, params: dict[str, Any]) -> list[str]:
    """Access keys whose ids never reached us: every key of the user not known before the call."""
    iam = ctx.iam
    user = params["UserName"]
    known = set(params.get("KnownKeyIds", []))
    keys = iam.list_access_keys(UserName=user).get("AccessKeyMetadata", [])
    deleted = []
    for key in keys:
        if key["AccessKeyId"] not in known:
            iam.delete_access_key(UserName=user, AccessKeyId=key["AccessKeyId"])
            deleted.append(key["AccessKeyId"])
    return deleted


_IAM_UNDO = {
    "iam:DeleteUser": "delete_user",
    "iam:DeleteUserPolicy": "delete_user_policy",
    "iam:DeleteAccessKey": "delete_access_key",
    "iam:DeleteRole": "delete_role",
    "iam:DetachRolePolicy": "detach_role_policy",
    "iam:UpdateRole": "update_role",
    "iam:DeleteRolePolicy": "delete_role_policy",
}


@dataclass(frozen=True)
class UndoOutcome:
    """What one undo call found: it removed something, found nothing to remove, or kept it (why)."""

    removed: bool
    kept: str | None = None
    detail: str = ""  # e.g. the ids of access keys deleted by an unseen-keys undo


REMOVED = UndoOutcome(removed=True)
ABSENT = UndoOutcome(removed=False)
NOT_THIS_RUNS = "it does not carry this run's marker, so somebody else made it; it was kept"


def perform_undo(ctx: Any, undo: UndoCall, run_id: str | None = None) -> UndoOutcome:
    """Carry out one undo call; raises a typed error when the call fails.

    A thing that is already gone (or was never made) is `ABSENT`, not an error. With `run_id`,
    a user or role is deleted only while it still carries that run's marker tag: a same-named
    entity somebody else made is never touched. A bucket is deleted only while empty (S3 itself
    refuses otherwise): that is reported as kept.
    """
    try:
        if undo.action == "s3:DeleteBucket":
            s3, params = _s3_for(ctx, undo.params)
            s3.delete_bucket(**params)
            return REMOVED
        if undo.action in ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy"):
            # A bucket-policy grant is undone by putting back the exact previous text (or none).
            s3, params = _s3_for(ctx, undo.params)
            if undo.action == "s3:PutBucketPolicy":
                s3.put_bucket_policy(**params)
            else:
                s3.delete_bucket_policy(**params)
            return REMOVED
        if undo.action == "iam:DeleteAccessKey" and "AccessKeyId" not in undo.params:
            deleted = _delete_unseen_keys(ctx, undo.params)
            return UndoOutcome(removed=True, detail=", ".join(deleted)) if deleted else ABSENT
        method = _IAM_UNDO.get(undo.action)
        if method is None:
            raise S3CredError(f"This version of s3cred-tui cannot undo {undo.action}.")
        if run_id is not None and undo.action in ("iam:DeleteUser", "iam:DeleteRole"):
            if undo.action == "iam:DeleteUser":
                marked = marked_by_run(ctx, run_id, user=undo.params["UserName"])
            else:
                marked = marked_by_run(ctx, run_id, role=undo.params["RoleName"])
            if marked is None:
                return ABSENT
            if not marked:
                return UndoOutcome(removed=False, kept=NOT_THIS_RUNS)
        getattr(ctx.iam, method)(**undo.params)
        return REMOVED
    except Exception as exc:
        error = translate(exc, undo.action)
        if isinstance(error, NotFound):
            return ABSENT
        if error.code == "BucketNotEmpty":
            return UndoOutcome(removed=False, kept="the bucket is no longer empty, so it was kept")
        raise error from None


@dataclass
class RecoverResult:
    undone: list[str] = field(default_factory=list)  # "what (ARN)"
    absent: list[str] = field(default_factory=list)  # "what (ARN)": never made, or already gone
    kept: list[str] = field(default_factory=list)  # "what (ARN): why"
    not_undone: list[str] = field(default_factory=list)  # "what (ARN): error"

    @property
    def ok(self) -> bool:
        return not self.not_undone


def context_for(info: RunInfo) -> Any:
    from s3cred_tui.core.session import AwsContext, SessionConfig

    return AwsContext(SessionConfig(profile=info.profile, region=info.region, endpoint_url=info.endpoint_url))


def recover(
    run: UnfinishedRun,
    ctx: Any,
    on_event: Callable[[str, str], None] | None = None,
    dry_run: bool = False,
) -> RecoverResult:
    """Undo what an unfinished journal lists, newest first; the journal goes once all is done.

    Refuses (raises) when the run is still going, or the credentials in `ctx` belong to
    another account than the run's. `on_event(status, text)` hears each step
    (`would-undo`, `undone`, `absent`, `kept`, `undo-failed`).
    """
    notify = on_event or (lambda status, text: None)
    if run.info is None:
        raise S3CredError(f"Cannot recover from {run.path}: {run.problem}. Remove the file once you have checked the account.")
    if run.in_progress:
        raise S3CredError(f"Run {run.info.run_id[:8]} (process {run.info.pid}) is still running; let it finish first.")
    result = RecoverResult()
    if dry_run:
        for entry in reversed(run.entries):
            notify("would-undo", f"{entry.undo.title} ({entry.arn})")
            result.undone.append(f"{entry.undo.title} ({entry.arn})")
        return result
    try:
        account = ctx.sts.get_caller_identity()["Account"]
    except Exception as exc:
        raise translate(exc, "sts:GetCallerIdentity") from None
    if account != run.info.account:
        raise S3CredError(
            f"Run {run.info.run_id[:8]} made its changes in account {run.info.account}, but these credentials "
            f"are for account {account}; use a profile of account {run.info.account}."
        )
    with open(run.path, "a", encoding="utf-8") as handle:
        if not _lock(handle):
            raise S3CredError(f"Run {run.info.run_id[:8]} is being recovered or run by another process.")
        for entry in reversed(run.entries):
            label = f"{entry.undo.title} ({entry.arn})"
            try:
                outcome = perform_undo(ctx, entry.undo, run.info.run_id)
            except S3CredError as error:
                result.not_undone.append(f"{label}: {error.message}")
                notify("undo-failed", f"{label}: {error.message}")
                continue
            record = {"record": "undone", "seq": entry.seq} if outcome.kept is None else {
                "record": "kept", "seq": entry.seq, "reason": outcome.kept}
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            if outcome.kept is not None:
                result.kept.append(f"{label}: {outcome.kept}")
                notify("kept", f"{label}: {outcome.kept}")
            elif outcome.removed:
                text = f"{label}: {outcome.detail}" if outcome.detail else label
                result.undone.append(text)
                notify("undone", text)
            else:
                result.absent.append(label)
                notify("absent", label)
        if result.ok:
            with contextlib.suppress(OSError):
                run.path.unlink()
    return result
