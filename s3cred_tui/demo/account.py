"""`--demo`: a seeded, IAM-enforcing moto server that lives as long as one command or app run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3cred_tui.core.session import SessionConfig
from s3cred_tui.demo import WHO_DECIDES
from s3cred_tui.demo.seed import seed_demo_account
from s3cred_tui.demo.server import AdminKey, MotoServer

if TYPE_CHECKING:
    from s3cred_tui.demo.running import RunningDemo

DEMO_REGION = "us-east-1"


class DemoAccount:
    """Use as a context manager: the server runs, seeded, inside the `with` block.

    Enforcement is switched on after seeding, and every request to this server is decided by
    the demo authorizer (s3cred-tui's evaluator with everything AWS would weigh, see
    `demo/authorizer.py`), so a credential created in the demo is limited to exactly what AWS
    would allow it.
    """

    def __init__(self, port: int = 0) -> None:
        self.server = MotoServer(host="127.0.0.1", port=port)
        self.admin: AdminKey | None = None
        self._authorized_port: int | None = None

    def __enter__(self) -> "DemoAccount":
        # Imported here so a missing or moved moto is reported when the demo starts (the CLI
        # turns DemoUnavailable and ImportError into one line), not when this module loads.
        from s3cred_tui.demo import authorizer

        self.server.start()
        try:
            self._authorized_port = self.server.port
            authorizer.install(self._authorized_port)
            # moto's state is per process: start from nothing even if something ran before.
            self.server.reset()
            self.admin = seed_demo_account(self.server)
            self.server.enforce_auth(True)
        except BaseException:
            self._stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            # Leave the process's emulated AWS as we found it: empty, enforcement off.
            self.server.reset()
        finally:
            self._stop()

    def _stop(self) -> None:
        from s3cred_tui.demo import authorizer

        try:
            self.server.stop()
        finally:
            if self._authorized_port is not None:
                authorizer.uninstall(self._authorized_port)
                self._authorized_port = None

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def config(self) -> SessionConfig:
        if self.admin is None:
            raise RuntimeError("The demo account is not running; use `with start_demo() as demo:`.")
        return SessionConfig(
            region=DEMO_REGION,
            endpoint_url=self.endpoint_url,
            access_key_id=self.admin.access_key_id,
            secret_access_key=self.admin.secret_access_key,
        )

    @property
    def note(self) -> str:
        return f"Demo account (moto at {self.endpoint_url}): nothing here touches real AWS. {WHO_DECIDES}"


def start_demo(reuse_running: bool = False) -> "DemoAccount | RunningDemo":
    """`with start_demo() as demo: ... demo.config ...`

    With `reuse_running`, the account a live `s3cred-tui demo-server` keeps (see
    `demo/running.py`) when there is one, so that consecutive commands share it.
    """
    if reuse_running:
        from s3cred_tui.demo.running import find_running

        running = find_running()
        if running is not None:
            return running
    return DemoAccount()
