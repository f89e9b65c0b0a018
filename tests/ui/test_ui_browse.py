"""Pilot tests of the app shell and the browsing screens (account, bucket, user, help, palette)."""

from __future__ import annotations

import json
import threading

import boto3
import pytest
from moto import mock_aws
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widgets import Button, DataTable, Input, Select, Static, Tree

from s3cred_tui.core import inventory
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import SessionConfig
from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.core.user_analysis import expected_access, suggested_target
from s3cred_tui.ui.screens import bucket as bucket_screen
from s3cred_tui.ui.screens.account import AccountScreen
from s3cred_tui.ui.screens.bucket import BucketScreen, MoreData
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.error import ErrorModal
from s3cred_tui.ui.screens.help import HELP_TEXT, HelpScreen
from s3cred_tui.ui.screens.probe import ProbeScreen
from s3cred_tui.ui.screens.user import DeletedUserModal, UserScreen
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
READ_ONLY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::reports/*"]}],
}


def seed_account() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    for name in ("app-logs", "reports", "website"):
        s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket="eu-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    for month in range(1, 7):
        s3.put_object(Bucket="reports", Key=f"2024/{month:02d}/summary.csv", Body=b"x" * 100)
    s3.put_object(Bucket="reports", Key="README.txt", Body=b"hello")
    for name in ("alice", "bob", "carol"):
        iam.create_user(UserName=name)
    iam.put_user_policy(UserName="alice", PolicyName="reports-read", PolicyDocument=json.dumps(READ_ONLY_POLICY))
    iam.create_access_key(UserName="alice")
    iam.create_group(GroupName="auditors")
    iam.add_user_to_group(GroupName="auditors", UserName="bob")


@pytest.fixture
def account():
    with mock_aws():
        seed_account()
        yield boto3.client("iam", region_name="us-east-1")


def account_screen(app) -> AccountScreen:
    screen = app.account_screen()
    assert screen is not None
    return screen


async def open_user(pilot, name: str) -> UserScreen:
    account_screen(pilot.app).open_user(name)
    await settle(pilot)
    assert isinstance(pilot.app.screen, UserScreen)
    return pilot.app.screen


def map_rows(screen: BucketScreen) -> dict[str, list[str]]:
    """The access map as {user: [list, read, write, delete]} marks."""
    table = screen.access_map.query_one("#map-table", DataTable)
    return {str(row[0]): [str(cell) for cell in row[1:5]] for row in (table.get_row_at(i) for i in range(table.row_count))}


def key_statuses(iam, user: str) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=user)["AccessKeyMetadata"]}


# -- account view ----------------------------------------------------------------------------


async def test_account_lists_buckets_with_regions_and_users_with_counts(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = account_screen(app)
        assert screen.buckets.keys == ["app-logs", "reports", "website", "eu-data"]
        assert screen.buckets.row("eu-data")[1] == "eu-west-1"
        assert screen.buckets.row("app-logs")[1] == "us-east-1"
        assert set(screen.users.keys) == {"alice", "bob", "carol"}
        alice = screen.users.row("alice")
        assert alice[2] == "1" and alice[3].startswith("1") and alice[4] == "0"
        assert screen.users.row("bob")[4] == "1"
        status = str(screen.buckets.query_one(".filter-status").render())
        assert status == "4 buckets"
        assert app.identity is not None and app.identity.account == "123456789012"


async def test_tabs_switch_with_number_keys(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = account_screen(app)
        assert screen.active_tab == "buckets"
        await pilot.press("2")
        assert screen.active_tab == "users"
        assert screen.users.table.has_focus
        await pilot.press("1")
        assert screen.active_tab == "buckets"
        assert screen.buckets.table.has_focus


async def test_slash_focuses_filter_and_typing_filters_in_memory(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = account_screen(app)
        await pilot.press("slash")
        assert screen.buckets.filter_input.has_focus
        await pilot.press(*"eu-west")
        await settle(pilot)
        assert screen.buckets.shown == 1
        assert str(screen.buckets.query_one(".filter-status").render()) == "4 buckets · 1 shown"
        await pilot.press("escape")  # clears the filter
        await settle(pilot)
        assert screen.buckets.shown == 4
        await pilot.press("escape")  # then goes back to the list
        assert screen.buckets.table.has_focus


async def test_refresh_picks_up_new_buckets(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="brand-new")
        await pilot.press("r")
        await settle(pilot)
        assert "brand-new" in account_screen(app).buckets.keys


# -- bucket detail --------------------------------------------------------------------------


async def test_enter_on_bucket_opens_detail_with_prefixes_and_access_map(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")  # "reports"
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BucketScreen) and screen.bucket == "reports"
        root = screen.prefix_tree.root
        labels = [str(child.label) for child in root.children]
        assert labels[0] == "2024/"
        assert any(label.startswith("README.txt") for label in labels)
        assert map_rows(screen) == {"alice": ["✗", "✓", "✗", "✗"]}, "bob and carol have no access and are hidden"
        assert screen.objects_loaded == 1


async def test_expanding_a_prefix_loads_one_level_and_load_more_pages(account, monkeypatch):
    monkeypatch.setattr(bucket_screen, "PREFIX_PAGE_SIZE", 4)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        account_screen(app).open_bucket("reports")
        await settle(pilot)
        screen = app.screen
        tree: Tree = screen.prefix_tree
        year = tree.root.children[0]
        year.expand()
        await settle(pilot)
        first_page = [str(c.label) for c in year.children]
        assert first_page[:4] == ["01/", "02/", "03/", "04/"]
        assert isinstance(year.children[-1].data, MoreData)
        tree.select_node(year.children[-1])
        await settle(pilot)
        assert [str(c.label) for c in year.children] == ["01/", "02/", "03/", "04/", "05/", "06/"]
        month = year.children[0]
        month.expand()
        await settle(pilot)
        assert str(month.children[0].label).startswith("summary.csv")
        assert screen.objects_loaded == 2 and screen.bytes_loaded == 105


async def test_create_from_bucket_detail_prefills_highlighted_prefix(account):
    from s3cred_tui.ui.screens.create import CreateScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        account_screen(app).open_bucket("reports")
        await settle(pilot)
        tree = app.screen.prefix_tree
        tree.move_cursor(tree.root.children[0])
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        assert app.screen.initial_buckets == ["reports"] and app.screen.initial_prefix == "2024/"


async def test_c_on_account_opens_create_for_highlighted_bucket(account):
    from s3cred_tui.ui.screens.create import CreateScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "c")
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        assert app.screen.initial_buckets == ["website"]


async def test_access_map_shows_each_users_rights_and_follows_the_highlighted_prefix(account):
    """alice reads everything, writer reads and writes only under 2024/, lister only lists."""
    account.create_user(UserName="writer")
    account.put_user_policy(
        UserName="writer",
        PolicyName="reports-2024",
        PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_WRITE, "2024/")),
    )
    account.create_user(UserName="lister")
    account.put_user_policy(
        UserName="lister",
        PolicyName="list-only",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::reports"}]}
        ),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        iam_calls: list[str] = []
        app.aws.iam.meta.events.register("before-call.iam", lambda **kw: iam_calls.append(kw["event_name"]))
        for _page in inventory.iter_authorization_details(app.aws):
            pass
        one_reading = list(iam_calls)
        iam_calls.clear()
        account_screen(app).open_bucket("reports")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BucketScreen)
        assert iam_calls == one_reading, "users and policies are read once per screen, by the access map"
        assert map_rows(screen) == {
            "alice": ["✗", "✓", "✗", "✗"],
            "lister": ["✓", "✗", "✗", "✗"],
        }, "writer's grant starts at 2024/, so the bucket root is out of its reach"

        iam_calls.clear()
        tree = screen.prefix_tree
        tree.move_cursor(tree.root.children[0])  # 2024/
        await settle(pilot)
        assert screen.access_map.prefix == "2024/"
        assert screen.access_map.query_one("#map-prefix", Input).value == "2024/"
        assert map_rows(screen) == {
            "alice": ["✗", "✓", "✗", "✗"],
            "lister": ["✓", "✗", "✗", "✗"],
            "writer": ["✓", "✓", "✓", "✓"],
        }
        assert iam_calls == [], "moving through the tree re-evaluates without calling AWS"

        await pilot.press("u")
        table = screen.access_map.query_one("#map-table", DataTable)
        assert table.has_focus
        table.move_cursor(row=table.get_row_index("writer"))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen) and app.screen.user_name == "writer"


# -- user detail ----------------------------------------------------------------------------


async def test_enter_on_user_shows_policies_groups_and_keys(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")
        screen = account_screen(app)
        screen.users.set_filter("alice")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        user = app.screen
        assert isinstance(user, UserScreen) and user.user_name == "alice"
        assert user.keys_table.row_count == 1
        areas = list(user.query(".policy-json"))
        assert len(areas) == 1 and json.loads(areas[0].text) == READ_ONLY_POLICY
        assert areas[0].read_only and areas[0].language == "json"
        assert "none" in str(user.query_one("#user-facts").render())


async def test_deactivate_then_activate_key_after_confirmation(account):
    key_id = next(iter(key_statuses(account, "alice")))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        await pilot.press("a")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("y")
        await settle(pilot)
        assert key_statuses(account, "alice")[key_id] == "Inactive"
        assert isinstance(app.screen, UserScreen)
        assert str(app.screen.keys_table.get_cell(key_id, "status")) == "Inactive"
        await pilot.press("a", "y")
        await settle(pilot)
        assert key_statuses(account, "alice")[key_id] == "Active"


async def test_cancelled_confirmation_changes_nothing(account):
    key_id = next(iter(key_statuses(account, "alice")))
    account.tag_user(UserName="alice", Tags=[CREATED_BY_TAG])  # made by the tool: the plain yes/no (test_ux_delete_user)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        for key in ("a", "d", "x"):
            await pilot.press(key)
            assert isinstance(app.screen, ConfirmModal)
            await pilot.press("enter")  # the focused button is Cancel
            await settle(pilot)
            assert isinstance(app.screen, UserScreen)
        assert key_statuses(account, "alice") == {key_id: "Active"}
        assert account.get_user(UserName="alice")["User"]["UserName"] == "alice"


async def test_delete_key_after_confirmation(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_user(pilot, "alice")
        await pilot.press("d")
        await pilot.click("#confirm")
        await settle(pilot)
        assert key_statuses(account, "alice") == {}
        assert screen.keys_table.row_count == 0


async def test_new_key_is_shown_once_masked_until_revealed(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "carol")
        await pilot.press("n", "y")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, NewKeyModal)
        creds = modal._credentials
        assert list(key_statuses(account, "carol")) == [creds.access_key_id]
        values = modal.query_one("#new-key-values")
        assert creds.secret_access_key not in str(values.render())
        await pilot.press("v")  # reveal (issue 12: one reveal key across the app)
        assert creds.secret_access_key in str(values.render())
        await pilot.click("#copy-secret")
        assert app.clipboard == creds.secret_access_key
        await pilot.click("#done")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen) and app.screen.keys_table.row_count == 1


async def test_new_key_refused_at_two_keys(account):
    account.create_access_key(UserName="alice")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, UserScreen)  # no confirmation offered
        assert any("already has 2 access keys" in n.message for n in app._notifications)
        assert len(key_statuses(account, "alice")) == 2


async def test_delete_user_removes_everything_and_reports_it(account):
    account.tag_user(UserName="alice", Tags=[CREATED_BY_TAG])  # made by the tool: the plain yes/no (test_ux_delete_user)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        await pilot.press("x")
        assert "1 access key" in app.screen.question and "1 inline policy" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DeletedUserModal)
        assert any("alice" in item for item in app.screen.removed)
        assert "alice" not in [u["UserName"] for u in account.list_users()["Users"]]
        assert "alice" not in account_screen(app).users.keys
        await pilot.press("enter")
        assert isinstance(app.screen, AccountScreen)


async def test_user_screen_simulates_the_users_policies_with_the_deciding_sid(account):
    account.put_user_policy(
        UserName="carol",
        PolicyName="reports-2024",
        PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_ONLY, "2024/")),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_user(pilot, "carol")
        panel = screen.query_one("#user-simulate", SimulatePanel)
        # Prefilled from the policy: its bucket and the folder it grants.
        assert panel.query_one("#sim-bucket", Input).value == "reports"
        assert panel.query_one("#sim-key", Input).value == "2024/"
        answer = panel.last
        assert answer is not None and answer.decision is not None and answer.decision.allowed
        assert [(s.policy_name, s.sid) for s in answer.decision.deciding] == [("inline reports-2024", "ReadObjects")]
        shown = str(panel.query_one("#sim-verdict", Static).render()) + str(panel.query_one("#sim-deciding", Static).render())
        assert "ALLOW" in shown and "Sid 'ReadObjects'" in shown and "inline reports-2024" in shown

        denied = panel.ask("write")
        assert denied.decision is not None and not denied.decision.allowed
        outside = panel.ask("read", key="2023/summary.csv")
        assert outside.decision is not None and not outside.decision.allowed


async def test_user_screen_simulation_applies_the_permissions_boundary(account):
    from s3cred_tui.demo.seed import S3_READ_ONLY_ARN, register_aws_managed_policies

    register_aws_managed_policies()
    everything = {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
    account.put_user_policy(UserName="carol", PolicyName="admin", PolicyDocument=json.dumps(everything))
    app = make_app()

    def report_boundary(parsed: dict, **_: object) -> None:
        # moto does not store user boundaries; AWS returns them in GetUser, so add it as AWS would.
        if parsed.get("User", {}).get("UserName") == "carol":
            parsed["User"]["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": S3_READ_ONLY_ARN}

    app.aws.iam.meta.events.register("after-call.iam.GetUser", report_boundary)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_user(pilot, "carol")
        panel = screen.query_one("#user-simulate", SimulatePanel)
        read = panel.ask("read", bucket="reports", key="2024/01/summary.csv")
        assert read.decision is not None and read.decision.allowed
        write = panel.ask("write")
        assert write.decision is not None and not write.decision.allowed
        assert "boundary" in write.decision.reason
        assert expected_access(
            [("admin", everything)], "reports", "", boundary=screen.boundary_policy
        ) is AccessLevel.READ_ONLY


async def test_probe_a_key_opens_the_probe_prefilled_with_the_highlighted_key(account):
    key_id = next(iter(key_statuses(account, "alice")))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        await pilot.press("p")
        await pilot.pause()
        probe = app.screen
        assert isinstance(probe, ProbeScreen)
        assert probe.query_one("#probe-key-id", Input).value == key_id
        assert probe.query_one("#probe-buckets", Input).value == "reports"
        assert probe.query_one("#probe-access", Select).value == AccessLevel.READ_ONLY.value
        # Only the person knows the secret of a key made elsewhere: they paste it.
        assert probe.query_one("#probe-secret", Input).value == ""
        assert probe.query_one("#probe-secret", Input).has_focus
        await pilot.press("escape")
        assert isinstance(app.screen, UserScreen)
        await pilot.click("#probe-key")
        await pilot.pause()
        assert isinstance(app.screen, ProbeScreen)


async def test_probe_of_a_key_made_in_this_session_prefills_the_secret(account):
    account.put_user_policy(
        UserName="carol",
        PolicyName="reports-rw",
        PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_WRITE, "")),
    )
    older = account.create_access_key(UserName="carol")["AccessKey"]["AccessKeyId"]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = await open_user(pilot, "carol")
        await pilot.press("n", "y")
        await settle(pilot)
        assert isinstance(app.screen, NewKeyModal)
        creds = app.screen._credentials
        await pilot.click("#done")
        await settle(pilot)
        assert creds.access_key_id != older
        assert screen.highlighted_key_id() == creds.access_key_id, "the new key is highlighted, ready to probe"
        await pilot.press("p")
        await pilot.pause()
        probe = app.screen
        assert isinstance(probe, ProbeScreen)
        assert probe.query_one("#probe-key-id", Input).value == creds.access_key_id
        assert probe.query_one("#probe-secret", Input).value == creds.secret_access_key
        assert probe.query_one("#probe-secret", Input).password, "prefilled, still masked"
        assert probe.query_one("#probe-access", Select).value == AccessLevel.READ_WRITE.value
        assert probe.query_one("#probe-start", Button).has_focus


def test_suggested_target_and_expected_access_come_from_the_policies():
    scoped = policy_for(["reports"], AccessLevel.WRITE_ONLY, "drop/in/")
    assert suggested_target([scoped]) == ("reports", "drop/in/")
    assert expected_access([("p", scoped)], "reports", "drop/in/") is AccessLevel.WRITE_ONLY
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    assert suggested_target([everything], ["logs", "reports"]) == ("logs", "")
    assert expected_access([("p", everything)], "logs", "") is AccessLevel.READ_WRITE
    wildcard_folder = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data/team-*/x"}]}
    assert suggested_target([wildcard_folder]) == ("data", "")
    assert suggested_target([]) == ("", "")


