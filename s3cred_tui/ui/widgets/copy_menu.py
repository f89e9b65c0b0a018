"""`y` then a letter: copy new credentials in the format a person asks for.

Copying a secret takes two deliberate keys, `y` (copy…) on the screen and a format letter in
this menu, never a motion key: a vim user moving down (`j`) or up (`k`) only moves the menu's
highlight. The screen that holds the secret does the copying (it knows what was copied, for
its leaving question); this menu only asks which format.

`copy_credentials` is that copy. Where the clipboard will probably not work
(`clipboard.clipboard_support`), it says so first and offers `SaveToFileModal`: the same text
written to a file only the person can read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from s3cred_tui.core import credentials as formats
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.ui import clipboard
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.widgets.motion import MotionOptionList


@dataclass(frozen=True)
class CopyFormat:
    """One way to copy credentials: the menu letter, what the notice calls it, how to render it."""

    letter: str
    what: str
    render: Callable[[Credentials], str]
    holds_secret: bool
    detail: str = ""  # shown in the menu only
    extension: str = "txt"  # of the file offered when the clipboard will probably not work


def copy_formats(ini_profile: str) -> tuple[CopyFormat, ...]:
    """Every format, the harmless key id first (the menu opens on it); `ini_profile` names the INI section."""
    return (
        CopyFormat("a", "access key id", lambda creds: creds.access_key_id, holds_secret=False),
        CopyFormat("s", "secret access key", lambda creds: creds.secret_access_key, holds_secret=True),
        CopyFormat(
            "i", "INI block", lambda creds: formats.to_ini(creds, profile=ini_profile), True, f"as [{ini_profile}]", "ini"
        ),
        CopyFormat("e", "export lines", formats.to_env, holds_secret=True, extension="env"),
        CopyFormat("o", "JSON", formats.to_json, holds_secret=True, detail="(o: object)", extension="json"),
        CopyFormat("p", "credential_process JSON", formats.to_credential_process, holds_secret=True, extension="json"),
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
        yield Footer()  # this menu's keys, over the footer of the screen behind

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


COPY_ANYWAY = "copy anyway"


class SaveToFileModal(ModalScreen["Path | str | None"]):
    """The clipboard will probably not work: write the text to a 0600 file instead, copy anyway, or neither.

    Dismisses with the `Path` written, `COPY_ANYWAY`, or None (Esc, Cancel). An existing file is
    replaced only after a yes; a bad path is one line under the field, naming it.
    """

    CSS_PATH = Path(__file__).parent.parent / "screens" / "modals.tcss"
    DEFAULT_CSS = """
    SaveToFileModal {
        align: center middle;
        background: $background 60%;
    }
    SaveToFileModal .save-dialog {
        width: 76;
        border: thick $warning;
    }
    SaveToFileModal #save-path {
        margin-bottom: 0;
    }
    SaveToFileModal #save-error {
        color: $text-error;
        height: auto;
        margin-bottom: 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="save_file.cancel", tooltip="Neither copy nor write")]

    def __init__(self, warning: str, what: str, text: str, default_path: Path) -> None:
        super().__init__()
        self.warning = warning
        self.what = what
        self._text = text
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-dialog save-dialog"):
            yield Label("Copying will probably not work here", classes="modal-title")
            yield Static(self.warning, id="save-warning", classes="modal-message", markup=False)
            yield Label(f"Write the {self.what} to a file only you can read (mode 0600):")
            yield Input(str(self.default_path), id="save-path", compact=True)
            yield Static("", id="save-error", markup=False)
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel (Esc)", id="cancel", compact=True)
                yield Button("Copy anyway", id="copy-anyway", compact=True)
                yield Button("Write file", id="write", variant="primary", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "write":
            self.write()
        elif event.button.id == "copy-anyway":
            self.dismiss(COPY_ANYWAY)
        else:
            self.dismiss(None)

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.write()

    def write(self, *, replace: bool = False) -> None:
        error = self.query_one("#save-error", Static)
        error.update("")
        try:
            path = clipboard.private_file_target(self.query_one("#save-path", Input).value)
            clipboard.write_private_file(path, self._text, replace=replace)
        except clipboard.FileExists:
            self.app.push_screen(
                ConfirmModal(
                    f"{path} already exists.\n\nReplace it with the {self.what}? What it holds now is lost.",
                    "Replace",
                ),
                lambda yes: self.write(replace=True) if yes else None,
            )
            return
        except ValidationError as problem:
            error.update(problem.message)
            return
        self.dismiss(path)


def copy_credentials(
    app: App[object],
    credentials: Credentials,
    choice: CopyFormat,
    *,
    on_copied: Callable[[str], None],
    on_saved: Callable[[Path], None],
    support: clipboard.ClipboardSupport | None = None,
) -> None:
    """Copy `choice` of `credentials`; a secret where the clipboard will probably not work is offered as a file.

    `on_copied(what)` follows a copy that held the secret, `on_saved(path)` a file written. The
    notice names the format and the path, never the text.
    """
    text = choice.render(credentials)

    def copy() -> None:
        clipboard.copy_and_notify(app, text, choice.what)
        if choice.holds_secret:
            on_copied(choice.what)

    judged = support if support is not None else (clipboard.clipboard_support() if choice.holds_secret else None)
    if judged is None or not judged.copy_unlikely:
        copy()
        return

    def answered(result: Path | str | None) -> None:
        if result == COPY_ANYWAY:
            copy()
        elif isinstance(result, Path):
            app.notify(f"Wrote the {choice.what} to {result} (mode 0600: only you can read it).", title="Saved")
            on_saved(result)

    default_path = clipboard.credentials_file_path(credentials.user_name, choice.extension)
    app.push_screen(SaveToFileModal(judged.warning, choice.what, text, default_path), answered)
