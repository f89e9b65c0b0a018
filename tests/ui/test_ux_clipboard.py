"""When a copy will probably go nowhere, the app says so and offers a file only the person can read (issue 12).

The judgement (`clipboard.clipboard_support`) is a plain function over an environment; the file is
created with mode 0600 from its first moment (`write_private_file`), never chmod-ed after.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path

import pytest
from moto import mock_aws
from textual.widgets import Button, Input, Static

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.ui import clipboard
from s3cred_tui.ui.app import S3CredApp
from s3cred_tui.ui.screens.confirm import ConfirmModal, LeaveSecretModal
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.widgets.copy_menu import SaveToFileModal
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from tests.ui.helpers import make_app, settle

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
KEY_ID = "AKIAIOSFODNN7EXAMPLE"


def no_tools(name: str) -> None:
    return None


def only(*present: str):
    return lambda name: f"/usr/bin/{name}" if name in present else None


def never_asked() -> str | None:
    raise AssertionError("tmux is asked only inside tmux")


# -- the judgement ------------------------------------------------------------------------------


def test_an_ordinary_terminal_gives_no_reason_to_doubt_osc52():
    support = clipboard.clipboard_support({"TERM": "xterm-256color"}, no_tools, never_asked)
    assert support.osc52_doubt is None and support.tools == () and not support.copy_unlikely


def test_macos_terminal_without_a_tool_is_unlikely_and_with_pbcopy_is_fine():
    env = {"TERM_PROGRAM": "Apple_Terminal"}
    alone = clipboard.clipboard_support(env, no_tools, never_asked)
    assert alone.copy_unlikely and "macOS Terminal does not support OSC 52" in alone.warning
    assert "pbcopy" in alone.warning, "the warning names the tools that would help"
    with_pbcopy = clipboard.clipboard_support(env, only("pbcopy"), never_asked)
    assert with_pbcopy.tools == ("pbcopy",) and not with_pbcopy.copy_unlikely


@pytest.mark.parametrize(
    ("value", "doubt"),
    [
        ("on", None),
        ("external", "tmux has set-clipboard external"),  # tmux drops an application's OSC 52 unless `on`
        ("off", "tmux has set-clipboard off"),
        (None, "tmux did not say whether set-clipboard is on"),
    ],
)
def test_inside_tmux_only_set_clipboard_on_lets_osc52_through(value, doubt):
    support = clipboard.clipboard_support({"TMUX": "/tmp/tmux-1000/default,1,0"}, no_tools, lambda: value)
    if doubt is None:
        assert support.osc52_doubt is None and not support.copy_unlikely
    else:
        assert support.osc52_doubt is not None and support.osc52_doubt.startswith(doubt)
        assert support.copy_unlikely


def test_tmux_with_a_usable_tool_copies_through_the_tool():
    env = {"TMUX": "x", "DISPLAY": ":0"}
    support = clipboard.clipboard_support(env, only("xclip"), lambda: "off")
    assert support.tools == ("xclip",) and not support.copy_unlikely
    # xclip without a display reaches no clipboard: it does not count.
    assert clipboard.clipboard_support({"TMUX": "x"}, only("xclip"), lambda: "off").copy_unlikely


def test_tmux_is_asked_with_a_timeout_and_its_failures_mean_unknown():
    calls = []

    def answers(stdout: str, returncode: int = 0):
        def run(argv, **kwargs):
            calls.append((argv, kwargs))
            return subprocess.CompletedProcess(argv, returncode, stdout=stdout, stderr="")

        return run

    assert clipboard.tmux_set_clipboard(answers("external\n")) == "external"
    argv, kwargs = calls[0]
    assert argv == ["tmux", "show", "-gv", "set-clipboard"] and kwargs["timeout"] > 0
    assert clipboard.tmux_set_clipboard(answers("", returncode=1)) is None

    def hangs(argv, **kwargs):
        raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

    def missing(argv, **kwargs):
        raise FileNotFoundError("tmux")

    assert clipboard.tmux_set_clipboard(hangs) is None
    assert clipboard.tmux_set_clipboard(missing) is None


def test_the_process_environment_is_judged_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("TERM_PROGRAM", "Apple_Terminal")
    monkeypatch.setenv("PATH", str(tmp_path))  # no tool anywhere
    assert clipboard.clipboard_support().copy_unlikely


# -- the file -----------------------------------------------------------------------------------


@pytest.fixture
def no_chmod(monkeypatch):
    """The mode is set when the file is created: any chmod afterwards would fail the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("chmod after creation leaves a moment when the file is readable")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(os, "fchmod", refuse)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_file_is_created_0600_whatever_the_umask(tmp_path, no_chmod):
    previous = os.umask(0)
    try:
        target = tmp_path / "s3cred-bob.ini"
        clipboard.write_private_file(target, "[bob]\nsecret\n")
    finally:
        os.umask(previous)
    assert target.read_text() == "[bob]\nsecret\n" and mode(target) == 0o600


