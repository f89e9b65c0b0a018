"""Where AWS calls go: profile, region, endpoint, and one client per service.

botocore sessions are not thread-safe but clients are, so clients are created once,
under a lock, and then shared by every worker thread.

Response timestamps are parsed by `iso_timestamp` (the standard library) rather than botocore's
dateutil-based parser: the same values, several times cheaper on long listings.

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
from datetime import datetime
from collections.abc import Iterable
from typing import Any

import botocore.config
import botocore.exceptions
import botocore.handlers
import botocore.session

from s3cred_tui.core.errors import translate
from s3cred_tui.core.redact import install_redaction
from s3cred_tui.core.validation import validate_endpoint_url

DEFAULT_REGION = "us-east-1"


def iso_timestamp(value: Any) -> datetime:
    """A response timestamp, parsed by the standard library when it is ISO 8601 text.

    botocore parses every timestamp with dateutil (~40% of parsing a page of 1,000 keys or
    buckets); S3's and IAM's XML bodies carry ISO 8601 text, which `datetime.fromisoformat`
    reads some 30 times faster into an equal, timezone-aware datetime (printed back
    identically). Anything else (epoch numbers, HTTP dates in headers, naive text) goes to
    botocore's own parser.
    """
    if isinstance(value, str):
        text = value[:-1] + "+00:00" if value.endswith("Z") else value
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed
    from botocore.utils import parse_timestamp

    return parse_timestamp(value)


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


def _new_session(config: SessionConfig) -> botocore.session.Session:
    """A session for `config`'s profile, region and keys, whose clients parse timestamps with
    `iso_timestamp`; a profile that does not exist is refused here, not at the first call."""
    session = botocore.session.Session(profile=config.profile)
    session.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=iso_timestamp)
    if config.access_key_id or config.secret_access_key or config.session_token:
        session.set_credentials(config.access_key_id, config.secret_access_key, config.session_token)
    if config.region is not None:
        session.set_config_variable("region", config.region)
    try:
        session.get_scoped_config()  # reads the profile (even when the region is given): ProfileNotFound surfaces now
    except Exception as exc:
        raise translate(exc) from None
    return session


class AwsContext:
    """A botocore session plus its cached, thread-safe clients.

    botocore's own session, not boto3's: the clients are the same, and a process that only
    needs clients is spared importing boto3 and s3transfer.
    """

    def __init__(self, config: SessionConfig | None = None, *, _shared: "AwsContext | None" = None):
        # Whatever program embeds the core, secrets in botocore's DEBUG logs are redacted.
        install_redaction()
        self.config = config or SessionConfig()
        if self.config.endpoint_url:
            validate_endpoint_url(self.config.endpoint_url)
        self._clients: dict[tuple[str, str | None, bool], Any] = {}
        if _shared is not None:
            # Same session (so the same resolved credentials: no second MFA prompt), same lock.
            self._lock = _shared._lock
            self._session = _shared._session
        else:
            self._lock = threading.Lock()
            self._session = _new_session(self.config)
        # Read once, here: the session is not thread-safe, and worker threads ask for the region.
        self._region: str = self._session.get_config_variable("region") or DEFAULT_REGION
        timeouts = self.config.timeouts
        self._botocore_config = botocore.config.Config(
            retries={"mode": "adaptive", "total_max_attempts": timeouts.attempts},
            max_pool_connections=self.config.max_pool_connections,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
        )

    @property
    def region(self) -> str:
        return self._region

    @property
    def profile(self) -> str | None:
        return self.config.profile or os.environ.get("AWS_PROFILE")

    def client(self, service: str, region: str | None = None, *, decode_policy_documents: bool = True) -> Any:
        """The cached client of `service` (in `region`, or the context's). With
        `decode_policy_documents=False`, an IAM client's answers keep every policy document as AWS
        sends it (URL-encoded JSON text) instead of botocore's decoded dict: see `iam_counting`."""
        key = (service, region, decode_policy_documents)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs: dict[str, Any] = {"config": self._botocore_config, "region_name": region or self.region}
                if self.config.endpoint_url:
                    kwargs["endpoint_url"] = self.config.endpoint_url
                client = self._session.create_client(service, **kwargs)
                if not decode_policy_documents:
                    # Each client has its own copy of the session's handlers: only this one changes.
                    client.meta.events.unregister(f"after-call.{service}", botocore.handlers.json_decode_policies)
                self._clients[key] = client
            return client

    def read_client_data(self, services: Iterable[str]) -> None:
        """Read now, on this thread, the files botocore reads to make these services' clients
        (their models and endpoint rules, the endpoints and retry data), without making a client
        (so no credentials are resolved). A thread making its first client reads them one small
        file operation at a time, each waiting for the interpreter's lock: while the main thread
        imports Textual that took ~0.55 s instead of ~0.1 s (`ui/launch.py`)."""
        loader = self._session.get_component("data_loader")
        try:
            for service in services:
                # Asked for as botocore's client maker asks (the loader caches by the arguments given).
                loader.load_service_model(service, "service-2", api_version=None)
                loader.load_service_model(service, "endpoint-rule-set-1", api_version=None)
            for name in ("endpoints", "partitions", "_retry", "sdk-default-configuration"):
                loader.load_data(name)
        except (botocore.exceptions.BotoCoreError, OSError, ValueError):
            pass  # read again, and reported, where the client is made

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def iam_counting(self) -> Any:
        """An IAM client for reads that only count policies and never read them. botocore decodes
        every policy document in an IAM answer (an unquote and a JSON parse each): reading 5,000
        users' authorization details to count their policies spent most of its CPU there, on a
        thread that shares the interpreter with the event loop."""
        return self.client("iam", decode_policy_documents=False)

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
