"""Runs the app headless against the benchmark server and measures it from the inside.

`python -m bench.driver --out FILE --buckets N --users M` (endpoint and key in the usual
AWS_* environment variables; BENCH_T0 is the parent's `time.time()` just before it
started this process, so every time here counts interpreter start-up and imports too).

What it records, as JSON in FILE:
- when the first rows of the bucket and of the user list are in their tables, when both
  listings are complete (every row present, loading finished), when the first screenful
  of each list has every cell filled in, and when every cell of both lists is;
- the lateness of a 10 ms timer on the app's event loop (a stall is how late it fired),
  from the first screen composed on (composing it is start-up, reported apart);
- peak RSS of this process (`ru_maxrss`), with everything loaded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

# The shortest window judged for stalls, from the first screen on (seconds).
MIN_STALL_WINDOW_S = 0.5
TICK_SECONDS = 0.010
POLL_SECONDS = 0.020
# Rows the every-cell scan looks at per poll (~1 ms).
SCAN_ROWS_PER_POLL = 500
# A screenful is at least this many rows (the 48-line terminal shows ~40 per list).
SCREENFUL_ROWS = 30


# The parent's clock reading just before it started this process; run by hand, import time.
_T0 = float(os.environ.get("BENCH_T0") or time.time())
# The wall clock is read once, to join the parent's; later marks use the monotonic clock,
# so a clock adjustment during a run cannot reorder them.
_STARTED_AT = time.time() - _T0
_MONOTONIC_ANCHOR = time.monotonic()


def since_start() -> float:
    return _STARTED_AT + (time.monotonic() - _MONOTONIC_ANCHOR)


@dataclass
class StallMeter:
    """A call_later chain: each tick asks for the next one TICK_SECONDS later and records
    how late it actually ran. Anything that holds the loop (a long handler, a big
    refresh) shows up as lateness."""

    loop: asyncio.AbstractEventLoop
    samples: list[tuple[float, float]] = field(default_factory=list)  # (time since start, lateness)
    _due: float = 0.0
    _running: bool = False

    def start(self) -> None:
        self._running = True
        self._schedule()

    def stop(self) -> None:
        self._running = False

    def _schedule(self) -> None:
        self._due = self.loop.time() + TICK_SECONDS
        self.loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        if not self._running:
            return
        self.samples.append((since_start(), max(0.0, self.loop.time() - self._due)))
        self._schedule()

    def worst(self, count: int) -> list[dict[str, float]]:
        """The longest stalls and when they ended (seconds since process start)."""
        ranked = sorted(self.samples, key=lambda sample: sample[1], reverse=True)[:count]
        return [{"at_s": round(at, 3), "ms": round(late * 1000, 1)} for at, late in ranked]

    def summary(self, start: float, end: float | None) -> dict[str, Any]:
        """The ticks due within [start, end] (a tick is due `late` before it ran): every tick
        waiting during the window, even one that ran after it; a stall that began before the
        window (start-up) is not counted in it, unless the window lies wholly inside it."""
        window = [
            late
            for at, late in self.samples
            if at - late >= start - TICK_SECONDS and (end is None or at - late <= end)
        ]
        if not window:
            # The whole window fell inside one stall: that stall is the window's.
            window = [late for at, late in self.samples if at >= start][:1]
        if not window:
            return {"samples": 0, "max_ms": None, "median_ms": None, "p99_ms": None}
        ordered = sorted(window)
        return {
            "samples": len(window),
            "max_ms": round(ordered[-1] * 1000, 1),
            "median_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        }


def _is_pending(cell: Any) -> bool:
    from rich.text import Text

    return isinstance(cell, Text) and cell.plain == "…"


def pending_cells(table: Any) -> int:
    """Cells still showing the placeholder (a region or a count not looked up yet)."""
    return sum(1 for key in table.keys for cell in (table.row(key) or ()) if _is_pending(cell))


def rows_filled(table: Any, keys: list[str]) -> bool:
    return all(not any(_is_pending(cell) for cell in (table.row(key) or ())) for key in keys)


class FilledScan:
    """Whether every row of a table has every cell filled, scanned a little at a time.

    Cells only ever go from pending to filled while the app loads (no refresh here), so the
    scan resumes at the first row found pending: the whole run costs one pass over the
    rows, not one per poll, and never holds the loop it is measuring for long.
    """

    def __init__(self, table: Any) -> None:
        self.table = table
        self.position = 0

    def done(self, expected: int) -> bool:
        keys = self.table.keys
        # A bounded step per poll: scanning thousands of rows at once would be a stall of its own.
        stop = min(len(keys), self.position + SCAN_ROWS_PER_POLL)
        while self.position < stop:
            if not rows_filled(self.table, [keys[self.position]]):
                return False
            self.position += 1
        return self.position >= max(expected, len(keys))


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from s3cred_tui.core.session import SessionConfig
    from s3cred_tui.ui.launch import prepared_app

    loop = asyncio.get_running_loop()
    meter = StallMeter(loop)
    meter.start()
    config = SessionConfig(
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    # As `s3cred-tui` starts it (`launch.run_app`): the first pages are asked for before the app's imports.
    app = prepared_app(config, read_only=True)
    marks: dict[str, float | None] = {
        "imports_done": since_start(),
        "first_buckets": None,
        "first_users": None,
        "buckets_complete": None,
        "users_complete": None,
        "first_screen_filled": None,
        "details_complete": None,
    }
    result: dict[str, Any] = {"marks": marks, "timed_out": False}
    deadline = time.monotonic() + args.timeout

    def note_rows(message: Any) -> None:
        # The first rows handed to the screen: from here on the app is loading, not starting up.
        if marks.get("first_rows_message") is None and type(message).__name__ in ("BucketsPage", "UsersPage"):
            marks["first_rows_message"] = since_start()

    async with app.run_test(headless=True, size=(160, 48), message_hook=note_rows):
        marks["app_running"] = since_start()
        screen = None
        scans: dict[str, FilledScan] = {}
        while time.monotonic() < deadline:
            screen = screen or app.account_screen()
            if screen is not None and screen.is_mounted:
                tables = {"buckets": screen.buckets, "users": screen.users}
                expected = {"buckets": args.buckets, "users": args.users}
                scans = scans or {what: FilledScan(table) for what, table in tables.items()}
                if marks["first_screen_filled"] is None:
                    # The rows each list shows first (the users' tab counts a screenful too).
                    screenful = {what: table.visible_keys() for what, table in tables.items()}
                    if all(
                        len(keys) >= min(expected[what], SCREENFUL_ROWS) and rows_filled(tables[what], keys)
                        for what, keys in screenful.items()
                    ):
                        marks["first_screen_filled"] = since_start()
                for what, table in tables.items():
                    now = since_start()
                    if marks[f"first_{what}"] is None and table.table.row_count > 0:
                        marks[f"first_{what}"] = now
                    # Before the first refresh `busy` is False too, but the table is empty.
                    # The list can hold every row before the table shows its first one.
                    if (
                        marks[f"{what}_complete"] is None
                        and marks[f"first_{what}"] is not None
                        and not table.busy
                        and table.total >= expected[what]
                    ):
                        marks[f"{what}_complete"] = now
                if (
                    marks["buckets_complete"] is not None
                    and marks["users_complete"] is not None
                    and marks["first_screen_filled"] is not None
                    and all(scans[what].done(expected[what]) for what in tables)
                ):
                    marks["details_complete"] = since_start()
                    break
            await asyncio.sleep(POLL_SECONDS)
        else:
            result["timed_out"] = True
        # A small account can be loaded before the first screen is up: the stall window then
        # still covers the loop's first moments with the screen up, so there is something to judge.
        if marks["app_running"] is not None:
            while since_start() < marks["app_running"] + MIN_STALL_WINDOW_S:
                await asyncio.sleep(POLL_SECONDS)
        meter.stop()
        if screen is not None:
            result["rows"] = {"buckets": screen.buckets.total, "users": screen.users.total}
            result["shown_rows"] = {"buckets": screen.buckets.table.row_count, "users": screen.users.table.row_count}
            result["pending_cells"] = {"buckets": pending_cells(screen.buckets), "users": pending_cells(screen.users)}
            result["table_errors"] = {"buckets": screen.buckets.error, "users": screen.users.error}
        lists_done = max((marks["buckets_complete"] or 0.0), (marks["users_complete"] or 0.0)) or None
        # From the first screen composed on: composing it is start-up, reported apart. (Rows can
        # reach the screen while it is composed: the app asks for them as it starts.)
        running = marks["app_running"]
        result["stalls_while_listing"] = meter.summary(running, lists_done)
        until_details = marks["details_complete"]
        if until_details is not None and running is not None:
            until_details = max(until_details, running + MIN_STALL_WINDOW_S)
        result["stalls_until_details"] = meter.summary(running, until_details)
        result["stalls_at_start_up"] = meter.summary(0.0, running)
        result["stalls_after_listing"] = meter.summary(lists_done or 0.0, marks["details_complete"])
        result["worst_stalls"] = meter.worst(10)
        # Linux reports ru_maxrss in KiB.
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        try:
            import psutil

            result["rss_mb_at_end"] = round(psutil.Process().memory_info().rss / 2**20, 1)
        except ImportError:
            result["rss_mb_at_end"] = None
        app.exit()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.driver")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--buckets", type=int, required=True, help="buckets the account holds")
    parser.add_argument("--users", type=int, required=True, help="IAM users the account holds")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--profile", help="write a pyinstrument profile of the event-loop thread here (text)")
    args = parser.parse_args(argv)
    if args.profile:
        from pyinstrument import Profiler  # a developer tool, not a dependency

        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        result = asyncio.run(measure(args))
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as handle:
            handle.write(profiler.output_text(unicode=True, color=False, show_all=True))
    else:
        result = asyncio.run(measure(args))
    result["exited"] = since_start()
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    return 1 if result["timed_out"] else 0


if __name__ == "__main__":
    sys.exit(main())
