"""The user screen's footer offers only what applies (issue 12, Keys)."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.ui.base import action_name
from s3cred_tui.ui.screens.user import UserScreen
from tests.ui.helpers import make_app, settle


@pytest.fixture
def iam():
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        client.create_user(UserName="keyless")
        client.create_user(UserName="keyed")
        client.create_access_key(UserName="keyed")
        yield client


def footer_actions(screen) -> set[str]:
    return {action_name(b.binding.action) for b in screen.active_bindings.values() if b.binding.show}


async def open_user(pilot, name: str) -> UserScreen:
    await settle(pilot)
    pilot.app.open_user(name)
    await settle(pilot)
    assert isinstance(pilot.app.screen, UserScreen)
    return pilot.app.screen


async def test_key_actions_leave_the_footer_when_the_user_has_no_key(iam):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_user(pilot, "keyless")
        shown = footer_actions(screen)
        assert not shown & {"toggle_key", "delete_key"}
        assert {"new_key", "delete_user", "refresh", "probe_key"} <= shown
        await pilot.press("d")  # pressed anyway: an answer, not silence
        await pilot.pause()
        assert any("Highlight an access key first" in n.message for n in app._notifications)

        await pilot.press("n", "y")  # a key is created: its actions come back
        await settle(pilot)
        await pilot.press("escape", "y")  # leave the new-key dialog
        await settle(pilot)
        assert app.screen is screen
        assert {"toggle_key", "delete_key"} <= footer_actions(screen)


async def test_a_user_with_a_key_shows_its_actions(iam):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_user(pilot, "keyed")
        assert {"toggle_key", "delete_key", "new_key", "delete_user"} <= footer_actions(screen)
