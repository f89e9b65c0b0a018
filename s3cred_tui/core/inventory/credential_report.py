"""Every user's access keys (age, state, last use) from the IAM credential report: 2-3 calls in all.

Listing keys user by user costs one call per user (5,000 users: 5,000 round trips); the
credential report (`GetCredentialReport`, a CSV) holds every user's two key slots at once.

AWS keeps one report per account and makes a new one at most every 4 hours, so the report
is read first and generated only when there is none or it expired; a report being made
answers `ReportInProgress`, polled here with a bounded backoff. Users created after the
report was made are not in it (callers look those up one by one), and its key columns are
as of `generated`.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from s3cred_tui.core.errors import S3CredError, translate

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

# The account's root user has a row of its own; it is not an IAM user.
ROOT_ROW = "<root_account>"
# How long `credential_report` waits for a report being generated, and its polling steps.
REPORT_WAIT_SECONDS = 30.0
_FIRST_POLL_SECONDS = 0.25
_LONGEST_POLL_SECONDS = 2.0
# AWS's codes (botocore: CredentialReportNotPresent/Expired/NotReadyException).
_MISSING = {"ReportNotPresent", "ReportExpired"}
_IN_PROGRESS = "ReportInProgress"
# Cells meaning "nothing here" in the report.
_EMPTY = {"", "N/A", "no_information", "not_supported"}


@dataclass(frozen=True)
class ReportKey:
    """One access key slot of a user that holds a key."""

    active: bool
    last_rotated: datetime | None  # when the key was created or last rotated: its age
    last_used: datetime | None
    last_used_service: str | None
    last_used_region: str | None


@dataclass(frozen=True)
class ReportUser:
    name: str
    arn: str
    keys: tuple[ReportKey, ...]  # only slots holding a key; a user has at most two
    password_enabled: bool
    mfa_active: bool

    @property
    def access_keys(self) -> int:
        return len(self.keys)

    @property
    def keys_last_used(self) -> datetime | None:
        """The latest use of any of the user's keys (None: never used, or no key)."""
        used = [key.last_used for key in self.keys if key.last_used is not None]
        return max(used) if used else None


@dataclass(frozen=True)
class CredentialReport:
    generated: datetime | None
    users: dict[str, ReportUser]


def _timestamp(text: str | None) -> datetime | None:
    if text is None or text.strip() in _EMPTY:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _text(text: str | None) -> str | None:
    return None if text is None or text.strip() in _EMPTY else text.strip()


def _flag(text: str | None) -> bool:
    return (text or "").strip().lower() == "true"


# A key slot's columns, in the order `_key` reads them.
_KEY_COLUMNS = ("last_rotated", "active", "last_used_date", "last_used_service", "last_used_region")


def _key(values: list[str | None], at: tuple[int, ...]) -> ReportKey | None:
    """A slot holds a key when it has a rotation date; an inactive key still has one."""
    rotated = _timestamp(values[at[0]])
    if rotated is None:
        return None
    return ReportKey(
        active=_flag(values[at[1]]),
        last_rotated=rotated,
        last_used=_timestamp(values[at[2]]),
        last_used_service=_text(values[at[3]]),
        last_used_region=_text(values[at[4]]),
    )


def _no_pace(_index: int) -> None:
    pass


def parse_credential_report(
    content: bytes | str, generated: datetime | None = None, pace: Callable[[int], None] = _no_pace
) -> CredentialReport:
    """The report's CSV (as `GetCredentialReport` returns it) by user name; the root row is left out.

    `pace(index)` is called before each row: a caller whose event loop shares the interpreter
    uses it to give up the GIL now and then (5,000 rows are ~50 ms of CPU).
    Raises `S3CredError` (code "MalformedReport") when the text is not a credential report.
    """
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or "user" not in header:
        raise S3CredError("The IAM credential report has no `user` column.", code="MalformedReport")
    # Rows are read as lists, each column found once by its index (a dict per row of 22 columns
    # cost more than the rest of the parse). A column the report lacks, or a row cut short,
    # reads as None: rows are padded to one past the header, and a missing column points there.
    width = len(header)
    index_of = {name: index for index, name in enumerate(header)}  # a repeated column: its last, as DictReader

    def at(column: str) -> int:
        return index_of.get(column, width)

    user_at, arn_at, password_at, mfa_at = at("user"), at("arn"), at("password_enabled"), at("mfa_active")
    slots = [tuple(at(f"access_key_{slot}_{column}") for column in _KEY_COLUMNS) for slot in (1, 2)]
    padding: list[str | None] = [None] * (width + 1)
    users: dict[str, ReportUser] = {}
    for index, row in enumerate(reader):
        pace(index)
        if not row:
            continue
        values: list[str | None] = [*row, *padding[len(row) :]] if len(row) <= width else [*row[:width], None]
        name = (values[user_at] or "").strip()
        if not name or name == ROOT_ROW:
            continue
        keys = tuple(key for key in (_key(values, slots[0]), _key(values, slots[1])) if key is not None)
        users[name] = ReportUser(
            name=name,
            arn=(values[arn_at] or "").strip(),
            keys=keys,
            password_enabled=_flag(values[password_at]),
            mfa_active=_flag(values[mfa_at]),
        )
    return CredentialReport(generated=generated, users=users)


def _error_code(exc: Exception) -> str | None:
    return getattr(exc, "response", {}).get("Error", {}).get("Code")


def credential_report(
    ctx: AwsContext,
    wait_seconds: float = REPORT_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    is_cancelled: Callable[[], bool] = lambda: False,
    on_generating: Callable[[], None] = lambda: None,
    pace: Callable[[int], None] = _no_pace,
) -> CredentialReport:
    """The account's credential report: read it, generating one first only when needed.

    `on_generating()` is called (once) when AWS says there is no report yet or it is still being
    generated: it will be a while (seconds on a large account), not one download away.
    `pace` is passed to `parse_credential_report`.

    Raises typed errors: refused is `AccessDenied`; a report still being generated after
    `wait_seconds` is an `S3CredError` with code "ReportInProgress"; stopped by
    `is_cancelled` is `Cancelled`.
    """
    from s3cred_tui.core.errors import Cancelled

    iam = ctx.iam
    deadline = clock() + wait_seconds
    pause = _FIRST_POLL_SECONDS
    generated_once = False
    said_generating = False
    while True:
        try:
            response = iam.get_credential_report()
            return parse_credential_report(response.get("Content") or b"", response.get("GeneratedTime"), pace)
        except Exception as exc:
            code = _error_code(exc)
            if (code in _MISSING or code == _IN_PROGRESS) and not said_generating:
                said_generating = True
                on_generating()
            if code in _MISSING and not generated_once:
                try:
                    iam.generate_credential_report()
                except Exception as generate_exc:
                    raise translate(generate_exc, "iam:GenerateCredentialReport") from None
                generated_once = True
                continue
            if code not in _MISSING and code != _IN_PROGRESS:
                raise translate(exc, "iam:GetCredentialReport") from None
        # Being generated (or just asked for): wait, within bounds, and read again.
        if clock() + pause > deadline:
            raise S3CredError(
                f"The IAM credential report is still being generated after {wait_seconds:.0f} s.",
                code=_IN_PROGRESS,
                operation="iam:GetCredentialReport",
            )
        if is_cancelled():
            raise Cancelled("Reading the credential report was cancelled.", code="Cancelled")
        sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL_SECONDS)
