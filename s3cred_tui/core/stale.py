"""Stale access at a glance: pure rules over a user's keys and sign-ins. No AWS call.

A long-lived key is a liability the longer it lives and the less it is used. Four rules, each
a `StaleFlag` with a sentence saying why:

- `OLD_KEY`: an active key created more than `key_age_days` ago (AWS's own advice and its
  Trusted Advisor check rotate keys every 90 days). Inactive keys do not count: they open
  nothing until someone activates them.
- `UNUSED_KEY`: an active key not used for `unused_days`, or never used and older than that.
  A key made yesterday and not used yet is not stale.
- `NO_ACTIVITY`: a user older than `unused_days` with no key use, no console sign-in and no new
  key in that time (a key made recently is someone tending the user). Only said when every
  source is known: a console password whose last use is unknown
  (the credential report does not say) leaves the question open, never a false "inactive".
- `CONSOLE_WITH_KEYS`: a user who signs in to the console (a person) and also holds an active
  access key, the long-lived secret people leave in files.

Thresholds come from the person's settings (`core.settings.Settings.stale_key_days` and
`unused_key_days`, 90 days each by default); `thresholds_from(settings)` reads them.

Public API:
- `StaleThresholds(key_age_days=90, unused_days=90)`, `thresholds_from(settings) -> StaleThresholds`
- `KeyActivity(id, active, created, last_used=None, last_used_service=None)`
- `UserActivity(name, keys, created=None, console_access=False, console_last_used=None,
  console_last_used_known=True)`; `activity_from_report(report_user, created=None)`,
  `activity_from_keys(name, keys, created=None, console_access=False, console_last_used=None)`
- `StaleFlag`, `KeyReview(key, flags, reasons)`, `StaleReview(flags, reasons, keys, oldest_key_days,
  last_used, last_used_service, active_keys)` with `.stale`
- `review_key(key, now, thresholds) -> KeyReview`, `review_user(activity, now, thresholds) -> StaleReview`
- `stale_word(review) -> str`: the flags in a few words, for a list column
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

DEFAULT_KEY_AGE_DAYS = 90
DEFAULT_UNUSED_DAYS = 90


@dataclass(frozen=True)
class StaleThresholds:
    key_age_days: int = DEFAULT_KEY_AGE_DAYS
    unused_days: int = DEFAULT_UNUSED_DAYS


def thresholds_from(settings: Any | None) -> StaleThresholds:
    """The thresholds a settings object holds (`stale_key_days`, `unused_key_days`), else the defaults."""
    if settings is None:
        return StaleThresholds()
    return StaleThresholds(
        key_age_days=int(getattr(settings, "stale_key_days", DEFAULT_KEY_AGE_DAYS)),
        unused_days=int(getattr(settings, "unused_key_days", DEFAULT_UNUSED_DAYS)),
    )


class StaleFlag(str, enum.Enum):
    OLD_KEY = "old-key"
    UNUSED_KEY = "unused-key"
    NO_ACTIVITY = "no-activity"
    CONSOLE_WITH_KEYS = "console-with-keys"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class KeyActivity:
    id: str | None  # None when the source does not name keys (the credential report)
    active: bool
    created: datetime | None
    last_used: datetime | None = None
    last_used_service: str | None = None


@dataclass(frozen=True)
class UserActivity:
    name: str
    keys: tuple[KeyActivity, ...]
    created: datetime | None = None
    console_access: bool = False
    console_last_used: datetime | None = None
    # False when the source says a password exists but not when it was last used.
    console_last_used_known: bool = True


@dataclass(frozen=True)
class KeyReview:
    key: KeyActivity
    flags: tuple[StaleFlag, ...]
    reasons: tuple[str, ...]

    @property
    def stale(self) -> bool:
        return bool(self.flags)


@dataclass(frozen=True)
class StaleReview:
    flags: tuple[StaleFlag, ...]
    reasons: tuple[str, ...]
    keys: tuple[KeyReview, ...]
    oldest_key_days: int | None  # of the user's keys, active or not; None without keys
    last_used: datetime | None  # the latest use of any key
    last_used_service: str | None
    active_keys: int

    @property
    def stale(self) -> bool:
        return bool(self.flags)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _days(moment: datetime, now: datetime) -> int:
    return max(0, (_aware(now) - _aware(moment)).days)


def _key_label(key: KeyActivity) -> str:
    return f"Access key {key.id}" if key.id else "An access key"


def review_key(key: KeyActivity, now: datetime, thresholds: StaleThresholds = StaleThresholds()) -> KeyReview:
    """Is this one key old, or unused? Inactive keys are never flagged."""
    if not key.active:
        return KeyReview(key, (), ())
    flags: list[StaleFlag] = []
    reasons: list[str] = []
    label = _key_label(key)
    if key.created is not None and _days(key.created, now) > thresholds.key_age_days:
        flags.append(StaleFlag.OLD_KEY)
        reasons.append(
            f"{label} is {_days(key.created, now)} days old (more than {thresholds.key_age_days}): rotate it."
        )
    if key.last_used is not None:
        if _days(key.last_used, now) > thresholds.unused_days:
            flags.append(StaleFlag.UNUSED_KEY)
            reasons.append(f"{label} was last used {_days(key.last_used, now)} days ago (more than {thresholds.unused_days}).")
    elif key.created is not None and _days(key.created, now) > thresholds.unused_days:
        flags.append(StaleFlag.UNUSED_KEY)
        reasons.append(f"{label} has never been used in the {_days(key.created, now)} days since it was made.")
    return KeyReview(key, tuple(flags), tuple(reasons))


def review_user(activity: UserActivity, now: datetime, thresholds: StaleThresholds = StaleThresholds()) -> StaleReview:
    """Every rule over one user: its keys' flags, and the user-wide ones."""
    key_reviews = tuple(review_key(key, now, thresholds) for key in activity.keys)
    flags: list[StaleFlag] = []
    reasons: list[str] = []
    for review in key_reviews:
        for flag in review.flags:
            if flag not in flags:
                flags.append(flag)
        reasons.extend(review.reasons)

    active = [key for key in activity.keys if key.active]
    if activity.console_access and active:
        flags.append(StaleFlag.CONSOLE_WITH_KEYS)
        reasons.append(
            f"{activity.name} signs in to the console and also holds {len(active)} active access "
            f"key{'s' if len(active) != 1 else ''}: people should use temporary credentials."
        )

    used = [key for key in activity.keys if key.last_used is not None]
    latest = max(used, key=lambda key: _aware(key.last_used)) if used else None  # type: ignore[arg-type]
    if _inactive(activity, latest, now, thresholds):
        flags.append(StaleFlag.NO_ACTIVITY)
        reasons.append(
            f"{activity.name} has not used a key or signed in to the console for more than "
            f"{thresholds.unused_days} days."
        )

    created = [key.created for key in activity.keys if key.created is not None]
    oldest = max((_days(moment, now) for moment in created), default=None)
    return StaleReview(
        flags=tuple(flags),
        reasons=tuple(reasons),
        keys=key_reviews,
        oldest_key_days=oldest,
        last_used=latest.last_used if latest else None,
        last_used_service=latest.last_used_service if latest else None,
        active_keys=len(active),
    )


