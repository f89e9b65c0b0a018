"""The policy a request will produce, as highlighted JSON, with its size against the limit that applies."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from s3cred_tui.ui.widgets.policy_json import PolicyJsonArea


def size_line(size: int, limit: int, what: str) -> str:
    """`412 / 2,048 characters (inline user policy)`, with the overflow spelled out when too big."""
    line = f"{size:,} / {limit:,} characters ({what}, whitespace not counted)"
    if size > limit:
        line += f" — {size - limit:,} too many"
    return line


class PolicyPreview(Vertical):
    """Read-only JSON view of a policy document plus a size gauge.

    `show_policy` replaces the text in place, so typing in the form never rebuilds widgets.
    Its styles live in `policy_preview.tcss`, which screens using it list in their CSS_PATH.
    """

    def __init__(self, title: str = "Policy preview", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title

    def compose(self) -> ComposeResult:
        yield PolicyJsonArea("", show_line_numbers=True, id="policy-json")
        yield Static("", id="policy-size", markup=False)

    def show_policy(self, policy_text: str, size: int, limit: int, what: str) -> None:
        text_area = self.query_one("#policy-json", PolicyJsonArea)
        if text_area.text != policy_text:
            text_area.load_text(policy_text)
        gauge = self.query_one("#policy-size", Static)
        gauge.update(size_line(size, limit, what))
        gauge.set_class(size > limit, "over-limit")

    def show_unavailable(self, reason: str) -> None:
        """No policy can be built yet (e.g. no bucket named): say why instead of showing stale JSON."""
        text_area = self.query_one("#policy-json", PolicyJsonArea)
        if text_area.text:
            text_area.load_text("")
        gauge = self.query_one("#policy-size", Static)
        gauge.update(reason)
        gauge.set_class(False, "over-limit")

    @property
    def policy_text(self) -> str:
        return self.query_one("#policy-json", PolicyJsonArea).text
