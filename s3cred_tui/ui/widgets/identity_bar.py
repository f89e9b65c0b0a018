"""The top of the account screen: who you are acting as, where, and whether it is a demo."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static


def identity_text(identity: Any) -> Text:
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


def location_text(app: Any) -> Text:
    aws = app.aws
    text = Text.assemble(
        ("Profile ", "dim"),
        (aws.profile or "(default chain)", ""),
        ("   Region ", "dim"),
        (aws.region, ""),
        ("   Endpoint ", "dim"),
        (aws.config.endpoint_label, ""),
    )
    if app.read_only:
        text.append("   ")
        text.append(" READ-ONLY ", style="bold black on yellow")
    return text


class IdentityBar(Vertical):
    def compose(self) -> ComposeResult:
        app: Any = self.app
        if app.demo_note:
            yield Static(
                Text.assemble(("DEMO ACCOUNT", "bold"), (f" — {app.demo_note}", "")),
                id="demo-banner",
            )
        yield Static(identity_text(app.identity), id="identity-line")
        yield Static(location_text(app), id="location-line")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._identity_changed, init=False)

    def _identity_changed(self, identity: Any) -> None:
        self.query_one("#identity-line", Static).update(identity_text(identity))
        self.query_one("#location-line", Static).update(location_text(self.app))
