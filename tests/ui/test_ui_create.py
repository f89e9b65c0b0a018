"""The create-credentials flow, driven like a person would: form → review → apply → result.

Runs the real app against moto in-process (`mock_aws` patches botocore process-wide, so the
app's worker threads talk to it too). What a key may do is checked with moto's IAM
enforcement on object operations only; moto ignores Condition blocks, so listing limits
are not asserted here.
"""

from __future__ import annotations

import json
import os
import stat
import threading

import boto3
import botocore.client
import botocore.exceptions
import pytest
from moto import mock_aws
from moto.core import enable_iam_authentication
from moto.moto_api._internal import mock_random
from textual.widgets import Button, Input, OptionList, SelectionList, Static

from s3cred_tui.core.request import CredentialKind
from s3cred_tui.ui import clipboard
from s3cred_tui.ui.app import S3CredApp
from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.create import CreateScreen, FormState, evaluate_form, open_create_screen, split_bucket_names
from s3cred_tui.ui.screens.create_pickers import BucketPickerModal, PrefixPickerModal, parent_prefix
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.screens.review import ReviewScreen
from s3cred_tui.ui.widgets.policy_preview import PolicyPreview
from s3cred_tui.ui.widgets.probe_panel import ProbePanel
from tests.ui.helpers import make_app, settle

BUCKET = "alpha-bucket"
OTHER_BUCKET = "beta-bucket"
USER = f"s3.read-only.{BUCKET}"
SIZE = (100, 40)


@pytest.fixture
def account():
    with mock_aws():
        mock_random.seed(42)
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in (BUCKET, OTHER_BUCKET):
            s3.create_bucket(Bucket=bucket)
        for key in ("reports/2024/a.csv", "reports/2025/b.csv", "raw/x.bin", "top.txt"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"data")
        yield boto3.client("iam", region_name="us-east-1")


@pytest.fixture
def notices(monkeypatch):
    """Every notification text, in order (the app's toasts are what a person reads)."""
    seen: list[str] = []
    original = S3CredApp.notify

    def recording(self, message, *args, **kwargs):
        seen.append(str(message))
        return original(self, message, *args, **kwargs)

    monkeypatch.setattr(S3CredApp, "notify", recording)
    return seen


@pytest.fixture
def copied(monkeypatch):
    """What the app handed to OSC 52; no system clipboard tool is used in tests."""
    received: list[str] = []
    monkeypatch.setattr(S3CredApp, "copy_to_clipboard", lambda self, text: received.append(text))
    monkeypatch.setattr(clipboard, "system_clipboard_commands", lambda *a, **k: [])
    return received


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def open_create(pilot, buckets=(BUCKET,), prefix: str = "") -> CreateScreen:
    await settle(pilot)
    await pilot.app.push_screen(CreateScreen(buckets=list(buckets), prefix=prefix))
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CreateScreen)
    return screen


async def set_input(pilot, screen, selector: str, value: str) -> None:
    widget = screen.query_one(selector, Input)
    widget.value = value
    await pilot.pause()


async def review(pilot) -> ReviewScreen:
    await pilot.press("ctrl+r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReviewScreen)
    return screen


async def apply(pilot) -> ApplyScreen:
    await pilot.press("ctrl+a")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ApplyScreen)
    return screen


# -- pure helpers ------------------------------------------------------------------------


def test_bucket_names_are_split_on_commas_and_spaces_without_duplicates():
    assert split_bucket_names(" a, b  c,,a ") == ("a", "b", "c")
    assert split_bucket_names("") == ()


def test_parent_prefix():
    assert parent_prefix("a/b/") == "a/"
    assert parent_prefix("a/") == ""
    assert parent_prefix("") == ""


def test_form_evaluation_reports_fields_and_size_limit():
    outcome = evaluate_form(FormState(buckets_text="ok-bucket", prefix="reports"))
    assert outcome.ok
    assert '"arn:aws:s3:::ok-bucket/reports/*"' in outcome.policy_text
    assert outcome.policy_limit == 2048

    temporary = evaluate_form(FormState(buckets_text="ok-bucket", kind=CredentialKind.ASSUME_ROLE))
    assert temporary.policy_limit_label == "session policy"

    many = " ".join(f"bucket-number-{i:03d}-with-a-long-name" for i in range(40))
    too_big = evaluate_form(FormState(buckets_text=many))
    assert not too_big.ok
    assert any(p.field == "policy" for p in too_big.problems)
    assert too_big.policy_text is not None  # still shown, so a person can see why


# -- the form ----------------------------------------------------------------------------