# -- read-only mode: every mutating action is refused --------------------------------------


def assert_refused(app, what: str) -> None:
    assert not isinstance(app.screen, ConfirmModal)
    messages = [n.message for n in app._notifications]
    assert any("read-only" in m and what in m for m in messages), messages


@pytest.mark.parametrize(
    ("key", "what"),
    [
        ("a", "change an access key's status"),
        ("d", "delete an access key"),
        ("n", "create an access key"),
        ("x", "delete a user"),
    ],
)
async def test_read_only_blocks_user_actions(account, key, what):
    before = key_statuses(account, "alice")
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_user(pilot, "alice")
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, UserScreen)
        assert_refused(app, what)
    assert key_statuses(account, "alice") == before
    assert account.get_user(UserName="alice")["User"]["UserName"] == "alice"


async def test_read_only_blocks_create_from_account(account):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
        assert_refused(app, "create credentials")


async def test_read_only_blocks_create_from_bucket(account):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        account_screen(app).open_bucket("reports")
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, BucketScreen)
        assert_refused(app, "create credentials")


# -- errors ---------------------------------------------------------------------------------


async def test_access_denied_listing_users_shows_message_and_app_keeps_running(server_account):
    iam = server_account.client("iam")
    s3 = server_account.client("s3")
    s3.create_bucket(Bucket="visible-bucket")
    iam.create_user(UserName="s3-only")
    iam.put_user_policy(
        UserName="s3-only",
        PolicyName="s3-and-whoami",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:*", "sts:GetCallerIdentity"], "Resource": "*"}
                ],
            }
        ),
    )
    key = iam.create_access_key(UserName="s3-only")["AccessKey"]
    server_account.enforce()
    config = SessionConfig(
        region="us-east-1",
        endpoint_url=server_account.endpoint_url,
        access_key_id=key["AccessKeyId"],
        secret_access_key=key["SecretAccessKey"],
    )
    app = make_app(config=config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.error_title == "Access denied"
        assert "listing IAM users" in app.screen.error_message
        assert "Traceback" not in app.screen.error_message
        assert key["SecretAccessKey"] not in app.screen.error_message
        await pilot.press("enter")
        screen = account_screen(app)
        assert app.screen is screen
        assert screen.buckets.keys == ["visible-bucket"]  # what could be read stays visible
        assert "stopped" in str(screen.users.query_one(".filter-status").render())
        await pilot.press("2")
        assert screen.active_tab == "users"


async def test_missing_credentials_are_reported_once(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        modals = [s for s in app.screen_stack if isinstance(s, ErrorModal)]
        assert len(modals) == 1  # three workers failed for one reason: one message
        assert modals[0].error_title == "No AWS credentials"
        await pilot.press("enter")
        assert isinstance(app.screen, AccountScreen)


async def test_throttling_while_listing_buckets_is_shown(account, monkeypatch):
    from s3cred_tui.core.errors import Throttled

    def throttled(ctx, page_size=1000):
        yield [inventory.BucketSummary("first-page", None, "us-east-1")]
        raise Throttled("AWS is throttling requests (s3:ListBuckets); slow down and retry.")

    monkeypatch.setattr(inventory, "iter_bucket_pages", throttled)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal) and app.screen.error_title == "AWS is throttling requests"
        await pilot.press("escape")
        assert account_screen(app).buckets.keys == ["first-page"]


# -- responsiveness -------------------------------------------------------------------------


async def test_key_presses_work_while_thousands_of_users_load(account, monkeypatch):
    release = threading.Event()
    pages_sent = threading.Event()
    finished = threading.Event()

    def many_users(ctx, page_size=100, first_page_size=None):
        for start in range(0, 5000, 100):
            if start == 1000:
                pages_sent.set()
                release.wait(timeout=30)  # hold the listing open while the test types
            yield [
                inventory.UserSummary(f"user-{i:05d}", f"arn:aws:iam::123456789012:user/user-{i:05d}", f"AID{i}", None, "/")
                for i in range(start, start + 100)
            ]
        finished.set()

    def fake_counts(ctx, names, max_workers=16):
        return {name: inventory.UserCounts(0, 0, 0, 0) for name in names}

    monkeypatch.setattr(inventory, "iter_user_pages", many_users)
    monkeypatch.setattr(inventory, "user_counts", fake_counts)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = account_screen(app)
        await wait_until(pilot, pages_sent.is_set, "the first user pages")
        await pilot.press("2", "slash", *"user-0004")
        await pilot.pause()
        # The listing is still running, yet the tab switch and the filter took effect.
        assert not finished.is_set()
        assert screen.active_tab == "users"
        assert screen.users.filter_input.value == "user-0004"
        assert screen.users.busy
        while screen.users._refilling:
            await pilot.pause()
        assert screen.users.shown == 10
        release.set()
        await settle(pilot)
        assert finished.is_set()
        assert screen.users.total == 5000
        assert screen.users.shown == 10  # user-00040 … user-00049
        assert not screen.users.busy


# -- help, palette, profiles ---------------------------------------------------------------


async def test_help_opens_with_question_mark_and_closes_with_escape(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, AccountScreen)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
    for topic in ("Probe", "Simulate", "Access map", "Emulator caveat", "Condition"):
        assert topic in HELP_TEXT


async def test_palette_opens_the_probe_for_any_key_pair(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(CommandInput).value = "probe a key"
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count, "palette matches")
        await pilot.press("enter")
        await pilot.pause()
        probe = app.screen
        assert isinstance(probe, ProbeScreen)
        assert probe.query_one("#probe-key-id", Input).value == ""
        assert probe.query_one("#probe-key-id", Input).has_focus


async def test_palette_creates_credentials_for_a_bucket(account):
    from s3cred_tui.ui.screens.create import CreateScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        app.screen.query_one(CommandInput).value = "bucket eu-data"
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count, "palette matches")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)
        assert app.screen.initial_buckets == ["eu-data"]


