"""A custom policy on the review screen: its review beside it, and a confirm step when it is broad."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from textual.widgets import Button, Static

from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.screens.review import ReviewScreen
from tests.ui.helpers import make_app, settle, wait_until

BUCKET = "alpha-bucket"
SIZE = (120, 44)
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
TIGHT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"}],
}


@pytest.fixture
def account():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield boto3.client("iam", region_name="us-east-1")


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def review_custom(pilot, policy: dict) -> ReviewScreen:
    await settle(pilot)
    await pilot.app.push_screen(CreateScreen(buckets=[BUCKET]))
    await pilot.pause()
    screen = pilot.app.screen
    await pilot.click("#access-custom")
    await pilot.pause()
    screen.query_one("#custom-policy").load_text(json.dumps(policy))
    await pilot.pause()
    await pilot.press("ctrl+r")
    await settle(pilot)
    review = pilot.app.screen
    assert isinstance(review, ReviewScreen)
    await wait_until(pilot, lambda: review.plan is not None, "the plan")
    return review


def users(iam) -> list[str]:
    return [u["UserName"] for u in iam.list_users()["Users"]]


async def test_a_broad_custom_policy_is_described_and_needs_a_confirm_before_apply(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        review = await review_custom(pilot, ADMIN)
        summary = text(review, "#review-summary")
        assert summary.startswith("Custom policy: full administrator (every action on every resource) — as a permanent IAM user")
        assert "Custom policy on s3://" not in summary
        checks = text(review, "#review-checks")
        assert "Beyond the named buckets (needs your confirmation)" in checks
        assert "every action on every resource (* on *): a full administrator" in checks
        assert review.query_one("#review-checks-scroll").display
        plan_shown = text(review, "#review-plan")
        assert "Needs your confirmation" in plan_shown and "Blocked" not in plan_shown
        apply_button = review.query_one("#apply", Button)
        assert not apply_button.disabled

        # Apply asks first; Cancel (Esc) leaves everything as it was.
        await pilot.press("ctrl+a")
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        assert "This policy grants more than the named buckets" in str(modal.query_one("#modal-message", Static).content)
        assert modal.focused is modal.query_one("#cancel", Button)  # a stray Enter does not accept it
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is review
        assert review.plan.needs_broad_acknowledgement and not review.plan.ok
        assert users(account) == []

        # Confirm: the plan is acknowledged and applied.
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, (ApplyScreen, ResultScreen)), "the apply screen")
        await settle(pilot)
        assert review.plan.request.allow_broad and review.plan.ok
        await wait_until(pilot, lambda: users(account) != [], "the user to be created")
        (user,) = users(account)
        (name,) = account.list_user_policies(UserName=user)["PolicyNames"]
        assert account.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"] == ADMIN


async def test_a_tight_custom_policy_shows_its_review_and_applies_without_a_question(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        review = await review_custom(pilot, TIGHT)
        assert text(review, "#review-summary").startswith(f"Custom policy: read on s3://{BUCKET}/reports/ — ")
        checks = text(review, "#review-checks")
        assert "needs your confirmation" not in checks and "parliament: no findings" in checks
        assert not review.plan.needs_broad_acknowledgement
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmModal)
        await wait_until(pilot, lambda: isinstance(app.screen, (ApplyScreen, ResultScreen)), "the apply screen")


async def test_a_generated_policy_has_no_review_panel(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CreateScreen(buckets=[BUCKET]))
        await pilot.pause()
        await pilot.press("ctrl+r")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        await wait_until(pilot, lambda: review.plan is not None, "the plan")
        assert review.plan.policy_review is None
        assert not review.query_one("#review-checks-scroll").display
        assert text(review, "#review-summary").startswith(f"Read only on s3://{BUCKET}/ ")  # the form's default level