async def test_preview_follows_the_form_without_any_aws_call(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot)
        preview = screen.query_one(PolicyPreview)
        assert f"arn:aws:s3:::{BUCKET}/*" in preview.policy_text
        assert "s3:GetObject" in preview.policy_text and "s3:PutObject" not in preview.policy_text
        assert "/ 2,048 characters (inline user policy" in text(screen, "#policy-size")

        calls: list[str] = []
        real_call = botocore.client.BaseClient._make_api_call

        def counting(client, operation, params):
            calls.append(operation)
            return real_call(client, operation, params)

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", counting)

        await pilot.click("#access-write-only")
        await pilot.pause()
        assert "s3:PutObject" in preview.policy_text and "s3:GetObject" not in preview.policy_text

        screen.query_one("#prefix", Input).focus()
        await pilot.press(*"reports")
        await pilot.pause()
        assert f"arn:aws:s3:::{BUCKET}/reports/*" in preview.policy_text

        await set_input(pilot, screen, "#buckets", f"{BUCKET}, {OTHER_BUCKET}")
        assert f"arn:aws:s3:::{OTHER_BUCKET}/reports/*" in preview.policy_text

        await pilot.click("#kind-assume-role")
        await pilot.pause()
        assert "(session policy" in text(screen, "#policy-size")
        assert not screen.query_one("#temporary-options").has_class("hidden")
        assert screen.query_one("#permanent-options").has_class("hidden")

        assert calls == [], "typing in the form must not call AWS"
        assert not screen.query_one("#review", Button).disabled


async def test_problems_appear_beside_the_field_at_fault(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot)
        review_button = screen.query_one("#review", Button)
        assert not review_button.disabled
        assert screen.query_one("#error-buckets").has_class("hidden")

        await set_input(pilot, screen, "#buckets", "Bad_Bucket")
        assert "Bad_Bucket" in text(screen, "#error-buckets")
        assert not screen.query_one("#error-buckets").has_class("hidden")
        assert screen.query_one("#buckets").has_class("-invalid")
        assert review_button.disabled
        assert screen.query_one(PolicyPreview).policy_text == ""

        await set_input(pilot, screen, "#buckets", BUCKET)
        await set_input(pilot, screen, "#prefix", "/reports")
        assert text(screen, "#error-prefix")
        assert text(screen, "#error-buckets") == ""
        assert review_button.disabled

        await set_input(pilot, screen, "#prefix", "logs*")
        assert "LITERAL" in text(screen, "#error-prefix").upper()
        await pilot.click("#prefix-mode-pattern")
        await pilot.pause()
        assert text(screen, "#error-prefix") == ""
        await set_input(pilot, screen, "#prefix", "")

        await set_input(pilot, screen, "#username", "bad name!")
        assert text(screen, "#error-username")
        assert review_button.disabled
        await set_input(pilot, screen, "#username", "")

        await pilot.click("#kind-federation-token")
        await pilot.pause()
        await set_input(pilot, screen, "#duration", "5m")
        # Federation tokens allow 15 minutes to 36 hours (AWS GetFederationToken DurationSeconds).
        assert "15 minutes to 36 hours" in text(screen, "#error-duration")
        await set_input(pilot, screen, "#duration", "later")
        assert "later" in text(screen, "#error-duration")
        assert review_button.disabled
        await set_input(pilot, screen, "#duration", "2h")
        assert text(screen, "#error-duration") == ""
        assert not review_button.disabled


