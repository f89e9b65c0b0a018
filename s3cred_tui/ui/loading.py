"""How the account screen's two lists load: what is asked of AWS, when, and for which rows.

No Textual here: the screen owns the threads (workers) and turns the callbacks below into
messages; this module decides the scheduling, and is tested with fakes
(tests/ui/test_loading.py).

Every column comes from a few calls for the whole account, all started at once:

- `list_buckets`: buckets in pages, each with its region where ListBuckets gives it
  (`BucketRegion`, AWS's paged answer);
- `list_users`: users in pages of 1,000 (6 round trips for 5,000 users, not 51);
- `read_policy_counts`: every user's policy and group counts, a page of 1,000 users per
  `get_account_authorization_details` call (100 first, as the listing), alongside the user listing;
- `read_key_report`: every user's keys from the IAM credential report (1-3 calls).

Per-row lookups are the fallback, and only for rows on screen (`rows_to_look_up`, asked by
the screen whenever what is visible or known changes; `look_up_buckets`/`look_up_users` run
them): a bucket listed without a region; a user whose policies the one-pass read could not
give (refused, or ended without that user) or whose keys the report could not give (refused,
the user is newer than the report, or the report is still being generated one round trip
after the first page of users arrived, or a report AWS already has has not come
`REPORT_DOWNLOAD_SECONDS` after it was asked for). Rows nobody scrolls to are never looked up
one by one.

`HeadStart`: the app asks for the first page of both listings as it starts (`App.on_load`),
on threads of its own, so those round trips overlap Textual's start-up; the screen's first
load continues those listings instead of starting its own.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import Protocol, TypeVar

from s3cred_tui.core import inventory
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import (
    BucketSummary,
    CredentialReport,
    PolicyCounts,
    ReportUser,
    UserCounts,
    UserSummary,
)
from s3cred_tui.core.session import AwsContext
from s3cred_tui.ui.pacing import let_the_loop_run

# Rows are handed over in chunks this size, so a page of 1,000 reaches the table in a few
# messages rather than one long block of the event loop.
ROWS_PER_MESSAGE = 250
# Whole-account answers (a report of 5,000 users) reach the table in messages this size.
CELLS_PER_MESSAGE = 1000
# Threads per per-row lookup. Every busy thread queues for the GIL ahead of the event loop
# (a 5 ms slice each); a screenful of rows needs no more.
LOOKUP_THREADS = 4
# At most this many rows are handed to one per-row lookup.
LOOKUP_BATCH = 50
# How long a credential report AWS already has may take to arrive before the rows on screen
# have their keys listed one by one (a call each): its download, a few MB for a large account.
REPORT_DOWNLOAD_SECONDS = 2.0

Row = TypeVar("Row")
IsCancelled = Callable[[], bool]
Regions = dict[str, str | S3CredError]
Counts = dict[str, UserCounts | S3CredError]


class AccountSource(Protocol):
    """What a load reads: the account itself (`InventorySource`) or a fake in tests."""

    def bucket_pages(self) -> Iterable[list[BucketSummary]]: ...

    def user_pages(self) -> Iterable[list[UserSummary]]: ...

    def policy_count_pages(self) -> Iterable[Mapping[str, PolicyCounts]]:
        """Every user's policy and group counts, page by page; raises `S3CredError` when refused."""
        ...

    def key_report(self, is_cancelled: IsCancelled, on_generating: Callable[[], None]) -> CredentialReport:
        """The credential report; raises `S3CredError` when refused or still being generated.
        Calls `on_generating()` when there is none yet, or it is being generated."""
        ...

    def bucket_regions(self, names: list[str]) -> Regions: ...

    def user_counts(
        self, names: list[str], policy_counts: Mapping[str, PolicyCounts], key_counts: Mapping[str, int]
    ) -> Counts: ...


