"""Every screen at 80×24 (the default of many terminals) and at 160×45 (issue 12).

The same pinned account as the browsing snapshots (moto in-process, seeded ids, pinned
dates and clock); the result and new-key screens are given fixed credentials.
"""

from __future__ import annotations

import pytest
from textual.containers import ScrollableContainer
from moto import mock_aws
from moto.moto_api._internal import mock_random

from s3cred_tui.core.bucket_grant import BucketGrantRequest
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.core.third_party_role import ThirdPartyRoleRequest, build_third_party_role_plan
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.error import ErrorModal
from s3cred_tui.ui.screens.grant_result import GrantResultScreen
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from tests.ui.helpers import make_app, settle, wait_until
from tests.ui.test_ui_snapshots_browse import NOW, seed_and_pin

SIZES = {"80x24": (80, 24), "160x45": (160, 45)}
CREDENTIALS = Credentials(
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", user_name="s3.read-only.reports"
)


@pytest.fixture
def pinned_account():
    with mock_aws():
        seed_and_pin()
        yield


async def account_buckets(pilot):
    await settle(pilot)


async def account_users(pilot):
    await settle(pilot)
    await pilot.press("2")
    await settle(pilot)


async def bucket(pilot):
    await settle(pilot)
    pilot.app.account_screen().open_bucket("reports")
    await settle(pilot)
    tree = pilot.app.screen.prefix_tree
    tree.root.children[0].expand()
    tree.move_cursor(tree.root.children[0])
    await settle(pilot)


async def user(pilot):
    await settle(pilot)
    pilot.app.open_user("reports-reader")
    # The details arrive from a worker and then lay out (scrollbars, focus): let both finish, so the
    # picture does not depend on how busy the machine is.
    await settle(pilot, rounds=6)
    await pilot.wait_for_scheduled_animations()
    # Focus landing on the keys table may scroll the screen by a line or not, depending on timing:
    # start every picture from the top.
    for scrollable in pilot.app.screen.query(ScrollableContainer):
        scrollable.scroll_home(animate=False)
    await settle(pilot)


async def help_screen(pilot):
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause()


async def confirm_delete(pilot):
    await user(pilot)
    await pilot.press("x")
    await pilot.pause()


async def error_modal(pilot):
    await settle(pilot)
    pilot.app.push_screen(ErrorModal("Access denied", "While listing IAM users:\n\nAccess denied (iam:ListUsers)"))
    await pilot.pause()


async def create_form(pilot):
    await settle(pilot)
    pilot.app.push_screen(CreateScreen(buckets=["reports"], prefix="2024/"))
    await settle(pilot)


async def bucket_picker(pilot):
    await create_form(pilot)
    await pilot.press("ctrl+b")
    await settle(pilot)


async def prefix_picker(pilot):
    await create_form(pilot)
    await pilot.press("ctrl+o")
    await settle(pilot)


async def review(pilot):
    await create_form(pilot)
    await pilot.press("ctrl+r")
    await settle(pilot)


async def apply_finished(pilot):
    await review(pilot)
    mock_random.seed(42)  # the access key id on the checklist
    await pilot.press("ctrl+a")
    await settle(pilot)


async def result(pilot):
    await settle(pilot)
    plan = build_plan(pilot.app.aws, CredentialRequest(buckets=("reports",), prefix="2024/"))
    pilot.app.push_screen(ResultScreen(CREDENTIALS, plan, autostart_probe=False))
    await settle(pilot)


async def copy_menu(pilot):
    await result(pilot)
    await pilot.press("y")
    await pilot.pause()


async def new_key(pilot):
    await user(pilot)
    pilot.app.push_screen(NewKeyModal(CREDENTIALS, "reports-reader"))
    await pilot.pause()


async def probe(pilot):
    await settle(pilot)
    await pilot.app.open_probe(access_key_id=CREDENTIALS.access_key_id, buckets=["reports"], prefix="2024/")
    await settle(pilot)


async def grant_review(pilot):
    # Another account through the bucket policy: the policy before and after, as a diff.
    await settle(pilot)
    pilot.app.open_grant_review(BucketGrantRequest(buckets=("reports",), principal="111122223333", prefixes=("2024/",)))
    await wait_until(pilot, lambda: getattr(pilot.app.screen, "plan", None) is not None, "the grant's plan")
    await settle(pilot)


async def grant_result(pilot):
    # A third-party role: its ARN and external id (given, so the snapshot is stable).
    await settle(pilot)
    request = ThirdPartyRoleRequest(
        buckets=("reports",), principal="111122223333", prefixes=("2024/",), role_name="backup-service", external_id="acme-backup-7f3e"
    )
    plan = build_third_party_role_plan(pilot.app.aws, request, identity=pilot.app.identity)
    pilot.app.push_screen(GrantResultScreen(plan))
    await settle(pilot)


SCREENS = {
    "account_buckets": account_buckets,
    "account_users": account_users,
    "bucket": bucket,
    "user": user,
    "help": help_screen,
    "confirm": confirm_delete,
    "error": error_modal,
    "create": create_form,
    "bucket_picker": bucket_picker,
    "prefix_picker": prefix_picker,
    "review": review,
    "apply": apply_finished,
    "result": result,
    "copy_menu": copy_menu,
    "new_key": new_key,
    "probe": probe,
    "grant_review": grant_review,
    "grant_result": grant_result,
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen_at_size(pinned_account, snap_compare, screen, size):
    assert snap_compare(make_app(clock=lambda: NOW), terminal_size=SIZES[size], run_before=SCREENS[screen])
