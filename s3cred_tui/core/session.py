"""Where AWS calls go: profile, region, endpoint, and one client per service.

boto3 sessions are not thread-safe but clients are, so clients are created once,
under a lock, and then shared by every worker thread.
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

DEFAULT_REGION = "us-east-1"


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

    def with_keys(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> "SessionConfig":
        """The same endpoint and region, but acting as another key pair."""
        return replace(
            self,
            profile=None,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            session_token=session_token,
        )

    @property
    def endpoint_label(self) -> str:
        return self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or "AWS"


class AwsContext:
    """A boto3 session plus its cached, thread-safe clients."""

    def __init__(self, config: SessionConfig | None = None):
        self.config = config or SessionConfig()
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str | None], Any] = {}
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
        self._botocore_config = botocore.config.Config(
            retries={"mode": "adaptive", "max_attempts": 6},
            max_pool_connections=self.config.max_pool_connections,
            connect_timeout=10,
            read_timeout=60,
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

    def for_keys(self, access_key_id: str, secret_access_key: str, session_token: str | None = None) -> "AwsContext":
        return AwsContext(self.config.with_keys(access_key_id, secret_access_key, session_token))

    def has_credentials(self) -> bool:
        return self._session.get_credentials() is not None
