"""What each screen is for, which keys do what, and what read-only mode means."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

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

**Emulator caveat.** The demo (`--demo`) runs on moto, an AWS emulator that ignores
`Condition` blocks, permissions boundaries and session policies. A probe row that
depends on a Condition (marked ¹, e.g. *listing outside the prefix*) can therefore be
red in the demo although AWS enforces it; the simulator shows what AWS would decide.

## Keys

| Key | Where | What it does |
|---|---|---|
| `1` / `2` | Account | Buckets / IAM users list |
| `/` | lists | Filter the list (Esc clears, Down returns to the list) |
| `Enter` | lists | Open the highlighted bucket or user |
| `c` | Account, Bucket | Create credentials for the highlighted bucket / prefix |
| `r` | everywhere | Reload from AWS |
| `a` | User | Deactivate or activate the highlighted key |
| `d` | User | Delete the highlighted key |
| `n` | User | Create a new access key (at most 2 per user) |
| `x` | User | Delete the user and everything it owns |
| `p` | User | Probe the highlighted key (opens the probe, prefilled) |
| `u` | Bucket | Move to the access map (Enter on a row opens that user) |
| `ctrl+r` | Probe | Run the probe with the pasted key |
| `Esc` | screens | Go back |
| `ctrl+p` | everywhere | Command palette: jump to a bucket or user, probe a key pair, switch profile |
| `?` / `F1` | everywhere | This help |
| `q` | everywhere | Quit |

Every change asks for confirmation first, with the safe answer selected.

## Read-only mode

Started with `--read-only`, the app only **reads** the account: you can browse
buckets, users and policies and review plans, but every action that would change
something (creating credentials, keys or users, deleting, deactivating) is refused
with a notice. Use it to look around an account you must not touch.

## When something fails

Missing or expired credentials, access denied, throttling and network faults are
shown as a message; whatever had already loaded stays on screen. Press `r` to retry.
"""


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")
    BINDINGS = [
        Binding("escape,q,question_mark,f1", "close", "Close help", id="help.close", tooltip="Back to where you were"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            with VerticalScroll(id="help-scroll"):
                yield Markdown(HELP_TEXT, id="help-text")
            yield Static("Esc closes this help", id="help-footer")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
