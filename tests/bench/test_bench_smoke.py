"""The benchmark at its small scale, end to end: every section present, every value sane.

No timing assertions: this proves the harness measures what it says (rows really loaded,
records really listed, credentials really created, calls really counted), not how fast.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.seed import SCALES

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    json_path, markdown_path = out / "report.json", out / "report.md"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "small", "--repeat", "1", "--json", str(json_path), "--markdown", str(markdown_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(json_path.read_text()), markdown_path.read_text()


def test_every_section_is_reported(report):
    data, markdown = report
    for key in ("seed", "baseline", "app", "listings", "regions", "create", "targets", "environment"):
        assert key in data
    for heading in (
        "## Targets",
        "## 1. Time to interactive",
        "## 2. Listings",
        "## 3. Responsiveness",
        "## 4. Create credentials",
        "## 5. Bucket regions",
        "## 6. Memory",
    ):
        assert heading in markdown


def test_the_account_was_seeded_at_the_small_scale(report):
    data, _ = report
    small = SCALES["small"]
    assert data["seed"]["buckets"] == small.total_buckets
    assert data["seed"]["users"] == small.total_users
    assert data["seed"]["objects"] == small.objects
    assert "secret_access_key" not in json.dumps(data)


def test_the_app_loaded_every_row_and_cell(report):
    data, _ = report
    app = data["app"]
    assert not app["timed_out"]
    assert app["rows"] == {"buckets": data["seed"]["buckets"], "users": data["seed"]["users"]}
    assert app["pending_cells"] == {"buckets": 0, "users": 0}
    assert app["table_errors"] == {"buckets": "", "users": ""}
    assert 0 < app["imports_done_s"] <= app["first_page_s"] <= app["lists_complete_s"] <= app["details_complete_s"]
    # One region lookup per bucket and four counting calls per user, at least.
    calls = app["api_calls_by_operation"]
    assert calls["s3:GetBucketLocation"] >= data["seed"]["buckets"]
    assert calls["iam:ListAccessKeys"] >= data["seed"]["users"]
    for window in ("stalls_while_listing", "stalls_until_details"):
        stalls = app[window]
        assert stalls["samples"] > 0
        assert 0 <= stalls["median_ms"] <= stalls["p99_ms"] <= stalls["max_ms"]
    assert 20 < app["peak_rss_mb"] < 4096


def test_both_tools_listed_everything(report):
    data, _ = report
    expected = {"list-buckets": data["seed"]["buckets"], "list-users": data["seed"]["users"], "list-bucket": data["seed"]["objects"]}
    assert set(data["listings"]) == set(expected)
    for name, row in data["listings"].items():
        for side in ("ours", "theirs"):
            assert row[side]["records"] == expected[name], (name, side)
            assert row[side]["seconds"] > 0
            assert row[side]["api_calls"] >= 1
        assert row["ratio"] == pytest.approx(row["ours"]["seconds"] / row["theirs"]["seconds"], abs=0.01)
    # 2,000 keys are two pages of list_objects_v2 for either tool.
    assert data["listings"]["list-bucket"]["theirs"]["api_calls"] >= 2


def test_regions_agree_between_concurrent_and_sequential(report):
    data, _ = report
    regions = data["regions"]
    assert regions["buckets"] == data["seed"]["buckets"]
    assert regions["failures"] == 0
    assert regions["agree"] is True
    assert regions["regions"] > 1


def test_credentials_were_created_and_their_calls_counted(report):
    data, _ = report
    for kind in ("permanent", "temporary"):
        for side in ("ours", "theirs"):
            calls = data["create"][kind][side]["calls_by_operation"]
            if kind == "permanent":
                assert calls.get("iam:CreateUser") == 1 and calls.get("iam:CreateAccessKey") == 1, (side, calls)
            else:
                assert calls.get("sts:AssumeRole") == 1, (side, calls)
                assert "iam:CreateUser" not in calls


def test_targets_are_judged(report):
    data, _ = report
    assert len(data["targets"]) == 4
    for target in data["targets"]:
        assert target["met"] in (True, False)