def _inactive(activity: UserActivity, latest: KeyActivity | None, now: datetime, thresholds: StaleThresholds) -> bool:
    window = thresholds.unused_days
    if activity.created is None or _days(activity.created, now) <= window:
        return False  # too new to say, or its age is unknown
    if latest is not None and latest.last_used is not None and _days(latest.last_used, now) <= window:
        return False
    if any(key.created is not None and _days(key.created, now) <= window for key in activity.keys):
        return False  # a key made within the window: the user is being looked after
    if activity.console_access:
        if not activity.console_last_used_known:
            return False  # the console may have been used: not known, so not said
        if activity.console_last_used is not None and _days(activity.console_last_used, now) <= window:
            return False
    return True


# -- building activity from what the inventory reads ----------------------------------------


def activity_from_keys(
    name: str,
    keys: Iterable[Any],
    created: datetime | None = None,
    console_access: bool = False,
    console_last_used: datetime | None = None,
    console_last_used_known: bool = True,
) -> UserActivity:
    """From `inventory.AccessKeyInfo`s (id, status, created, last_used, last_used_service)."""
    return UserActivity(
        name=name,
        keys=tuple(
            KeyActivity(
                id=key.id,
                active=str(key.status).lower() == "active",
                created=key.created,
                last_used=key.last_used,
                last_used_service=key.last_used_service,
            )
            for key in keys
        ),
        created=created,
        console_access=console_access,
        console_last_used=console_last_used,
        console_last_used_known=console_last_used_known,
    )


def activity_from_report(report_user: Any, created: datetime | None = None) -> UserActivity:
    """From an `inventory.ReportUser` (the credential report): keys have no ids there, and the
    report row as parsed does not carry the password's last use, so a console user's sign-ins
    count as unknown."""
    return UserActivity(
        name=report_user.name,
        keys=tuple(
            KeyActivity(
                id=None,
                active=key.active,
                created=key.last_rotated,
                last_used=key.last_used,
                last_used_service=key.last_used_service,
            )
            for key in report_user.keys
        ),
        created=created,
        console_access=bool(report_user.password_enabled),
        console_last_used=None,
        console_last_used_known=not report_user.password_enabled,
    )


def stale_word(review: StaleReview) -> str:
    """The flags in a few words for a column: `old key, unused key`; "" when nothing is stale."""
    words = {
        StaleFlag.OLD_KEY: "old key",
        StaleFlag.UNUSED_KEY: "unused key",
        StaleFlag.NO_ACTIVITY: "no activity",
        StaleFlag.CONSOLE_WITH_KEYS: "console + key",
    }
    return ", ".join(words[flag] for flag in review.flags)


__all__ = [
    "DEFAULT_KEY_AGE_DAYS",
    "DEFAULT_UNUSED_DAYS",
    "KeyActivity",
    "KeyReview",
    "StaleFlag",
    "StaleReview",
    "StaleThresholds",
    "UserActivity",
    "activity_from_keys",
    "activity_from_report",
    "review_key",
    "review_user",
    "stale_word",
    "thresholds_from",
]
