"""Pilot tests of the guards against slips: leaving a secret shown once, cutting yourself off,
deleting a user half-way, and runs a dead process left unfinished."""

from __future__ import annotations

import json
import os

import boto3
import botocore.exceptions
import pytest
from botocore.parsers import ResponseParserError
from moto import mock_aws
from textual.command import CommandInput, CommandList, CommandPalette
from textual.widgets import Button, DataTable, Static

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.journal import RunInfo, UndoCall, open_journal, run_tag, runs_dir
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.demo.server import ADMIN_USER
from s3cred_tui.ui.screens.account import AccountScreen
from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.confirm import ConfirmModal, LeaveSecretModal
from s3cred_tui.ui.screens.error import ErrorModal
from s3cred_tui.ui.screens.recover import UnfinishedRunsModal
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.screens.user import DeletedUserModal, UserScreen
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from tests.ui.helpers import make_app, settle, wait_until

SIZE = (140, 42)
BUCKET = "reports"
POLICY = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
)
QUIT_KEYS = ["q", "ctrl+q", "ctrl+c"]


@pytest.fixture
def account():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="carol")
        yield iam


@pytest.fixture
def exits(monkeypatch):
    """Every app.exit request, recorded (and carried out)."""

    def spy(app):
        calls: list[bool] = []
        real_exit = app.exit

        def exit_spy(*args, **kwargs):
            calls.append(True)
            real_exit(*args, **kwargs)

        monkeypatch.setattr(app, "exit", exit_spy)
        return calls

    return spy


def notices(app) -> list[str]:
    return [n.message for n in app._notifications]


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def show_result(pilot) -> ResultScreen:
    await settle(pilot)
    app = pilot.app
    plan = build_plan(app.aws, CredentialRequest(buckets=(BUCKET,), prefix="reports/"), identity=app.identity)
    credentials = Credentials("AKIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", user_name="s3.reader")
    screen = ResultScreen(credentials, plan, autostart_probe=False)
    await app.push_screen(screen)
    await settle(pilot)
    return screen


async def palette(pilot, command: str) -> None:
    await pilot.press("ctrl+p")
    assert isinstance(pilot.app.screen, CommandPalette)
    pilot.app.screen.query_one(CommandInput).value = command
    await wait_until(pilot, lambda: pilot.app.screen.query_one(CommandList).option_count, "palette matches")
    await pilot.press("enter")
    await pilot.pause()


# -- leaving a secret shown once ------------------------------------------------------------


@pytest.mark.parametrize("key", QUIT_KEYS)
async def test_quit_keys_on_the_result_screen_ask_and_no_keeps_the_secret(account, exits, key):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        result = await show_result(pilot)
        await pilot.press(key)
        await pilot.pause()
        question = app.screen
        assert isinstance(question, LeaveSecretModal)
        assert "shown only once" in question.question and question.question.endswith("Quit anyway?")
        assert "You have not copied it." in question.question
        await pilot.press(key)  # a second press while asking opens no second question
        await pilot.pause()
        assert app.screen is question
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is result and requested == []

        await pilot.press(key)
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert requested == [True]


async def test_quit_after_a_successful_apply_asks_before_the_secret_was_ever_shown(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        plan = build_plan(app.aws, CredentialRequest(buckets=(BUCKET,), prefix="reports/"), identity=app.identity)
        app.open_apply(plan)
        await settle(pilot)
        applied = app.screen
        assert isinstance(applied, ApplyScreen) and applied.result is not None and applied.result.ok
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, LeaveSecretModal)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is applied and requested == []


async def test_palette_quit_and_refresh_on_the_result_screen_ask_first(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        result = await show_result(pilot)
        await palette(pilot, "Refresh")
        assert isinstance(app.screen, LeaveSecretModal)
        assert app.screen.question.endswith("Reload anyway?")
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is result

        await palette(pilot, "Quit")
        assert isinstance(app.screen, LeaveSecretModal)
        assert app.screen.question.endswith("Quit anyway?")
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.screen is result and requested == []


async def test_escape_on_the_result_screen_asks_and_says_what_was_copied(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        result = await show_result(pilot)
        await pilot.press("y", "a")  # the key id alone holds no secret
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveSecretModal)
        assert "You have not copied it." in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("y", "i")
        await pilot.press("escape")
        await pilot.pause()
        question = app.screen.question
        assert "You copied it (INI block)" in question and "check it arrived" in question
        assert question.endswith("Leave anyway?")
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, ResultScreen)
        assert result not in app.screen_stack
        await pilot.press("q")  # nothing secret left on screen: quitting asks nothing
        await pilot.pause()
        assert requested == [True]


