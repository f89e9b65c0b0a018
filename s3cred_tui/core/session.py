"""Where AWS calls go: profile, region, endpoint, and one client per service.

boto3 sessions are not thread-safe but clients are, so clients are created once,
under a lock, and then shared by every worker thread.

Every call is bounded: a few seconds to connect, a few more to read, a few attempts
(`Timeouts`), so an endpoint that accepts connections and never answers fails a call in
well under a minute instead of minutes. Applying a plan is tighter still
(`APPLY_TIMEOUTS`, via `ctx.for_apply()`): a hung create fails in seconds, and its single
retry is reconciled by `core.apply` (the SDK never repeats a create unnoticed).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field, replace
from typing import Any

import boto3
import botocore.config
import botocore.session

from s3cred_tui.core.errors import translate
from s3cred_tui.core.redact import install_redaction
from s3cred_tui.core.validation import validate_endpoint_url

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to connect and between bytes read; `attempts` counts the first call too."""

    connect: float = 5.0
    read: float = 10.0
    attempts: int = 3

    @property
    def worst_case_seconds(self) -> float:
        """How long a call to an endpoint that never answers can take, backoff aside."""
        return self.attempts * (self.connect + self.read)


DEFAULT_TIMEOUTS = Timeouts()
APPLY_TIMEOUTS = Timeouts(connect=3.0, read=6.0, attempts=2)


@dataclass(frozen=True)
class SessionConfig:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # Explicit keys, used by the probe (a freshly created key) and by tests.
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    max_pool_connections: int = 32
    timeouts: Timeouts = DEFAULT_TIMEOUTS

    def with_keys(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> "SessionConfig":
        """The same endpoint and region, but acting as another key pair."""
        return replace(
            self,
            profile=None,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
        )

    def for_apply(self) -> "SessionConfig":
        """The same account, with the short timeouts and single retry used while applying a plan."""
        return replace(self, timeouts=APPLY_TIMEOUTS if self.timeouts == DEFAULT_TIMEOUTS else self.timeouts)

    @property
    def endpoint_label(self) -> str:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or "AWS"


class AwsContext:
    """A boto3 session plus its cached, thread-safe clients."""

    def __init__(self, config: SessionConfig | None = None, *, _shared: "AwsContext | None" = None):
        # Whatever program embeds the core, secrets in botocore's DEBUG logs are redacted.
        install_redaction()
        self.config = config or SessionConfig()
        if self.config.endpoint_url:
            validate_endpoint_url(self.config.endpoint_url)
        self._clients: dict[tuple[str, str | None], Any] = {}
        if _shared is not None:
            # Same boto3 session (so the same resolved credentials: no second MFA prompt), same lock.
            self._lock = _shared._lock
            self._session = _shared._session
        else:
            self._lock = threading.Lock()
            try:
                self._session = boto3.Session(
                    profile_name=self.config.profile,
                    region_name=self.config.region,
                    aws_access_key_id=self.config.access_key_id,
                    aws_secret_access_key=self.config.secret_access_key,
                    aws_session_token=self.config.session_token,
                )
            except Exception as exc:  # ProfileNotFound and friends
                raise translate(exc) from None
        timeouts = self.config.timeouts
        self._botocore_config = botocore.config.Config(
            retries={"mode": "adaptive", "total_max_attempts": timeouts.attempts},
            max_pool_connections=self.config.max_pool_connections,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
        )

    @property
    def region(self) -> str:
        return self._session.region_name or DEFAULT_REGION

    @property
    def profile(self) -> str | None:
        return self.config.profile or os.environ.get("AWS_PROFILE")

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs: dict[str, Any] = {"config": self._botocore_config, "region_name": region or self.region}
                if self.config.endpoint_url:
                    kwargs["endpoint_url"] = self.config.endpoint_url
                client = self._session.client(service, **kwargs)
                self._clients[key] = client
            return client

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    def for_apply(self) -> "AwsContext":
        """This context with `APPLY_TIMEOUTS`, sharing its session and credentials."""
        return AwsContext(self.config.for_apply(), _shared=self)

    def for_keys(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> "AwsContext":
        return AwsContext(self.config.with_keys(access_key_id, secret_access_key, session_token))

    def has_credentials(self) -> bool:
        return self._session.get_credentials() is not None

    def caller_access_key_id(self) -> str | None:
        """The access key id these clients sign with (never the secret); None when it cannot be known."""
        try:
            credentials = self._session.get_credentials()
        except Exception:  # an unreadable profile: the caller's key is simply unknown
            return None
        return getattr(credentials, "access_key", None) if credentials is not None else None
