"""`demo-server`: keep one demo account running so consecutive commands can share it."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from typing import Any

from s3cred_tui.cli.common import EXIT_OK, PROG, progress, stdout
from s3cred_tui.core.errors import S3CredError


def demo_settings_lines(endpoint_url: str, access_key_id: str, secret_access_key: str, region: str) -> list[str]:
    """Shell lines that point any AWS tool at the demo account as its administrator."""
    return [
        f"export AWS_ENDPOINT_URL={endpoint_url}",
        f"export AWS_ACCESS_KEY_ID={access_key_id}",
        f"export AWS_SECRET_ACCESS_KEY={secret_access_key}",
        f"export AWS_DEFAULT_REGION={region}",
    ]


def cmd_demo_server(_ctx: Any, args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Start the demo account, print its settings to stdout, serve until interrupted."""
    try:
        from s3cred_tui.demo import WHO_DECIDES
        from s3cred_tui.demo.account import DEMO_REGION, DemoAccount
        from s3cred_tui.demo.running import (
            RunningDemo,
            advertise,
            find_running,
            withdraw,
        )
    except ImportError as exc:
        raise S3CredError(f"The demo account needs moto ({exc.name} is missing): pip install 's3cred-tui[demo]'") from None

    existing = find_running()
    if existing is not None:
        raise S3CredError(
            f"A demo server is already running at {existing.endpoint_url} (pid {existing.pid}); "
            f"`{PROG} --demo ...` commands use it. Stop it first to start another."
        )
    stop = stop or threading.Event()
    previous = signal.getsignal(signal.SIGTERM) if threading.current_thread() is threading.main_thread() else None
    if previous is not None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    progress("Starting the demo account (an in-process moto server)...")
    try:
        with DemoAccount(port=args.port) as demo:
            config = demo.config
            running = RunningDemo(config.endpoint_url or "", config.access_key_id or "", config.secret_access_key or "",
                                  DEMO_REGION, os.getpid())
            advertise(running)
            try:
                out = stdout()
                print("\n".join(demo_settings_lines(running.endpoint_url, running.access_key_id,
                                                    running.secret_access_key, running.region)), file=out, flush=True)
                progress(
                    f"Demo account running at {running.endpoint_url}. While it runs, `{PROG} --demo ...` commands "
                    f"share it; the lines above point any AWS tool at it. {WHO_DECIDES} "
                    "Ctrl-C stops it and forgets the account."
                )
                try:
                    while not stop.wait(0.5):
                        pass
                except KeyboardInterrupt:
                    pass
            finally:
                withdraw()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    progress("Demo account stopped.")
    return EXIT_OK
