"""Stale-access rules over keys and sign-ins of known ages (pure: no AWS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from s3cred_tui.core.inventory import ReportKey, ReportUser
from s3cred_tui.core.stale import (
    KeyActivity,
    StaleFlag,
    StaleThresholds,
    UserActivity,
    activity_from_keys,
    activity_from_report,
    review_key,
    review_user,
    stale_word,
    thresholds_from,
)

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


def days_ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def key(age: int, used: int | None = None, active: bool = True, key_id: str = "AKIAEXAMPLE") -> KeyActivity:
    return KeyActivity(key_id, active, days_ago(age), days_ago(used) if used is not None else None, "s3" if used is not None else None)


def test_a_young_key_in_use_is_not_stale():
    assert review_key(key(10, used=1), NOW).flags == ()


def test_a_key_older_than_the_threshold_is_flagged_old_with_its_age():
    review = review_key(key(91, used=1), NOW)
    assert review.flags == (StaleFlag.OLD_KEY,)
    assert "91 days old" in review.reasons[0]


def test_exactly_the_threshold_is_not_yet_old():
    assert review_key(key(90, used=1), NOW).flags == ()


def test_a_key_unused_for_longer_than_the_threshold_is_flagged_unused():
    assert review_key(key(30, used=0), NOW).flags == ()
    review = review_key(key(60, used=95), NOW, StaleThresholds(key_age_days=365, unused_days=90))
    assert review.flags == (StaleFlag.UNUSED_KEY,)
    assert "95 days ago" in review.reasons[0]


def test_a_never_used_key_is_unused_only_once_it_is_older_than_the_threshold():
    assert review_key(key(5), NOW).flags == ()
    assert review_key(key(120), NOW).flags == (StaleFlag.OLD_KEY, StaleFlag.UNUSED_KEY)


def test_inactive_keys_are_never_flagged():
    assert review_key(key(2000, active=False), NOW).flags == ()


def test_thresholds_are_respected():
    strict = StaleThresholds(key_age_days=30, unused_days=7)
    assert review_key(key(31, used=8), NOW, strict).flags == (StaleFlag.OLD_KEY, StaleFlag.UNUSED_KEY)


def test_a_six_year_old_key_is_flagged_on_its_user():
    activity = UserActivity("old-bot", (key(6 * 365, used=400),), created=days_ago(6 * 365))
    review = review_user(activity, NOW)
    assert set(review.flags) == {StaleFlag.OLD_KEY, StaleFlag.UNUSED_KEY, StaleFlag.NO_ACTIVITY}
    assert review.stale
    assert review.oldest_key_days == 6 * 365
    assert review.active_keys == 1
    assert stale_word(review) == "old key, unused key, no activity"


def test_user_summary_columns_oldest_key_last_use_and_active_count():
    activity = UserActivity(
        "app", (key(200, used=3, key_id="AKIAOLD"), key(10, used=1, active=False, key_id="AKIANEW")), created=days_ago(300)
    )
    review = review_user(activity, NOW)
    assert review.oldest_key_days == 200
    assert review.last_used == days_ago(1)  # the latest use of any key, inactive ones included
    assert review.last_used_service == "s3"
    assert review.active_keys == 1
    assert review.flags == (StaleFlag.OLD_KEY,)


def test_no_activity_needs_an_old_enough_user():
    assert StaleFlag.NO_ACTIVITY not in review_user(UserActivity("new", (), created=days_ago(10)), NOW).flags
    assert StaleFlag.NO_ACTIVITY in review_user(UserActivity("idle", (), created=days_ago(100)), NOW).flags
    assert StaleFlag.NO_ACTIVITY not in review_user(UserActivity("unknown age", ()), NOW).flags


def test_a_recently_made_key_is_activity():
    activity = UserActivity("rotated", (key(5),), created=days_ago(400))
    assert review_user(activity, NOW).flags == ()


def test_recent_console_sign_in_is_activity():
    activity = UserActivity("person", (), created=days_ago(400), console_access=True, console_last_used=days_ago(2))
    assert review_user(activity, NOW).flags == ()


def test_unknown_console_use_never_reads_as_inactive():
    activity = UserActivity("person", (), created=days_ago(400), console_access=True, console_last_used_known=False)
    assert review_user(activity, NOW).flags == ()


def test_console_user_with_an_active_key_is_flagged():
    activity = UserActivity("alice", (key(5, used=1),), created=days_ago(10), console_access=True, console_last_used=days_ago(1))
    review = review_user(activity, NOW)
    assert review.flags == (StaleFlag.CONSOLE_WITH_KEYS,)
    assert "console" in review.reasons[0]
    inactive_only = UserActivity("bob", (key(5, active=False),), created=days_ago(10), console_access=True,
                                 console_last_used=days_ago(1))
    assert review_user(inactive_only, NOW).flags == ()


def test_activity_from_the_credential_report():
    report_user = ReportUser(
        name="ci",
        arn="arn:aws:iam::123456789012:user/ci",
        keys=(ReportKey(True, days_ago(100), days_ago(99), "s3", "us-east-1"),),
        password_enabled=True,
        mfa_active=False,
    )
    activity = activity_from_report(report_user, created=days_ago(500))
    assert activity.keys[0].created == days_ago(100) and activity.keys[0].id is None
    review = review_user(activity, NOW)
    # Console use is not in the parsed report: never concluded "no activity".
    assert set(review.flags) == {StaleFlag.OLD_KEY, StaleFlag.UNUSED_KEY, StaleFlag.CONSOLE_WITH_KEYS}
    assert "An access key is 100 days old" in review.reasons[0]


def test_activity_from_listed_keys():
    info = SimpleNamespace(id="AKIA1", status="Inactive", created=days_ago(1), last_used=None, last_used_service=None)
    activity = activity_from_keys("u", [info], created=days_ago(2))
    assert activity.keys == (KeyActivity("AKIA1", False, days_ago(1), None, None),)


def test_thresholds_from_settings_or_defaults():
    assert thresholds_from(None) == StaleThresholds(90, 90)
    assert thresholds_from(SimpleNamespace(stale_key_days=30, unused_key_days=45)) == StaleThresholds(30, 45)
    assert thresholds_from(SimpleNamespace()) == StaleThresholds(90, 90)