async def test_quit_without_a_secret_on_screen_asks_nothing(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert requested == [True]


async def open_new_key(pilot) -> NewKeyModal:
    await settle(pilot)
    pilot.app.open_user("carol")
    await settle(pilot)
    await pilot.press("n", "y")
    await settle(pilot)
    modal = pilot.app.screen
    assert isinstance(modal, NewKeyModal)
    return modal


async def test_escape_on_the_new_key_dialog_asks_before_closing(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_new_key(pilot)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveSecretModal)
        assert app.screen.question.endswith("Close anyway?")
        await pilot.press("escape")  # Esc on the question cancels it, and only it
        await pilot.pause()
        assert app.screen is modal
        await pilot.click("#copy-env")
        await pilot.press("escape")
        await pilot.pause()
        assert "You copied it (the key as environment variables)" in app.screen.question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, UserScreen) and requested == []
        await pilot.press("q")
        await pilot.pause()
        assert requested == [True]


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_q_and_ctrl_c_on_the_new_key_dialog_neither_close_nor_quit(account, exits, key):
    # A modal takes only the app's priority keys (ctrl+q); q and ctrl+c do nothing there.
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_new_key(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert app.screen is modal and requested == []


async def test_ctrl_q_on_the_new_key_dialog_asks_first(account, exits):
    key = "ctrl+q"
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_new_key(pilot)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, LeaveSecretModal)
        assert app.screen.question.endswith("Quit anyway?")
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is modal and requested == []
        await pilot.press(key)
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert requested == [True]


async def test_palette_quit_on_the_new_key_dialog_asks_first(account, exits):
    app = make_app()
    requested = exits(app)
    async with app.run_test(size=SIZE) as pilot:
        modal = await open_new_key(pilot)
        await palette(pilot, "Quit")
        assert isinstance(app.screen, LeaveSecretModal)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is modal and requested == []


# -- the caller cannot cut itself off -------------------------------------------------------


async def test_own_user_and_own_key_are_refused_other_keys_are_not(server_account):
    iam = server_account.client("iam")
    other_key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]["AccessKeyId"]
    own_key = server_account.admin.access_key_id
    app = make_app(config=server_account.config())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.identity is not None and app.identity.name == ADMIN_USER
        app.open_user(ADMIN_USER)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, UserScreen)

        await pilot.press("x")
        await pilot.pause()
        assert screen is app.screen, "no confirmation is offered"
        assert any(f"User {ADMIN_USER} is you" in n for n in notices(app))

        table = screen.query_one("#access-keys", DataTable)
        table.move_cursor(row=table.get_row_index(own_key))
        for key in ("d", "a"):
            app._notifications.clear()
            await pilot.press(key)
            await pilot.pause()
            assert screen is app.screen
            assert any(f"{own_key} is the key this app is signed in with" in n for n in notices(app)), key

        table.move_cursor(row=table.get_row_index(other_key))
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal), "another key of yours may go"
        await pilot.press("n")
    keys = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=ADMIN_USER)["AccessKeyMetadata"]}
    assert keys == {own_key: "Active", other_key: "Active"}


# -- deleting a user: read everything, then delete; a stop says where -------------------------


def give_carol_things(iam) -> None:
    arn = iam.create_policy(PolicyName="readers", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="carol", PolicyArn=arn)
    iam.put_user_policy(UserName="carol", PolicyName="inline", PolicyDocument=POLICY)
    iam.create_group(GroupName="staff")
    iam.add_user_to_group(GroupName="staff", UserName="carol")
    iam.create_access_key(UserName="carol")


def html_page(**kwargs):  # what the demo's moto answers for ListServiceSpecificCredentials
    raise ResponseParserError("Unable to parse response: <!doctype html>")


async def open_carol(pilot, monkeypatch) -> UserScreen:
    # Made by the tool: deleting asks the plain yes/no (a user it did not make: test_ux_delete_user).
    pilot.app.aws.iam.tag_user(UserName="carol", Tags=[CREATED_BY_TAG])
    await settle(pilot)
    monkeypatch.setattr(pilot.app.aws.iam, "list_service_specific_credentials", html_page)
    pilot.app.open_user("carol")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, UserScreen)
    return screen


async def test_delete_user_lists_every_call_first_then_deletes(account, monkeypatch):
    give_carol_things(account)
    key_id = account.list_access_keys(UserName="carol")["AccessKeyMetadata"][0]["AccessKeyId"]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_carol(pilot, monkeypatch)
        await pilot.press("x")
        await pilot.pause()
        question = app.screen
        assert isinstance(question, ConfirmModal)
        listed = [line.removeprefix("  • ") for line in question.question.splitlines() if line.startswith("  • ")]
        assert listed == [
            "Detach policy readers",
            "Delete inline policy inline",
            "Remove from group staff",
            f"Delete access key {key_id}",
            "Delete user carol",
        ]
        assert "counted as nothing to remove: iam:ListServiceSpecificCredentials" in question.question
        assert account.list_user_policies(UserName="carol")["PolicyNames"] == ["inline"], "nothing goes before yes"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DeletedUserModal)
        assert app.screen.removed == listed
    assert "carol" not in [u["UserName"] for u in account.list_users()["Users"]]


