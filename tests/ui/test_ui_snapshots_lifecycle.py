"""Snapshots of the life-of-a-credential screens at 80×24 and 160×45, made deterministic as in
test_ui_snapshots_browse.py: in-process moto, seeded ids, pinned creation dates and clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends
from moto.moto_api._internal import mock_random
from moto.s3.models import s3_backends
from textual.widgets import DataTable

from s3cred_tui.core import policies
from s3cred_tui.core.made import HELPER_ROLE_NAME
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.tags import CREATED_BY_TAG
from tests.ui.helpers import make_app, settle, wait_until

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}
CREATED = datetime(2023, 1, 10, 9, 30, tzinfo=timezone.utc)
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/admin"}, "Action": "sts:AssumeRole"}]}
PARTNER_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}}]}
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def seed_and_pin() -> None:
    mock_random.seed(7)
    iam = boto3.client("iam", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    tag = [dict(CREATED_BY_TAG)]
    for bucket in ("reports", "uploads"):
        s3.create_bucket(Bucket=bucket)
    s3.put_bucket_tagging(Bucket="uploads", Tagging={"TagSet": tag})
    iam.create_user(UserName="admin")
    for user, bucket, access, prefix in (
        ("s3.read-only.reports", "reports", AccessLevel.READ_ONLY, "2024/"),
        ("s3.write-only.uploads", "uploads", AccessLevel.WRITE_ONLY, ""),
    ):
        iam.create_user(UserName=user, Tags=tag)
        document = policies.policy_for([bucket], access, prefix)
        iam.put_user_policy(UserName=user, PolicyName=f"s3cred-tui.{access.value}", PolicyDocument=json.dumps(document))
        iam.create_access_key(UserName=user)
    iam.create_role(RoleName=HELPER_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tag)
    iam.put_role_policy(RoleName=HELPER_ROLE_NAME, PolicyName="s3", PolicyDocument=json.dumps(FULL))
    iam.create_role(RoleName="partner-reader", AssumeRolePolicyDocument=json.dumps(PARTNER_TRUST))
    iam.create_group(GroupName="analysts")
    iam.put_group_policy(GroupName="analysts", PolicyName="read",
                         PolicyDocument=json.dumps(policies.policy_for(["reports"], AccessLevel.READ_ONLY)))
    iam.add_user_to_group(GroupName="analysts", UserName="admin")

    for partition in s3_backends[DEFAULT_ACCOUNT_ID].values():
        for bucket in partition.buckets.values():
            bucket.creation_date = CREATED
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    for user in backend.users.values():
        user.create_date = CREATED
        for key in user.access_keys:
            key.create_date = CREATED + timedelta(days=3)  # 500+ days old at NOW: stale
    for role in backend.roles.values():
        role.create_date = CREATED
    for group in backend.groups.values():
        group.create_date = CREATED


@pytest.fixture
def pinned_account():
    with mock_aws():
        seed_and_pin()
        yield


def app():
    return make_app(clock=lambda: NOW)


async def steady(pilot, condition, what: str) -> None:
    """Until `condition` holds, every message is handled and the layout has caught up (a button
    relabelled or a list filled after its worker ends resizes on a later frame)."""
    await wait_until(pilot, condition, what)
    # A DataTable measures its new rows' widths on its own idle, after the screen's messages:
    # the snapshot waits for every table on screen to have done so.
    await wait_until(pilot, lambda: not any(t._require_update_dimensions for t in pilot.app.screen.query(DataTable)), "the tables' column widths")
    await settle(pilot, rounds=6)
    # Rows highlighted or scrolled into view after the list fills settle on a later frame.
    await pilot.wait_for_scheduled_animations()
    await settle(pilot)
    for _ in range(3):
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_made(pinned_account, snap_compare, size):
    async def open_made(pilot):
        await settle(pilot)
        pilot.app.open_made()
        await steady(pilot, lambda: getattr(pilot.app.screen, "made", None) is not None, "the made screen")

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=open_made)


@pytest.mark.parametrize("size", SIZES)
def test_rotate(pinned_account, snap_compare, size):
    async def open_rotate(pilot):
        await settle(pilot)
        pilot.app.open_rotate("s3.read-only.reports")

        def ready() -> bool:
            screen = pilot.app.screen
            return getattr(screen, "rotation", None) is not None and "Create" in str(screen.query_one("#rotate-next").label)

        await steady(pilot, ready, "the rotation")

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=open_rotate)


@pytest.mark.parametrize("size", SIZES)
def test_roles(pinned_account, snap_compare, size):
    async def open_roles(pilot):
        await settle(pilot)
        pilot.app.open_roles()
        await steady(pilot, lambda: len(getattr(pilot.app.screen, "roles", {})) == 2 and not pilot.app.screen.table.busy,
                     "the roles")
        table = pilot.app.screen.table.table
        table.move_cursor(row=table.get_row_index("partner-reader"))
        await steady(pilot, lambda: "partner-reader" in str(pilot.app.screen.query_one("#role-why").render()), "its detail")

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=open_roles)


@pytest.mark.parametrize("size", SIZES)
def test_groups(pinned_account, snap_compare, size):
    async def open_groups(pilot):
        await settle(pilot)
        pilot.app.open_groups()
        await steady(pilot, lambda: getattr(pilot.app.screen, "groups", None) and not pilot.app.screen.table.busy,
                     "the groups")

    assert snap_compare(app(), terminal_size=SIZES[size], run_before=open_groups)
