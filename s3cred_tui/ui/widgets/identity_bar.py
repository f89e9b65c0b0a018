"""The top of the account screen: who you are acting as, where, and whether it is a demo.

At most three one-line rows (demo, identity, location), each cut with an ellipsis rather than
wrapped, so the lists keep the room at 80×24. When whoami fails the identity row says why and
that `r` asks again, instead of "checking…" for ever.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.session import AwsContext
from s3cred_tui.ui.base import AppContext


def _one_line(text: Text) -> Text:
    text.no_wrap = True
    text.overflow = "ellipsis"
    return text


def identity_text(identity: Identity | None, problem: str | None = None) -> Text:
    if identity is None and problem:
        return _one_line(
            Text.assemble(("Identity unknown: ", "bold yellow"), (problem, "yellow"), ("  (r asks again)", "dim"))
        )
    if identity is None:
        return _one_line(Text.assemble(("Identity ", "bold"), ("checking…", "dim")))
    return _one_line(
        Text.assemble(
            ("Account ", "bold"),
            (identity.account, "bold cyan"),
            ("  ", ""),
            (identity.arn, ""),
            ("  ", ""),
            (f"({identity.principal_type})", "dim"),
        )
    )


def location_text(aws: AwsContext, read_only: bool) -> Text:
    text = Text()
    if read_only:
        text.append(" READ-ONLY ", style="bold black on yellow")
        text.append("  ")
    text.append_text(
        Text.assemble(
            ("Profile ", "dim"),
            (aws.profile or "(default chain)", ""),
            ("   Region ", "dim"),
            (aws.region, ""),
            ("   Endpoint ", "dim"),
            (aws.config.endpoint_label, ""),
        )
    )
    return _one_line(text)


def demo_text(note: str) -> Text:
    """The whole demo note on one line: where, that nothing touches AWS, and who decides requests there.

    A narrow terminal cuts it with an ellipsis; the banner's tooltip always holds all of it.
    """
    return _one_line(Text.assemble((" DEMO ", "bold black on yellow"), (" ", ""), (note, "")))


class IdentityBar(AppContext, Vertical):
    def compose(self) -> ComposeResult:
        app = self.s3cred_app
        if app.demo_note:
            banner = Static(demo_text(app.demo_note), id="demo-banner")
            banner.tooltip = app.demo_note
            yield banner
        yield Static(identity_text(app.identity, app.identity_problem), id="identity-line")
        yield Static(location_text(app.aws, app.read_only), id="location-line")

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._identity_changed, init=False)
        self.watch(self.app, "identity_problem", self._identity_changed, init=False)

    def _identity_changed(self, _: object) -> None:
        app = self.s3cred_app
        self.query_one("#identity-line", Static).update(identity_text(app.identity, app.identity_problem))
        self.query_one("#location-line", Static).update(location_text(self.aws, app.read_only))