class InventorySource:
    """The account, through `core.inventory`.

    The functions are looked up on the module at each call, so tests that stand in for one
    (`monkeypatch.setattr(inventory, "iter_user_pages", …)`) reach the running screen too.
    """

    def __init__(self, aws: AwsContext, head_start: HeadStart | None = None) -> None:
        self.aws = aws
        # Listings already started (once, for the first load of the app); taken when first asked for.
        self._head_start = head_start if head_start is not None and head_start.aws is aws else None

    def bucket_pages(self) -> Iterable[list[BucketSummary]]:
        started = self._head_start.take("buckets") if self._head_start else None
        return started if started is not None else inventory.iter_bucket_pages(self.aws)

    def user_pages(self) -> Iterable[list[UserSummary]]:
        started = self._head_start.take("users") if self._head_start else None
        if started is not None:
            return started
        return user_listing(self.aws)

    def policy_count_pages(self) -> Iterable[Mapping[str, PolicyCounts]]:
        # The first page as small as the users' first: the first screenful's counts come as soon as its rows.
        return inventory.iter_user_policy_counts(
            self.aws, page_size=inventory.IAM_MAX_PAGE, first_page_size=inventory.FIRST_USER_PAGE
        )

    def key_report(self, is_cancelled: IsCancelled, on_generating: Callable[[], None]) -> CredentialReport:
        return inventory.credential_report(
            self.aws, is_cancelled=is_cancelled, on_generating=on_generating, pace=let_the_loop_run
        )

    def bucket_regions(self, names: list[str]) -> Regions:
        return inventory.bucket_regions(self.aws, names, max_workers=LOOKUP_THREADS)

    def user_counts(
        self, names: list[str], policy_counts: Mapping[str, PolicyCounts], key_counts: Mapping[str, int]
    ) -> Counts:
        known = {}
        if policy_counts:
            known["policy_counts"] = dict(policy_counts)
        if key_counts:
            known["key_counts"] = dict(key_counts)
        return inventory.user_counts(self.aws, names, max_workers=LOOKUP_THREADS, **known)


def user_listing(aws: AwsContext) -> Iterable[list[UserSummary]]:
    return inventory.iter_user_pages(aws, page_size=inventory.IAM_MAX_PAGE, first_page_size=inventory.FIRST_USER_PAGE)


class StartedPages(Iterator[list[Row]]):
    """The pages of a listing asked for before the load took it (`HeadStart`): when it was asked
    and when its first page came (`time.monotonic`), so the load knows that round trip."""

    def __init__(self, listing: _StartedListing) -> None:
        self.asked_at = listing.asked_at
        self._listing = listing
        self._pages: Iterator[list[Row]] | None = None

    @property
    def first_arrived_at(self) -> float | None:
        return self._listing.first_arrived_at

    def __next__(self) -> list[Row]:
        if self._pages is None:
            self._pages = self._listing.pages()
        return next(self._pages)


class _StartedListing:
    """A listing whose first page is asked for now, on a thread of its own.

    Only the first page: reading on (pages of 1,000 parsed on that thread) while the app composes
    its first screen made the first screen, and so the first rows, later at 0 ms (measured:
    0.77-0.80 s first page with one page read ahead, 0.79-0.98 s reading every page)."""

    def __init__(self, what: str, pages: Callable[[], Iterable[list[Row]]]) -> None:
        self._ready = threading.Event()
        self._pages: Iterator[list[Row]] | None = None
        self._first: list[Row] | None = None
        self._error: Exception | None = None
        self.asked_at = time.monotonic()
        self.first_arrived_at: float | None = None
        threading.Thread(target=self._start, args=(pages,), name=f"head start: {what}", daemon=True).start()

    def _start(self, pages: Callable[[], Iterable[list[Row]]]) -> None:
        try:
            self._pages = iter(pages())
            self._first = next(self._pages, None)
        except Exception as exc:  # raised again on the thread that takes the pages
            self._error = exc
        finally:
            self.first_arrived_at = time.monotonic()
            self._ready.set()

    def pages(self) -> Iterator[list[Row]]:
        """The first page once it has come (or its error), then the rest of the same listing."""
        self._ready.wait()
        if self._error is not None:
            raise self._error
        if self._first is None or self._pages is None:
            return
        yield self._first
        yield from self._pages


class HeadStart:
    """The first pages of the buckets and the users, asked for as soon as the app starts.

    Each listing is taken once (`take`), by the first load; a refresh lists afresh.
    """

    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self._lock = threading.Lock()
        self._listings: dict[str, _StartedListing] = {
            "buckets": _StartedListing("buckets", lambda: inventory.iter_bucket_pages(aws)),
            "users": _StartedListing("users", lambda: user_listing(aws)),
        }

    def take(self, what: str) -> StartedPages | None:
        with self._lock:
            started = self._listings.pop(what, None)
        return StartedPages(started) if started is not None else None


def batches(items: list[Row], size: int, first_size: int | None = None) -> Iterator[list[Row]]:
    """`items` in lists of `size` (the first of `first_size`, when given)."""
    iterator = iter(items)
    take = first_size or size
    while batch := list(islice(iterator, take)):
        yield batch
        take = size


