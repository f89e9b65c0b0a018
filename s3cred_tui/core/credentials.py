"""New credentials and the formats they are handed out in.

The secret access key and the session token appear only in the output formats a person
asks for; `repr` and `str` mask them, so they never reach logs or tracebacks.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

# Long enough to read as "a secret is here", the width the result screen lays out for it.
_MASK_LENGTH = 20


def _mask(secret: str | None) -> str | None:
    """Stars only: even the last few characters of a secret narrow a guess and end up in
    screenshots, so none are shown. Past `_MASK_LENGTH` the length is not shown either."""
    if secret is None:
        return None
    return "*" * min(len(secret), _MASK_LENGTH)


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)
    expiration: datetime | None = None
    user_name: str | None = None
    region: str | None = None

    @property
    def masked_secret(self) -> str:
        return _mask(self.secret_access_key) or ""

    @property
    def temporary(self) -> bool:
        return self.session_token is not None

    @property
    def expiration_iso(self) -> str | None:
        """Expiration as ISO-8601 UTC (`2024-05-01T12:00:00Z`); naive datetimes are taken as UTC."""
        if self.expiration is None:
            return None
        moment = self.expiration
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def __repr__(self) -> str:
        parts = [f"access_key_id={self.access_key_id!r}", f"secret_access_key={self.masked_secret!r}"]
        if self.session_token is not None:
            parts.append(f"session_token={_mask(self.session_token)!r}")
        if self.expiration is not None:
            parts.append(f"expiration={self.expiration_iso!r}")
        if self.user_name is not None:
            parts.append(f"user_name={self.user_name!r}")
        if self.region is not None:
            parts.append(f"region={self.region!r}")
        return f"Credentials({', '.join(parts)})"

    __str__ = __repr__


def _key_fields(creds: Credentials) -> dict[str, str]:
    fields = {"AccessKeyId": creds.access_key_id, "SecretAccessKey": creds.secret_access_key}
    if creds.session_token is not None:
        fields["SessionToken"] = creds.session_token
    if creds.expiration is not None:
        fields["Expiration"] = creds.expiration_iso  # type: ignore[assignment]
    return fields


def to_json(creds: Credentials) -> str:
    """`{"AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`, indented."""
    return json.dumps(_key_fields(creds), indent=2) + "\n"


def to_credential_process(creds: Credentials) -> str:
    """The JSON an AWS `credential_process` command prints (`"Version": 1`)."""
    return json.dumps({"Version": 1, **_key_fields(creds)}, indent=2) + "\n"


def _check_profile_name(profile: str) -> str:
    if not profile or profile != profile.strip() or any(c in profile for c in "[]\r\n"):
        raise ValueError(
            f"Profile name {profile!r} cannot be used: it must be non-empty, without brackets, "
            "line breaks or surrounding spaces."
        )
    return profile


def to_ini(creds: Credentials, profile: str = "default") -> str:
    """A block for `~/.aws/credentials` under `[profile]`."""
    lines = [f"[{_check_profile_name(profile)}]"]
    if creds.expiration is not None:
        lines.append(f"# expires {creds.expiration_iso}")
    lines.append(f"aws_access_key_id = {creds.access_key_id}")
    lines.append(f"aws_secret_access_key = {creds.secret_access_key}")
    if creds.session_token is not None:
        lines.append(f"aws_session_token = {creds.session_token}")
    return "\n".join(lines) + "\n"


def to_env(creds: Credentials) -> str:
    """Shell `export` lines. Permanent keys also `unset AWS_SESSION_TOKEN`, because a token left
    over from earlier temporary credentials would make AWS reject the new key."""
    lines = [
        f"export AWS_ACCESS_KEY_ID={shlex.quote(creds.access_key_id)}",
        f"export AWS_SECRET_ACCESS_KEY={shlex.quote(creds.secret_access_key)}",
    ]
    if creds.session_token is not None:
        lines.append(f"export AWS_SESSION_TOKEN={shlex.quote(creds.session_token)}")
    else:
        lines.append("unset AWS_SESSION_TOKEN")
    if creds.region is not None:
        lines.append(f"export AWS_DEFAULT_REGION={shlex.quote(creds.region)}")
    return "\n".join(lines) + "\n"


FORMATS: dict[str, Callable[[Credentials], str]] = {
    "json": to_json,
    "ini": to_ini,
    "env": to_env,
    "credential-process": to_credential_process,
}
