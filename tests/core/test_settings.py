"""The settings file (`core.settings`): read, checked, and one setting saved without losing the rest."""

from __future__ import annotations

import subprocess
import sys

import pytest

from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.settings import (
    CONFIG_DIR_ENV,
    Settings,
    config_dir,
    config_path,
    load_settings,
    parse_settings,
    save_setting,
)

FULL = """
theme = "gruvbox"
default_profile = "prod"
default_region = "eu-west-1"
permissions_boundary = false
ini_profile = "scoped-s3"

[keymap]
"account.create" = "n"
"motion.down" = "j,ctrl+n"
"""


def test_every_setting_is_read():
    assert parse_settings(FULL) == Settings(
        theme="gruvbox",
        default_profile="prod",
        default_region="eu-west-1",
        permissions_boundary=False,
        ini_profile="scoped-s3",
        keymap={"account.create": "n", "motion.down": "j,ctrl+n"},
    )


def test_no_file_means_the_defaults(tmp_path):
    assert load_settings(tmp_path / "config.toml") == Settings()
    assert Settings().permissions_boundary is True and Settings().keymap == {}


def test_the_config_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    assert config_dir() == tmp_path
    assert config_path() == tmp_path / "config.toml"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("theme = [", "is not valid TOML"),
        ("colour = 'red'", "unknown setting `colour`"),
        ("theme = 3", "`theme` must be a string, got 3"),
        ("permissions_boundary = 'yes'", "`permissions_boundary` must be true or false"),
        ("[keymap]\n'account.create' = 1", "`keymap` must be a table of strings"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_setting(text, says):
    with pytest.raises(ValidationError) as caught:
        parse_settings(text, "config.toml")
    assert caught.value.field == "settings"
    assert says in caught.value.message and "\n" not in caught.value.message


def test_an_empty_string_means_unset():
    assert parse_settings('default_profile = "  "').default_profile is None


def test_saving_one_setting_keeps_comments_and_the_rest(tmp_path):
    path = tmp_path / "deep" / "config.toml"
    save_setting("theme", "nord", path)
    assert load_settings(path).theme == "nord"
    path.write_text('# my settings\nini_profile = "mine"\n\n[keymap]\n"account.create" = "n"\n')
    save_setting("theme", "dracula", path)
    save_setting("theme", "gruvbox", path)
    text = path.read_text()
    assert text.startswith("# my settings\n") and text.count("theme =") == 1
    assert load_settings(path) == Settings(theme="gruvbox", ini_profile="mine", keymap={"account.create": "n"})
    assert text.index("theme =") < text.index("[keymap]")


def test_saving_refuses_what_the_next_start_would_refuse(tmp_path):
    path = tmp_path / "config.toml"
    with pytest.raises(ValidationError):
        save_setting("keymap", "n", path)
    with pytest.raises(ValidationError):
        save_setting("permissions_boundary", "yes", path)
    assert not path.exists()


def test_a_quote_in_a_value_round_trips(tmp_path):
    path = tmp_path / "config.toml"
    save_setting("ini_profile", 'we"ird\\name', path)
    assert load_settings(path).ini_profile == 'we"ird\\name'


def test_settings_never_import_textual_or_boto3():
    code = (
        "import sys, s3cred_tui.core.settings\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'boto3'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
