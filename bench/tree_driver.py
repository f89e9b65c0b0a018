"""Runs the app headless on one bucket's screen and browses its prefix tree, measuring from the inside.

`python -m bench.tree_driver --out FILE --bucket NAME` (endpoint and key in the usual AWS_*
environment variables). Made for the benchmark's big bucket (`data/region-NN/day-NN/part-*.json`):

1. *Loaded*: expands `data/`, then each region and each day prefix, keeping them all open,
   until `--loaded-nodes` nodes are in the tree; the event loop's longest stall meanwhile is
   the stall "with that many nodes loaded".
2. *Browsing*: collapses them, then expands and collapses day prefixes one after another
   (each collapse drops what was loaded under it) until `--browsed-nodes` nodes have been
   added in all; the peak RSS of the process is reported.

The benchmark runs the two in separate processes (`--loaded-nodes 0` skips the first), so
the peak RSS of browsing is not the peak of holding everything loaded at once.

The bucket is opened once the account screen has finished loading (its stalls are measured
by `bench.driver`), and the meter starts once the bucket's first level is listed and the
access map has read IAM (opening the screen: reported on its own, `stall_opening_ms`), so
the two stalls measured are the tree's (the driver never moves the cursor, so the access map
is not evaluated again meanwhile). The peak RSS before the first expand is reported
beside the others (`peak_rss_before_tree_mb`): what the tree adds is the difference.

Results, as JSON in FILE: nodes loaded and browsed, the longest stall of each phase, the
tree's node count at the end and the peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from typing import Any

from bench.driver import FilledScan, StallMeter, since_start

POLL_SECONDS = 0.005


async def _wait(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from s3cred_tui.core.session import SessionConfig
    from s3cred_tui.ui.launch import prepared_app
    from s3cred_tui.ui.screens.bucket import BucketScreen, PrefixData

    config = SessionConfig(
        region=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )
    app = prepared_app(config, read_only=True)  # as `s3cred-tui` starts it
    result: dict[str, Any] = {"loaded_target": args.loaded_nodes, "browsed_target": args.browsed_nodes}
    async with app.run_test(headless=True, size=(160, 48)):
        await _wait(lambda: app.account_screen() is not None, "the account screen", args.timeout)
        account = app.account_screen()
        lists = (account.buckets, account.users)
        scans = [FilledScan(table) for table in lists]
        await _wait(
            lambda: all(table.total and not table.loading for table in lists) and all(scan.done(0) for scan in scans),
            "the account's lists",
            args.timeout,
        )
        meter = StallMeter(asyncio.get_running_loop())
        meter.start()
        opening = since_start()
        app.open_bucket(args.bucket, region="us-east-1")
        await _wait(
            lambda: isinstance(app.screen, BucketScreen) and bool(app.screen.query("#prefix-tree")), "the bucket screen", args.timeout
        )
        screen: BucketScreen = app.screen  # type: ignore[assignment]
        tree = screen.prefix_tree

        def loaded(node) -> bool:
            data = node.data
            return isinstance(data, PrefixData) and data.loaded and not data.loading

        def nodes() -> int:
            return screen.objects_loaded + screen.prefixes_loaded

        browsed = 0

        async def expand(node) -> int:
            before = nodes()
            node.expand()
            await _wait(lambda: loaded(node), f"listing {node.data.prefix}", args.timeout)
            return nodes() - before

        def prefixes_under(node) -> list:
            return [child for child in node.children if isinstance(child.data, PrefixData)]

        await _wait(lambda: loaded(tree.root), "the bucket's first level", args.timeout)
        access_map = screen.access_map

        def access_map_filled() -> bool:
            table = access_map.query_one("#map-table")
            return bool(access_map.entries) and table.row_count == len(access_map.visible_entries())

        await _wait(access_map_filled, "the access map's first evaluation", args.timeout)
        await asyncio.sleep(0.2)  # its last repaint
        started = since_start()
        result["stall_opening_ms"] = meter.summary(opening, started)["max_ms"]
        # Linux reports ru_maxrss in KiB.
        result["peak_rss_before_tree_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        (top,) = prefixes_under(tree.root)[:1] or [None]
        if top is None:
            raise RuntimeError(f"{args.bucket} has no prefix to browse")
        browsed += await expand(top)
        days = []
        for region in prefixes_under(top):
            browsed += await expand(region)
            days += prefixes_under(region)
        kept_open = []
        for day in days:
            if nodes() >= args.loaded_nodes:
                break
            browsed += await expand(day)
            kept_open.append(day)
        result["loaded"] = nodes()
        loaded_until = since_start()
        result["stall_with_loaded_ms"] = meter.summary(started, loaded_until)["max_ms"] if kept_open else None

        for day in kept_open:
            day.collapse()
            await asyncio.sleep(0)  # one collapse per turn, as a person would: not one long stall of the driver's
        await asyncio.sleep(0.05)
        index = 0
        while browsed < args.browsed_nodes:
            day = days[index % len(days)]
            index += 1
            browsed += await expand(day)
            day.collapse()
            await _wait(lambda day=day: not day.children, f"collapsing {day.data.prefix}", args.timeout)
        result["browsed"] = browsed
        result["stall_browsing_ms"] = meter.summary(loaded_until, since_start())["max_ms"] if args.browsed_nodes else None
        meter.stop()
        result["nodes_at_end"] = nodes()
        result["worst_stalls"] = meter.worst(10)
        # Linux reports ru_maxrss in KiB.
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        app.exit()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tree_driver")
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    parser.add_argument("--bucket", required=True, help="the bucket to browse")
    parser.add_argument("--loaded-nodes", type=int, default=20_000, help="nodes to hold loaded at once")
    parser.add_argument("--browsed-nodes", type=int, default=100_000, help="nodes to browse in all")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds one listing may take")
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args))
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