def test_an_existing_file_is_refused_then_replaced_only_when_asked(tmp_path, no_chmod):
    target = tmp_path / "creds.env"
    previous = os.umask(0)
    try:
        os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))  # someone's readable file
    finally:
        os.umask(previous)
    target.write_text("mine")
    assert mode(target) == 0o644
    with pytest.raises(clipboard.FileExists) as refused:
        clipboard.write_private_file(target, "new secret")
    assert refused.value.field == "path" and str(target) in refused.value.message
    assert target.read_text() == "mine"
    clipboard.write_private_file(target, "new secret", replace=True)
    assert target.read_text() == "new secret" and mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["creds.env"], "no temporary file left behind"


def test_a_symlink_is_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_text("untouched")
    link = tmp_path / "link.json"
    link.symlink_to(elsewhere)
    with pytest.raises(clipboard.FileExists):
        clipboard.write_private_file(link, "secret")
    clipboard.write_private_file(link, "secret", replace=True)  # replaces the link itself
    assert elsewhere.read_text() == "untouched"
    assert not link.is_symlink() and link.read_text() == "secret" and mode(link) == 0o600


def test_an_unwritable_folder_is_one_line_naming_the_field(tmp_path, monkeypatch):
    def denied(path, flags, mode=0o777):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "open", denied)  # as for a folder the person cannot write (root can write any)
    with pytest.raises(ValidationError) as refused:
        clipboard.write_private_file(tmp_path / "x.ini", "secret")
    message = refused.value.message
    assert refused.value.field == "path" and "\n" not in message
    assert message == f"path: cannot write {tmp_path / 'x.ini'}: Permission denied."
    assert "secret" not in message


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "path: enter the file to write."),
        ("{tmp}", "is a folder"),
        ("{tmp}/missing/x.ini", "does not exist"),
        ("{tmp}/a\u202eb.ini", "U+202E"),
    ],
)
def test_a_bad_path_is_one_line_naming_the_field(tmp_path, typed, says):
    with pytest.raises(ValidationError) as refused:
        clipboard.private_file_target(typed.format(tmp=tmp_path))
    assert refused.value.field == "path" and says in refused.value.message
    assert refused.value.message.startswith("path") and "\n" not in refused.value.message


