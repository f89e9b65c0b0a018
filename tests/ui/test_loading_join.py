"""Cells that need both the listing (a user's creation date) and the credential report (its
keys) are made on whichever worker thread comes second, never on the event loop, and never
before the creation date is known (`AccountLoad.reported_of` / `listed_of`)."""

from __future__ import annotations

from datetime import datetime, timezone

from s3cred_tui.core.inventory import UserSummary
from s3cred_tui.ui.loading import AccountLoad
from tests.ui.test_loading import NEVER, FakeAccount

CREATED = datetime(2024, 5, 1, tzinfo=timezone.utc)


def user(name: str) -> UserSummary:
    return UserSummary(name, f"arn:aws:iam::123456789012:user/{name}", f"AID{name}", CREATED, "/")


def test_the_report_after_the_listing_answers_the_listed_users_with_their_creation_dates():
    load = AccountLoad(FakeAccount(user_pages=[[user("ann"), user("bob")]], report={"ann": 1, "bob": 0, "gone": 2}))
    answered_by_listing: list[dict] = []
    load.list_users(lambda rows: answered_by_listing.append(load.reported_of([u.name for u in rows])), lambda: None, NEVER)
    answered_by_report: list[dict] = []
    load.read_key_report(lambda users: answered_by_report.append(load.listed_of(list(users))), NEVER)

    assert answered_by_listing == [{}], "the report had not come: nothing to make yet"
    (joined,) = answered_by_report
    assert {name: (report.access_keys, created) for name, (report, created) in joined.items()} == {
        "ann": (1, CREATED),
        "bob": (0, CREATED),
    }, "a user the report holds but the listing does not ('gone') waits for its row"
    assert load.users_in_report == 3


def test_the_listing_after_the_report_answers_the_users_the_report_holds():
    load = AccountLoad(FakeAccount(user_pages=[[user("ann"), user("new")]], report={"ann": 2}))
    answered_by_report: list[dict] = []
    load.read_key_report(lambda users: answered_by_report.append(load.listed_of(list(users))), NEVER)
    answered_by_listing: list[dict] = []
    load.list_users(lambda rows: answered_by_listing.append(load.reported_of([u.name for u in rows])), lambda: None, NEVER)

    assert answered_by_report == [{}], "nobody listed yet: no cell made without a creation date"
    (joined,) = answered_by_listing
    assert {name: (report.access_keys, created) for name, (report, created) in joined.items()} == {"ann": (2, CREATED)}