async def test_a_failure_half_way_reports_what_was_removed_and_what_remains(account, monkeypatch):
    give_carol_things(account)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_carol(pilot, monkeypatch)

        def fail(**kwargs):
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ServiceFailure", "Message": "injected failure"}}, "RemoveUserFromGroup"
            )

        monkeypatch.setattr(app.aws.iam, "remove_user_from_group", fail)
        await pilot.press("x", "y")
        await settle(pilot)
        report = app.screen
        assert isinstance(report, ErrorModal)
        assert report.error_title == "User carol partly deleted"
        message = report.error_message
        assert "injected failure" in message
        assert "Removed: Detach policy readers; Delete inline policy inline." in message
        assert "Still there: Remove from group staff; Delete access key" in message
        assert message.endswith("Delete user carol.")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen, "the user screen stays, showing what is left"
        assert screen.keys_table.row_count == 1
    assert account.list_user_policies(UserName="carol")["PolicyNames"] == []
    assert account.list_attached_user_policies(UserName="carol")["AttachedPolicies"] == []
    assert [g["GroupName"] for g in account.list_groups_for_user(UserName="carol")["Groups"]] == ["staff"]


async def test_a_change_after_the_question_is_asked_again_and_nothing_goes(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_carol(pilot, monkeypatch)
        await pilot.press("x")
        await pilot.pause()
        assert "Delete inline policy" not in app.screen.question
        account.put_user_policy(UserName="carol", PolicyName="late", PolicyDocument=POLICY)
        await pilot.press("y")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, ConfirmModal)
        assert "changed since you confirmed; nothing was removed" in again.question
        assert "  • Delete inline policy late" in again.question.splitlines()
        assert account.get_user(UserName="carol")["User"]["UserName"] == "carol"
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, DeletedUserModal)
    assert "carol" not in [u["UserName"] for u in account.list_users()["Users"]]


async def test_leaving_the_user_screen_waits_for_a_deletion(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_carol(pilot, monkeypatch)
        screen.deleting = True  # as while the deletion worker runs
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert any("wait for it to finish" in n for n in notices(app))


# -- runs a dead process left unfinished ----------------------------------------------------


def leave_unfinished_run(iam, user: str = "s3.half-made") -> str:
    """What a run killed after creating a user and its inline policy leaves: the resources and its journal."""
    info = RunInfo(
        run_id="deadbeef" * 4, started="2024-06-01T12:00:00+00:00", pid=os.getpid(), account="123456789012",
        caller_arn="arn:aws:iam::123456789012:user/moto", endpoint_url=None, profile=None, region="us-east-1",
    )
    journal = open_journal(info)
    arn = f"arn:aws:iam::123456789012:user/{user}"
    seq = journal.intend("user", user, arn, UndoCall("iam:DeleteUser", {"UserName": user}, f"Delete user {user}"))
    iam.create_user(UserName=user, Tags=[run_tag(info.run_id)])
    journal.created(seq)
    policy_arn = f"{arn}/policy/scope"
    seq = journal.intend("inline policy", "scope", policy_arn,
                         UndoCall("iam:DeleteUserPolicy", {"UserName": user, "PolicyName": "scope"}, "Delete inline policy scope"))
    iam.put_user_policy(UserName=user, PolicyName="scope", PolicyDocument=POLICY)
    journal.created(seq)
    journal.release()  # the process "dies": its lock goes, the file stays
    return arn


async def test_unfinished_runs_are_offered_for_rollback_on_start(account):
    arn = leave_unfinished_run(account)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, UnfinishedRunsModal)
        listed = text(modal, "#recover-list")
        assert arn in listed and f"{arn}/policy/scope" in listed and "Run deadbeef" in listed
        assert modal.query_one("#later", Button).has_focus, "the safe answer has focus"
        await pilot.click("#roll-back")
        await settle(pilot)
        log = text(modal, "#recover-log-text")
        assert log.index("removed  Delete inline policy scope") < log.index(f"removed  Delete user s3.half-made ({arn})")
        assert "nothing these runs created is left" in log
        await pilot.click("#later")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
    assert [u["UserName"] for u in account.list_users()["Users"]] == ["carol"]
    assert list(runs_dir().glob("*.jsonl")) == []


async def test_later_keeps_the_journal_and_changes_nothing(account):
    leave_unfinished_run(account)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, UnfinishedRunsModal)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AccountScreen)
    assert "s3.half-made" in [u["UserName"] for u in account.list_users()["Users"]]
    assert len(list(runs_dir().glob("*.jsonl"))) == 1


async def test_read_only_lists_unfinished_runs_but_cannot_roll_back(account):
    leave_unfinished_run(account)
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, UnfinishedRunsModal)
        assert app.screen.query_one("#roll-back", Button).disabled
    assert "s3.half-made" in [u["UserName"] for u in account.list_users()["Users"]]
