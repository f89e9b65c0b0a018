"""One benchmark run: server, seeding, every measurement, and the report.

See bench/README.md. Every client runs as its own process against one seeded moto server
(also its own process) on 127.0.0.1; times of whole processes are wall-clock from just
before the process is started until it exits, so they include interpreter start-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from bench.seed import SCALES, bucket_name

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
HOOKS = BENCH_DIR / "hooks"

TARGET_FIRST_PAGE_S = 1.0
TARGET_STALL_MS = 50.0
TARGET_PEAK_MB = 150.0


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

    def env(self, home: Path) -> dict[str, str]:
        """Acting as the seeded administrator, and nothing from the developer's AWS setup."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.ready["access_key_id"],
            AWS_SECRET_ACCESS_KEY=self.ready["secret_access_key"],
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ENDPOINT_URL=self.endpoint_url,
            AWS_CONFIG_FILE=str(home / "aws-config"),
            AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
            AWS_EC2_METADATA_DISABLED="true",
            PYTHONPATH=os.pathsep.join([str(HOOKS), str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        return env


@contextmanager
def running_server(scale: str, overrides: dict[str, int | None]) -> Iterator[Server]:
    command = [sys.executable, "-m", "bench.server", "--scale", scale]
    for name, value in overrides.items():
        if value is not None:
            command += [f"--{name}", str(value)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    process = subprocess.Popen(command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError(f"the benchmark server exited before it was ready (status {process.wait()})")
        yield Server(process, json.loads(line))
    finally:
        if process.stdin:
            process.stdin.close()  # the server's signal to stop
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


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


def run_process(command: Sequence[str], env: dict[str, str], work: Path, timeout: float = 900.0) -> ProcessRun:
    calls_file = Path(tempfile.mkstemp(prefix="calls-", suffix=".json", dir=work)[1])
    env = dict(env, BENCH_CALLS_FILE=str(calls_file))
    env["BENCH_T0"] = repr(time.time())
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


# ---------------------------------------------------------------------------
# Measurements


def measure_listings(server: Server, env: dict[str, str], work: Path, repeat: int) -> dict[str, Any]:
    endpoint = ["--endpoint-url", server.endpoint_url]
    big = server.ready["big_bucket"]
    listings = {
        "list-buckets": (["list-buckets"], server.ready["buckets"]),
        "list-users": (["list-users"], server.ready["users"]),
        "list-bucket": (["list-bucket", big], server.ready["objects"]),
    }
    tools = {"ours": _script("s3cred-tui"), "theirs": _script("s3-credentials")}
    results: dict[str, Any] = {}
    for name, (arguments, expected) in listings.items():
        row: dict[str, Any] = {"expected_records": expected}
        for side, program in tools.items():
            runs = []
            for _ in range(repeat):
                run = run_process([program, *arguments, *endpoint], env, work)
                if run.returncode != 0:
                    raise _fail(f"{side} {name}", run)
                runs.append(run)
            row[side] = {
                "seconds": _median([r.seconds for r in runs]),
                "all_seconds": [round(r.seconds, 3) for r in runs],
                "records": _records(runs[-1].stdout),
                "api_calls": runs[-1].total_calls,
            }
        row["ratio"] = round(row["ours"]["seconds"] / row["theirs"]["seconds"], 2)
        results[name] = row
    return results


def measure_app(server: Server, env: dict[str, str], work: Path, repeat: int, timeout: float) -> dict[str, Any]:
    runs = []
    for index in range(repeat):
        out = work / f"app-{index}.json"
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
        "details_complete_s": mark("details_complete"),
        "timed_out": any(r["timed_out"] for r in runs),
        "stalls_while_listing": _worst(runs, "stalls_while_listing"),
        "stalls_until_details": _worst(runs, "stalls_until_details"),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rows": runs[-1].get("rows"),
        "pending_cells": runs[-1].get("pending_cells"),
        "table_errors": runs[-1].get("table_errors"),
        "api_calls": runs[-1]["api_calls"],
        "api_calls_by_operation": runs[-1]["api_calls_by_operation"],
        "all_runs": runs,
    }


def _worst(runs: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """The worst run's figures: a stall in any run is a stall a person could meet."""
    measured = [r[key] for r in runs if r[key]["max_ms"] is not None]
    if not measured:
        return {"samples": 0, "max_ms": None, "median_ms": None, "p99_ms": None}
    return max(measured, key=lambda s: s["max_ms"])


def measure_regions(server: Server) -> dict[str, Any]:
    """Region of every bucket: `bucket_regions` (concurrent) against one call after another."""
    from s3cred_tui.core.inventory import bucket_region, bucket_regions, iter_bucket_pages
    from s3cred_tui.core.session import AwsContext, SessionConfig

    config = SessionConfig(
        region="us-east-1",
        endpoint_url=server.endpoint_url,
        access_key_id=server.ready["access_key_id"],
        secret_access_key=server.ready["secret_access_key"],
    )
    ctx = AwsContext(config)
    names = [b.name for page in iter_bucket_pages(ctx) for b in page]
    bucket_region(ctx, names[0])  # connect and load the service model before timing either
    started = time.perf_counter()
    concurrent = bucket_regions(ctx, names)
    concurrent_s = time.perf_counter() - started
    started = time.perf_counter()
    sequential = {name: bucket_region(ctx, name) for name in names}
    sequential_s = time.perf_counter() - started
    failures = [name for name, value in concurrent.items() if not isinstance(value, str)]
    return {
        "buckets": len(names),
        "concurrent_s": round(concurrent_s, 3),
        "sequential_s": round(sequential_s, 3),
        "speedup": round(sequential_s / concurrent_s, 2) if concurrent_s else None,
        "failures": len(failures),
        "agree": all(concurrent.get(name) == region for name, region in sequential.items()),
        "regions": len(set(sequential.values())),
    }


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


def measure_create(server: Server, env: dict[str, str], work: Path, repeat: int) -> dict[str, Any]:
    """Each run gets a bucket of its own, so both tools' default user names never collide."""
    endpoint = ["--endpoint-url", server.endpoint_url]
    available = server.ready["buckets"] - 1
    needed = 4 * repeat
    if available < needed:
        raise RuntimeError(f"creating credentials {repeat} times needs {needed} buckets; the account has {available}")
    buckets = iter(bucket_name(index) for index in range(needed))
    kinds = {
        "permanent": {"ours": ["--read-only"], "theirs": ["--read-only"]},
        "temporary": {"ours": ["--read-only", "--duration", "15m"], "theirs": ["--read-only", "--duration", "15m"]},
    }
    tools = {"ours": _script("s3cred-tui"), "theirs": _script("s3-credentials")}
    results: dict[str, Any] = {}
    for kind, options in kinds.items():
        row: dict[str, Any] = {}
        for side, program in tools.items():
            runs = []
            for _ in range(repeat):
                run = run_process([program, "create", next(buckets), *options[side], *endpoint], env, work)
                if run.returncode != 0 or not _credentials_ok(run.stdout, kind == "temporary"):
                    raise _fail(f"{side} create ({kind})", run)
                runs.append(run)
            row[side] = {
                "seconds": _median([r.seconds for r in runs]),
                "all_seconds": [round(r.seconds, 3) for r in runs],
                # The first run pays for anything made once (s3-credentials' role, ours).
                "api_calls_first": runs[0].total_calls,
                "api_calls": runs[-1].total_calls,
                "calls_by_operation": runs[0].calls,
            }
        row["ratio"] = round(row["ours"]["seconds"] / row["theirs"]["seconds"], 2)
        results[kind] = row
    return results


def measure_baseline(env: dict[str, str], work: Path, repeat: int) -> dict[str, Any]:
    """What any Python process costs here before it does anything."""
    runs = [run_process([sys.executable, "-c", "import boto3"], env, work) for _ in range(repeat)]
    return {"python_import_boto3_s": _median([r.seconds for r in runs])}


# ---------------------------------------------------------------------------
# Report


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    app = report["app"]
    listings = report["listings"]
    theirs_same = listings["list-buckets"]["theirs"]["seconds"] + listings["list-users"]["theirs"]["seconds"]
    stall = app["stalls_until_details"]["max_ms"]

    def target(name: str, value: Any, limit: Any, met: bool | None, unit: str) -> dict[str, Any]:
        return {"target": name, "value": value, "limit": limit, "unit": unit, "met": met}

    first = app["first_page_s"]
    complete = app["lists_complete_s"]
    return [
        target("time to first page (buckets and users)", first, TARGET_FIRST_PAGE_S, None if first is None else first < TARGET_FIRST_PAGE_S, "s"),
        target(
            "full load (both lists complete) vs s3-credentials list-buckets + list-users",
            complete,
            round(theirs_same, 3),
            None if complete is None else complete <= theirs_same,
            "s",
        ),
        target("longest event-loop stall (start until every cell loaded)", stall, TARGET_STALL_MS, None if stall is None else stall < TARGET_STALL_MS, "ms"),
        target("peak memory (RSS) of the app, everything loaded", app["peak_rss_mb"], TARGET_PEAK_MB, app["peak_rss_mb"] < TARGET_PEAK_MB, "MB"),
    ]


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:,.3f}{unit}" if unit == " s" else f"{value:,.1f}{unit}"
    return f"{value:,}{unit}" if isinstance(value, int) else f"{value}{unit}"


def to_markdown(report: dict[str, Any]) -> str:
    seed = report["seed"]
    app = report["app"]
    lines = [
        f"# s3cred-tui benchmark: scale `{seed['scale']}`",
        "",
        f"{seed['buckets']:,} buckets, {seed['users']:,} IAM users (inline policy and 1-2 keys each), "
        f"{seed['objects']:,} keys in `{seed['big_bucket']}`; moto {report['environment']['moto']} server in its own "
        f"process on 127.0.0.1 (seeded in {seed['seed_seconds']:.1f} s); {report['environment']['cpus']} CPUs, "
        f"Python {report['environment']['python']}; median of {report['repeat']} run(s). "
        f"Bare `python -c 'import boto3'`: {report['baseline']['python_import_boto3_s']:.3f} s.",
        "",
        "## Targets",
        "",
        "| target | measured | limit | met |",
        "|---|---|---|---|",
    ]
    for t in report["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {_fmt(t['value'])} {t['unit']} | {_fmt(t['limit'])} {t['unit']} | {met} |")
    lines += [
        "",
        "## 1. Time to interactive (app run headless, seconds since process start)",
        "",
        "| milestone | buckets | users |",
        "|---|---|---|",
        f"| imports done | {_fmt(app['imports_done_s'])} | |",
        f"| app running (first screen composed) | {_fmt(app['app_running_s'])} | |",
        f"| first page in the table | {_fmt(app['first_buckets_s'])} | {_fmt(app['first_users_s'])} |",
        f"| list complete | {_fmt(app['buckets_complete_s'])} | {_fmt(app['users_complete_s'])} |",
        f"| every region / key-policy-group count filled in | {_fmt(app['details_complete_s'])} | |",
        "",
        f"Rows: {app['rows']}; cells still pending at the end: {app['pending_cells']}; "
        f"API calls by the app process: {app['api_calls']:,}.",
        "",
        "## 2. Listings as whole processes (seconds, wall clock)",
        "",
        "| command | records | s3cred-tui | s3-credentials | ours/theirs | API calls ours / theirs |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in report["listings"].items():
        lines.append(
            f"| {name} | {row['expected_records']:,} | {row['ours']['seconds']:.3f} | {row['theirs']['seconds']:.3f} | "
            f"{row['ratio']:.2f} | {row['ours']['api_calls']} / {row['theirs']['api_calls']} |"
        )
    lines += [
        "",
        "## 3. Responsiveness of the app's event loop (lateness of a 10 ms timer)",
        "",
        "| window | samples | longest stall | p99 | median |",
        "|---|---|---|---|---|",
    ]
    for label, key in (("start until both lists complete", "stalls_while_listing"), ("start until every cell loaded", "stalls_until_details")):
        s = app[key]
        lines.append(f"| {label} | {s['samples']} | {_fmt(s['max_ms'], ' ms')} | {_fmt(s['p99_ms'], ' ms')} | {_fmt(s['median_ms'], ' ms')} |")
    lines += [
        "",
        "## 4. Create credentials end to end (whole processes)",
        "",
        "| kind | s3cred-tui | s3-credentials | ours/theirs | API calls ours / theirs (first run) |",
        "|---|---|---|---|---|",
    ]
    for kind, row in report["create"].items():
        lines.append(
            f"| {kind} | {row['ours']['seconds']:.3f} s | {row['theirs']['seconds']:.3f} s | {row['ratio']:.2f} | "
            f"{row['ours']['api_calls_first']} / {row['theirs']['api_calls_first']} |"
        )
    for kind, row in report["create"].items():
        for side in ("ours", "theirs"):
            ops = ", ".join(f"{op} {n}" for op, n in row[side]["calls_by_operation"].items())
            lines.append(f"\n- {kind}, {'s3cred-tui' if side == 'ours' else 's3-credentials'}: {ops}")
    r = report["regions"]
    lines += [
        "",
        "## 5. Bucket regions (`get_bucket_location` for every bucket)",
        "",
        "| buckets | concurrent (`bucket_regions`, 16 threads) | one at a time | speed-up |",
        "|---|---|---|---|",
        f"| {r['buckets']:,} | {r['concurrent_s']:.3f} s | {r['sequential_s']:.3f} s | {r['speedup']}x |",
        "",
        "## 6. Memory",
        "",
        f"Peak RSS of the app process with everything loaded: {app['peak_rss_mb']:.1f} MB.",
        "",
    ]
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
    default_repeat = 3 if args.scale == "small" else 1
    repeat = args.repeat or default_repeat
    overrides = {"buckets": args.buckets, "users": args.users, "objects": args.objects}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="s3cred-bench-") as tmp, running_server(args.scale, overrides) as server:
        work = Path(tmp)
        env = server.env(work)
        _say(f"server ready at {server.endpoint_url}: {server.ready['buckets']:,} buckets, "
             f"{server.ready['users']:,} users, {server.ready['objects']:,} keys ({server.ready['seed_seconds']:.1f} s)")
        report: dict[str, Any] = {
            "scale": args.scale,
            "repeat": repeat,
            "environment": _environment(),
            "seed": {k: v for k, v in server.ready.items() if k not in ("secret_access_key", "access_key_id")},
        }
        report["baseline"] = measure_baseline(env, work, repeat)
        _say("app: time to interactive, stalls, memory...")
        report["app"] = measure_app(server, env, work, repeat, args.app_timeout)
        _say("listings: s3cred-tui and s3-credentials...")
        report["listings"] = measure_listings(server, env, work, repeat)
        _say("bucket regions...")
        report["regions"] = measure_regions(server)
        _say("create credentials...")
        report["create"] = measure_create(server, env, work, repeat)
    report["targets"] = targets(report)
    report["bench_seconds"] = round(time.perf_counter() - started, 1)
    return report


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmark s3cred-tui against s3-credentials.")
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="account size (default: %(default)s)")
    parser.add_argument("--buckets", type=int, help="override the scale's bucket count")
    parser.add_argument("--users", type=int, help="override the scale's user count")
    parser.add_argument("--objects", type=int, help="override the scale's key count in the big bucket")
    parser.add_argument("--repeat", type=int, help="runs per measurement, median reported (default: 3 small, 1 default)")
    parser.add_argument("--app-timeout", type=float, default=600.0, help="seconds the app may take to load everything")
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