async def test_custom_policy_is_checked_as_json(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot)
        await pilot.click("#access-custom")
        await pilot.pause()
        editor = screen.query_one("#custom-policy")
        assert not editor.has_class("hidden")
        assert screen.query_one("#review", Button).disabled

        editor.load_text('{"Version": "2012-10-17", "Statement": [')
        await pilot.pause()
        assert "not valid JSON" in text(screen, "#error-access")

        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/x/*"}],
        }
        editor.load_text(json.dumps(policy))
        await pilot.pause()
        assert text(screen, "#error-access") == ""
        assert f"arn:aws:s3:::{BUCKET}/x/*" in screen.query_one(PolicyPreview).policy_text
        assert not screen.query_one("#review", Button).disabled


async def test_read_only_mode_blocks_creating(account, notices):
    app = make_app(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = len(app.screen_stack)
        assert open_create_screen(app, [BUCKET]) is False
        assert len(app.screen_stack) == before
        assert "create credentials" in notices[-1] and "read-only" in notices[-1].lower()

        # A caller that pushes the screen directly is stopped by the screen itself.
        notices.clear()
        app.push_screen(CreateScreen(buckets=[BUCKET]))
        await settle(pilot)
        assert not isinstance(app.screen, CreateScreen)
        assert len(app.screen_stack) == before
        assert "create credentials" in notices[-1] and "read-only" in notices[-1].lower()
    assert boto3.client("iam", region_name="us-east-1").list_users()["Users"] == []


# -- pickers -----------------------------------------------------------------------------


async def test_bucket_picker_fills_the_bucket_field(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot, buckets=())
        await pilot.press("ctrl+b")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, BucketPickerModal)
        await pilot.press(*"beta")
        await pilot.pause()
        options = picker.query_one(SelectionList)
        assert options.option_count == 1
        await pilot.press("enter", "space")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#buckets", Input).value == OTHER_BUCKET


async def test_prefix_picker_walks_the_bucket(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, PrefixPickerModal)
        options = picker.query_one(OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert prompts == ["raw/", "reports/"]
        options.highlighted = 1
        await pilot.press("enter")
        await settle(pilot)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert prompts == ["↑ ..", "2024/", "2025/"]
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#prefix", Input).value == "reports/"
        assert f"arn:aws:s3:::{BUCKET}/reports/*" in screen.query_one(PolicyPreview).policy_text


# -- review, apply, result ---------------------------------------------------------------


async def test_whole_flow_makes_a_read_only_key(account, notices, copied):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        review_screen = await review(pilot)
        plan_text = text(review_screen, "#review-plan")
        for call in ("iam:CreateUser", "iam:PutUserPolicy", "iam:CreateAccessKey"):
            assert call in plan_text
        assert "Nothing has been changed yet" in plan_text
        assert account.list_users()["Users"] == [], "reviewing must not change the account"
        assert not review_screen.query_one("#apply", Button).disabled

        apply_screen = await apply(pilot)
        assert apply_screen.result is not None and apply_screen.result.ok
        assert all(state.status == "done" for state in apply_screen.states)
        assert "✓" in text(apply_screen, "#step-0")
        assert "All done" in text(apply_screen, "#apply-outcome")

        await pilot.press("enter")
        await pilot.pause()
        result = app.screen
        assert isinstance(result, ResultScreen)
        creds = result.credentials
        shown_secret = text(result, "#secret")
        assert creds.secret_access_key not in shown_secret
        assert shown_secret == creds.masked_secret
        assert text(result, "#key-id") == creds.access_key_id
        assert "shown only now" in text(result, "#result-warning")

        await pilot.press("v")  # reveal (issue 12: `r` is refresh everywhere)
        assert text(result, "#secret") == creds.secret_access_key
        await pilot.press("v")
        assert text(result, "#secret") == creds.masked_secret

        # Copies are `y` (the copy menu), then a format letter (issue 12: no motion key copies).
        await pilot.press("y", "i")
        # Issue 12: the INI section is the new user's name, never [default] (which would
        # overwrite the person's own default profile).
        assert copied[-1].startswith(f"[{USER}]")
        assert f"aws_secret_access_key = {creds.secret_access_key}" in copied[-1]
        assert notices[-1] == "Copied INI block via OSC 52 only — your terminal may not support it."
        await pilot.press("y", "a")
        assert copied[-1] == creds.access_key_id
        assert notices[-1].startswith("Copied access key id via OSC 52")
        await pilot.press("y", "e")
        assert f"export AWS_SECRET_ACCESS_KEY={creds.secret_access_key}" in copied[-1]
        await pilot.press("y", "p")
        assert json.loads(copied[-1])["Version"] == 1
        assert all(creds.secret_access_key not in notice for notice in notices)

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert not isinstance(app.screen, (CreateScreen, ReviewScreen, ApplyScreen, ResultScreen))

    assert [u["UserName"] for u in account.list_users()["Users"]] == [USER]
    assert account.list_user_policies(UserName=USER)["PolicyNames"]
    key = boto3.client(
        "s3", region_name="us-east-1",
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
    )
    with enable_iam_authentication():
        assert key.get_object(Bucket=BUCKET, Key="top.txt")["Body"].read() == b"data"
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            key.put_object(Bucket=BUCKET, Key="new.txt", Body=b"x")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
        with pytest.raises(botocore.exceptions.ClientError):
            key.get_object(Bucket=OTHER_BUCKET, Key="anything")


async def test_blockers_disable_apply_and_say_what_to_change(account):
    account.create_user(UserName=USER)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        review_screen = await review(pilot)
        plan_text = text(review_screen, "#review-plan")
        assert f"User {USER} exists" in plan_text
        assert "Go back (Esc) and change the request" in plan_text
        assert review_screen.query_one("#apply", Button).disabled
        await pilot.press("ctrl+a")
        await pilot.pause()
        assert app.screen is review_screen

        await pilot.press("escape")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, CreateScreen)
        await pilot.click("#reuse-user")
        review_screen = await review(pilot)
        assert not review_screen.query_one("#apply", Button).disabled
        assert "it will be reused" in text(review_screen, "#review-plan")


def _failing(operation: str, code: str = "LimitExceeded"):
    def fail(**kwargs):
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": code, "Message": f"injected failure of {operation}"}}, operation
        )

    return fail


async def test_failed_apply_shows_the_rollback(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        await review(pilot)
        monkeypatch.setattr(app.aws.iam, "create_access_key", _failing("CreateAccessKey"))
        apply_screen = await apply(pilot)
        result = apply_screen.result
        assert result is not None and not result.ok
        assert [state.status for state in apply_screen.states] == ["undone", "undone", "failed", "pending"]
        assert "failed" in text(apply_screen, "#step-2")
        assert "undone" in text(apply_screen, "#step-0")
        outcome = text(apply_screen, "#apply-outcome")
        assert "injected failure of CreateAccessKey" in outcome
        assert "Rolled back" in outcome and "as it was before" in outcome
        assert not apply_screen.query_one("#back").has_class("hidden")

        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CreateScreen)
    assert account.list_users()["Users"] == []


async def test_what_could_not_be_undone_is_listed(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        await review(pilot)
        monkeypatch.setattr(app.aws.iam, "create_access_key", _failing("CreateAccessKey"))
        monkeypatch.setattr(app.aws.iam, "delete_user", _failing("DeleteUser", "ServiceFailure"))
        apply_screen = await apply(pilot)
        assert apply_screen.states[0].status == "undo-failed"
        outcome = text(apply_screen, "#apply-outcome")
        assert "Could NOT be undone" in outcome
        assert "injected failure of DeleteUser" in outcome
    assert [u["UserName"] for u in account.list_users()["Users"]] == [USER]


async def test_cancel_stops_between_steps_and_rolls_back(account, monkeypatch):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        await review(pilot)
        in_step, release = threading.Event(), threading.Event()
        real_put = app.aws.iam.put_user_policy

        def slow_put(**kwargs):
            in_step.set()
            release.wait(10)
            return real_put(**kwargs)

        monkeypatch.setattr(app.aws.iam, "put_user_policy", slow_put)
        await pilot.press("ctrl+a")
        await pilot.pause()
        apply_screen = app.screen
        assert isinstance(apply_screen, ApplyScreen)
        assert in_step.wait(10)
        await pilot.pause()
        assert apply_screen.states[1].status == "running"
        await pilot.click("#cancel")
        assert "Cancelling" in text(apply_screen, "#apply-outcome")
        release.set()
        await settle(pilot)

        result = apply_screen.result
        assert result is not None and result.cancelled and not result.ok
        assert [state.status for state in apply_screen.states] == ["undone", "undone", "cancelled", "cancelled"]
        assert "Cancelled" in text(apply_screen, "#apply-outcome")
    assert account.list_users()["Users"] == []


# -- clipboard ---------------------------------------------------------------------------


def test_clipboard_tools_need_their_display():
    def which(name):
        return f"/usr/bin/{name}" if name in ("wl-copy", "xclip", "xsel") else None

    assert clipboard.system_clipboard_commands(which, {}) == []
    assert [name for name, _ in clipboard.system_clipboard_commands(which, {"DISPLAY": ":0"})] == ["xclip", "xsel"]
    names = [name for name, _ in clipboard.system_clipboard_commands(which, {"WAYLAND_DISPLAY": "w", "DISPLAY": ":0"})]
    assert names == ["wl-copy", "xclip", "xsel"]


class _FakeApp:
    _driver = object()

    def __init__(self):
        self.osc52: list[str] = []

    def copy_to_clipboard(self, text):
        self.osc52.append(text)


def test_copy_says_which_channels_worked():
    app = _FakeApp()
    outcome = clipboard.copy_text(app, "s3cr3t", "secret access key", commands=[("xclip", ["xclip"])], run_tool=lambda argv, text: True)
    assert app.osc52 == ["s3cr3t"]
    assert outcome.message == "Copied secret access key via OSC 52 and xclip."
    failed = clipboard.copy_text(
        app, "s3cr3t", "INI block", commands=[("xclip", ["xclip"]), ("xsel", ["xsel"])], run_tool=lambda argv, text: argv == ["xsel"]
    )
    assert failed.message == "Copied INI block via OSC 52 and xsel. (xclip failed.)"
    assert "s3cr3t" not in failed.message


def test_clipboard_tool_gets_the_secret_on_stdin_not_argv(tmp_path):
    tool = tmp_path / "fake-copy"
    tool.write_text(f'#!/bin/sh\necho "$@" > {tmp_path}/argv.txt\ncat > {tmp_path}/stdin.txt\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    outcome = clipboard.copy_text(_FakeApp(), "the-secret-value", "secret", commands=[("fake-copy", [str(tool), "--in"])])
    assert outcome.tools == ("fake-copy",)
    assert (tmp_path / "stdin.txt").read_text() == "the-secret-value"
    assert "the-secret-value" not in (tmp_path / "argv.txt").read_text()
    assert os.path.exists(tmp_path / "argv.txt")


async def test_temporary_credentials_show_their_expiry(server_account):
    server_account.client("s3").create_bucket(Bucket=BUCKET)
    app = S3CredApp(server_account.config())
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_create(pilot)
        await pilot.click("#kind-assume-role")
        await set_input(pilot, screen, "#duration", "30m")
        review_screen = await review(pilot)
        plan_text = text(review_screen, "#review-plan")
        assert "sts:AssumeRole" in plan_text
        assert "30 min" in text(review_screen, "#review-summary")
        apply_screen = await apply(pilot)
        assert apply_screen.result is not None and apply_screen.result.ok, text(apply_screen, "#apply-outcome")
        await pilot.press("enter")
        await pilot.pause()
        result = app.screen
        assert isinstance(result, ResultScreen)
        token = result.credentials.session_token
        assert token and token not in text(result, "#session-token")
        assert "hidden" in text(result, "#session-token")
        assert text(result, "#expires").endswith("UTC")
        await pilot.press("v")  # reveal (issue 12: `r` is refresh everywhere)
        assert text(result, "#session-token") == token


async def test_a_plan_that_cannot_be_built_is_explained(account, monkeypatch):
    from s3cred_tui.core.errors import AccessDenied
    from s3cred_tui.ui.screens import review as review_module
    from s3cred_tui.ui.screens.error import ErrorModal

    def denied(*args, **kwargs):
        raise AccessDenied("Access denied (iam:GetUser): not allowed", code="AccessDenied")

    monkeypatch.setattr(review_module, "build_plan", denied)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_create(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorModal)
        assert modal.error_title == "Could not build the plan"
        assert "iam:GetUser" in modal.error_message
        await pilot.press("escape")
        await pilot.pause()
        review_screen = app.screen
        assert isinstance(review_screen, ReviewScreen)
        assert review_screen.query_one("#apply", Button).disabled
        assert "nothing was changed" in text(review_screen, "#review-plan")


async def test_result_screen_probes_the_new_key(server_account):
    """Create a prefixed read-only key, then the result screen proves its scope with real requests."""
    s3 = server_account.client("s3")
    for bucket in (BUCKET, OTHER_BUCKET):
        s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=BUCKET, Key="reports/2024/a.csv", Body=b"data")
    s3.put_object(Bucket=BUCKET, Key="raw/x.bin", Body=b"data")
    server_account.enforce()
    try:
        app = S3CredApp(server_account.config())
        async with app.run_test(size=SIZE) as pilot:
            await open_create(pilot, prefix="reports/")
            await review(pilot)
            apply_screen = await apply(pilot)
            assert apply_screen.result is not None and apply_screen.result.ok, text(apply_screen, "#apply-outcome")
            await pilot.press("enter")
            await settle(pilot)
            result = app.screen
            assert isinstance(result, ResultScreen)
            panel = result.query_one(ProbePanel)
            await settle(pilot)
            report = panel.report
    finally:
        server_account.enforce(False)
    assert report is not None and report.results
    assert {r.case.where for r in report.results} >= {"inside", "outside", "other-bucket"}
    for row in report.results:
        # moto ignores the s3:prefix Condition, so only those rows may disagree here.
        assert row.agrees or row.case.decided_by_condition, row
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]} == {"reports/2024/a.csv", "raw/x.bin"}


async def test_system_clipboard_tool_runs_off_the_event_loop(account, notices, monkeypatch):
    """A clipboard tool may be slow; the copy happens in a worker thread and the notice follows."""
    ran_on: list[threading.Thread] = []

    def slow_tool(argv, text):
        ran_on.append(threading.current_thread())
        return True

    monkeypatch.setattr(S3CredApp, "copy_to_clipboard", lambda self, text: None)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        clipboard.copy_and_notify(app, "AKIAEXAMPLE", "access key id", commands=[("xclip", ["xclip"])], run_tool=slow_tool)
        await settle(pilot)
    assert ran_on and ran_on[0] is not threading.main_thread()
    assert notices[-1] == "Copied access key id via OSC 52 and xclip."