async def test_palette_commands_cover_buckets_users_refresh_help_and_profiles(account, tmp_path, monkeypatch):
    from s3cred_tui.ui.commands import S3CredCommands

    (tmp_path / "aws-config").write_text("[profile staging]\nregion = eu-west-1\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = S3CredCommands(app.screen)
        texts = [c.text for c in provider._commands()]
        assert "Refresh" in texts and "Help" in texts
        assert "Switch profile: staging" in texts
        assert "Create credentials for bucket reports" in texts
        assert "Open user bob" in texts


async def test_switching_profile_rebuilds_context_and_reloads(account, tmp_path):
    (tmp_path / "aws-credentials").write_text(
        "[staging]\naws_access_key_id = AKIASTAGING\naws_secret_access_key = staging-secret\n"
    )
    (tmp_path / "aws-config").write_text("[profile staging]\nregion = us-east-1\n")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        old_context = app.aws
        app.switch_profile("staging")
        await settle(pilot)
        assert app.aws is not old_context and app.aws.profile == "staging"
        assert app.identity is not None
        assert set(account_screen(app).users.keys) == {"alice", "bob", "carol"}


async def test_switching_to_unknown_profile_keeps_the_old_one(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        old_context = app.aws
        app.switch_profile("does-not-exist")
        await pilot.pause()
        assert app.aws is old_context
        assert isinstance(app.screen, ErrorModal) and "does-not-exist" in app.screen.error_message
