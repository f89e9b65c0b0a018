"""The account screen end to end on moto: whole-account reads fill the lists, per-row lookups only rows on screen."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.core import inventory
from s3cred_tui.ui.loading import AccountLoad
from s3cred_tui.ui.screens.account import PENDING
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
BUCKETS = [f"bucket-{i:03d}" for i in range(300)]


@pytest.fixture
def many_buckets():
    """moto's ListBuckets gives no BucketRegion, as some S3-compatible stores: regions need a lookup per bucket."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for name in BUCKETS:
            s3.create_bucket(Bucket=name)
        iam = boto3.client("iam", region_name="us-east-1")
        for name in ("alice", "bob"):
            iam.create_user(UserName=name)
        iam.create_access_key(UserName="bob")
        yield


def recording(monkeypatch, name: str) -> list[list[str]]:
    """Every call of `inventory.<name>` (the screen reaches it through the module), with the names asked for."""
    asked: list[list[str]] = []
    original = getattr(inventory, name)

    def record(ctx, names, *args, **kwargs):
        asked.append(list(names))
        return original(ctx, names, *args, **kwargs)

    monkeypatch.setattr(inventory, name, record)
    return asked


async def test_only_buckets_on_screen_are_looked_up_and_scrolling_looks_up_the_next(many_buckets, monkeypatch):
    regions_asked = recording(monkeypatch, "bucket_regions")
    counts_asked = recording(monkeypatch, "user_counts")
    # The credential report is never "late" here: a report later than one round trip lets rows on
    # screen be looked up one by one by design (tests/ui/test_loading.py covers that), and in-process
    # moto's round trip is a few milliseconds, so a loaded machine would make it late by chance.
    monkeypatch.setattr(AccountLoad, "_key_report_given_up", lambda load: load._key_read.ended)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.account_screen()
        assert screen.buckets.keys == BUCKETS
        looked_up = [name for batch in regions_asked for name in batch]
        assert 0 < len(looked_up) <= SIZE[1], "a screenful, not 300"
        assert looked_up == BUCKETS[: len(looked_up)]
        assert screen.buckets.row(BUCKETS[0])[1] == "us-east-1"
        assert screen.buckets.row(BUCKETS[150])[1] is PENDING

        screen.buckets.table.scroll_to(y=140, animate=False)
        await wait_until(pilot, lambda: screen.buckets.row(BUCKETS[150])[1] == "us-east-1", "the rows scrolled to")
        await settle(pilot)
        looked_up = [name for batch in regions_asked for name in batch]
        assert BUCKETS[150] in looked_up and BUCKETS[299] not in looked_up
        assert len(looked_up) == len(set(looked_up)), "no bucket is looked up twice"
        assert screen.buckets.row(BUCKETS[299])[1] is PENDING

        # Users: keys from the credential report, policies from one pass; none counted one by one.
        assert counts_asked == []
        assert screen.users.row("bob")[2] == "1" and screen.users.row("alice")[2] == "0"
        assert screen.users.row("alice")[3] == "0" and screen.users.row("alice")[4] == "0"


async def test_refused_whole_account_reads_fall_back_to_counting_rows_on_screen(many_buckets, monkeypatch):
    from s3cred_tui.core.errors import AccessDenied

    def refused(*args, **kwargs):
        raise AccessDenied("Access denied (iam:GetCredentialReport): no", code="AccessDenied")

    monkeypatch.setattr(inventory, "credential_report", refused)
    monkeypatch.setattr(inventory, "iter_user_policy_counts", refused)
    counts_asked = recording(monkeypatch, "user_counts")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.account_screen()
        await wait_until(pilot, lambda: screen.users.row("bob")[2] != PENDING, "bob's keys")
        await settle(pilot)
        assert sorted(name for batch in counts_asked for name in batch) == ["alice", "bob"]
        assert screen.users.row("bob")[2] == "1" and screen.users.row("alice")[3] == "0"
        assert app.screen is screen, "a refused whole-account read is not an error to show"
