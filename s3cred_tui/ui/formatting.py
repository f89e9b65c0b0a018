"""How numbers, sizes, dates and ages read on screen.

Pure functions; `now` is a parameter so screens (and snapshot tests) can pin the clock.
"""

from __future__ import annotations

from datetime import datetime, timezone


# An age that takes no "ago".
JUST_NOW = "just now"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """`1 bucket`, `1,000 buckets`."""
    word = singular if n == 1 else (plural or singular + "s")
    return f"{n:,} {word}"


def size(n_bytes: int | None) -> str:
    """Bytes in binary units with one decimal: `0 B`, `1.5 KiB`, `3.0 GiB`."""
    if n_bytes is None:
        return ""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def date(moment: datetime | None) -> str:
    """`2024-03-01 14:05` in UTC, or an em dash when unknown."""
    if moment is None:
        return "—"
    return _aware(moment).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def age(moment: datetime | None, now: datetime | None = None) -> str:
    """How long ago, in the largest sensible unit: `just now`, `5 min`, `3 h`, `12 days`, `2 years`."""
    if moment is None:
        return "—"
    seconds = int(((now or utc_now()) - _aware(moment)).total_seconds())
    if seconds < 60:
        return JUST_NOW
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} h"
    days = hours // 24
    if days < 730:
        return count(days, "day")
    return count(days // 365, "year")


def last_used(moment: datetime | None, service: str | None, now: datetime | None = None) -> str:
    if moment is None:
        return "never"
    where = f" ({service})" if service and service.upper() != "N/A" else ""
    when = age(moment, now)
    return f"{when}{where}" if when == JUST_NOW else f"{when} ago{where}"


def shown_of(total: int, shown: int, noun: str, loading: bool) -> str:
    """The status line under a list: `1,000 buckets · 12 shown · loading…`."""
    parts = [count(total, noun)]
    if shown != total:
        parts.append(f"{shown:,} shown")
    if loading:
        parts.append("loading…")
    return " · ".join(parts)
