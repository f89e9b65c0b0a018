"""`--demo`: a seeded, IAM-enforcing moto server that lives as long as one command or app run."""

from __future__ import annotations

from s3cred_tui.core.session import SessionConfig
from s3cred_tui.demo.seed import seed_demo_account
from s3cred_tui.demo.server import AdminKey, MotoServer

DEMO_REGION = "us-east-1"


class DemoAccount:
    """Use as a context manager: the server runs, seeded, inside the `with` block.

    Enforcement is switched on after seeding, so a credential created in the demo is
    really limited to what its policy grants (within what moto enforces).
    """

    def __init__(self) -> None:
        self.server = MotoServer(host="127.0.0.1", port=0)
        self.admin: AdminKey | None = None

    def __enter__(self) -> "DemoAccount":
        self.server.start()
        try:
            # moto's state is per process: start from nothing even if something ran before.
            self.server.reset()
            self.admin = seed_demo_account(self.server)
            self.server.enforce_auth(True)
        except BaseException:
            self.server.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            # Leave the process's emulated AWS as we found it: empty, enforcement off.
            self.server.reset()
        finally:
            self.server.stop()

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
        return f"Demo account (moto at {self.endpoint_url}): nothing here touches real AWS."


def start_demo() -> DemoAccount:
    """`with start_demo() as demo: ... demo.config ...`"""
    return DemoAccount()
