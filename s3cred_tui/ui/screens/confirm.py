"""A yes/no question before anything irreversible; dismisses with True only on an explicit yes.

Leaving a new secret is one such thing: AWS shows a secret access key once. A screen that shows
one mixes in `HoldsSecret`; every way out of it (its own Esc or Done, and the app's quit, ctrl+c,
palette quit, reload and profile switch) asks `LeaveSecretModal` first, with the one question
`leave_secret_question` words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

SECRET_SHOWN_ONCE = "The secret access key is shown only once: AWS cannot show it again after you leave."


class ConfirmModal(ModalScreen[bool]):
    CSS_PATH = Path(__file__).with_name("modals.tcss")
    # A long question (every item a user deletion removes) scrolls inside the dialog; the buttons stay.
    DEFAULT_CSS = """
    ConfirmModal #modal-message-scroll {
        height: auto;
        max-height: 24;
    }
    """
    BINDINGS = [
        Binding("escape,n", "cancel", "Cancel", id="confirm.cancel", tooltip="Go back without changing anything"),
        Binding("y", "confirm", "Confirm", id="confirm.yes", tooltip="Do it"),
    ]

    def __init__(self, question: str, confirm_label: str = "Confirm", danger: bool = True) -> None:
        super().__init__()
        self.question = question
        self.confirm_label = confirm_label
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="modal-dialog confirm-dialog"):
            yield Label("Please confirm", id="modal-title", classes="modal-title")
            with VerticalScroll(id="modal-message-scroll"):
                yield Static(self.question, id="modal-message", classes="modal-message", markup=False)
            # The keys are on the buttons: a question has no footer to show them in.
            with Horizontal(classes="modal-buttons"):
                yield Button("Cancel (n)", id="cancel", variant="default")
                yield Button(f"{self.confirm_label} (y)", id="confirm", variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        # The safe answer has focus, so a stray Enter never destroys anything.
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class LeaveSecretModal(ConfirmModal):
    """The question before leaving a secret shown once; the app asks it at most once at a time."""


class HoldsSecret:
    """Mixed into a screen that shows a new secret access key.

    `holds_unsaved_secret` stays True while the screen is open, until the person confirms leaving:
    a copy is no proof the secret was saved (OSC 52 is never answered), so copying only changes
    what the question says. `secret_copied(what)` records a copy that included the secret.
    """

    holds_unsaved_secret: bool = True
    secret_copies: tuple[str, ...] = ()  # what the person copied that included the secret, in order

    def secret_copied(self, what: str) -> None:
        if what not in self.secret_copies:
            self.secret_copies = (*self.secret_copies, what)

    def secret_left(self) -> None:
        """The person confirmed leaving: nothing more to ask on the way out."""
        self.holds_unsaved_secret = False


def leave_secret_question(copies: Sequence[str], leaving: str) -> str:
    """The one wording of "you are about to lose a secret": what was copied, then `<leaving> anyway?`."""
    if copies:
        copied = (
            f"You copied it ({', '.join(copies)}), but a terminal can drop a copy without a sign: "
            "check it arrived before you go."
        )
    else:
        copied = "You have not copied it."
    return f"{SECRET_SHOWN_ONCE}\n\n{copied}\n\n{leaving} anyway?"
