"""What each screen is for, which keys do what, and what read-only mode means."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from s3cred_tui.ui.widgets.motion import MotionScroll

HELP_TEXT = """\
# s3cred-tui

Make AWS credentials that can reach **one bucket (or one prefix) and nothing else**,
review the exact plan before anything changes, and prove the new key is scoped.

## Screens

**Account** (start screen). Who you are acting as, and two lists:
*Buckets* and *IAM users*. Both load page by page; regions, key and policy counts
fill in as they arrive. Type in the box above a list to filter it.

**Bucket**. Browse prefixes (folders) one level at a time; *load more…* fetches the
next page of a large folder. On the right, the **access map**: every IAM user who can
list, read, write or delete at the highlighted prefix (✓ yes, ✗ no, ! could not be
evaluated). Press `c` to create credentials for the highlighted prefix.

**User**. Policies (inline, attached, from groups), permissions boundary and
access keys with their age and last use. From here you can deactivate, activate,
delete or add a key, or delete the user with everything it owns. Below the keys,
**simulate** asks "would AWS allow this request?" of this user's policies, and
`p` **probes** the highlighted key live.

**Create**. Choose buckets, access level, prefix and kind of credential; review the
plan; apply it; get the credentials once.

## Proving a key is scoped

Three tools answer "what can this key really do?", each from a different angle:

- **Probe** (after creating credentials, `p` on a user, or *Probe a key pair…* in the
  command palette): makes real S3 requests with the key (listing, HEAD reads, a small
  temporary object written and deleted) inside and outside the intended bucket and
  prefix, and compares what happened with what the access level should allow. Paste the
  secret: it stays in memory only. A key created in this session is prefilled whole.
- **Simulate** (user screen, create form): evaluates the policies offline, as AWS
  would, and names the statement (policy and Sid) that decides. It understands
  Conditions, permissions boundaries and `${aws:username}`. No AWS call is made.
- **Access map** (bucket screen): the simulator run for every IAM user at the
  highlighted prefix. Users and policies are read once; changing the prefix only
  re-evaluates. Bucket policies are not part of it.

**Emulator caveat.** A plain moto or LocalStack ignores `Condition` blocks, permissions
boundaries and session policies. A probe row that depends on a Condition (marked ¹, e.g.
*listing outside the prefix*) can therefore be red there although AWS enforces it; the
simulator shows what AWS would decide. The demo (`--demo`) is not affected: its requests
are authorized by s3cred-tui's own evaluator.

## Keys

One key, one meaning, on every screen. `j`/`k`, `g`/`G`, `ctrl+d`/`ctrl+u` move in every
list, tree and pane as the arrows, `Home` and `End` do; `Esc` clears an active filter before it
leaves; `y` copies (on the result screen, `y` then a letter); `r` reloads from AWS.

KEYS_TABLE

Every change asks for confirmation first, with the safe answer selected.

## Read-only mode

Started with `--read-only`, the app only **reads** the account: you can browse
buckets, users and policies and review plans, but every action that would change
something (creating credentials, keys or users, deleting, deactivating) is refused
with a notice. Use it to look around an account you must not touch.

## Settings

A TOML file in your config directory (`SETTINGS_PATH`): `theme` (the one you pick
in the command palette is saved there), `default_profile`, `default_region`,
`permissions_boundary` (whether new users get the S3-only boundary), `ini_profile` (the
section name of a copied INI block) and a `[keymap]` table of binding ids (last column above)
to keys, e.g. `"account.create" = "n"`.

## When something fails

Missing or expired credentials, access denied, throttling and network faults are
shown as a message; whatever had already loaded stays on screen. Press `r` to retry. An
expired SSO session names the `aws sso login --profile …` command that renews it.
"""

KEYS_PLACEHOLDER = "KEYS_TABLE"
SETTINGS_PLACEHOLDER = "SETTINGS_PATH"


def help_text(key_table: str, settings_path: str) -> str:
    """The help, with the key table the bindings make and where the settings file is."""
    return HELP_TEXT.replace(KEYS_PLACEHOLDER, key_table).replace(SETTINGS_PLACEHOLDER, settings_path)


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")
    BINDINGS = [
        Binding("escape", "close", "Close help", id="help.close", tooltip="Back to where you were"),
        # The help keys toggle it; q quits from here too (one meaning for each key).
        Binding("question_mark,f1", "toggle_help", "Help", id="help.toggle", tooltip="Close the help"),
        Binding("q", "app.quit", "Quit", id="help.quit", tooltip="Leave s3cred-tui"),
    ]

    def __init__(self, key_table: str = "", settings_path: str = "") -> None:
        super().__init__()
        self.key_table = key_table
        self.settings_path = settings_path

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            with MotionScroll(id="help-scroll"):
                yield Markdown(help_text(self.key_table, self.settings_path), id="help-text")
            yield Static("Esc closes this help", id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_toggle_help(self) -> None:
        self.dismiss(None)
