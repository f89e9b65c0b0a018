"""One demo account kept across commands: `s3cred-tui demo-server`.

`--demo` alone gives each command a fresh, in-process account that disappears when the command
ends, so credentials made by one command cannot be probed by the next. `demo-server` keeps one
account running and advertises it in the state directory (`demo-server.json`, readable by the
owner only: it holds the demo administrator's key); while it runs, `--demo` commands use it.
A file left behind by a server that died is ignored (its process or port is gone).
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlsplit

from s3cred_tui.core.journal import state_dir
from s3cred_tui.core.session import SessionConfig
from s3cred_tui.demo import WHO_DECIDES

ADVERT_NAME = "demo-server.json"


@dataclass(frozen=True)
class RunningDemo:
    """A demo account served by another process (`demo-server`)."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str
    region: str
    pid: int

    def __repr__(self) -> str:
        return f"RunningDemo(endpoint_url={self.endpoint_url!r}, pid={self.pid}, secret_access_key='****')"

    @property
    def config(self) -> SessionConfig:
        return SessionConfig(
            region=self.region,
            endpoint_url=self.endpoint_url,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )

    @property
    def note(self) -> str:
        return (
            f"Demo account (moto at {self.endpoint_url}, kept by `s3cred-tui demo-server`, pid {self.pid}): "
            f"nothing here touches real AWS. {WHO_DECIDES}"
        )

    # The same context-manager shape as DemoAccount: the account outlives this command.
    def __enter__(self) -> "RunningDemo":
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def advert_path() -> Path:
    return state_dir() / ADVERT_NAME


def advertise(demo: RunningDemo) -> Path:
    """Write the advert atomically, readable by its owner only."""
    path = advert_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{ADVERT_NAME}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(asdict(demo), handle)
    os.replace(temporary, path)
    return path


def withdraw(pid: int | None = None) -> None:
    """Remove the advert if it is this process's (or `pid`'s)."""
    path = advert_path()
    owner = pid if pid is not None else os.getpid()
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == owner:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _port_open(endpoint_url: str) -> bool:
    parts = urlsplit(endpoint_url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=1.0):
            return True
    except OSError:
        return False


def find_running() -> RunningDemo | None:
    """The demo account a live `demo-server` advertises, if any."""
    try:
        data = json.loads(advert_path().read_text(encoding="utf-8"))
        demo = RunningDemo(**{name: data[name] for name in RunningDemo.__dataclass_fields__})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if demo.pid == os.getpid() or not _process_alive(demo.pid) or not _port_open(demo.endpoint_url):
        return None
    return demo