class _Source:
    """One whole-account read (policy counts or the key report): running, then ended."""

    def __init__(self) -> None:
        self.ended = False
        self.failed = False


class AccountLoad:
    """One load (or reload) of the account's buckets and users; a refresh starts a new one.

    The listing and whole-account methods each run on a thread of their own and return when
    their work is done, it failed, or `is_cancelled()` says stop. Callbacks are called on
    that thread; they must only hand data over (post a message). `rows_to_look_up` is
    called on the event loop; the lookups it hands out run on threads too. One lock keeps
    what is known consistent between them.
    """

    def __init__(self, source: AccountSource, clock: Callable[[], float] = time.monotonic) -> None:
        self.source = source
        self._clock = clock
        self._lock = threading.Lock()
        # Buckets listed without a region, and every user listed (with its creation date).
        self._regionless: dict[str, None] = {}
        self._users: dict[str, datetime | None] = {}
        # What the whole-account reads gave, by user name.
        self._policies: dict[str, PolicyCounts] = {}
        self._keys: dict[str, int] = {}
        self._reported: dict[str, ReportUser] = {}
        self._policy_read = _Source()
        self._key_read = _Source()
        # When the report counts as late, so rows on screen are looked up one by one meanwhile:
        # one round trip (as long as the first page of users took) after that page arrived, and
        # not before two round trips (Generate, Get) after the report was asked for: the first
        # page can come before the report is asked for (a head start). A report AWS already has
        # is one download away (a few MB for a large account): it counts as late only
        # `REPORT_DOWNLOAD_SECONDS` after it was asked for; one being generated (AWS said so:
        # `_key_report_generating`) can take minutes.
        self._key_report_late_at: float | None = None
        self._round_trip: float | None = None
        self._key_report_asked_at: float | None = None
        self._key_report_generating = False
        # Names already handed to a per-row lookup ("buckets" or "users").
        self._handed_out: dict[str, set[str]] = {"buckets": set(), "users": set()}

    # -- the listings ------------------------------------------------------------------------

    def list_buckets(
        self, on_rows: Callable[[list[BucketSummary]], None], on_end: Callable[[], None], is_cancelled: IsCancelled
    ) -> None:
        """Page through the buckets; `on_end()` once the last page is handed over (not when stopped)."""

        def note(chunk: list[BucketSummary]) -> None:
            with self._lock:
                self._regionless.update(dict.fromkeys(b.name for b in chunk if not b.region))

        self._list(self.source.bucket_pages, note, on_rows, on_end, is_cancelled)

    def list_users(
        self, on_rows: Callable[[list[UserSummary]], None], on_end: Callable[[], None], is_cancelled: IsCancelled
    ) -> None:
        """Page through the users; `on_end()` once the last page is handed over (not when stopped)."""

        def note(chunk: list[UserSummary]) -> None:
            with self._lock:
                self._users.update((u.name, u.created) for u in chunk)

        pages = self.source.user_pages()
        # A head start was asked for before this load: its own times give the round trip.
        started = pages if isinstance(pages, StartedPages) else None
        asked = started.asked_at if started else self._clock()

        def note_first_page(page: list[UserSummary]) -> None:
            arrived = (started.first_arrived_at if started else None) or self._clock()
            with self._lock:
                if self._key_report_late_at is None:
                    self._round_trip = arrived - asked
                    self._key_report_late_at = arrived + self._round_trip

        self._list(lambda: pages, note, on_rows, on_end, is_cancelled, on_first_page=note_first_page)

    def _list(
        self,
        pages: Callable[[], Iterable[list[Row]]],
        note: Callable[[list[Row]], None],
        on_rows: Callable[[list[Row]], None],
        on_end: Callable[[], None],
        is_cancelled: IsCancelled,
        on_first_page: Callable[[list[Row]], None] | None = None,
    ) -> None:
        first = True
        for page in pages():
            if first and on_first_page is not None:
                on_first_page(page)
            first = False
            for chunk in batches(page, ROWS_PER_MESSAGE):
                if is_cancelled():
                    return
                note(chunk)
                on_rows(chunk)
        on_end()

    # -- whole-account reads ---------------------------------------------------------------

    def read_policy_counts(self, on_policies: Callable[[dict[str, PolicyCounts]], None], is_cancelled: IsCancelled) -> None:
        """Every user's policy and group counts, page by page. A refusal is not an error here:
        rows on screen are then counted one by one."""
        try:
            for page in self.source.policy_count_pages():
                if is_cancelled():
                    return
                with self._lock:
                    self._policies.update(page)
                for chunk in batches(list(page.items()), CELLS_PER_MESSAGE):
                    on_policies(dict(chunk))
        except S3CredError:
            self._policy_read.failed = True
        finally:
            self._policy_read.ended = True

    def read_key_report(self, on_keys: Callable[[dict[str, ReportUser]], None], is_cancelled: IsCancelled) -> None:
        """Every user's keys from the credential report. Refused or too slow is not an error
        here: rows on screen then have their keys listed one by one."""
        with self._lock:
            self._key_report_asked_at = self._clock()

        def generating() -> None:
            self._key_report_generating = True

        try:
            report = self.source.key_report(is_cancelled, generating)
            if is_cancelled():
                return
            with self._lock:
                self._keys.update({name: user.access_keys for name, user in report.users.items()})
                self._reported.update(report.users)
                listed = [name for name in self._users if name in report.users]
            # Users listed so far first, in listing order (the rows on screen were listed first), and
            # a screenful of them in a message of their own: the report's own order is not the list's.
            first = set(listed)
            users = [report.users[name] for name in listed]
            users += [user for name, user in report.users.items() if name not in first]
            for chunk in batches(users, CELLS_PER_MESSAGE, first_size=inventory.FIRST_USER_PAGE):
                on_keys({user.name: user for user in chunk})
        except S3CredError:
            self._key_read.failed = True
        finally:
            self._key_read.ended = True

    # -- joining the listing and the report (for cells that need both) ------------------------

    @property
    def users_in_report(self) -> int:
        with self._lock:
            return len(self._reported)

    def reported_of(self, names: Iterable[str]) -> dict[str, tuple[ReportUser, datetime | None]]:
        """Of `names` (just listed), those the credential report gave: (report row, creation date)."""
        with self._lock:
            return {name: (self._reported[name], self._users.get(name)) for name in names if name in self._reported}

    def listed_of(self, names: Iterable[str]) -> dict[str, tuple[ReportUser, datetime | None]]:
        """Of `names` (just read from the report), those listed already: (report row, creation date).

        A user is listed, then asks `reported_of`; the report is stored, then asks `listed_of`
        (each under the lock): whichever comes second sees the other, so every user both gave
        is answered at least once, and never before its creation date is known.
        """
        with self._lock:
            return {name: (self._reported[name], self._users[name]) for name in names if name in self._users and name in self._reported}

    # -- per-row lookups, for rows on screen --------------------------------------------------

    def rows_to_look_up(self, table: str, visible: Iterable[str]) -> list[str]:
        """Rows on screen (`visible`, of "buckets" or "users") that only a per-row lookup can
        fill now, at most `LOOKUP_BATCH`; they are handed out once (marked as asked for)."""
        wanted = self._bucket_wanted if table == "buckets" else self._user_wanted
        handed = self._handed_out[table]
        with self._lock:
            names = [name for name in dict.fromkeys(visible) if name not in handed and wanted(name)][:LOOKUP_BATCH]
            handed.update(names)
        return names

    def _bucket_wanted(self, name: str) -> bool:
        return name in self._regionless

    def _user_wanted(self, name: str) -> bool:
        if name not in self._users:
            return False
        policies = "known" if name in self._policies else ("given up" if self._policy_read.ended else "coming")
        keys = "known" if name in self._keys else ("given up" if self._key_report_given_up() else "coming")
        # Wait for what is still coming; a lookup fetches only what was given up.
        return "coming" not in (policies, keys) and "given up" in (policies, keys)

    def _key_report_given_up(self) -> bool:
        if self._key_read.ended:
            return True
        late_at, round_trip, asked_at = self._key_report_late_at, self._round_trip, self._key_report_asked_at
        if late_at is None:
            return False
        if asked_at is not None and round_trip is not None:
            late_at = max(late_at, asked_at + 2 * round_trip)
            if not self._key_report_generating:
                late_at = max(late_at, asked_at + REPORT_DOWNLOAD_SECONDS)
        return self._clock() >= late_at

    def look_up_buckets(self, names: list[str], on_regions: Callable[[Regions], None]) -> None:
        on_regions(self.source.bucket_regions(names))

    def look_up_users(self, names: list[str], on_counts: Callable[[Counts], None]) -> None:
        with self._lock:
            policies = {name: self._policies[name] for name in names if name in self._policies}
            keys = {name: self._keys[name] for name in names if name in self._keys}
        on_counts(self.source.user_counts(names, policy_counts=policies, key_counts=keys))
