"""The grant flow in the app (Pilot, moto decorator mode): review with the bucket policy's diff,
a blocked plan without Apply, applying with rollback to the exact previous policy, and the result
(role ARN, external id, the other account's policy, copies, the revoke command)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from textual.widgets import Button, Static

from s3cred_tui.core.bucket_grant import BucketGrantRequest, grant_sid_base
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.third_party_role import ThirdPartyRoleRequest
from s3cred_tui.ui import clipboard
from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.grant import GrantReviewScreen
from s3cred_tui.ui.screens.grant_result import GrantResultScreen
from tests.ui.helpers import make_app, settle, wait_until

OTHER = "111122223333"
BUCKET = "grant-bucket"
SECOND = "second-bucket"
THIS_ACCOUNT = "123456789012"  # moto's default account
# An existing policy with other statements, in its own odd formatting.
EXISTING = (
    '{"Version": "2012-10-17",   "Id": "Mine", "Statement": [\n'
    '  {"Sid": "DenyInsecure", "Effect": "Deny", "Principal": "*", "Action": "s3:*",'
    ' "Resource": ["arn:aws:s3:::grant-bucket", "arn:aws:s3:::grant-bucket/*"],'
    ' "Condition": {"Bool": {"aws:SecureTransport": "false"}}},\n'
    '  {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject",'
    ' "Resource": "arn:aws:s3:::grant-bucket/public-share/*"}\n]}'
)


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_policy(Bucket=BUCKET, Policy=EXISTING)
        yield client


@pytest.fixture
def copied(monkeypatch):
    """No system clipboard tool in tests: the copy goes through OSC 52 only (`app.clipboard`)."""
    monkeypatch.setattr(clipboard, "system_clipboard_commands", lambda *a, **k: [])


def _text(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).content)


async def _review(pilot, app, request) -> GrantReviewScreen:
    await settle(pilot)
    app.open_grant_review(request)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, GrantReviewScreen)
    await wait_until(pilot, lambda: screen.plan is not None, "the grant's plan")
    return screen


@pytest.mark.parametrize("size", [(80, 24), (140, 42)])
async def test_the_review_shows_the_policy_diff_and_applying_keeps_the_other_statements(s3, copied, size):
    request = BucketGrantRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY, prefixes=("reports/",))
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _review(pilot, app, request)
        plan_text = _text(app, "#grant-plan")
        assert "+++ bucket policy after" in plan_text
        assert f'+      "Sid": "{grant_sid_base(f"arn:aws:iam::{OTHER}:root")}' in plan_text, "the new statement is an added line"
        removed = [line for line in plan_text.splitlines() if line.startswith("-") and not line.startswith("---")]
        assert all(line.strip("-, ") in ("}", "]") for line in removed), f"only a closing bracket changes: {removed}"
        assert "Block Public Access" in plan_text and "Object Ownership" in plan_text
        assert "needs both sides" in plan_text
        assert not screen.query_one("#apply", Button).disabled
        assert "apply" in {b.binding.action for b in screen.active_bindings.values()}
        await pilot.press("ctrl+a")
        await wait_until(pilot, lambda: isinstance(app.screen, GrantResultScreen), "the grant's result")
        after = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
        before = json.loads(EXISTING)
        assert after["Id"] == "Mine"
        assert after["Statement"][:2] == before["Statement"], "the other statements are kept as they were, in order"
        assert all(s["Principal"] == {"AWS": f"arn:aws:iam::{OTHER}:root"} for s in after["Statement"][2:])
        body = _text(app, "#grant-result-body")
        assert "needs both sides" in body
        assert f"s3cred-tui revoke-grant {BUCKET} --account arn:aws:iam::{OTHER}:root" in body
        assert '"s3:GetObject"' in body, "the statement the other account attaches"
        await pilot.press("P")
        await settle(pilot)
        assert json.loads(app.clipboard)["Statement"], "the other account's policy is copied as JSON"
        assert "E" not in {b.binding.key for b in app.screen.active_bindings.values()}, "no external id for a bucket grant"


async def test_a_failure_puts_the_previous_policy_back_byte_for_byte(s3):
    s3.create_bucket(Bucket=SECOND)
    request = BucketGrantRequest((BUCKET, SECOND), OTHER, AccessLevel.READ_WRITE)
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await _review(pilot, app, request)
        s3.delete_bucket(Bucket=SECOND)  # the second PutBucketPolicy fails after the first succeeded
        await pilot.press("ctrl+a")
        screen = app.screen
        assert isinstance(screen, ApplyScreen)
        await wait_until(pilot, lambda: screen.result is not None, "the apply's result")
        await settle(pilot)
        assert not screen.result.ok
        outcome = _text(app, "#apply-outcome")
        assert "Failed" in outcome and "Rolled back" in outcome and "as it was before" in outcome
        assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == EXISTING
        assert not screen.query_one("#back").has_class("hidden")


async def test_a_blocked_plan_offers_no_apply(s3):
    request = BucketGrantRequest((BUCKET,), THIS_ACCOUNT, AccessLevel.READ_ONLY)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _review(pilot, app, request)
        assert "Blocked" in _text(app, "#grant-plan")
        assert screen.query_one("#apply", Button).disabled
        assert "apply" not in {b.binding.action for b in screen.active_bindings.values()}, "not in the footer"
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert app.screen is screen, "ctrl+a does nothing on a blocked plan"
        assert s3.get_bucket_policy(Bucket=BUCKET)["Policy"] == EXISTING


@pytest.mark.parametrize("size", [(80, 24), (140, 42)])
async def test_the_role_method_shows_the_trust_policy_then_the_role_arn_and_external_id(s3, copied, size):
    request = ThirdPartyRoleRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY, prefixes=("backups/",), role_name="backup-svc")
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _review(pilot, app, request)
        external_id = screen.plan.external_id
        plan_text = _text(app, "#grant-plan")
        assert '"sts:ExternalId"' in plan_text and external_id in plan_text
        assert "Permissions of the role" in plan_text and "backups/" in plan_text
        await pilot.press("ctrl+a")
        await wait_until(pilot, lambda: isinstance(app.screen, GrantResultScreen), "the grant's result")
        role_arn = f"arn:aws:iam::{THIS_ACCOUNT}:role/backup-svc"
        body = _text(app, "#grant-result-body")
        assert role_arn in body and external_id in body
        assert "s3cred-tui cleanup 'role backup-svc'" in body
        trust = boto3.client("iam", region_name="us-east-1").get_role(RoleName="backup-svc")["Role"]["AssumeRolePolicyDocument"]
        assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": external_id}}
        await pilot.press("Y")
        await settle(pilot)
        assert app.clipboard == role_arn
        await pilot.press("E")
        await settle(pilot)
        assert app.clipboard == external_id
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, GrantResultScreen)


async def test_read_only_mode_refuses_to_open_the_grant(s3):
    app = make_app(read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_grant_review(BucketGrantRequest((BUCKET,), OTHER))
        await settle(pilot)
        assert not isinstance(app.screen, GrantReviewScreen)
