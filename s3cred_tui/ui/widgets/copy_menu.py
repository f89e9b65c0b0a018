"""`y` then a letter: copy new credentials in the format a person asks for.

Copying a secret takes two deliberate keys, `y` (copy…) on the screen and a format letter in
this menu, never a motion key: a vim user moving down (`j`) or up (`k`) only moves the menu's
highlight. The screen that holds the secret does the copying (it knows what was copied, for
its leaving question); this menu only asks which format.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from s3cred_tui.core import credentials as formats
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.ui.widgets.motion import MotionOptionList


@dataclass(frozen=True)
class CopyFormat:
    """One way to copy credentials: the menu letter, what the notice calls it, how to render it."""

    letter: str
    what: str
    render: Callable[[Credentials], str]
    holds_secret: bool
    detail: str = ""  # shown in the menu only


def copy_formats(ini_profile: str) -> tuple[CopyFormat, ...]:
    """Every format, the harmless key id first (the menu opens on it); `ini_profile` names the INI section."""
    return (
        CopyFormat("a", "access key id", lambda creds: creds.access_key_id, holds_secret=False),
        CopyFormat("s", "secret access key", lambda creds: creds.secret_access_key, holds_secret=True),
        CopyFormat(
            "i", "INI block", lambda creds: formats.to_ini(creds, profile=ini_profile), True, f"as [{ini_profile}]"
        ),
        CopyFormat("e", "export lines", formats.to_env, holds_secret=True),
        CopyFormat("o", "JSON", formats.to_json, holds_secret=True, detail="(o: object)"),
        CopyFormat("p", "credential_process JSON", formats.to_credential_process, holds_secret=True),
    )


class CopyMenuModal(ModalScreen["CopyFormat | None"]):
    """Pick a format by its letter, or move to it (j/k, arrows) and press Enter; Esc copies nothing."""

    CSS_PATH = Path(__file__).parent.parent / "screens" / "modals.tcss"
    DEFAULT_CSS = """
    CopyMenuModal {
        align: center middle;
        background: $background 60%;
    }
    CopyMenuModal .copy-dialog {
        width: 56;
    }
    CopyMenuModal #copy-options {
        height: auto;
        max-height: 10;
    }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="copy_menu.cancel", tooltip="Copy nothing"),
        *(
            Binding(f.letter, f"choose('{f.letter}')", f"Copy {f.what}", show=False, id=f"copy_menu.{f.letter}")
            for f in copy_formats("profile")
        ),
    ]

    def __init__(self, choices: Sequence[CopyFormat]) -> None:
        super().__init__()
        self.choices = {choice.letter: choice for choice in choices}

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-dialog copy-dialog"):
            yield Label("Copy the new credentials as…", classes="modal-title")
            yield MotionOptionList(
                *(
                    Option(
                        Text.assemble(
                            (f" {c.letter} ", "bold reverse"),
                            "  ",
                            c.what,
                            (f" {c.detail}" if c.detail else "", "dim"),
                            ("  · secret" if c.holds_secret else "", "yellow"),
                        ),
                        id=c.letter,
                    )
                    for c in self.choices.values()
                ),
                id="copy-options",
            )
            yield Static("Press a letter, or Enter on the highlighted line · Esc copies nothing", classes="muted")

    def on_mount(self) -> None:
        self.query_one("#copy-options", OptionList).focus()

    def action_choose(self, letter: str) -> None:
        choice = self.choices.get(letter)
        if choice is not None:
            self.dismiss(choice)

    @on(OptionList.OptionSelected, "#copy-options")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_choose(event.option.id or "")

    def action_cancel(self) -> None:
        self.dismiss(None)
