"""One benchmark run: servers, latency proxy, every measurement, and the report.

See bench/README.md. Every client runs as its own process against a seeded moto server
(its own process) that pages like AWS (`bench.aws_like`), through a latency proxy (its own
process, `bench.proxy`) adding a fixed delay per request: 0 ms only by default, 0, 30 and
100 ms with `--realistic`. Times of whole processes are wall-clock from just before the
process is started until it exits, so they include interpreter start-up.

Beside each figure is its floor: start-up plus the round trips that cannot overlap, times
the latency (e.g. 6 pages of 1,000 users one after another).
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.seed import SCALES, bucket_name
from s3cred_tui.core.inventory import FIRST_BUCKET_PAGE, FIRST_USER_PAGE, IAM_MAX_PAGE

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
HOOKS = BENCH_DIR / "hooks"

REALISTIC_LATENCIES_MS = (0, 30, 100)
# What s3cred-tui asks for (IAM's MaxItems, ListBuckets' MaxBuckets), from its own constants.
IAM_PAGE = IAM_MAX_PAGE
THEIR_IAM_PAGE = 100  # boto3's paginator default, which s3-credentials uses
OBJECT_PAGE = 1000
DETAIL_THREADS = 16

TARGET_FIRST_PAGE_S = 0.8
TARGET_FLOOR_FACTOR = 1.5
TARGET_EVERY_CELL_S = 5.0
TARGET_STALL_MS = 50.0
TARGET_PEAK_MB = 150.0
TARGET_LISTING_RATIO = 1.0
TARGET_DETAILS_RATIO = 0.1
TARGET_HELP_S = 0.1
TARGET_POLICY_S = 0.15


def _script(name: str) -> str:
    """A console script of this interpreter's environment, else whatever PATH finds."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


@dataclass
class Server:
    process: subprocess.Popen
    ready: dict[str, Any]

    @property
    def endpoint_url(self) -> str:
        return self.ready["endpoint_url"]

    def env(self, home: Path, endpoint_url: str | None = None) -> dict[str, str]:
        """Acting as the seeded administrator, and nothing from the developer's AWS setup."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.ready["access_key_id"],
            AWS_SECRET_ACCESS_KEY=self.ready["secret_access_key"],
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=endpoint_url or self.endpoint_url,
            AWS_CONFIG_FILE=str(home / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            # Runs journal here, not in the person's state directory: the app would otherwise open
            # on "unfinished runs" another run (or test) left, and measure that modal's layout too.
            S3CRED_TUI_STATE_DIR=str(home / "state"),
            PYTHONPATH=os.pathsep.join([str(HOOKS), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        # Both tools start from compiled bytecode, as an installed package does (pip compiles on
        # install; `run` compiles ours first): a developer's PYTHONDONTWRITEBYTECODE would
        # otherwise make only the editable checkout recompile itself on every start.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env


def _child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))


@contextmanager
def _serving(command: list[str], what: str) -> Iterator[tuple[subprocess.Popen, dict[str, Any]]]:
    """A child that prints one JSON line when ready and stops when its stdin closes."""
    process = subprocess.Popen(command, cwd=REPO, env=_child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError(f"the benchmark {what} exited before it was ready (status {process.wait()})")
        yield process, json.loads(line)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_server(scale: str, overrides: dict[str, int | None], aws_paging: bool = True) -> Iterator[Server]:
    command = [sys.executable, "-m", "bench.server", "--scale", scale]
    for name, value in overrides.items():
        if value is not None:
            command += [f"--{name}", str(value)]
    if aws_paging:
        command.append("--aws-paging")
    with _serving(command, "server") as (process, ready):
        yield Server(process, ready)


@contextmanager
def running_proxy(upstream: str, latencies_ms: Sequence[int]) -> Iterator[dict[int, str]]:
    command = [sys.executable, "-m", "bench.proxy", "--upstream", upstream, "--delay-ms", ",".join(map(str, latencies_ms))]
    with _serving(command, "proxy") as (_process, urls):
        yield {int(delay): url for delay, url in urls.items()}


@dataclass
class ProcessRun:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    calls: dict[str, int]

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def run_process(command: Sequence[str], env: dict[str, str], work: Path, timeout: float = 1800.0) -> ProcessRun:
    calls_file = Path(tempfile.mkstemp(prefix="calls-", suffix=".json", dir=work)[1])
    env = dict(env, BENCH_CALLS_FILE=str(calls_file))
    env["BENCH_T0"] = repr(time.time())
    compileall.compile_dir(str(REPO / "s3cred_tui"), quiet=1)
    started = time.perf_counter()
    done = subprocess.run(list(command), env=env, cwd=work, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    try:
        calls = json.loads(calls_file.read_text() or "{}")
    except (OSError, ValueError):
        calls = {}
    return ProcessRun(seconds, done.returncode, done.stdout, done.stderr, calls)


def _records(stdout: str) -> int | None:
    """Records in a JSON array printed by either tool; None when it is not one."""
    try:
        value = json.loads(stdout)
    except ValueError:
        return None
    return len(value) if isinstance(value, list) else None


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 3)


def _fail(what: str, run: ProcessRun) -> RuntimeError:
    tail = "\n".join(run.stderr.strip().splitlines()[-5:])
    return RuntimeError(f"{what} failed with status {run.returncode}:\n{tail}")


def _floor(start_up: float, round_trips: int, latency_ms: int) -> float:
    return round(start_up + round_trips * latency_ms / 1000, 3)


# ---------------------------------------------------------------------------
# Round trips that cannot overlap (the floors)


def user_pages(users: int, page: int = IAM_PAGE) -> int:
    return max(1, math.ceil(users / page))


def bucket_pages(buckets: int) -> int:
    """s3cred-tui's app: 100 buckets first, then up to 10,000 per request."""
    return 1 if buckets < FIRST_BUCKET_PAGE else 1 + math.ceil((buckets - FIRST_BUCKET_PAGE + 1) / 10_000)


