"""The settings in the app (issue 12): theme (saved when picked), keymap, default profile and
region, boundary default, INI profile name, a bad file; profiles switched with a fresh session."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from textual.widgets import Checkbox

from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.core.session import SessionConfig
from s3cred_tui.core.settings import Settings, load_settings
from s3cred_tui.ui import clipboard
from s3cred_tui.ui.app import DEFAULT_THEME, S3CredApp
from s3cred_tui.ui.launch import with_defaults
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.error import ErrorModal
from s3cred_tui.ui.screens.result import ResultScreen
from tests.ui.helpers import settle

SIZE = (140, 42)
BUCKET = "alpha-bucket"


@pytest.fixture
def account():
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


def app_with(settings: Settings, **kwargs) -> S3CredApp:
    app = S3CredApp(SessionConfig(region="us-east-1"), settings=settings, **kwargs)
    app.animation_level = "none"
    return app


async def test_the_theme_comes_from_the_settings_and_a_picked_one_is_saved(account, tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('# mine\ntheme = "nord"\n')
    app = app_with(load_settings(path), settings_path=path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        app.theme = "gruvbox"  # what the palette's theme picker does
        await pilot.pause()
    assert load_settings(path).theme == "gruvbox"
    assert path.read_text().startswith("# mine\n")


async def test_an_unknown_theme_falls_back_and_nothing_is_saved_without_a_path(account, tmp_path):
    app = app_with(Settings(theme="no-such-theme"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        assert any("Unknown theme 'no-such-theme'" in str(n.message) for n in app._notifications)
        app.theme = "nord"
        await pilot.pause()
    assert list(tmp_path.iterdir()) == []


async def test_the_keymap_moves_a_binding_by_its_id(account):
    app = app_with(Settings(keymap={"account.create": "n"}))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert not isinstance(app.screen, CreateScreen), "c no longer creates"
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, CreateScreen)


async def test_a_settings_file_that_cannot_be_used_is_said_once_and_the_app_runs(account):
    problem = ValidationError("settings", "config.toml: unknown setting `colour` (known: …).")
    app = app_with(Settings(), settings_error=problem)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        modals = [s for s in app.screen_stack if isinstance(s, ErrorModal)]
        assert len(modals) == 1 and modals[0].error_title == "Settings not used"
        assert "unknown setting `colour`" in modals[0].error_message


async def test_the_boundary_default_and_the_ini_profile_come_from_the_settings(account, monkeypatch):
    copied: list[str] = []
    monkeypatch.setattr(S3CredApp, "copy_to_clipboard", lambda self, text: copied.append(text))
    monkeypatch.setattr(clipboard, "system_clipboard_commands", lambda *a, **k: [])
    app = app_with(Settings(permissions_boundary=False, ini_profile="scoped-s3"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_create([BUCKET])
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CreateScreen)
        assert form.query_one("#boundary", Checkbox).value is False
        assert form.outcome is not None and form.outcome.request.permissions_boundary is False
        form.query_one("#boundary", Checkbox).value = True
        await pilot.pause()
        assert form.outcome.request.permissions_boundary is True

        plan = build_plan(app.aws, CredentialRequest(buckets=(BUCKET,), username="u1"))
        await app.push_screen(ResultScreen(Credentials("AKIAEXAMPLE", "secret/value", user_name="u1"), plan,
                                           autostart_probe=False))
        await pilot.pause()
        await pilot.press("y", "i")
        await pilot.pause()
        assert copied[-1].startswith("[scoped-s3]")


def test_default_profile_and_region_apply_only_where_nothing_else_chose():
    settings = Settings(default_profile="prod", default_region="eu-west-1")
    chosen = with_defaults(SessionConfig(), settings, {})
    assert (chosen.profile, chosen.region) == ("prod", "eu-west-1")
    flags = with_defaults(SessionConfig(profile="dev", region="us-west-2"), settings, {})
    assert (flags.profile, flags.region) == ("dev", "us-west-2")
    environment = with_defaults(SessionConfig(), settings, {"AWS_PROFILE": "ops", "AWS_REGION": "ap-south-1"})
    assert (environment.profile, environment.region) == (None, None), "the environment's choice stands"
    keys = with_defaults(SessionConfig(), settings, {"AWS_ACCESS_KEY_ID": "AKIA…"})
    assert keys.profile is None
    demo = with_defaults(SessionConfig(endpoint_url="http://127.0.0.1:5000"), settings, {})
    assert (demo.profile, demo.region) == (None, None), "an endpoint of its own (the demo) is left alone"


async def test_switching_profile_uses_that_profiles_own_keys(account, tmp_path):
    (tmp_path / "aws-credentials").write_text(
        "[staging]\naws_access_key_id = AKIASTAGING\naws_secret_access_key = staging-secret\n"
    )
    (tmp_path / "aws-config").write_text("[profile staging]\nregion = us-east-1\n")
    app = app_with(Settings())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.aws.caller_access_key_id()
        app.switch_profile("staging")
        await settle(pilot)
        assert before != "AKIASTAGING"
        assert app.aws.caller_access_key_id() == "AKIASTAGING", "a fresh session: nothing of the old one"
        assert app.identity is not None
        line = str(app.account_screen().query_one("#identity-line").render())
        assert app.identity.account in line