def test_the_default_path_is_in_home_named_after_the_user(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert clipboard.private_file_target("~/x.ini") == tmp_path / "x.ini"
    assert clipboard.credentials_file_path("s3.read-only.data", "ini") == tmp_path / "s3cred-s3.read-only.data.ini"
    assert clipboard.credentials_file_path(None, "json", home=tmp_path) == tmp_path / "s3cred-credentials.json"
    assert clipboard.credentials_file_path("a/b c", "env", home=tmp_path).name == "s3cred-a_b_c.env"


# -- on the screens -----------------------------------------------------------------------------


@pytest.fixture
def unlikely_terminal(monkeypatch, tmp_path):
    """macOS Terminal with no clipboard tool on PATH; OSC 52 writes are recorded."""
    monkeypatch.setenv("TERM_PROGRAM", "Apple_Terminal")
    monkeypatch.setenv("HOME", str(tmp_path))
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    copied: list[str] = []
    monkeypatch.setattr(S3CredApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    return copied


@pytest.fixture
def account():
    with mock_aws():
        import boto3

        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
        yield


async def open_result(pilot) -> ResultScreen:
    await settle(pilot)
    plan = build_plan(pilot.app.aws, CredentialRequest(buckets=("reports",), username="bob"))
    credentials = Credentials(KEY_ID, SECRET, user_name="bob")
    await pilot.app.push_screen(ResultScreen(credentials, plan, autostart_probe=False))
    await pilot.pause()
    assert isinstance(pilot.app.screen, ResultScreen)
    return pilot.app.screen


def notices(app) -> list[str]:
    return [f"{n.title} {n.message}" for n in app._notifications]


async def test_copying_the_ini_block_offers_a_0600_file_instead(account, unlikely_terminal, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        result = await open_result(pilot)
        await pilot.press("y", "i")
        await pilot.pause()
        offer = app.screen
        assert isinstance(offer, SaveToFileModal)
        assert "macOS Terminal does not support OSC 52" in str(offer.query_one("#save-warning", Static).render())
        field = offer.query_one("#save-path", Input)
        assert field.has_focus and field.value == str(tmp_path / "s3cred-bob.ini")
        for widget_id in ("#save-path", "#write", "#copy-anyway", "#cancel"):
            assert offer.query_one(widget_id).region.bottom <= 24, f"{widget_id} is on screen at 80x24"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is result
        written = tmp_path / "s3cred-bob.ini"
        assert mode(written) == 0o600
        assert written.read_text() == f"[bob]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
        assert unlikely_terminal == [], "nothing went to OSC 52"
        assert any(f"Wrote the INI block to {written}" in n for n in notices(app))
        assert result.secret_files == (str(written),) and result.secret_copies == ()

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveSecretModal)
        assert f"You wrote it to {written}" in app.screen.question and "not copied" not in app.screen.question
        shown = " ".join(notices(app))
    assert SECRET not in shown
    assert SECRET not in caplog.text


async def test_an_existing_file_is_replaced_only_after_a_yes(account, unlikely_terminal, tmp_path):
    target = tmp_path / "s3cred-bob.env"
    target.write_text("keep me")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_result(pilot)
        await pilot.press("y", "e")
        await pilot.pause()
        offer = app.screen
        assert isinstance(offer, SaveToFileModal)
        await pilot.click("#write")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmModal) and "already exists" in app.screen.question
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is offer and target.read_text() == "keep me"
        await pilot.click("#write")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen)
        assert f"AWS_SECRET_ACCESS_KEY={SECRET}" in target.read_text() and mode(target) == 0o600


async def test_a_bad_path_stays_in_the_dialog_with_one_line(account, unlikely_terminal, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_result(pilot)
        await pilot.press("y", "o")
        await pilot.pause()
        offer = app.screen
        offer.query_one("#save-path", Input).value = str(tmp_path / "nowhere" / "x.json")
        await pilot.click("#write")
        await pilot.pause()
        assert app.screen is offer
        error = str(offer.query_one("#save-error", Static).render())
        assert error.startswith("path: the folder") and "does not exist" in error


async def test_copy_anyway_and_cancel(account, unlikely_terminal, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        result = await open_result(pilot)
        await pilot.press("y", "s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is result and unlikely_terminal == [] and result.secret_copies == ()
        await pilot.press("y", "s")
        await pilot.pause()
        await pilot.click("#copy-anyway")
        await pilot.pause()
        assert unlikely_terminal == [SECRET] and result.secret_copies == ("secret access key",)
        assert any("no clipboard" in n or "OSC 52" in n for n in notices(app))
    assert not list(tmp_path.glob("s3cred-*")), "no file unless asked"


async def test_the_key_id_alone_is_copied_without_the_offer(account, unlikely_terminal):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await open_result(pilot)
        await pilot.press("y", "a")
        await pilot.pause()
        assert isinstance(app.screen, ResultScreen) and unlikely_terminal == [KEY_ID]


async def test_the_new_key_dialog_offers_the_file_too(account, unlikely_terminal, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        modal = NewKeyModal(Credentials(KEY_ID, SECRET, user_name="bob"), "bob")
        await app.push_screen(modal)
        await pilot.pause()
        await pilot.click("#copy-env")
        await pilot.pause()
        assert isinstance(app.screen, SaveToFileModal)
        assert app.screen.query_one("#save-path", Input).value == str(tmp_path / "s3cred-bob.env")
        await pilot.click("#write")
        await pilot.pause()
        assert app.screen is modal and modal.secret_files == (str(tmp_path / "s3cred-bob.env"),)
        assert app.screen.query_one("#copy-secret", Button)  # the dialog is still there to close