# The credential report: GenerateCredentialReport, then GetCredentialReport (one more when
# none exists yet: a first Get that answers ReportNotPresent).
REPORT_ROUND_TRIPS = 2


def app_user_pages(users: int) -> int:
    """s3cred-tui's app: 100 users first, then up to 1,000 per request."""
    return 1 if users <= FIRST_USER_PAGE else 1 + math.ceil((users - FIRST_USER_PAGE) / IAM_PAGE)


def app_round_trips(buckets: int, users: int) -> dict[str, int]:
    lists = max(app_user_pages(users), bucket_pages(buckets))
    return {
        "first_page_s": 1,
        "lists_complete_s": lists,
        # The first users' page, its policy counts (first GAAD page) and the report, side by side.
        "first_screen_filled_s": REPORT_ROUND_TRIPS,
        # Policy counts: GetAccountAuthorizationDetails pages of users, one after another (as the listing's).
        "details_complete_s": max(lists, app_user_pages(users), REPORT_ROUND_TRIPS),
    }


# ---------------------------------------------------------------------------
# Measurements


def measure_app(server: Server, env: dict[str, str], work: Path, repeat: int, timeout: float, label: str) -> dict[str, Any]:
    runs = []
    for index in range(repeat):
        out = work / f"app-{label}-{index}.json"
        command = [
            sys.executable, "-m", "bench.driver", "--out", str(out),
            "--buckets", str(server.ready["buckets"]), "--users", str(server.ready["users"]),
            "--timeout", str(timeout),
        ]  # fmt: skip
        run = run_process(command, env, work, timeout=timeout + 120)
        if not out.exists():
            raise _fail("the app driver", run)
        result = json.loads(out.read_text())
        result["process_seconds"] = round(run.seconds, 3)
        result["api_calls"] = run.total_calls
        result["api_calls_by_operation"] = run.calls
        runs.append(result)
    return _app_summary(runs)


def measure_bare_client(env: dict[str, str], work: Path, repeat: int, label: str) -> dict[str, Any]:
    """The app's account-screen calls made by bare botocore (`bench.bare_client`): what the server
    makes any client wait at this latency, beside the round-trip floor that counts none of it."""
    runs = []
    for index in range(repeat):
        out = work / f"bare-{label}-{index}.json"
        run = run_process([sys.executable, "-m", "bench.bare_client", "--out", str(out)], env, work, timeout=600)
        if not out.exists():
            raise _fail("the bare client", run)
        runs.append(json.loads(out.read_text()))
    keys = ("first_page_s", "lists_complete_s", "first_screen_filled_s", "details_complete_s")
    summary: dict[str, Any] = {key: _median([r[key] for r in runs]) for key in keys}
    summary["api_calls_by_operation"] = run.calls
    summary["all_runs"] = runs
    return summary


