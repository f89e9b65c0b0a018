"""The benchmark at its small scale, end to end, in realistic mode: every section present, every value sane.

No timing assertions: this proves the harness measures what it says (moto paging like AWS,
the latency proxy in the path, rows and cells really loaded, records really listed,
credentials really created, calls really counted), not how fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import app_user_pages
from bench.seed import SCALES

REPO = Path(__file__).resolve().parents[2]
# Two latencies keep it short while exercising the proxy's delay; the full run uses 0, 30, 100.
LATENCIES = ("0", "30")


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    json_path, markdown_path = out / "report.json", out / "report.md"
    done = subprocess.run(
        [
            sys.executable, "-m", "bench", "--realistic", "--scale", "small", "--repeat", "1",
            "--latencies", ",".join(LATENCIES), "--details-buckets", "10", "--app-timeout", "120",
            "--json", str(json_path), "--markdown", str(markdown_path),
        ],  # fmt: skip
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(json_path.read_text()), markdown_path.read_text()


def test_every_section_is_reported(report):
    data, markdown = report
    for key in ("seed", "start_up", "latencies", "tree", "targets", "environment"):
        assert key in data
    assert sorted(data["latencies"], key=int) == list(LATENCIES)
    for heading in (
        "## Targets",
        "## 1. The app, headless",
        "### The server's share: the same calls by a bare client",
        "## 2. The app's event loop",
        "## 3. Listings",
        "## 4. `list-buckets --details`",
        "## 5. Create credentials",
        "## 6. Start-up",
        "## 7. Bucket tree",
    ):
        assert heading in markdown


def test_the_account_was_seeded_at_the_small_scale_and_pages_like_aws(report):
    data, _ = report
    small = SCALES["small"]
    assert data["seed"]["buckets"] == small.total_buckets
    assert data["seed"]["users"] == small.total_users
    assert data["seed"]["objects"] == small.objects
    assert data["seed"]["aws_paging"] is True
    assert "secret_access_key" not in json.dumps(data)


def test_the_app_filled_every_row_and_cell_from_whole_account_reads(report):
    data, _ = report
    for ms, entry in data["latencies"].items():
        app = entry["app"]
        assert not app["timed_out"], ms
        # Earlier latencies' `create` runs add users: at least the seeded ones are listed.
        assert app["rows"]["buckets"] >= data["seed"]["buckets"] and app["rows"]["users"] >= data["seed"]["users"], ms
        assert app["pending_cells"] == {"buckets": 0, "users": 0}, ms
        assert app["table_errors"] == {"buckets": "", "users": ""}, ms
        assert 0 < app["first_page_s"] <= app["lists_complete_s"] <= app["details_complete_s"], ms
        assert app["first_screen_filled_s"] <= app["details_complete_s"], ms
        calls = app["api_calls_by_operation"]
        # Regions come with ListBuckets, keys with the credential report: nothing per row.
        assert "s3:GetBucketLocation" not in calls and "iam:ListAccessKeys" not in calls, (ms, calls)
        # 100 users first (rows on screen sooner), then pages of 1,000.
        assert calls["iam:ListUsers"] == app_user_pages(data["seed"]["users"]), (ms, calls)
        assert calls["iam:GetCredentialReport"] >= 1 and calls["iam:GetAccountAuthorizationDetails"] >= 1, (ms, calls)
        for key, floor in app["floors"].items():
            assert floor >= app["app_running_s"], (ms, key)
        stalls = app["stalls_until_details"]
        assert stalls["samples"] > 0
        assert 0 <= stalls["median_ms"] <= stalls["p99_ms"] <= stalls["max_ms"]
        assert stalls["runs_max_ms"] == [stalls["max_ms"]], "each run's longest stall is listed (one run here)"
        assert 20 < app["peak_rss_mb"] < 4096
        # The bare client made the account screen's calls, page for page, and saw every user and bucket.
        bare = app["bare_client"]
        bare_calls = bare["api_calls_by_operation"]
        for operation in ("iam:ListUsers", "iam:GetAccountAuthorizationDetails", "s3:ListBuckets"):
            assert bare_calls[operation] == calls[operation], (ms, operation, bare_calls, calls)
        marks = bare["all_runs"][-1]["marks"]
        # (Earlier latencies' create runs add users and buckets: at least the seeded ones.)
        assert marks["users_count"] == marks["policies_count"] >= data["seed"]["users"], (ms, marks)
        assert marks["buckets_count"] >= data["seed"]["buckets"], (ms, marks)
        assert 0 < bare["first_page_s"] <= bare["lists_complete_s"] <= bare["details_complete_s"], (ms, bare)


def test_both_tools_listed_everything(report):
    data, _ = report
    for ms, entry in data["latencies"].items():
        listings = entry["listings"]
        assert set(listings) == {"list-buckets", "list-users", "list-bucket"}
        for name, row in listings.items():
            for side in ("ours", "theirs"):
                assert row[side]["records"] >= row["expected_records"], (ms, name, side)
                assert row[side]["seconds"] > 0 and row[side]["floor_s"] > 0
                assert row[side]["api_calls"] >= 1
            assert row["ratio"] > 0
        # Ours asks for 1,000 users per page: one request; s3-credentials pages by 100.
        assert listings["list-users"]["ours"]["api_calls_by_operation"] == {"iam:ListUsers": 1}
        assert listings["list-users"]["theirs"]["api_calls_by_operation"] == {"iam:ListUsers": 3}
        assert listings["list-bucket"]["theirs"]["api_calls"] >= 2


def test_details_use_the_listed_regions(report):
    data, _ = report
    for entry in data["latencies"].values():
        details = entry["details"]
        assert details["ours"]["records"] == details["theirs"]["records"] == details["buckets"]
        assert "s3:GetBucketLocation" not in details["ours"]["api_calls_by_operation"]
        assert details["theirs"]["api_calls_by_operation"]["s3:GetBucketLocation"] == details["buckets"]


def test_credentials_were_created_and_their_calls_counted(report):
    data, _ = report
    for entry in data["latencies"].values():
        for kind in ("permanent", "temporary"):
            for side in ("ours", "theirs"):
                calls = entry["create"][kind][side]["calls_by_operation"]
                if kind == "permanent":
                    assert calls.get("iam:CreateUser") == 1 and calls.get("iam:CreateAccessKey") == 1, (side, calls)
                else:
                    assert calls.get("sts:AssumeRole") == 1, (side, calls)
                    assert "iam:CreateUser" not in calls


def test_start_up_commands_make_no_call(report):
    data, _ = report
    start = data["start_up"]
    assert start["help_api_calls"] == 0 and start["policy_api_calls"] == 0
    assert start["help_s"] > 0 and start["policy_s"] > 0


def test_the_tree_was_browsed_and_collapsed_subtrees_dropped(report):
    data, _ = report
    tree = data["tree"]
    assert tree["loaded"] >= tree["loaded_target"]
    assert tree["browsed"] >= tree["browsed_target"]
    # Everything browsed was collapsed again: only the prefixes above the leaves remain.
    assert tree["nodes_at_end"] < tree["loaded_target"]
    assert tree["stall_with_loaded_ms"] is not None and tree["stall_browsing_ms"] is not None


def test_targets_are_judged(report):
    data, _ = report
    names = [t["target"] for t in data["targets"]]
    assert any("first page" in name for name in names)
    for target in data["targets"]:
        assert target["met"] in (True, False), target
