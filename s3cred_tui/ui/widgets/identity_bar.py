"""The top of the account screen: who you are acting as, where, and whether it is a demo."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.session import AwsContext
from s3cred_tui.ui.base import AppContext


def identity_text(identity: Identity | None) -> Text:
    if identity is None:
        return Text.assemble(("Identity ", "bold"), ("checking…", "dim"))
    return Text.assemble(
        ("Account ", "bold"),
        (identity.account, "bold cyan"),
        ("  ", ""),
        (identity.arn, ""),
        ("  ", ""),
        (f"({identity.principal_type})", "dim"),
    )


def location_text(aws: AwsContext, read_only: bool) -> Text:
    text = Text.assemble(
        ("Profile ", "dim"),
        (aws.profile or "(default chain)", ""),
        ("   Region ", "dim"),
        (aws.region, ""),
        ("   Endpoint ", "dim"),
        (aws.config.endpoint_label, ""),
    )
    if read_only:
        text.append("   ")
        text.append(" READ-ONLY ", style="bold black on yellow")
    return text


class IdentityBar(AppContext, Vertical):
    def compose(self) -> ComposeResult:
        app = self.s3cred_app
        if app.demo_note:
            yield Static(
                Text.assemble(("DEMO ACCOUNT", "bold"), (f" — {app.demo_note}", "")),
                id="demo-banner",
            )
        yield Static(identity_text(app.identity), id="identity-line")
        yield Static(location_text(app.aws, app.read_only), id="location-line")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._identity_changed, init=False)

    def _identity_changed(self, identity: Identity | None) -> None:
        self.query_one("#identity-line", Static).update(identity_text(identity))
        self.query_one("#location-line", Static).update(location_text(self.aws, self.s3cred_app.read_only))