def _app_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    def mark(name: str) -> float | None:
        values = [r["marks"].get(name) for r in runs]
        return None if any(v is None for v in values) else _median(values)

    first = [mark("first_buckets"), mark("first_users")]
    complete = [mark("buckets_complete"), mark("users_complete")]
    return {
        "runs": len(runs),
        "imports_done_s": mark("imports_done"),
        "app_running_s": mark("app_running"),
        "first_buckets_s": first[0],
        "first_users_s": first[1],
        "first_page_s": None if None in first else max(first),  # type: ignore[type-var]
        "buckets_complete_s": complete[0],
        "users_complete_s": complete[1],
        "lists_complete_s": None if None in complete else max(complete),  # type: ignore[type-var]
        "first_screen_filled_s": mark("first_screen_filled"),
        "details_complete_s": mark("details_complete"),
        "timed_out": any(r["timed_out"] for r in runs),
        "stalls_while_listing": _typical(runs, "stalls_while_listing"),
        "stalls_until_details": _typical(runs, "stalls_until_details"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rows": runs[-1].get("rows"),
        "pending_cells": runs[-1].get("pending_cells"),
        "table_errors": runs[-1].get("table_errors"),
        "api_calls": runs[-1]["api_calls"],
        "api_calls_by_operation": runs[-1]["api_calls_by_operation"],
        "all_runs": runs,
    }


def _typical(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The figures of the run whose longest stall is the median of the runs', with every run's
    longest stall beside them (`runs_max_ms`, in order): one run the machine disturbed (a start-up
    0.3 s slower than any other run's) says little of the app; the worst run is still reported."""
    measured = sorted((r[key] for r in runs if r[key]["max_ms"] is not None), key=lambda s: s["max_ms"])
    if not measured:
        return {"samples": 0, "max_ms": None, "median_ms": None, "p99_ms": None, "runs_max_ms": []}
    return {**measured[(len(measured) - 1) // 2], "runs_max_ms": [s["max_ms"] for s in measured]}


def _paired(
    commands: dict[str, list[str]], env: dict[str, str], work: Path, repeat: int, expected: int | None, what: str
) -> dict[str, Any]:
    """Each side `repeat` times, alternating which goes first; the ratio is the median of the pairs'."""
    runs: dict[str, list[ProcessRun]] = {side: [] for side in commands}
    order = list(commands)
    for index in range(repeat):
        for side in order if index % 2 == 0 else reversed(order):
            run = run_process(commands[side], env, work)
            if run.returncode != 0:
                raise _fail(f"{side} {what}", run)
            runs[side].append(run)
    row: dict[str, Any] = {"expected_records": expected, "pairs": repeat}
    for side, side_runs in runs.items():
        row[side] = {
            "seconds": _median([r.seconds for r in side_runs]),
            "all_seconds": [round(r.seconds, 3) for r in side_runs],
            "records": _records(side_runs[-1].stdout),
            "api_calls": side_runs[-1].total_calls,
            "api_calls_by_operation": side_runs[-1].calls,
        }
    row["ratio"] = round(statistics.median(o.seconds / t.seconds for o, t in zip(runs["ours"], runs["theirs"])), 2)
    return row


def measure_listings(
    server: Server, env: dict[str, str], endpoint: str, work: Path, repeat: dict[str, int], latency_ms: int, start_up: float
) -> dict[str, Any]:
    ready = server.ready
    big = ready["big_bucket"]
    listings = {
        "list-buckets": (["list-buckets"], ready["buckets"], {"ours": 1, "theirs": 1}),
        "list-users": (
            ["list-users"],
            ready["users"],
            {"ours": user_pages(ready["users"]), "theirs": user_pages(ready["users"], THEIR_IAM_PAGE)},
        ),
        "list-bucket": ([ "list-bucket", big], ready["objects"], {"ours": user_pages(ready["objects"], OBJECT_PAGE), "theirs": user_pages(ready["objects"], OBJECT_PAGE)}),
    }
    tools = {"ours": _script("s3cred-tui"), "theirs": _script("s3-credentials")}
    results: dict[str, Any] = {}
    for name, (arguments, expected, round_trips) in listings.items():
        commands = {side: [program, *arguments, "--endpoint-url", endpoint] for side, program in tools.items()}
        row = _paired(commands, env, work, repeat[name], expected, name)
        for side in tools:
            row[side]["floor_s"] = _floor(start_up, round_trips[side], latency_ms)
        results[name] = row
    return results


def measure_details(server: Server, env: dict[str, str], endpoint: str, work: Path, latency_ms: int, start_up: float) -> dict[str, Any]:
    """`list-buckets --details` on an account of its own (s3-credentials makes 4 calls per bucket, one after another)."""
    buckets = server.ready["buckets"]
    tools = {"ours": _script("s3cred-tui"), "theirs": _script("s3-credentials")}
    commands = {side: [program, "list-buckets", "--details", "--endpoint-url", endpoint] for side, program in tools.items()}
    row = _paired(commands, env, work, 1, buckets, "list-buckets --details")
    # Ours: the listing, then versioning and public access block per bucket, 16 at a time.
    row["ours"]["floor_s"] = _floor(start_up, 1 + math.ceil(2 * buckets / DETAIL_THREADS), latency_ms)
    # Theirs: the listing, then ACL, location, public access block and website, bucket by bucket.
    row["theirs"]["floor_s"] = _floor(start_up, 1 + 4 * buckets, latency_ms)
    row["buckets"] = buckets
    return row


def _credentials_ok(stdout: str, temporary: bool) -> bool:
    """The output holds a key id (and a session token when temporary); the secret is not read."""
    try:
        value = json.loads(stdout)
    except ValueError:
        return False
    if not isinstance(value, dict):
        return False
    has_key = bool(value.get("AccessKeyId") or value.get("access_key_id"))
    has_token = bool(value.get("SessionToken") or value.get("session_token"))
    return has_key and (has_token or not temporary)


def measure_create(
    env: dict[str, str], endpoint: str, work: Path, repeat: int, buckets: Iterator[str], latency_ms: int, start_up: float
) -> dict[str, Any]:
    """Each run gets a bucket of its own, so both tools' default user names never collide."""
    kinds = {
        "permanent": ["--read-only"],
        "temporary": ["--read-only", "--duration", "15m"],
    }
    tools = {"ours": _script("s3cred-tui"), "theirs": _script("s3-credentials")}
    results: dict[str, Any] = {}
    for kind, options in kinds.items():
        row: dict[str, Any] = {}
        runs: dict[str, list[ProcessRun]] = {side: [] for side in tools}
        for index in range(repeat):
            for side in tools if index % 2 == 0 else reversed(list(tools)):
                run = run_process([tools[side], "create", next(buckets), *options, "--endpoint-url", endpoint], env, work)
                if run.returncode != 0 or not _credentials_ok(run.stdout, kind == "temporary"):
                    raise _fail(f"{side} create ({kind})", run)
                runs[side].append(run)
        for side, side_runs in runs.items():
            row[side] = {
                "seconds": _median([r.seconds for r in side_runs]),
                "all_seconds": [round(r.seconds, 3) for r in side_runs],
                # The first run pays for anything made once (s3-credentials' role, ours).
                "api_calls_first": side_runs[0].total_calls,
                "api_calls": side_runs[-1].total_calls,
                "calls_by_operation": side_runs[0].calls,
                "floor_s": _floor(start_up, side_runs[-1].total_calls, latency_ms),
            }
        row["ratio"] = round(statistics.median(o.seconds / t.seconds for o, t in zip(runs["ours"], runs["theirs"])), 2)
        results[kind] = row
    return results


def measure_start_up(env: dict[str, str], work: Path, repeat: int) -> dict[str, Any]:
    """What a process costs before any AWS call: bare Python with boto3, and two commands that make none."""
    ours = _script("s3cred-tui")
    commands = {
        "python_import_boto3_s": [sys.executable, "-c", "import boto3"],
        "help_s": [ours, "--help"],
        "policy_s": [ours, "policy", bucket_name(0), "--read-only"],
    }
    result: dict[str, Any] = {}
    for name, command in commands.items():
        runs = [run_process(command, env, work) for _ in range(max(3, repeat))]
        if any(r.returncode != 0 for r in runs):
            raise _fail(name, next(r for r in runs if r.returncode != 0))
        result[name] = _median([r.seconds for r in runs])
        result[name.replace("_s", "_api_calls")] = runs[-1].total_calls
    return result


# The figures (20,000 nodes loaded, 100,000 browsed) for 50,000 keys; smaller scales in proportion.
TREE_LOADED_PER_KEY = 0.4
TREE_BROWSED_PER_KEY = 2.0


def measure_tree(server: Server, env: dict[str, str], work: Path, timeout: float) -> dict[str, Any]:
    """The bucket screen on the big bucket (`bench.tree_driver`), in two processes: one holding
    many nodes loaded at once (its stall), one browsing many more (its stall and peak RSS)."""
    objects = server.ready["objects"]
    phases = {
        "loaded": (int(objects * TREE_LOADED_PER_KEY), 0),
        "browsing": (0, int(objects * TREE_BROWSED_PER_KEY)),
    }
    found: dict[str, dict[str, Any]] = {}
    for phase, (loaded, browsed) in phases.items():
        out = work / f"tree-{phase}.json"
        command = [
            sys.executable, "-m", "bench.tree_driver", "--out", str(out), "--bucket", server.ready["big_bucket"],
            "--loaded-nodes", str(loaded), "--browsed-nodes", str(browsed), "--timeout", str(timeout),
        ]  # fmt: skip
        run = run_process(command, env, work, timeout=timeout + 600)
        if not out.exists():
            raise _fail(f"the tree driver ({phase})", run)
        found[phase] = json.loads(out.read_text())
        found[phase]["api_calls_by_operation"] = run.calls
    return {
        "loaded_target": found["loaded"]["loaded_target"],
        "loaded": found["loaded"]["loaded"],
        "stall_with_loaded_ms": found["loaded"]["stall_with_loaded_ms"],
        "peak_rss_loaded_mb": found["loaded"]["peak_rss_mb"],
        "browsed_target": found["browsing"]["browsed_target"],
        "browsed": found["browsing"]["browsed"],
        "stall_browsing_ms": found["browsing"]["stall_browsing_ms"],
        "nodes_at_end": found["browsing"]["nodes_at_end"],
        "peak_rss_mb": found["browsing"]["peak_rss_mb"],
        # Before the first expand (account lists and the access map loaded): what the tree adds is the rest.
        "peak_rss_before_tree_mb": found["browsing"].get("peak_rss_before_tree_mb"),
        "stall_opening_ms": found["browsing"].get("stall_opening_ms"),
        "phases": found,
    }


# ---------------------------------------------------------------------------
# Targets


def _met(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def target(name: str, value: Any, limit: Any, met: bool | None, unit: str) -> None:
        out.append({"target": name, "value": value, "limit": limit, "unit": unit, "met": met})

    by_latency = report["latencies"]
    measured = sorted(int(ms) for ms in by_latency)
    first_pages = [by_latency[str(ms)]["app"]["first_page_s"] for ms in measured]
    worst_first = None if None in first_pages else max(first_pages)
    target(f"first page at every latency measured ({', '.join(f'{ms} ms' for ms in measured)})", worst_first, TARGET_FIRST_PAGE_S, _met(worst_first, TARGET_FIRST_PAGE_S), "s")
    for ms in (30, 100):
        if str(ms) not in by_latency:
            continue
        app = by_latency[str(ms)]["app"]
        for key, label in (("lists_complete_s", "both lists complete"), ("first_screen_filled_s", "first screenful filled")):
            limit = round(TARGET_FLOOR_FACTOR * app["floors"][key], 3)
            target(f"{label} at {ms} ms, within 1.5x its floor", app[key], limit, _met(app[key], limit), "s")
    if "100" in by_latency:
        every = by_latency["100"]["app"]["details_complete_s"]
        target("every cell at 100 ms", every, TARGET_EVERY_CELL_S, _met(every, TARGET_EVERY_CELL_S), "s")
    stalls = [by_latency[str(ms)]["app"]["stalls_until_details"]["max_ms"] for ms in measured]
    worst_stall = None if None in stalls else max(stalls)
    target("longest event-loop stall on the account screen while loading (any latency; median of the runs)", worst_stall, TARGET_STALL_MS, None if worst_stall is None else worst_stall < TARGET_STALL_MS, "ms")
    tree = report.get("tree")
    if tree:
        stall = tree["stall_with_loaded_ms"]
        target(f"longest event-loop stall in a bucket tree with {tree['loaded_target']:,} nodes loaded", stall, TARGET_STALL_MS, None if stall is None else stall < TARGET_STALL_MS, "ms")
        target(f"peak RSS with {tree['browsed']:,} tree nodes browsed", tree["peak_rss_mb"], TARGET_PEAK_MB, tree["peak_rss_mb"] < TARGET_PEAK_MB, "MB")
    for name in ("list-buckets", "list-users", "list-bucket"):
        ratios = [by_latency[str(ms)]["listings"][name]["ratio"] for ms in measured]
        target(f"`{name}` vs s3-credentials, worst median ratio over {', '.join(f'{ms} ms' for ms in measured)}", max(ratios), TARGET_LISTING_RATIO, max(ratios) <= TARGET_LISTING_RATIO, "x")
    if "100" in by_latency:
        ratio = by_latency["100"]["details"]["ratio"]
        target("`list-buckets --details` vs s3-credentials at 100 ms", ratio, TARGET_DETAILS_RATIO, ratio <= TARGET_DETAILS_RATIO, "x")
    start = report["start_up"]
    target("`--help`", start["help_s"], TARGET_HELP_S, start["help_s"] <= TARGET_HELP_S, "s")
    target("`policy` (no AWS call)", start["policy_s"], TARGET_POLICY_S, start["policy_s"] <= TARGET_POLICY_S, "s")
    peak = max(by_latency[str(ms)]["app"]["peak_rss_mb"] for ms in measured)
    target("peak RSS of the app, both lists loaded", peak, TARGET_PEAK_MB, peak < TARGET_PEAK_MB, "MB")
    return out


# ---------------------------------------------------------------------------
# Report


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.2f}{unit}" if unit in (" s", "x") else f"{value:,.1f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ops(calls: dict[str, int]) -> str:
    return ", ".join(f"{op.split(':', 1)[1]} {n:,}" for op, n in sorted(calls.items(), key=lambda item: -item[1])) or "none"


def to_markdown(report: dict[str, Any]) -> str:
    seed = report["seed"]
    env = report["environment"]
    by_latency = report["latencies"]
    measured = sorted(by_latency, key=int)
    head = " | ".join(f"{ms} ms (floor)" for ms in measured)
    rule = "|".join(["---"] * (len(measured) + 1))
    lines = [
        f"# s3cred-tui benchmark: scale `{seed['scale']}`{' (realistic)' if report['realistic'] else ''}",
        "",
        f"{seed['buckets']:,} buckets, {seed['users']:,} IAM users (inline policy and 1-2 keys each), "
        f"{seed['objects']:,} keys in `{seed['big_bucket']}`; moto {env['moto']} server in its own process, "
        f"paging like AWS (`bench/aws_like.py`: ListUsers and GetAccountAuthorizationDetails by MaxItems, ListBuckets "
        f"by MaxBuckets with BucketRegion), behind a keep-alive proxy adding "
        f"{', '.join(f'{ms} ms' for ms in measured)} per request; {env['cpus']} CPUs, Python {env['python']}"
        f"{'; ' + report['machine_note'] if report.get('machine_note') else ''}. "
        f"Whole run: {report.get('bench_seconds', 0):.0f} s. Each figure: median of the runs; "
        "in brackets its floor, start-up plus the round trips that cannot overlap times the latency.",
        "",
        "## Targets",
        "",
        "| target | measured | limit | met |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {_fmt(t['value'])} {t['unit']} | {_fmt(t['limit'])} {t['unit']} | {met} |")

    lines += ["", "## 1. The app, headless (seconds since process start)", "", f"| milestone | {head} |", f"|{rule}|"]
    for key, label in (
        ("app_running_s", "app running (first screen composed)"),
        ("first_page_s", "first page (both lists)"),
        ("lists_complete_s", "both lists complete"),
        ("first_screen_filled_s", "first screenful filled"),
        ("details_complete_s", "every cell"),
    ):
        cells = []
        for ms in measured:
            app = by_latency[ms]["app"]
            floor = app["floors"].get(key)
            cells.append(_s(app[key]) + (f" ({floor:.2f})" if floor is not None else ""))
        lines.append(f"| {label} | {' | '.join(cells)} |")
    lines.append("")
    for ms in measured:
        app = by_latency[ms]["app"]
        lines.append(
            f"- {ms} ms: {app['api_calls']:,} API calls ({_ops(app['api_calls_by_operation'])}); rows {app['rows']}, "
            f"cells pending at the end {app['pending_cells']}."
        )

    if all("bare_client" in by_latency[ms]["app"] for ms in measured):
        lines += [
            "",
            "### The server's share: the same calls by a bare client",
            "",
            "`bench/bare_client.py` makes the account screen's calls (same page sizes, every chain started at once, "
            "as the app starts them) with bare botocore and no app: what this server makes any client wait. "
            "The round-trip floors above count no time for the server to answer.",
            "",
            f"| milestone | {' | '.join(f'{ms} ms: app / bare client' for ms in measured)} |",
            f"|{rule}|",
        ]
        for key, label in (
            ("first_page_s", "first page (both lists)"),
            ("lists_complete_s", "both lists complete"),
            ("first_screen_filled_s", "first screenful filled"),
            ("details_complete_s", "every cell"),
        ):
            cells = [f"{_s(by_latency[ms]['app'][key])} / {_s(by_latency[ms]['app']['bare_client'][key])}" for ms in measured]
            lines.append(f"| {label} | {' | '.join(cells)} |")

    lines += [
        "",
        "## 2. The app's event loop (lateness of a 10 ms timer, start until every cell)",
        "",
        "The run whose longest stall is the median of the runs'; every run's longest stall beside it.",
        "",
        "| latency | samples | longest stall | each run's longest | p99 | median | peak RSS |",
        "|---|---|---|---|---|---|---|",
    ]
    for ms in measured:
        app = by_latency[ms]["app"]
        s = app["stalls_until_details"]
        each = ", ".join(_fmt(value, " ms") for value in s.get("runs_max_ms", []))
        lines.append(
            f"| {ms} ms | {s['samples']} | {_fmt(s['max_ms'], ' ms')} | {each} | {_fmt(s['p99_ms'], ' ms')} | "
            f"{_fmt(s['median_ms'], ' ms')} | {app['peak_rss_mb']:.1f} MB |"
        )

    lines += [
        "",
        "## 3. Listings as whole processes (seconds; median ratio of paired runs)",
        "",
        "| command | latency | s3cred-tui (floor) | s3-credentials (floor) | ours/theirs | API calls ours / theirs |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("list-buckets", "list-users", "list-bucket"):
        for ms in measured:
            row = by_latency[ms]["listings"][name]
            lines.append(
                f"| {name} ({row['expected_records']:,}) | {ms} ms | {row['ours']['seconds']:.2f} ({row['ours']['floor_s']:.2f}) | "
                f"{row['theirs']['seconds']:.2f} ({row['theirs']['floor_s']:.2f}) | {row['ratio']:.2f} | "
                f"{_ops(row['ours']['api_calls_by_operation'])} / {_ops(row['theirs']['api_calls_by_operation'])} |"
            )
    details = [by_latency[ms].get("details") for ms in measured]
    if all(details):
        lines += [
            "",
            f"## 4. `list-buckets --details` ({details[0]['buckets']:,} buckets, an account of its own)",
            "",
            "| latency | s3cred-tui (floor) | s3-credentials (floor) | ours/theirs | API calls ours / theirs |",
            "|---|---|---|---|---|",
        ]
        for ms, row in zip(measured, details):
            lines.append(
                f"| {ms} ms | {row['ours']['seconds']:.2f} ({row['ours']['floor_s']:.2f}) | {row['theirs']['seconds']:.2f} "
                f"({row['theirs']['floor_s']:.2f}) | {row['ratio']:.3f} | {_ops(row['ours']['api_calls_by_operation'])} / "
                f"{_ops(row['theirs']['api_calls_by_operation'])} |"
            )
    lines += [
        "",
        "## 5. Create credentials end to end (whole processes)",
        "",
        "| kind | latency | s3cred-tui (floor) | s3-credentials (floor) | ours/theirs | API calls ours / theirs (first run) |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("permanent", "temporary"):
        for ms in measured:
            row = by_latency[ms]["create"][kind]
            lines.append(
                f"| {kind} | {ms} ms | {row['ours']['seconds']:.2f} ({row['ours']['floor_s']:.2f}) | "
                f"{row['theirs']['seconds']:.2f} ({row['theirs']['floor_s']:.2f}) | {row['ratio']:.2f} | "
                f"{row['ours']['api_calls_first']} / {row['theirs']['api_calls_first']} |"
            )
    first = by_latency[measured[0]]["create"]
    for kind in ("permanent", "temporary"):
        for side, label in (("ours", "s3cred-tui"), ("theirs", "s3-credentials")):
            lines.append(f"\n- {kind}, {label}: {_ops(first[kind][side]['calls_by_operation'])}")
    start = report["start_up"]
    lines += [
        "",
        "## 6. Start-up (no AWS call)",
        "",
        "| process | seconds | API calls |",
        "|---|---|---|",
        f"| `python -c 'import boto3'` | {start['python_import_boto3_s']:.3f} | {start['python_import_boto3_api_calls']} |",
        f"| `s3cred-tui --help` | {start['help_s']:.3f} | {start['help_api_calls']} |",
        f"| `s3cred-tui policy BUCKET --read-only` | {start['policy_s']:.3f} | {start['policy_api_calls']} |",
    ]
    tree = report.get("tree")
    if tree:
        lines += [
            "",
            f"## 7. Bucket tree (`{seed['big_bucket']}`, {tree['latency_ms']} ms)",
            "",
            "| measure | value |",
            "|---|---|",
            f"| nodes loaded at once (expanded, never collapsed) | {tree['loaded']:,} |",
            f"| longest stall while loading them | {_fmt(tree['stall_with_loaded_ms'], ' ms')} |",
            f"| peak RSS holding them (with the account's lists loaded) | {tree['peak_rss_loaded_mb']:.1f} MB |",
            f"| nodes browsed (expanded, then collapsed), another process | {tree['browsed']:,} |",
            f"| nodes in the tree at the end | {tree['nodes_at_end']:,} |",
            f"| longest stall while browsing | {_fmt(tree['stall_browsing_ms'], ' ms')} |",
            f"| peak RSS browsing | {tree['peak_rss_mb']:.1f} MB |",
            f"| peak RSS before the first expand (account lists, access map) | {_fmt(tree.get('peak_rss_before_tree_mb'), ' MB')} |",
            f"| longest stall opening the bucket screen (access map reading IAM) | {_fmt(tree.get('stall_opening_ms'), ' ms')} |",
        ]
    lines.append("")
    return "\n".join(lines)


def _environment() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "moto": version("moto"),
        "textual": version("textual"),
        "s3_credentials": version("s3-credentials"),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    small = args.scale == "small"
    repeat = args.repeat or (3 if small else 1)
    # The app (and its bare-client reference) three times at every scale: a few seconds a run, and
    # one run's start-up or stall can be the machine's.
    app_repeat = args.repeat or 3
    listing_repeat = {
        "list-buckets": args.repeat or 3,
        "list-users": args.repeat or 3,
        # 50 pages of 1,000 keys: the slowest listing; once at the default scale.
        "list-bucket": args.repeat or (3 if small else 1),
    }
    latencies = [int(v) for v in args.latencies.split(",")] if args.latencies else (list(REALISTIC_LATENCIES_MS) if args.realistic else [0])
    overrides = {"buckets": args.buckets, "users": args.users, "objects": args.objects}
    details_overrides = {"buckets": args.details_buckets, "users": 0, "objects": 0}
    started = time.perf_counter()
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="s3cred-bench-")))
        server = stack.enter_context(running_server(args.scale, overrides))
        details_server = stack.enter_context(running_server("small", details_overrides))
        proxies = stack.enter_context(running_proxy(server.endpoint_url, latencies))
        details_proxies = stack.enter_context(running_proxy(details_server.endpoint_url, latencies))
        _say(
            f"server ready: {server.ready['buckets']:,} buckets, {server.ready['users']:,} users, "
            f"{server.ready['objects']:,} keys ({server.ready['seed_seconds']:.1f} s); latencies {latencies} ms"
        )
        report: dict[str, Any] = {
            "scale": args.scale,
            "realistic": args.realistic,
            "repeat": repeat,
            "app_repeat": app_repeat,
            "environment": _environment(),
            "machine_note": args.machine_note,
            "seed": {k: v for k, v in server.ready.items() if k not in ("secret_access_key", "access_key_id")},
            "latencies": {},
        }
        report["start_up"] = measure_start_up(server.env(work), work, repeat)
        python_start = report["start_up"]["python_import_boto3_s"]
        buckets = iter(bucket_name(index) for index in range(server.ready["buckets"] - 1))
        rounds = app_round_trips(server.ready["buckets"], server.ready["users"])
        # One run of the app first, not reported: the first process to import Textual reads it from
        # disk, and would make the first latency measured alone pay for that (0.1 s more imports at
        # 0 ms than at 30 and 100 ms in one run); every latency is then measured alike (it also has
        # the server generate the credential report, which every measured run then reads).
        _say("warming up: one run of the app, not reported...")
        measure_app(server, server.env(work, proxies[latencies[0]]), work, 1, args.app_timeout, "warm-up")
        for ms in latencies:
            env = server.env(work, proxies[ms])
            _say(f"{ms} ms: the app...")
            app = measure_app(server, env, work, app_repeat, args.app_timeout, f"{ms}ms")
            start_up = app["app_running_s"] or 0.0
            app["floors"] = {key: _floor(start_up, trips, ms) for key, trips in rounds.items()}
            _say(f"{ms} ms: the same calls by a bare client...")
            app["bare_client"] = measure_bare_client(env, work, app_repeat, f"{ms}ms")
            entry: dict[str, Any] = {"app": app}
            _say(f"{ms} ms: listings...")
            entry["listings"] = measure_listings(server, env, proxies[ms], work, listing_repeat, ms, python_start)
            _say(f"{ms} ms: list-buckets --details...")
            entry["details"] = measure_details(
                details_server, details_server.env(work, details_proxies[ms]), details_proxies[ms], work, ms, python_start
            )
            _say(f"{ms} ms: create credentials...")
            entry["create"] = measure_create(env, proxies[ms], work, repeat, buckets, ms, python_start)
            report["latencies"][str(ms)] = entry
        if not args.skip_tree and server.ready["objects"]:
            # Stalls and memory do not depend on the latency; the lowest keeps this part short.
            tree_ms = latencies[0]
            _say(f"bucket tree at {tree_ms} ms...")
            report["tree"] = measure_tree(server, server.env(work, proxies[tree_ms]), work, args.app_timeout)
            report["tree"]["latency_ms"] = tree_ms
    report["targets"] = targets(report)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    return report


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmark s3cred-tui against s3-credentials.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="account size (default: %(default)s)")
    parser.add_argument("--realistic", action="store_true", help="every figure at 0, 30 and 100 ms per request")
    parser.add_argument("--latencies", help="comma-separated milliseconds per request (default: 0, or 0,30,100 with --realistic)")
    parser.add_argument("--buckets", type=int, help="override the scale's bucket count")
    parser.add_argument("--users", type=int, help="override the scale's user count")
    parser.add_argument("--objects", type=int, help="override the scale's key count in the big bucket")
    parser.add_argument("--details-buckets", type=int, default=100, help="buckets of the `list-buckets --details` account")
    parser.add_argument("--repeat", type=int, help="runs per measurement, median reported (default: 3 small, 1 default)")
    parser.add_argument("--app-timeout", type=float, default=600.0, help="seconds the app may take to load everything")
    parser.add_argument("--skip-tree", action="store_true", help="leave out the bucket tree measurement")
    parser.add_argument("--machine-note", default="", help="a note on the machine (e.g. shared with other work)")
    parser.add_argument("--json", type=Path, help="write the report as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the report as Markdown here")
    args = parser.parse_args(argv)
    report = run(args)
    markdown = to_markdown(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if args.markdown:
        args.markdown.write_text(markdown + "\n")
    print(markdown)
    return 0
