"""The account screen's loading schedule (`ui.loading`), driven with a fake account: no AWS, no Textual.

Each `AccountLoad` method normally runs on its own worker thread; these tests call them one
after another on this thread (a valid interleaving), and control time with a fake clock, so
what they assert does not depend on timing.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import pytest

from s3cred_tui.core.errors import AccessDenied, S3CredError, Throttled
from s3cred_tui.core.inventory import (
    FIRST_USER_PAGE,
    BucketSummary,
    CredentialReport,
    PolicyCounts,
    ReportKey,
    ReportUser,
    UserCounts,
    UserSummary,
)
from s3cred_tui.ui.loading import (
    CELLS_PER_MESSAGE,
    LOOKUP_BATCH,
    REPORT_DOWNLOAD_SECONDS,
    ROWS_PER_MESSAGE,
    AccountLoad,
    InventorySource,
    StartedPages,
    _StartedListing,
)
from s3cred_tui.ui.pacing import ROWS_BETWEEN_YIELDS, YIELD_SECONDS, let_the_loop_run


def NEVER() -> bool:  # reads as a constant: the is_cancelled of a load nobody stops
    return False


def bucket(name: str, region: str | None = None) -> BucketSummary:
    return BucketSummary(name, None, region)


def user(name: str) -> UserSummary:
    return UserSummary(name, f"arn:aws:iam::123456789012:user/{name}", f"AID{name}", None, "/")


def report_user(name: str, keys: int) -> ReportUser:
    key = ReportKey(active=True, last_rotated=None, last_used=None, last_used_service=None, last_used_region=None)
    return ReportUser(name, f"arn:aws:iam::123456789012:user/{name}", (key,) * keys, False, False)


DENIED = AccessDenied("Access denied (iam:GetAccountAuthorizationDetails)", code="AccessDenied")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class FakeAccount:
    """Pages and answers from memory; records every per-row lookup it is asked for, in order.

    Each user page "takes" `page_seconds` on the clock, so the first page's round trip is known.
    """

    def __init__(
        self,
        bucket_pages: list[list[BucketSummary]] = (),
        user_pages: list[list[UserSummary]] = (),
        policy_pages: list[Mapping[str, PolicyCounts]] | Exception = (),
        report: dict[str, int] | Exception = (),
        clock: Clock | None = None,
        page_seconds: float = 0.1,
    ) -> None:
        self._bucket_pages = list(bucket_pages)
        self._user_pages = list(user_pages)
        self._policy_pages = policy_pages
        self._report = report
        self.clock = clock or Clock()
        self.page_seconds = page_seconds
        self.region_lookups: list[list[str]] = []
        self.count_lookups: list[tuple[list[str], dict[str, PolicyCounts], dict[str, int]]] = []

    def bucket_pages(self) -> Iterator[list[BucketSummary]]:
        yield from self._bucket_pages

    def user_pages(self) -> Iterator[list[UserSummary]]:
        for page in self._user_pages:
            self.clock.now += self.page_seconds
            yield page

    def policy_count_pages(self) -> Iterator[Mapping[str, PolicyCounts]]:
        if isinstance(self._policy_pages, Exception):
            raise self._policy_pages
        yield from self._policy_pages

    def key_report(self, is_cancelled, on_generating) -> CredentialReport:
        if isinstance(self._report, Exception):
            raise self._report
        return CredentialReport(None, {name: report_user(name, keys) for name, keys in dict(self._report).items()})

    def bucket_regions(self, names: list[str]) -> dict[str, str]:
        self.region_lookups.append(list(names))
        return {name: "eu-west-1" for name in names}

    def user_counts(self, names, policy_counts, key_counts) -> dict[str, UserCounts]:
        self.count_lookups.append((list(names), dict(policy_counts), dict(key_counts)))
        return {name: UserCounts(1, 0, 0, 0) for name in names}


def run_listings(load: AccountLoad) -> tuple[list[list[BucketSummary]], list[list[UserSummary]], list[str]]:
    bucket_rows: list[list[BucketSummary]] = []
    user_rows: list[list[UserSummary]] = []
    ended: list[str] = []
    load.list_buckets(bucket_rows.append, lambda: ended.append("buckets"), NEVER)
    load.list_users(user_rows.append, lambda: ended.append("users"), NEVER)
    return bucket_rows, user_rows, ended


def read_everything(load: AccountLoad) -> tuple[list[dict], list[dict]]:
    policies: list[dict] = []
    keys: list[dict] = []
    load.read_policy_counts(policies.append, NEVER)
    load.read_key_report(keys.append, NEVER)
    return policies, keys


def names(count: int, prefix: str = "user") -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(count)]


# -- listings ----------------------------------------------------------------------------------


def test_rows_are_handed_over_in_chunks_and_each_listing_says_when_it_ended():
    users = [user(n) for n in names(ROWS_PER_MESSAGE + 10)]
    load = AccountLoad(FakeAccount([[bucket("a"), bucket("b")]], [users]))
    bucket_rows, user_rows, ended = run_listings(load)
    assert [[b.name for b in chunk] for chunk in bucket_rows] == [["a", "b"]]
    assert [len(chunk) for chunk in user_rows] == [ROWS_PER_MESSAGE, 10], "one big page arrives in chunks"
    assert ended == ["buckets", "users"]


def test_a_stopped_listing_hands_nothing_more_over_and_does_not_say_it_ended():
    load = AccountLoad(FakeAccount([[bucket("a")], [bucket("b")]]))
    rows: list[list[BucketSummary]] = []
    ended: list[str] = []
    load.list_buckets(rows.append, lambda: ended.append("buckets"), lambda: len(rows) == 1)
    assert [[b.name for b in chunk] for chunk in rows] == [["a"]]
    assert ended == []


def test_a_failed_listing_raises_and_what_was_listed_can_still_be_looked_up():
    def failing_pages() -> Iterator[list[BucketSummary]]:
        yield [bucket("listed-before-the-failure")]
        raise Throttled("AWS is throttling requests (s3:ListBuckets); slow down and retry.")

    account = FakeAccount()
    account.bucket_pages = failing_pages  # type: ignore[method-assign]
    load = AccountLoad(account)
    ended: list[str] = []
    with pytest.raises(Throttled):
        load.list_buckets(lambda rows: None, lambda: ended.append("buckets"), NEVER)
    assert ended == []
    assert load.rows_to_look_up("buckets", ["listed-before-the-failure"]) == ["listed-before-the-failure"]


# -- buckets: regions come with the listing; only rows on screen are looked up -----------------


def test_buckets_listed_with_their_region_are_never_looked_up():
    account = FakeAccount([[bucket(n, "us-west-2") for n in names(5, "bucket")]])
    load = AccountLoad(account)
    run_listings(load)
    assert load.rows_to_look_up("buckets", names(5, "bucket")) == []


def test_only_buckets_on_screen_without_a_region_are_looked_up():
    listed = names(500, "bucket")
    account = FakeAccount([[bucket("known", "us-east-1"), *(bucket(n) for n in listed)]])
    load = AccountLoad(account)
    run_listings(load)
    on_screen = ["known", *listed[:30]]
    to_look_up = load.rows_to_look_up("buckets", on_screen)
    assert to_look_up == listed[:30]
    found: list[dict] = []
    load.look_up_buckets(to_look_up, found.append)
    assert account.region_lookups == [listed[:30]]
    assert found == [{name: "eu-west-1" for name in listed[:30]}]
    # Scrolled down: the next rows on screen, never the 440 nobody looked at.
    assert load.rows_to_look_up("buckets", listed[20:60]) == listed[30:60]
    assert load.rows_to_look_up("buckets", listed[20:60]) == [], "each row is handed out once"


def test_a_lookup_is_at_most_one_batch():
    listed = names(LOOKUP_BATCH + 10, "bucket")
    load = AccountLoad(FakeAccount([[bucket(n) for n in listed]]))
    run_listings(load)
    assert load.rows_to_look_up("buckets", listed) == listed[:LOOKUP_BATCH]
    assert load.rows_to_look_up("buckets", listed) == listed[LOOKUP_BATCH:]


# -- users: counts from two whole-account reads ---------------------------------------------------


def test_users_covered_by_both_whole_account_reads_are_never_looked_up_one_by_one():
    listed = names(2500)
    policy_pages = [{n: PolicyCounts(1, 0, 0) for n in listed[:1000]}, {n: PolicyCounts(0, 1, 1) for n in listed[1000:]}]
    account = FakeAccount(user_pages=[[user(n) for n in listed]], policy_pages=policy_pages, report={n: 1 for n in listed})
    load = AccountLoad(account)
    run_listings(load)
    policies, keys = read_everything(load)
    assert load.rows_to_look_up("users", listed[:40]) == []
    assert load.rows_to_look_up("users", listed[-40:]) == []
    assert account.count_lookups == []
    assert sum(len(p) for p in policies) == 2500 and all(len(p) <= CELLS_PER_MESSAGE for p in policies)
    assert sum(len(k) for k in keys) == 2500 and all(len(k) <= CELLS_PER_MESSAGE for k in keys)
    assert keys[0][listed[0]].access_keys == 1


def test_nothing_is_looked_up_while_the_whole_account_reads_are_still_coming():
    clock = Clock()
    listed = names(10)
    load = AccountLoad(FakeAccount(user_pages=[[user(n) for n in listed]], clock=clock), clock=clock)
    run_listings(load)
    assert load.rows_to_look_up("users", listed) == [], "neither read has answered, and the report is not late yet"


def test_when_the_policy_read_is_refused_rows_on_screen_are_counted_with_their_known_keys():
    listed = names(300)
    account = FakeAccount(user_pages=[[user(n) for n in listed]], policy_pages=DENIED, report={n: 2 for n in listed})
    load = AccountLoad(account)
    run_listings(load)
    policies, _ = read_everything(load)
    assert policies == []
    to_look_up = load.rows_to_look_up("users", listed[:40])
    assert to_look_up == listed[:40]
    counted: list[dict] = []
    load.look_up_users(to_look_up, counted.append)
    ((asked, known_policies, known_keys),) = account.count_lookups
    assert asked == listed[:40]
    assert known_policies == {}
    assert known_keys == {n: 2 for n in listed[:40]}, "keys came from the report: only policies are asked for"
    assert set(counted[0]) == set(listed[:40])


def test_when_the_report_is_refused_rows_on_screen_have_only_their_keys_listed():
    listed = names(300)
    policy_pages = [{n: PolicyCounts(1, 2, 3) for n in listed}]
    account = FakeAccount(user_pages=[[user(n) for n in listed]], policy_pages=policy_pages, report=DENIED)
    load = AccountLoad(account)
    run_listings(load)
    read_everything(load)
    load.look_up_users(load.rows_to_look_up("users", listed[100:140]), lambda counts: None)
    ((asked, known_policies, known_keys),) = account.count_lookups
    assert asked == listed[100:140]
    assert known_policies == {n: PolicyCounts(1, 2, 3) for n in listed[100:140]}
    assert known_keys == {}


def test_a_user_newer_than_the_report_is_looked_up_when_on_screen():
    listed = names(5)
    account = FakeAccount(
        user_pages=[[user(n) for n in listed]],
        policy_pages=[{n: PolicyCounts(0, 0, 0) for n in listed}],
        report={n: 1 for n in listed[:4]},
    )
    load = AccountLoad(account)
    run_listings(load)
    read_everything(load)
    assert load.rows_to_look_up("users", listed) == [listed[4]]


def test_a_late_report_lets_rows_on_screen_be_looked_up_one_round_trip_after_the_first_page():
    clock = Clock()
    listed = names(100)
    account = FakeAccount(
        user_pages=[[user(n) for n in listed]],
        policy_pages=[{n: PolicyCounts(0, 0, 0) for n in listed}],
        clock=clock,
        page_seconds=0.3,  # the first page took 0.3 s to arrive
    )
    load = AccountLoad(account, clock=clock)
    run_listings(load)
    load.read_policy_counts(lambda page: None, NEVER)  # the report is still being generated
    clock.now += 0.29
    assert load.rows_to_look_up("users", listed[:40]) == [], "within a round trip: the report may still come"
    clock.now += 0.02
    assert load.rows_to_look_up("users", listed[:40]) == listed[:40]


def test_a_policy_read_still_paging_is_waited_for():
    listed = names(10)
    account = FakeAccount(user_pages=[[user(n) for n in listed]], report=DENIED)
    load = AccountLoad(account)
    run_listings(load)
    load.read_key_report(lambda keys: None, NEVER)
    assert load.rows_to_look_up("users", listed) == [], "policies are still coming: counting them one by one would be wasted"


def test_rows_not_listed_are_not_looked_up():
    load = AccountLoad(FakeAccount(user_pages=[[user("alice")]], policy_pages=DENIED, report=DENIED))
    run_listings(load)
    read_everything(load)
    assert load.rows_to_look_up("users", ["alice", "someone-else"]) == ["alice"]


# -- cancellation ------------------------------------------------------------------------------


def test_cancelled_whole_account_reads_hand_nothing_over():
    listed = names(3)
    account = FakeAccount(
        user_pages=[[user(n) for n in listed]],
        policy_pages=[{n: PolicyCounts(0, 0, 0) for n in listed}],
        report={n: 1 for n in listed},
    )
    load = AccountLoad(account)
    handed: list[dict] = []
    load.read_policy_counts(handed.append, lambda: True)
    load.read_key_report(handed.append, lambda: True)
    assert handed == []


def test_a_refused_read_is_not_raised():
    load = AccountLoad(FakeAccount(policy_pages=DENIED, report=S3CredError("still generating", code="ReportInProgress")))
    read_everything(load)  # no exception: the screen falls back to per-row lookups


def test_the_loading_module_never_imports_textual():
    code = (
        "import sys, s3cred_tui.ui.loading\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def wait_for(condition, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("timed out")


class HeadStartAccount(FakeAccount):
    """Users listed by a head start: asked for, and the first page come, before the load took them."""

    def __init__(self, asked_at: float, arrived_at: float, **kwargs) -> None:
        super().__init__(**kwargs)
        pages = list(self._user_pages)
        listing = _StartedListing("users", lambda: iter(pages))
        wait_for(lambda: listing.first_arrived_at is not None)  # its thread has the first page
        listing.asked_at, listing.first_arrived_at = asked_at, arrived_at
        self.started = StartedPages(listing)

    def user_pages(self) -> StartedPages:
        return self.started


@contextmanager
def report_pending(generating: bool):
    """A load whose users a head start listed (asked at 100.0, first page at 100.2: a 0.2 s round
    trip) and whose credential report, asked for at 100.7, has not come: AWS says it is being
    generated (`generating`) or is sending one it has. Yields (load, clock, listed)."""
    clock = Clock()
    listed = names(100)
    account = HeadStartAccount(
        asked_at=100.0, arrived_at=100.2, user_pages=[[user(n) for n in listed]],
        policy_pages=[{n: PolicyCounts(0, 0, 0) for n in listed}], clock=clock,
    )  # fmt: skip
    clock.now = 100.7
    load = AccountLoad(account, clock=clock)
    _, user_rows, _ = run_listings(load)
    assert [len(rows) for rows in user_rows] == [100]
    load.read_policy_counts(lambda page: None, NEVER)
    asked, answer = [], threading.Event()

    def pending_report(is_cancelled, on_generating):
        asked.append(clock.now)
        if generating:
            on_generating()
        answer.wait(10)
        raise S3CredError("no report after all")

    account.key_report = pending_report
    reading = threading.Thread(target=load.read_key_report, args=(lambda keys: None, NEVER))
    reading.start()
    try:
        wait_for(lambda: asked)
        assert asked == [100.7]
        yield load, clock, listed
    finally:
        answer.set()
        reading.join()


def test_a_report_being_generated_lets_rows_on_screen_be_looked_up_two_round_trips_after_it_was_asked_for():
    with report_pending(generating=True) as (load, clock, listed):
        clock.now = 101.09
        assert load.rows_to_look_up("users", listed[:40]) == [], "within two round trips of asking: the report may still come"
        clock.now = 101.11
        assert load.rows_to_look_up("users", listed[:40]) == listed[:40]


def test_a_report_aws_already_has_is_waited_for_while_it_downloads_then_rows_on_screen_are_looked_up():
    with report_pending(generating=False) as (load, clock, listed):
        clock.now = 100.7 + 1.0
        assert load.rows_to_look_up("users", listed[:40]) == [], "a report on its way: one call each would be wasted"
        clock.now = 100.7 + REPORT_DOWNLOAD_SECONDS + 0.01
        assert load.rows_to_look_up("users", listed[:40]) == listed[:40]


def test_a_worker_going_through_rows_sleeps_briefly_every_so_many_rows(monkeypatch):
    # A sleep of 0 hands the GIL straight back as often as not; a real sleep lets the loop take it.
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    for index in range(3 * ROWS_BETWEEN_YIELDS + 1):
        let_the_loop_run(index)
    assert slept == [YIELD_SECONDS] * 3 and YIELD_SECONDS > 0


def test_the_credential_report_is_read_paced(monkeypatch):
    import s3cred_tui.core.inventory as inventory

    seen: dict = {}
    monkeypatch.setattr(inventory, "credential_report", lambda aws, **kwargs: seen.update(kwargs))
    InventorySource(aws=None).key_report(NEVER, lambda: None)  # type: ignore[arg-type]
    assert seen["pace"] is let_the_loop_run


def test_the_report_hands_over_the_users_listed_first_a_screenful_before_the_rest():
    # The report comes in its own order (here: the reverse of the list's): the rows on screen,
    # the first listed, must not wait behind thousands of others.
    listed = names(150)
    account = FakeAccount(user_pages=[[user(n) for n in listed]], report={n: 1 for n in reversed(names(3000))})
    load = AccountLoad(account, clock=account.clock)
    run_listings(load)
    handed: list[list[str]] = []
    load.read_key_report(lambda keys: handed.append(list(keys)), NEVER)
    assert handed[0] == listed[:FIRST_USER_PAGE]
    assert handed[1][: 150 - FIRST_USER_PAGE] == listed[FIRST_USER_PAGE:]
    assert [len(chunk) for chunk in handed[1:]] == [CELLS_PER_MESSAGE, CELLS_PER_MESSAGE, 3000 - FIRST_USER_PAGE - 2 * CELLS_PER_MESSAGE]
    assert sorted(name for chunk in handed for name in chunk) == names(3000)
