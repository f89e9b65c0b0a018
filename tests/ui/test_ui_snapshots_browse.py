"""Snapshots of the browsing screens, made deterministic.

moto runs in-process (no random endpoint port), its ids are seeded, every creation date
is pinned through moto's backend objects, and the app's clock is fixed so key ages read
the same on every run.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from textual.containers import ScrollableContainer
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.moto_api._internal import mock_random
from moto.s3.models import s3_backends

from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.error import ErrorModal
from tests.ui.helpers import make_app, settle

SIZE = (140, 42)
CREATED = datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:aws:s3:::reports"]},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::reports/2024/*"]},
    ],
}


def seed_and_pin() -> None:
    mock_random.seed(42)
    s3 = boto3.client("s3", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    for name in ("app-logs", "reports", "website-assets"):
        s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket="eu-archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for month in range(1, 5):
        s3.put_object(Bucket="reports", Key=f"2024/{month:02d}/summary.csv", Body=b"x" * 2048)
    s3.put_object(Bucket="reports", Key="README.txt", Body=b"read me")
    for name in ("analyst", "backup-bot", "reports-reader"):
        iam.create_user(UserName=name)
    iam.put_user_policy(UserName="reports-reader", PolicyName="s3.read-only.reports", PolicyDocument=json.dumps(POLICY))
    iam.create_access_key(UserName="reports-reader")
    iam.create_access_key(UserName="backup-bot")
    iam.create_group(GroupName="auditors")
    iam.add_user_to_group(GroupName="auditors", UserName="analyst")

    for partition in s3_backends[DEFAULT_ACCOUNT_ID].values():
        for bucket in partition.buckets.values():
            bucket.creation_date = CREATED
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    for user in backend.users.values():
        user.create_date = CREATED
        for key in user.access_keys:
            key.create_date = CREATED + timedelta(days=3)


@pytest.fixture
def pinned_account():
    with mock_aws():
        seed_and_pin()
        yield


def test_account_buckets(pinned_account, snap_compare):
    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=settle)


def test_account_users(pinned_account, snap_compare):
    async def users_tab(pilot):
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=users_tab)


def test_bucket_detail(pinned_account, snap_compare):
    async def open_bucket(pilot):
        await settle(pilot)
        pilot.app.account_screen().open_bucket("reports")
        await settle(pilot)
        tree = pilot.app.screen.prefix_tree
        tree.root.children[0].expand()
        tree.move_cursor(tree.root.children[0])  # the access map follows: reports/2024/
        await settle(pilot)

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=open_bucket)


def test_user_detail(pinned_account, snap_compare):
    async def open_user(pilot):
        await settle(pilot)
        pilot.app.account_screen().open_user("reports-reader")
        # Details arrive from a worker, then lay out: let both finish whatever the machine's load.
        await settle(pilot, rounds=6)
        await pilot.wait_for_scheduled_animations()
        # Focus landing on the keys table may scroll the screen by a line or not, depending on timing:
        # start every picture from the top.
        for scrollable in pilot.app.screen.query(ScrollableContainer):
            scrollable.scroll_home(animate=False)
        await settle(pilot)

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=open_user)


def test_help(pinned_account, snap_compare):
    async def open_help(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=open_help)


def test_error_modal(pinned_account, snap_compare):
    async def show_error(pilot):
        await settle(pilot)
        pilot.app.push_screen(
            ErrorModal(
                "Access denied",
                "While listing IAM users:\n\nAccess denied (iam:ListUsers): User: arn:aws:iam::123456789012:user/s3-only "
                "is not authorized to perform: iam:ListUsers",
            )
        )
        await pilot.pause()

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=show_error)


def test_confirm_modal(pinned_account, snap_compare):
    async def confirm_delete(pilot):
        await settle(pilot)
        pilot.app.account_screen().open_user("reports-reader")
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ConfirmModal)

    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZE, run_before=confirm_delete)
