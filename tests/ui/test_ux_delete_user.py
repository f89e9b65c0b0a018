"""Deleting a user the tool did not make asks for its name typed out (issue 12, Flow).

A user carrying the tool's `created-by` tag keeps the plain yes/no; any other user may be someone
else's, so a reflexive `y` or Enter must not delete it.
"""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from textual.widgets import Button, Input

from s3cred_tui.core.deletion import read_user_deletion
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.ui.screens.confirm import ConfirmModal, TypedNameConfirmModal
from s3cred_tui.ui.screens.user import (
    NOT_MADE_WARNING,
    DeletedUserModal,
    UserScreen,
    deletion_question,
)
from tests.ui.helpers import make_app, settle

SIZE = (120, 40)
MADE = "madebot"
NOT_MADE = "mallory"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


@pytest.fixture
def iam():
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        client.create_user(UserName=MADE, Tags=[CREATED_BY_TAG])
        client.create_user(UserName=NOT_MADE, Tags=[{"Key": "team", "Value": "data"}])
        for name in (MADE, NOT_MADE):
            client.put_user_policy(UserName=name, PolicyName="read", PolicyDocument=POLICY)
            client.create_access_key(UserName=name)
        yield client


def user_names(iam) -> set[str]:
    return {u["UserName"] for u in iam.list_users()["Users"]}


async def open_and_ask(pilot, name: str) -> ConfirmModal:
    await settle(pilot)
    pilot.app.open_user(name)
    await settle(pilot)
    assert isinstance(pilot.app.screen, UserScreen)
    await pilot.press("x")
    await pilot.pause()
    modal = pilot.app.screen
    assert isinstance(modal, ConfirmModal)
    return modal


def test_the_question_says_when_the_tool_did_not_make_the_user(iam):
    deletion = read_user_deletion(AwsContext(), NOT_MADE)
    assert NOT_MADE_WARNING == (
        "s3cred-tui did not create this user (no created-by=s3cred-tui tag): it may belong to someone else."
    )
    assert NOT_MADE_WARNING in deletion_question(deletion, made=False)
    assert "did not create" not in deletion_question(deletion)


async def test_a_user_the_tool_made_keeps_the_plain_yes_no(iam):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_and_ask(pilot, MADE)
        assert type(modal) is ConfirmModal
        assert "did not create" not in modal.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DeletedUserModal)
    assert MADE not in user_names(iam)


async def test_a_user_the_tool_did_not_make_needs_its_name_typed(iam):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_and_ask(pilot, NOT_MADE)
        assert isinstance(modal, TypedNameConfirmModal)
        assert NOT_MADE_WARNING in modal.question
        confirm = modal.query_one("#confirm", Button)
        field = modal.query_one("#typed-name", Input)
        assert field.has_focus and confirm.disabled

        # The plain question's keys only type: neither `y` nor Enter deletes.
        await pilot.press("y", "enter")
        await settle(pilot)
        assert app.screen is modal and field.value == "y" and confirm.disabled

        # A wrong name (a prefix of the right one) does nothing, by Enter or by the button.
        field.value = ""
        await pilot.press(*NOT_MADE[:-1], "enter")
        await pilot.click("#confirm")
        await settle(pilot)
        assert app.screen is modal and confirm.disabled
        assert "That is not the user's name" in str(modal.query_one("#typed-name-hint").render())
        assert NOT_MADE in user_names(iam)

        await pilot.press(NOT_MADE[-1])
        await pilot.pause()
        assert field.value == NOT_MADE and not confirm.disabled
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DeletedUserModal)
    assert NOT_MADE not in user_names(iam)


async def test_escape_on_the_typed_name_question_deletes_nothing(iam):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_and_ask(pilot, NOT_MADE)
        await pilot.press(*NOT_MADE)  # even with the right name typed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen) and app.screen is not modal
    assert NOT_MADE in user_names(iam)


async def test_the_typed_name_question_fits_80x24(iam):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        modal = await open_and_ask(pilot, NOT_MADE)
        for widget_id in ("#typed-name", "#confirm", "#cancel"):
            region = modal.query_one(widget_id).region
            assert region.height >= 1 and region.bottom <= 24 and region.right <= 80, widget_id
