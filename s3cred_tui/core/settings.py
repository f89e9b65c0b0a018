"""The person's settings: a TOML file in the platform's config directory. Pure: no AWS, no Textual.

    # ~/.config/s3cred-tui/config.toml (Linux; `config_path()` says where elsewhere)
    theme = "gruvbox"                 # any Textual theme; the one picked in the palette is saved here
    default_profile = "prod"          # used when neither --profile nor AWS_PROFILE says otherwise
    default_region = "eu-west-1"      # used when neither --region nor the profile says otherwise
    permissions_boundary = true       # new users get the S3-only boundary unless unticked on the form
    ini_profile = "scoped-s3"         # the [section] of "Copy INI" (else the new user's name)
    stale_key_days = 90               # an active key older than this is flagged (users list, `made`)
    unused_key_days = 90              # an active key (or a user) unused this long is flagged

    [keymap]                          # binding id = keys, as Textual's keymaps (and Posting) take them
    "account.create" = "n"
    "motion.down" = "j,ctrl+n"

- `Settings` (frozen): the fields above, each with its default; `keymap` maps binding ids
  (`ui/keys.py` lists them) to comma-separated keys.
- `config_dir() -> Path`: `$S3CRED_TUI_CONFIG_DIR`, else `platformdirs.user_config_dir("s3cred-tui")`;
  `config_path(directory=None) -> Path` is `config.toml` in it.
- `load_settings(path=None) -> Settings`: the defaults when there is no file; a file that is not
  TOML, an unknown setting or a value of the wrong type is one `ValidationError(field="settings")`
  naming the file and the setting (the app then says so and starts with the defaults).
- `parse_settings(text, source) -> Settings`: the same, from text.
- `save_setting(name, value, path=None) -> Path`: set one top-level setting in the file, keeping
  every other line (comments included) as it was.

Adding a setting is adding a field to `Settings` with its default and type (str, str | None,
bool, int, or dict[str, str] for a table); reading, checking and saving follow from it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from s3cred_tui.core.errors import ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

APP_NAME = "s3cred-tui"
CONFIG_DIR_ENV = "S3CRED_TUI_CONFIG_DIR"
CONFIG_FILE_NAME = "config.toml"
FIELD = "settings"


@dataclass(frozen=True)
class Settings:
    theme: str | None = None
    default_profile: str | None = None
    default_region: str | None = None
    permissions_boundary: bool = True
    ini_profile: str | None = None
    # Stale access (`core.stale`): an active key older than this many days, or unused this long.
    stale_key_days: int = 90
    unused_key_days: int = 90
    keymap: dict[str, str] = field(default_factory=dict)


def config_dir() -> Path:
    override = os.environ.get(CONFIG_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def config_path(directory: Path | None = None) -> Path:
    return (directory or config_dir()) / CONFIG_FILE_NAME


def _types() -> dict[str, Any]:
    return typing.get_type_hints(Settings)


def _type_name(kind: Any) -> str:
    if kind is bool:
        return "true or false"
    if kind is int:
        return "a whole number"
    if kind in (str, str | None):
        return "a string"
    return "a table of strings"


def _checked(name: str, value: Any, kind: Any, source: str) -> Any:
    def refuse() -> ValidationError:
        return ValidationError(FIELD, f"{source}: `{name}` must be {_type_name(kind)}, got {value!r}.")

    if kind is bool:
        if not isinstance(value, bool):
            raise refuse()
        return value
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise refuse()
        return value
    if kind in (str, str | None):
        if not isinstance(value, str):
            raise refuse()
        return (value.strip() or None) if kind == (str | None) else value
    # dict[str, str]: a TOML table
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise refuse()
    return dict(value)


def parse_settings(text: str, source: str = CONFIG_FILE_NAME) -> Settings:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(FIELD, f"{source} is not valid TOML: {exc}.") from None
    types = _types()
    unknown = sorted(set(raw) - set(types))
    if unknown:
        raise ValidationError(
            FIELD, f"{source}: unknown setting `{unknown[0]}` (known: {', '.join(sorted(types))})."
        )
    return Settings(**{name: _checked(name, value, types[name], source) for name, value in raw.items()})


def load_settings(path: Path | None = None) -> Settings:
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(FIELD, f"Cannot read {path}: {exc}.") from None
    return parse_settings(text, str(path))


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A JSON string is a valid TOML basic string (same escapes).
    return json.dumps(str(value), ensure_ascii=False)


_SECTION = re.compile(r"^\s*\[")


def save_setting(name: str, value: str | bool | int, path: Path | None = None) -> Path:
    """Set one top-level setting, keeping the rest of the file (comments too) as it was."""
    types = _types()
    if name not in types or types[name] not in (str, str | None, bool, int):
        raise ValidationError(FIELD, f"`{name}` is not a setting that can be saved on its own.")
    _checked(name, value, types[name], "the new value")
    path = path or config_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        lines = []
    line = f"{name} = {_toml_value(value)}"
    assignment = re.compile(rf"^\s*{re.escape(name)}\s*=")
    first_section = next((i for i, text in enumerate(lines) if _SECTION.match(text)), len(lines))
    for index in range(first_section):
        if assignment.match(lines[index]):
            lines[index] = line
            break
    else:
        # After the last top-level line, so a blank line before the first [table] stays there.
        at = first_section
        while at > 0 and not lines[at - 1].strip():
            at -= 1
        lines.insert(at, line)
    text = "\n".join(lines) + "\n"
    parse_settings(text, str(path))  # never write a file the next start would refuse
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
