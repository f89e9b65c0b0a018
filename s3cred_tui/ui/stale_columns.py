"""The users list's stale-access columns: oldest key, last used, and the flags (`core.stale`).

Filled from the credential report (every user's keys in 1-3 calls) and the user's creation
date from the listing; the rules and thresholds are the core's. A flagged user's Stale cell
starts with `stale:`, which no IAM user name can contain (`:` is not allowed in one), so typing
`stale:` in the filter lists exactly the users with stale access.
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from s3cred_tui.core.inventory import ReportUser
from s3cred_tui.core.stale import (
    StaleFlag,
    StaleThresholds,
    activity_from_report,
    review_user,
    stale_word,
)
from s3cred_tui.ui import formatting

STALE_FILTER = "stale:"
STALE_COLUMNS = (("oldest_key", "Oldest key"), ("last_used", "Last used"), ("stale", "Stale"))
_FLAGGED = "bold yellow"


def pending_cells(pending: Text) -> list[Text]:
    return [pending for _ in STALE_COLUMNS]


def stale_cells(
    report_user: ReportUser, created: datetime | None, now: datetime, thresholds: StaleThresholds
) -> dict[str, Text | str]:
    """The three cells of one user: the oldest key's age, the latest use (service), the flags."""
    review = review_user(activity_from_report(report_user, created), now, thresholds)
    flags = set(review.flags)
    oldest = "—" if review.oldest_key_days is None else formatting.count(review.oldest_key_days, "day")
    used = formatting.last_used(review.last_used, review.last_used_service, now) if report_user.keys else "—"
    word = stale_word(review)
    return {
        "oldest_key": Text(oldest, style=_FLAGGED) if StaleFlag.OLD_KEY in flags else oldest,
        "last_used": Text(used, style=_FLAGGED) if flags & {StaleFlag.UNUSED_KEY, StaleFlag.NO_ACTIVITY} else used,
        "stale": Text(f"{STALE_FILTER} {word}", style=_FLAGGED) if word else "",
    }
