"""The read-only IAM list screens (roles, groups): a filterable list beside the highlighted entry's details.

Each subclass names its kind and columns and reads its entries in a worker; this base lays the screen out
and owns refresh, filter and back, so both screens behave alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Footer, Static

from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.widgets.filter_table import FilterTable
from s3cred_tui.ui.widgets.motion import MotionScroll


class IamListScreen(AwsScreen[None]):
    # Focus lands on the list (not the filter box or whatever comes first), so keys work at once.
    AUTO_FOCUS = ".filter-data"
    CSS_PATH = Path(__file__).with_name("roles.tcss")
    KIND: ClassVar[str]  # "roles": names the widgets (#roles-table, #role-detail, …)
    SINGULAR: ClassVar[str]  # "role"
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]]

    def compose(self) -> ComposeResult:
        yield Static(Text(f"{self.KIND.capitalize()} (read-only)", style="bold"), id=f"{self.KIND}-title")
        with Horizontal(id=f"{self.KIND}-body"):
            yield FilterTable(self.SINGULAR, self.COLUMNS, placeholder=f"Filter {self.KIND}…  (/)",
                              id=f"{self.KIND}-table")
            with MotionScroll(id=f"{self.SINGULAR}-detail"):
                yield Static("", id=f"{self.SINGULAR}-why")
        yield Footer()

    @property
    def table(self) -> FilterTable:
        return self.query_one(f"#{self.KIND}-table", FilterTable)

    def on_mount(self) -> None:
        self.action_refresh()

    def forget_entries(self) -> None:
        """Drop what the last read found (each subclass keeps its own entries)."""

    def load(self) -> None:
        raise NotImplementedError

    def action_refresh(self) -> None:
        self.forget_entries()
        self.table.clear_rows()
        self.table.busy = True
        self.load()

    def action_focus_filter(self) -> None:
        self.table.focus_filter()

    def action_back(self) -> None:
        self.app.pop_screen()
