"""Credential output formats round-trip through the parsers that will read them; the secret stays masked."""

from __future__ import annotations

import configparser
import json
import shlex
from datetime import datetime, timedelta, timezone

import pytest

from s3cred_tui.core.credentials import (
    FORMATS,
    Credentials,
    to_credential_process,
    to_env,
    to_ini,
    to_json,
)

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE/TOKEN+with=odd'chars"
EXPIRES = datetime(2030, 5, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))

PERMANENT = Credentials("AKIAEXAMPLE0000000001", SECRET, user_name="s3.read-only.photos", region="eu-west-1")
TEMPORARY = Credentials("ASIAEXAMPLE0000000001", SECRET, session_token=TOKEN, expiration=EXPIRES)
BOTH = [pytest.param(PERMANENT, id="permanent"), pytest.param(TEMPORARY, id="temporary")]


@pytest.mark.parametrize("creds", BOTH)
def test_repr_and_str_mask_the_secret_and_token(creds):
    for text in (repr(creds), str(creds), f"{creds}", repr([creds])):
        assert SECRET not in text
        assert TOKEN not in text
        assert creds.access_key_id in text
        assert creds.masked_secret in text
    # The masked form shows none of the secret, not even its last characters: stars only.
    assert creds.masked_secret == "*" * 20


def test_short_secret_fully_masked():
    assert Credentials("AKIA", "abcdefgh").masked_secret == "********"


def test_expiration_is_utc_iso_8601():
    assert TEMPORARY.expiration_iso == "2030-05-01T12:30:00Z"
    naive = Credentials("A", "s", expiration=datetime(2030, 1, 2, 3, 4, 5))
    assert naive.expiration_iso == "2030-01-02T03:04:05Z"
    assert PERMANENT.expiration_iso is None


@pytest.mark.parametrize("creds", BOTH)
def test_json(creds):
    data = json.loads(to_json(creds))
    expected = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": SECRET}
    if creds.session_token:
        expected |= {"SessionToken": TOKEN, "Expiration": "2030-05-01T12:30:00Z"}
    assert data == expected


@pytest.mark.parametrize("creds", BOTH)
def test_credential_process(creds):
    data = json.loads(to_credential_process(creds))
    assert data["Version"] == 1
    assert data["AccessKeyId"] == creds.access_key_id
    assert data["SecretAccessKey"] == SECRET
    assert data.get("SessionToken") == creds.session_token
    assert data.get("Expiration") == creds.expiration_iso
    if creds.expiration is not None:
        assert datetime.fromisoformat(data["Expiration"].replace("Z", "+00:00")) == EXPIRES


@pytest.mark.parametrize("profile", ["default", "s3.read-only.photos", "my profile"])
@pytest.mark.parametrize("creds", BOTH)
def test_ini_round_trips_through_configparser(creds, profile):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(to_ini(creds, profile))
    section = parser[profile]
    assert section["aws_access_key_id"] == creds.access_key_id
    assert section["aws_secret_access_key"] == SECRET
    assert section.get("aws_session_token") == creds.session_token


def test_ini_is_read_by_botocore_as_a_profile(tmp_path, monkeypatch):
    import boto3

    path = tmp_path / "credentials"
    path.write_text(to_ini(TEMPORARY, "scoped"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(path))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    frozen = boto3.Session(profile_name="scoped").get_credentials().get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (TEMPORARY.access_key_id, SECRET, TOKEN)


@pytest.mark.parametrize("profile", ["", "a]b", "[x", "two\nlines", " padded"])
def test_ini_refuses_profile_names_that_would_break_the_file(profile):
    with pytest.raises(ValueError):
        to_ini(PERMANENT, profile)


def _parse_exports(text: str) -> tuple[dict[str, str], list[str]]:
    exported: dict[str, str] = {}
    unset: list[str] = []
    for line in text.splitlines():
        words = shlex.split(line)
        if words[0] == "export":
            (assignment,) = words[1:]
            name, value = assignment.split("=", 1)
            exported[name] = value
        else:
            assert words[0] == "unset"
            unset.extend(words[1:])
    return exported, unset


def test_env_permanent():
    exported, unset = _parse_exports(to_env(PERMANENT))
    assert exported == {
        "AWS_ACCESS_KEY_ID": PERMANENT.access_key_id,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert unset == ["AWS_SESSION_TOKEN"]


def test_env_temporary_quotes_awkward_characters():
    text = to_env(TEMPORARY)
    exported, unset = _parse_exports(text)
    assert exported == {"AWS_ACCESS_KEY_ID": TEMPORARY.access_key_id, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": TOKEN}
    assert unset == []


def test_env_is_understood_by_a_real_shell(tmp_path):
    import subprocess

    script = to_env(TEMPORARY) + 'printf "%s\\n%s\\n%s" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"\n'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split("\n") == [TEMPORARY.access_key_id, SECRET, TOKEN]


def test_formats_registry():
    assert set(FORMATS) == {"json", "ini", "env", "credential-process"}
    for name, render in FORMATS.items():
        assert SECRET in render(TEMPORARY), name
