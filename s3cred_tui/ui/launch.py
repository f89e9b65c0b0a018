"""Starting the app: what happens before Textual is imported.

No Textual here. `prepare` reads the settings, opens the AWS context and asks for the first
page of the buckets and of the users (`loading.HeadStart`); only then is the app's module
imported (Textual and the first screen: ~0.3 s of imports), so those round trips overlap the
imports as well as the app's own start. `run_app` (bare `s3cred-tui`) and the benchmark's
driver (`bench/driver.py`) both start the app through `prepare`, so what is measured is the
start a person gets.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from s3cred_tui.core import errors
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.core.settings import Settings, config_path, load_settings
from s3cred_tui.lazy import attribute_getter
from s3cred_tui.ui.loading import HeadStart

if TYPE_CHECKING:
    from s3cred_tui.ui.app import S3CredApp

# The app's module, imported when `prepared_app` first asks for it: after the head start.
__getattr__ = attribute_getter({"S3CredApp": "s3cred_tui.ui.app"}, __name__)


def with_defaults(config: SessionConfig, settings: Settings, environ: Mapping[str, str]) -> SessionConfig:
    """The settings' default profile and region, where neither the command line nor the
    environment chose one (and never for an endpoint or explicit keys such as the demo's)."""
    if config.endpoint_url or config.access_key_id:
        return config
    environment_chose = environ.get("AWS_PROFILE") or environ.get("AWS_ACCESS_KEY_ID")
    profile = config.profile or (None if environment_chose else settings.default_profile)
    region_set = config.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    region = config.region or (None if region_set else settings.default_region)
    return replace(config, profile=profile, region=region)


def open_context(config: SessionConfig) -> tuple[AwsContext, errors.S3CredError | None]:
    """The AWS context for `config`, and why it is not quite that one: a missing profile must
    not stop the app, so it falls back to the default chain and the reason is shown on screen."""
    try:
        return AwsContext(config), None
    except errors.S3CredError as exc:
        return AwsContext(replace(config, profile=None)), exc


@dataclass(frozen=True)
class Start:
    """Everything the app is given at start: made before its module is imported."""

    config: SessionConfig
    aws: AwsContext
    startup_error: errors.S3CredError | None
    head_start: HeadStart


# The clients the first screen needs: the identity (sts) and the two listings (iam, s3).
FIRST_SERVICES = ("sts", "iam", "s3")


def prepare(config: SessionConfig) -> Start:
    """Open the account and ask for its first pages now, before the app's imports."""
    aws, problem = open_context(config)
    # On this thread, before the head start's: its threads would read these files while this
    # one imports, each file operation waiting for the interpreter's lock (~0.1 s here, ~0.55 s there).
    aws.read_client_data(FIRST_SERVICES)
    return Start(config, aws, problem, HeadStart(aws))


def prepared_app(config: SessionConfig, **options: Any) -> S3CredApp:
    """The app for `config`, its first pages already asked for (`options` go to `S3CredApp`)."""
    start = prepare(config)
    app_class = __getattr__("S3CredApp")  # imported now, after the head start: its round trips overlap the import
    return app_class(config, start=start, **options)


def run_app(config: SessionConfig, *, read_only: bool = False, demo_note: str | None = None) -> None:
    settings, problem = Settings(), None
    try:
        settings = load_settings()
    except errors.S3CredError as exc:
        problem = exc  # said on screen once the app runs; the defaults meanwhile
    prepared_app(
        with_defaults(config, settings, os.environ),
        read_only=read_only,
        demo_note=demo_note,
        settings=settings,
        settings_path=config_path(),
        settings_error=problem,
    ).run()
