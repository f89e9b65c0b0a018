"""A yes/no question before anything irreversible; dismisses with True only on an explicit yes.

Leaving a new secret is one such thing: AWS shows a secret access key once. A screen that shows
one mixes in `HoldsSecret`; every way out of it (its own Esc or Done, and the app's quit, ctrl+c,
palette quit, reload and profile switch) asks `LeaveSecretModal` first, with the one question
`leave_secret_question` words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

SECRET_SHOWN_ONCE = "The secret access key is shown only once: AWS cannot show it again after you leave."


class ConfirmModal(ModalScreen[bool]):
    CSS_PATH = Path(__file__).with_name("modals.tcss")
    # A long question (every item a user deletion removes) scrolls inside the dialog; the buttons stay.
    DEFAULT_CSS = """
    ConfirmModal #modal-message-scroll {
        height: auto;
        max-height: 24;
    }
    /* Docked, so a question taller than the terminal clips its text, never its answer or buttons. */
    ConfirmModal #confirm-answer {
        dock: bottom;
        height: auto;
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
            with Vertical(id="confirm-answer"):
                yield from self.compose_answer()
                # The keys are on the buttons too.
                with Horizontal(classes="modal-buttons"):
                    yield Button("Cancel (n)", id="cancel", variant="default")
                    yield Button(
                        self.confirm_button_label,
                        id="confirm",
                        variant="error" if self.danger else "primary",
                        disabled=not self.answered,
                    )
        # The question's own keys, over the footer of the screen behind (whose keys do not reach here).
        yield Footer()

    def compose_answer(self) -> ComposeResult:
        """What the person must fill in before the yes button (nothing: a plain yes/no)."""
        yield from ()

    @property
    def confirm_button_label(self) -> str:
        return f"{self.confirm_label} (y)"

    @property
    def answered(self) -> bool:
        """Whatever `compose_answer` asks for is filled in (the yes button is enabled only then)."""
        return True

    def first_focus(self) -> str:
        # The safe answer has focus, so a stray Enter never destroys anything.
        return "#cancel"

    def on_mount(self) -> None:
        self.query_one(self.first_focus()).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_confirm(self) -> None:
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)


class TypedNameConfirmModal(ConfirmModal):
    """A yes that needs the thing's exact name typed first (deleting what may be someone else's).

    The yes button is disabled until the field holds `name` exactly; Enter in the field confirms
    only then, and Esc cancels. `y` and `n` type into the field, so neither answers for the person.
    """

    DEFAULT_CSS = """
    TypedNameConfirmModal #typed-name-hint {
        height: auto;
    }
    /* A compact field on the dialog's own background would be invisible while empty. */
    TypedNameConfirmModal #typed-name {
        margin-bottom: 1;
        background: $surface-lighten-1;
    }
    """

    def __init__(self, question: str, name: str, confirm_label: str = "Confirm", what: str = "name") -> None:
        super().__init__(question, confirm_label, danger=True)
        self.name_to_type = name
        self.what = what

    def compose_answer(self) -> ComposeResult:
        # No placeholder: the name shown dim in the field would look as if it were typed already.
        yield Static(
            f"Type the {self.what}, {self.name_to_type}, to confirm:", id="typed-name-hint", classes="muted", markup=False
        )
        yield Input(id="typed-name", compact=True, select_on_focus=False)

    @property
    def confirm_button_label(self) -> str:
        return self.confirm_label

    @property
    def answered(self) -> bool:
        """The field holds the name exactly (False before the field exists)."""
        fields = self.query("#typed-name").results(Input)
        return any(field.value == self.name_to_type for field in fields)

    def first_focus(self) -> str:
        return "#typed-name"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `y` types into the field; the footer offers no yes before the name is there.
        if action == "confirm" and not self.answered:
            return False
        return super().check_action(action, parameters)

    @on(Input.Changed, "#typed-name")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#confirm", Button).disabled = not self.answered
        self.refresh_bindings()

    @on(Input.Submitted, "#typed-name")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        if self.answered:
            self.dismiss(True)
        else:
            self.query_one("#typed-name-hint", Static).update(
                f"That is not the {self.what}: type {self.name_to_type} exactly, or press Esc."
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "confirm":
            self.action_confirm()
        else:
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
    secret_files: tuple[str, ...] = ()  # the 0600 files the secret was written to, in order

    def secret_copied(self, what: str) -> None:
        if what not in self.secret_copies:
            self.secret_copies = (*self.secret_copies, what)

    def secret_saved(self, path: object) -> None:
        """The secret was written to a file (offered when the clipboard will probably not work)."""
        if str(path) not in self.secret_files:
            self.secret_files = (*self.secret_files, str(path))

    def secret_left(self) -> None:
        """The person confirmed leaving: nothing more to ask on the way out."""
        self.holds_unsaved_secret = False


def leave_secret_question(copies: Sequence[str], leaving: str, files: Sequence[str] = ()) -> str:
    """The one wording of "you are about to lose a secret": what was copied or written, then `<leaving> anyway?`."""
    if copies:
        copied = (
            f"You copied it ({', '.join(copies)}), but a terminal can drop a copy without a sign: "
            "check it arrived before you go."
        )
    elif files:
        copied = ""
    else:
        copied = "You have not copied it."
    if files:
        written = f"You wrote it to {', '.join(files)} (readable only by you)."
        copied = f"{copied}\n\n{written}" if copied else written
    return f"{SECRET_SHOWN_ONCE}\n\n{copied}\n\n{leaving} anyway?"
