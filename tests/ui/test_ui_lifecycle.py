"""Pilot tests of the life-of-a-credential screens: made by s3cred-tui (and its cleanup), key
rotation, roles and groups (moto decorator mode)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widgets import Button, DataTable, Static

from s3cred_tui.core.made import HELPER_ROLE_NAME
from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.error import MessageModal
from s3cred_tui.ui.screens.group import GroupsScreen
from s3cred_tui.ui.screens.made import MadeScreen
from s3cred_tui.ui.screens.roles import RolesScreen
from s3cred_tui.ui.screens.rotate import RotateScreen
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
READ = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::made-data",
     "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}},
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::made-data/reports/*"}]}
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "sts:AssumeRole"}]}
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def seed() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    s3 = boto3.client("s3", region_name="us-east-1")
    tag = [dict(CREATED_BY_TAG)]
    s3.create_bucket(Bucket="made-data")
    s3.put_bucket_tagging(Bucket="made-data", Tagging={"TagSet": tag})
    s3.put_object(Bucket="made-data", Key="reports/a.csv", Body=b"x")
    s3.create_bucket(Bucket="made-empty")
    s3.put_bucket_tagging(Bucket="made-empty", Tagging={"TagSet": tag})
    s3.create_bucket(Bucket="not-made")
    iam.create_user(UserName="s3.read-only.made-data", Tags=tag)
    iam.put_user_policy(UserName="s3.read-only.made-data", PolicyName="s3cred-tui.read-only", PolicyDocument=json.dumps(READ))
    iam.create_access_key(UserName="s3.read-only.made-data")
    iam.create_user(UserName="alice")
    iam.create_role(RoleName=HELPER_ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST), Tags=tag)
    iam.put_role_policy(RoleName=HELPER_ROLE_NAME, PolicyName="s3", PolicyDocument=json.dumps(FULL))
    iam.create_role(RoleName="ci-deployer", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}))
    iam.create_group(GroupName="readers")
    iam.put_group_policy(GroupName="readers", PolicyName="read", PolicyDocument=json.dumps(READ))
    iam.add_user_to_group(GroupName="readers", UserName="alice")


@pytest.fixture
def account():
    with mock_aws():
        seed()
        yield boto3.client("iam", region_name="us-east-1")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def keys(iam, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


async def open_made(pilot) -> MadeScreen:
    await settle(pilot)
    pilot.app.open_made()
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MadeScreen)
    await wait_until(pilot, lambda: screen.made is not None, "what s3cred-tui made")
    await pilot.pause()
    return screen


async def test_made_lists_what_the_tool_made_with_reach_and_trust(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_made(pilot)
        users = screen.query_one("#made-users", DataTable)
        roles = screen.query_one("#made-roles", DataTable)
        buckets = screen.query_one("#made-buckets", DataTable)
        assert [str(k.value) for k in users.rows] == ["s3.read-only.made-data"]
        assert str(users.get_row_at(0)[6]) == "made-data/reports/ read-only"
        assert [str(k.value) for k in roles.rows] == [HELPER_ROLE_NAME]
        assert "user alice" in str(roles.get_row_at(0)[2])
        assert sorted(str(k.value) for k in buckets.rows) == ["made-data", "made-empty"]
        assert "1 user · 1 role · 2 buckets" in text_of(screen, "#made-title")
        why = text_of(screen, "#made-why")
        assert "User s3.read-only.made-data" in why and "inline s3cred-tui.read-only" in why
        roles.focus()
        await pilot.pause()
        why = text_of(screen, "#made-why")
        assert "the helper role" in why and "✓ user alice" in why


async def test_cleanup_of_marked_items_after_review(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_made(pilot)
        buckets = screen.query_one("#made-buckets", DataTable)
        buckets.focus()
        buckets.move_cursor(row=buckets.get_row_index("made-empty"))
        await pilot.press("space")
        assert screen.marked == {"bucket made-empty"}
        buckets.move_cursor(row=buckets.get_row_index("made-data"))
        await pilot.press("space")
        await pilot.press("x")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ConfirmModal)
        # The whole plan is in the question: what goes, and what is kept and why.
        assert "Remove bucket made-empty" in modal.question
        assert "Keep bucket made-data" in modal.question and "never deletes data" in modal.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, MessageModal) and "bucket made-empty" in str(
            app.screen.query_one("#modal-message", Static).render())
        names = {b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"]}
        assert names == {"made-data", "not-made"}
        await pilot.press("escape")
        await settle(pilot)
        assert [str(k.value) for k in screen.query_one("#made-buckets", DataTable).rows] == ["made-data"]


async def test_cleanup_answered_no_changes_nothing(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_made(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        await settle(pilot)
        assert "s3.read-only.made-data" in {u["UserName"] for u in account.list_users()["Users"]}


async def test_cleanup_refused_in_read_only_mode(account):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_made(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert app.screen is screen
        assert any("read-only" in n.message for n in app._notifications)


async def test_guided_rotation_from_the_made_screen(account):
    user = "s3.read-only.made-data"
    (old,) = keys(account, user)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_made(pilot)
        await pilot.press("t")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RotateScreen)
        await wait_until(pilot, lambda: screen.rotation is not None, "the rotation check")
        await pilot.pause()
        assert "Create the new key" in str(screen.query_one("#rotate-next", Button).label)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewKeyModal)
        new = modal._credentials.access_key_id
        assert keys(account, user) == {old: "Active", new: "Active"}
        await pilot.click("#done")
        await settle(pilot)
        assert app.screen is screen
        await wait_until(pilot, lambda: screen.rotation.probed, "the probe of the new key")
        await settle(pilot)
        assert "Both keys work" in text_of(screen, "#rotate-state")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "in place" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert keys(account, user) == {old: "Inactive", new: "Active"}
        assert not screen.query_one("#rotate-leave", Button).has_class("hidden")
        await pilot.press("ctrl+r", "y")
        await settle(pilot)
        assert keys(account, user) == {new: "Active"}
        assert "finished" in text_of(screen, "#rotate-state")
        assert screen.query_one("#rotate-next", Button).disabled


async def test_rotation_of_a_full_user_names_the_key_that_must_go(account):
    user = "s3.read-only.made-data"
    account.create_access_key(UserName=user)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_rotate(user)
        await settle(pilot)
        screen = app.screen
        await wait_until(pilot, lambda: screen.check is not None, "the rotation check")
        await pilot.pause()
        assert "Name the one to replace" in text_of(screen, "#rotate-state")
        assert screen.query_one("#rotate-next", Button).disabled


async def test_leaving_a_rotation_part_way_asks_and_says_where_it_stands(account):
    user = "s3.read-only.made-data"
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_rotate(user)
        await settle(pilot)
        screen = app.screen
        await pilot.press("ctrl+r", "y")
        await settle(pilot)
        await pilot.click("#done")
        await settle(pilot)
        await wait_until(pilot, lambda: screen.rotation.probed, "the probe")
        await pilot.press("escape")
        await pilot.pause()
        question = app.screen
        assert isinstance(question, ConfirmModal) and "Both keys work" in question.question
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, RotateScreen)
        assert screen.rotation.stopped
        assert len(keys(account, user)) == 2


async def test_rotation_refused_in_read_only_mode(account):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.open_rotate("s3.read-only.made-data") is False
        assert not isinstance(app.screen, RotateScreen)


async def test_roles_show_who_can_assume_them(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_roles()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RolesScreen)
        await wait_until(pilot, lambda: len(screen.roles) == 2, "the roles")
        await settle(pilot)
        table = screen.table
        assert sorted(table.keys) == ["ci-deployer", HELPER_ROLE_NAME]
        assert "anyone" in str(table.row("ci-deployer")[1])
        assert "user alice" in str(table.row(HELPER_ROLE_NAME)[1])
        table.table.move_cursor(row=table.table.get_row_index("ci-deployer"))
        await pilot.pause()
        why = text_of(screen, "#role-why")
        assert "Role ci-deployer" in why and "✓ anyone" in why and '"Principal": "*"' in why


async def test_groups_show_members_and_reach(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_groups()
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, GroupsScreen)
        await wait_until(pilot, lambda: screen.groups, "the groups")
        await settle(pilot)
        assert screen.table.row("readers")[1:] == ["1", "1", "made-data/reports/ read-only"]
        why = text_of(screen, "#group-why")
        assert "Members: alice" in why and "made-data/reports/ read-only" in why


@pytest.mark.parametrize(
    "typed, screen_class",
    [("made by s3cred", MadeScreen), ("roles", RolesScreen), ("groups", GroupsScreen),
     ("rotate a key of user s3.read-only", RotateScreen)],
)
async def test_the_palette_opens_the_new_screens(account, typed, screen_class):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(CommandInput).value = typed
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count, "palette matches")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, screen_class)


async def test_access_map_includes_groups_the_bucket_policy_and_roles_on_request(account):
    from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel

    public = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::made-data/reports/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::made-data/*"}]}
    boto3.client("s3", region_name="us-east-1").put_bucket_policy(Bucket="made-data", Policy=json.dumps(public))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_bucket("made-data")
        await settle(pilot)
        panel = app.screen.query_one(AccessMapPanel)
        await wait_until(pilot, lambda: bool(panel.entries), "the access map")
        panel.query_one("#map-prefix").value = "reports/"
        await settle(pilot)
        # The group's own policies, with its members; the public grant of the bucket policy.
        readers = panel.other("group", "readers")
        assert readers is not None and readers.allowed == ("list", "read") and readers.via == "1 member: alice"
        anyone = panel.other("bucket policy", "anyone (*)")
        assert anyone is not None and anyone.allowed == ("read",)
        assert panel.other("role", HELPER_ROLE_NAME) is None  # roles only once asked for
        assert "the bucket policy" in panel.border_subtitle
        await pilot.click("#map-roles")
        await settle(pilot)
        helper = panel.other("role", HELPER_ROLE_NAME)
        # The role's s3:* is cut by the bucket policy's Deny on writes.
        assert helper is not None and helper.allowed == ("list", "read", "delete")
        assert "denied explicitly" in helper.write.reason and "bucket policy" in helper.write.reason
        others = panel.query_one("#map-others", DataTable)
        assert not others.has_class("hidden")
        # ci-deployer has no policy of its own, but the bucket policy's "*" lets its sessions read too.
        assert {str(k.value) for k in others.rows} == {
            f"role {HELPER_ROLE_NAME}", "role ci-deployer", "group readers", "bucket policy anyone (*)"}
        assert panel.other("role", "ci-deployer").allowed == ("read",)


async def test_users_list_flags_stale_access_and_filters_it(account):
    from datetime import datetime, timedelta, timezone

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
    account.create_user(UserName="fresh")
    account.create_access_key(UserName="fresh")
    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    for user in backend.users.values():
        user.create_date = now - timedelta(days=400)
        for key in user.access_keys:
            key.create_date = now - timedelta(days=200)
    backend.users["fresh"].access_keys[0].create_date = now - timedelta(days=5)
    app = make_app(clock=lambda: now)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        screen = app.account_screen()
        users = screen.users
        await wait_until(pilot, lambda: str(users.row("fresh")[7]) != "…", "the stale columns")
        old = users.row("s3.read-only.made-data")
        assert str(old[5]) == "200 days" and str(old[7]).startswith("stale: old key")
        assert str(users.row("fresh")[5]) == "5 days" and str(users.row("fresh")[7]) == ""
        assert str(users.row("alice")[7]) == "stale: no activity"  # no key, 400 days, never signed in
        users.set_filter("stale:")
        await settle(pilot)
        assert "fresh" not in users.visible_keys() and "s3.read-only.made-data" in users.visible_keys()
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, RolesScreen)


async def test_enter_on_a_made_user_opens_it(account):
    from s3cred_tui.ui.screens.user import UserScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_made(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen) and app.screen.user_name == "s3.read-only.made-data"


async def test_t_on_the_user_screen_opens_rotation_of_the_highlighted_key(monkeypatch):
    from s3cred_tui.ui.app import S3CredApp
    from s3cred_tui.ui.screens.user import UserScreen

    opened: list[tuple[str, str | None]] = []
    monkeypatch.setattr(S3CredApp, "open_rotate", lambda self, user, key_id=None: opened.append((user, key_id)) or True)
    monkeypatch.setattr(UserScreen, "highlighted_key_id", lambda self: "AKIAHIGHLIGHTED")
    screen = UserScreen.__new__(UserScreen)
    monkeypatch.setattr(UserScreen, "s3cred_app", property(lambda self: S3CredApp.__new__(S3CredApp)))
    screen.user_name = "alice"
    screen.action_rotate()
    assert opened == [("alice", "AKIAHIGHLIGHTED")]
