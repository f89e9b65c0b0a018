"""One IAM user: what it may do (policies, groups, boundary) and its access keys, with actions.

"What may it do" is answered twice: the policies as written, and an offline simulator over
them (with the boundary when there is one). "Probe a key…" checks a key of the user live.

Deleting the user reads everything first (`core.deletion`, with the detail, so the question
lists exactly what goes), reads it again when confirmed (a change since is asked again), and a
stop half-way says what was removed and what remains. A user without the tool's tag
(`core.tags`) may be someone else's: the question says so and asks for the user's name typed out.
The identity this app is signed in as cannot delete itself, nor delete or deactivate the key it
signs with.
"""

from __future__ import annotations

import json
import weakref
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.access_map import fetch_boundary_documents
from s3cred_tui.core.apply import (
    create_access_key,
    delete_access_key,
    set_access_key_status,
)
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.deletion import (
    DeletionResult,
    UserDeletion,
    read_user_deletion,
    run_user_deletion,
    self_deletion_refusal,
)
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.inventory import AccessKeyInfo, UserDetail, user_details
from s3cred_tui.core.plan import MAX_ACCESS_KEYS_PER_USER as MAX_ACCESS_KEYS
from s3cred_tui.core.tags import CREATED_BY_KEY, CREATED_BY_VALUE, is_ours
from s3cred_tui.core.user_analysis import (
    NamedPolicy,
    policy_expectation,
    probe_expectation,
    suggested_target,
)
from s3cred_tui.ui import console_links, formatting
from s3cred_tui.ui.base import AwsScreen, action_name
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.screens.confirm import ConfirmModal, TypedNameConfirmModal
from s3cred_tui.ui.screens.error import ErrorModal, MessageModal
from s3cred_tui.ui.widgets.motion import MotionDataTable
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from s3cred_tui.ui.widgets.policy_json import PolicyJsonArea
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel

# Keys made on a user screen in this run of the app, by access key id. The secret is shown
# once by AWS; keeping it in memory (never on disk) lets "Probe a key…" prefill it.
_keys_made_this_session: weakref.WeakKeyDictionary[App[Any], dict[str, Credentials]] = weakref.WeakKeyDictionary()


def remember_new_key(app: App[Any], credentials: Credentials) -> None:
    _keys_made_this_session.setdefault(app, {})[credentials.access_key_id] = credentials


def key_made_this_session(app: App[Any], key_id: str | None) -> Credentials | None:
    return _keys_made_this_session.get(app, {}).get(key_id or "")


def forget_key(app: App[Any], key_id: str) -> None:
    _keys_made_this_session.get(app, {}).pop(key_id, None)


class BoundaryRead(Message):
    """The user's permissions boundary document, or why it could not be read."""

    def __init__(self, arn: str | None, document: dict | None, problem: str | None = None) -> None:
        super().__init__()
        self.arn = arn
        self.document = document
        self.problem = problem


class UserDetailLoaded(Message):
    def __init__(self, detail: UserDetail) -> None:
        super().__init__()
        self.detail = detail


class DeletionRead(Message):
    """Everything deleting the user would remove, or why it could not be read (then nothing may go)."""

    def __init__(self, deletion: UserDeletion | None, problem: str | None = None, *, changed: bool = False) -> None:
        super().__init__()
        self.deletion = deletion
        self.problem = problem
        # Read again after the person confirmed, and it differs from what they confirmed.
        self.changed = changed


class UserDeletionFinished(Message):
    def __init__(self, deletion: UserDeletion, result: DeletionResult) -> None:
        super().__init__()
        self.deletion = deletion
        self.result = result


class UserChanged(Message):
    """A user action finished; `summary` is plain words for a notice or a modal."""

    def __init__(
        self,
        user_name: str,
        summary: str,
        *,
        deleted: bool = False,
        removed: list[str] | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        super().__init__()
        self.user_name = user_name
        self.summary = summary
        self.deleted = deleted
        self.removed = removed or []
        self.credentials = credentials


def policy_text(document: dict | None) -> str:
    if document is None:
        return "// The policy document could not be read."
    return json.dumps(document, indent=2, sort_keys=False)


# removal operation -> (one, many) as the question counts them
_REMOVAL_WORDS: dict[str, tuple[str, str]] = {
    "iam:DeleteAccessKey": ("access key", "access keys"),
    "iam:DeleteUserPolicy": ("inline policy", "inline policies"),
    "iam:DetachUserPolicy": ("attached managed policy (detached, not deleted)",
                             "attached managed policies (detached, not deleted)"),
    "iam:RemoveUserFromGroup": ("group membership", "group memberships"),
    "iam:DeleteLoginProfile": ("console password", "console passwords"),
    "iam:DeactivateMFADevice": ("MFA device", "MFA devices"),
    "iam:DeleteSigningCertificate": ("signing certificate", "signing certificates"),
    "iam:DeleteSSHPublicKey": ("SSH public key", "SSH public keys"),
    "iam:DeleteServiceSpecificCredential": ("service-specific credential", "service-specific credentials"),
}


def owned_summary(deletion: UserDeletion) -> str:
    """What deleting the user takes with it, in plain words (only what it really has)."""
    counts: dict[str, int] = {}
    for removal in deletion.removals:
        if removal.operation in _REMOVAL_WORDS:
            counts[removal.operation] = counts.get(removal.operation, 0) + 1
    parts = [formatting.count(n, *_REMOVAL_WORDS[op]) for op, n in counts.items()]
    if not parts:
        return "the user alone: it has no keys, policies, groups or other credentials"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


NOT_MADE_WARNING = (
    f"s3cred-tui did not create this user (no {CREATED_BY_KEY}={CREATED_BY_VALUE} tag): "
    "it may belong to someone else."
)


def deletion_question(deletion: UserDeletion, *, changed: bool = False, made: bool = True) -> str:
    """The confirmation: every call that will run, in order, and the listings counted as nothing.

    `made`: the user carries the tool's tag; a user without it is said to be possibly someone else's.
    """
    name = deletion.user_name
    lines = []
    if not made:
        lines.append(f"⚠ {NOT_MADE_WARNING}\n")
    if changed:
        lines.append(f"What user {name} has changed since you confirmed; nothing was removed. This is it now:\n")
    lines.append(f"Delete user {name} and everything it owns?\n")
    lines.append(f"That is {owned_summary(deletion)}. Exactly these calls run, in this order:")
    lines.extend(f"  • {title}" for title in deletion.describe())
    if deletion.unsupported:
        lines.append(
            "Not supported by this endpoint, counted as nothing to remove: " + ", ".join(deletion.unsupported) + "."
        )
    lines.append("\nAnything using its keys stops working at once. This cannot be undone.")
    return "\n".join(lines)


class DeletedUserModal(MessageModal):
    BINDINGS = [Binding("escape,enter", "close", "Close", id="deleted.close", tooltip="Back to the account")]

    def __init__(self, user_name: str, removed: list[str]) -> None:
        lines = "\n".join(f"• {item}" for item in removed) or "• the user"
        super().__init__(f"User {user_name} deleted", f"Removed:\n{lines}")
        self.user_name = user_name
        self.removed = removed


# Actions on the highlighted access key: with no key they leave the footer (pressed, they say why).
_KEY_ACTIONS = frozenset({"toggle_key", "delete_key", "rotate", "copy_name"})


class UserScreen(AwsScreen[None]):
    CSS_PATH = Path(__file__).with_name("user.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="user.back", tooltip="Back to the previous screen"),
        Binding("a", "toggle_key", "(De)activate", id="user.toggle_key", tooltip="Deactivate or activate the highlighted access key"),
        Binding("d", "delete_key", "Del key", id="user.delete_key", tooltip="Delete the highlighted access key"),
        Binding("n", "new_key", "New key", id="user.new_key", tooltip="Create another access key (at most 2 per user)"),
        Binding("x", "delete_user", "Del user", id="user.delete_user", tooltip="Delete this user and everything it owns"),
        Binding("t", "rotate", "Rotate key…", show=False, id="user.rotate", tooltip="Rotate the highlighted access key, step by step"),
        Binding("p", "probe_key", "Probe", id="user.probe_key", tooltip="Check live what the highlighted key can really do"),
        Binding("r", "refresh", "Refresh", id="user.refresh", tooltip="Reload this user from AWS"),
        Binding("y", "copy_name", "Copy key id", show=False, id="user.copy_name", tooltip="Copy the highlighted access key id"),
        Binding("Y", "copy_arn", "Copy ARN", show=False, id="user.copy_arn", tooltip="Copy the user's ARN"),
        Binding("o", "open_console", "Console", show=False, id="user.console", tooltip="Open the user in the AWS console"),
    ]

    def __init__(self, user_name: str) -> None:
        super().__init__()
        self.user_name = user_name
        self.detail: UserDetail | None = None
        self.boundary: BoundaryRead | None = None
        # A key just created is highlighted once the list reloads, ready for "Probe a key…".
        self.highlight_after_load: str | None = None
        # What deleting the user would remove, read with the detail (None until read, or unreadable).
        self.deletion: DeletionRead | None = None
        self.deleting = False

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("User ", "dim"), (self.user_name, "bold"), ("   loading…", "dim")), id="user-title")
        with Horizontal(id="user-body"):
            with VerticalScroll(id="user-left"):
                yield Static("Access keys", classes="section-title")
                keys: DataTable[Any] = MotionDataTable(cursor_type="row", id="access-keys")
                for key, label in (
                    ("id", "Access key id"),
                    ("status", "Status"),
                    ("age", "Age"),
                    ("used", "Last used"),
                ):
                    keys.add_column(label, key=key)
                yield keys
                with Horizontal(id="key-actions"):
                    yield Static("", id="key-hint", classes="muted")
                    yield Button(
                        "Probe a key…",
                        id="probe-key",
                        compact=True,
                        tooltip="Check live what the highlighted key can really do (p)",
                    )
                yield Static("Groups and boundary", classes="section-title")
                yield Static("", id="user-facts")
                yield SimulatePanel(title="Would AWS allow it? (offline, over this user's policies)", id="user-simulate")
            with VerticalScroll(id="user-policies"):
                yield Static("Policies", classes="section-title")
        yield Footer()

    def on_mount(self) -> None:
        self.keys_table.focus()
        self.action_refresh()

    def action_copy_name(self) -> None:
        key_id = self.highlighted_key_id()
        if key_id is None:
            self.notify("No access key to copy: the user has none.", severity="warning")
            return
        self.s3cred_app.copy_plain(key_id, "the access key id")

    def action_copy_arn(self) -> None:
        if self.detail is None:
            self.notify("The user is still loading.", severity="warning")
            return
        self.s3cred_app.copy_plain(self.detail.summary.arn, "the user's ARN")

    def action_open_console(self) -> None:
        self.s3cred_app.open_in_console(console_links.user_url(self.user_name), f"user {self.user_name}")

    @property
    def active_bindings(self) -> dict[str, Any]:
        bindings = super().active_bindings
        if self.detail is not None and self.detail.access_keys:
            return bindings
        return {key: b for key, b in bindings.items() if action_name(b.binding.action) not in _KEY_ACTIONS}

    @property
    def keys_table(self) -> DataTable[Any]:
        return self.query_one("#access-keys", DataTable)

    def action_back(self) -> None:
        if self.deleting:
            # Leaving would lose the report of where a stop left the user.
            self.notify("Deleting the user; wait for it to finish.", severity="warning")
            return
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="user-detail", name="reading the user")
    def load_detail(self) -> None:
        detail = user_details(self.aws, self.user_name)
        boundary = BoundaryRead(None, None)
        if detail.boundary_arn:
            document = fetch_boundary_documents(self.aws, [detail.boundary_arn])[detail.boundary_arn]
            if isinstance(document, S3CredError):
                boundary = BoundaryRead(detail.boundary_arn, None, document.message)
            else:
                boundary = BoundaryRead(detail.boundary_arn, document)
        # The boundary first, so the simulator never answers without a cap it should apply.
        self.post_message(boundary)
        self.post_message(UserDetailLoaded(detail))
        if not self.s3cred_app.read_only:
            self.post_message(self._read_deletion())

    def _read_deletion(self, confirmed: UserDeletion | None = None) -> DeletionRead:
        """Read what deleting the user removes; `changed` when it differs from what was `confirmed`."""
        try:
            deletion = read_user_deletion(self.aws, self.user_name)
        except S3CredError as error:
            return DeletionRead(None, error.message)
        changed = confirmed is not None and deletion.removals != confirmed.removals
        return DeletionRead(deletion, changed=changed)

    def on_deletion_read(self, message: DeletionRead) -> None:
        self.deletion = message
        if message.changed and message.deletion is not None:
            self.deleting = False
            self._ask_to_delete(message.deletion, changed=True)

    def on_boundary_read(self, message: BoundaryRead) -> None:
        self.boundary = message

    async def on_user_detail_loaded(self, message: UserDetailLoaded) -> None:
        detail = message.detail
        self.detail = detail
        summary = detail.summary
        self.query_one("#user-title", Static).update(
            Text.assemble(
                ("User ", "dim"),
                (summary.name, "bold"),
                ("   ", ""),
                (summary.arn, ""),
                ("   created ", "dim"),
                (formatting.date(summary.created), ""),
                ("   path ", "dim"),
                (summary.path or "/", ""),
            )
        )
        self._show_keys(detail)
        self._show_facts(detail)
        self._show_simulation(detail)
        await self._show_policies(detail)

    def _show_keys(self, detail: UserDetail) -> None:
        table = self.keys_table
        now = self.s3cred_app.clock()
        highlighted = self.highlight_after_load or self.highlighted_key_id()
        self.highlight_after_load = None
        table.clear()
        for key in detail.access_keys:
            status = Text(key.status, style="green" if key.status == "Active" else "yellow")
            table.add_row(
                key.id,
                status,
                formatting.age(key.created, now),
                formatting.last_used(key.last_used, key.last_used_service, now),
                key=key.id,
            )
        if highlighted in table.rows:
            table.move_cursor(row=table.get_row_index(highlighted))
        hint = self.query_one("#key-hint", Static)
        if not detail.access_keys:
            hint.update("No access keys. n creates one.")
        elif len(detail.access_keys) >= MAX_ACCESS_KEYS:
            hint.update("2 of 2 keys: delete one before creating another.")
        else:
            hint.update("a (de)activates · d deletes · n creates a key")
        self.refresh_bindings()  # the key actions come and go with the keys

    def _show_facts(self, detail: UserDetail) -> None:
        lines = Text()
        lines.append("Permissions boundary: ", style="dim")
        lines.append(detail.boundary_arn or "none")
        if self.boundary is not None and self.boundary.problem:
            lines.append(f"\n  could not be read ({self.boundary.problem}); the simulation ignores it", style="yellow")
        lines.append("\nGroups: ", style="dim")
        lines.append(", ".join(g.name for g in detail.groups) or "none")
        if detail.tags:
            lines.append("\nTags: ", style="dim")
            lines.append(", ".join(f"{k}={v}" for k, v in sorted(detail.tags.items())))
        self.query_one("#user-facts", Static).update(lines)

    @property
    def boundary_policy(self) -> NamedPolicy | None:
        if self.boundary is None or self.boundary.document is None or self.boundary.arn is None:
            return None
        return (f"boundary {self.boundary.arn.rsplit('/', 1)[-1]}", self.boundary.document)

    def _known_buckets(self) -> list[str]:
        account = self.s3cred_app.account_screen()
        return account.bucket_names() if account is not None else []

    def _show_simulation(self, detail: UserDetail) -> None:
        panel = self.query_one("#user-simulate", SimulatePanel)
        panel.principal_arn = detail.summary.arn or None
        policies = list(detail.policy_documents())
        # Only the first load suggests a bucket and key; after that the person's choice stays.
        first = not panel.query_one("#sim-bucket", Input).value
        bucket, prefix = suggested_target((doc for _, doc in policies), self._known_buckets()) if first else (None, None)
        panel.set_policies(policies, boundary=self.boundary_policy, bucket=bucket or None, key=prefix or None)

    async def _show_policies(self, detail: UserDetail) -> None:
        container = self.query_one("#user-policies", VerticalScroll)
        await container.query(".policy").remove()
        widgets = []
        for heading, document in self._policy_sections(detail):
            widgets.append(Static(heading, classes="policy policy-heading"))
            widgets.append(PolicyJsonArea(policy_text(document), classes="policy policy-json"))
        if not widgets:
            widgets.append(Static("This user has no policies of its own or from groups.", classes="policy muted"))
        await container.mount_all(widgets)

    @staticmethod
    def _policy_sections(detail: UserDetail) -> list[tuple[Text, dict | None]]:
        sections: list[tuple[Text, dict | None]] = []
        for name, document in detail.inline_policies.items():
            sections.append((Text.assemble(("inline  ", "cyan"), (name, "bold")), document))
        for policy in detail.attached_policies:
            sections.append((Text.assemble(("attached  ", "magenta"), (policy.name, "bold"), (f"  {policy.arn}", "dim")), policy.document))
        for group in detail.groups:
            for name, document in group.inline_policies.items():
                sections.append((Text.assemble((f"group {group.name} · inline  ", "green"), (name, "bold")), document))
            for policy in group.attached_policies:
                sections.append(
                    (
                        Text.assemble((f"group {group.name} · attached  ", "green"), (policy.name, "bold"), (f"  {policy.arn}", "dim")),
                        policy.document,
                    )
                )
        return sections

    def highlighted_key_id(self) -> str | None:
        table = self.keys_table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return row_key.value

    def _highlighted_key(self) -> AccessKeyInfo | None:
        key_id = self.highlighted_key_id()
        if self.detail is None or key_id is None:
            self.notify("Highlight an access key first (the Access keys table).", severity="warning")
            return None
        return next((k for k in self.detail.access_keys if k.id == key_id), None)

    # -- actions ----------------------------------------------------------------------------

    async def action_probe_key(self) -> None:
        """Open the probe for the highlighted key: where this user's policies point, and, for every
        request it makes, what those policies (and the boundary) allow, through the evaluator."""
        key_id = self.highlighted_key_id() or ""
        expectation = probe_expectation([])
        expect = None
        if self.detail is not None:
            policies = list(self.detail.policy_documents())
            principal_arn = self.detail.summary.arn or None
            expectation = probe_expectation(
                policies, self._known_buckets(), boundary=self.boundary_policy, principal_arn=principal_arn
            )
            expect = policy_expectation(policies, boundary=self.boundary_policy, principal_arn=principal_arn)
        made_here = key_made_this_session(self.app, key_id)
        await self.s3cred_app.open_probe(
            access_key_id=key_id,
            buckets=expectation.buckets,
            access=expectation.access,
            prefix=expectation.prefix,
            secret=made_here.secret_access_key if made_here is not None else None,
            expect=expect,
            expected_from=f"{self.user_name}'s policies",
        )

    @on(Button.Pressed, "#probe-key")
    async def _probe_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_probe_key()

    def _refused_as_self(self, key_id: str | None = None) -> bool:
        """True (and says why) when the change would cut off the identity this app is signed in as."""
        identity = self.s3cred_app.identity
        if identity is None:
            self.notify(
                "Still checking which identity this app is signed in as, so it cannot tell whether this "
                "would cut you off. Try again in a moment.",
                title="Not yet",
                severity="warning",
            )
            return True
        reason = self_deletion_refusal(identity, self.user_name, self.aws.caller_access_key_id(), key_id)
        if reason is not None:
            self.notify(reason, title="Refused", severity="error", timeout=10)
            return True
        return False

    def action_toggle_key(self) -> None:
        if not require_writable(self.app, "change an access key's status"):
            return
        key = self._highlighted_key()
        if key is None:
            return
        if key.status == "Active" and self._refused_as_self(key.id):
            return
        if key.status == "Active":
            question = (
                f"Deactivate access key {key.id} of {self.user_name}?\n\n"
                "Anything using this key stops working at once. You can activate it again later."
            )
            label, status = "Deactivate", "Inactive"
        else:
            question = f"Activate access key {key.id} of {self.user_name}?\n\nIt will work again at once."
            label, status = "Activate", "Active"

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_key_status(key.id, status)

        self.app.push_screen(ConfirmModal(question, label, danger=status == "Inactive"), answered)

    def action_delete_key(self) -> None:
        if not require_writable(self.app, "delete an access key"):
            return
        key = self._highlighted_key()
        if key is None or self._refused_as_self(key.id):
            return
        question = (
            f"Delete access key {key.id} of {self.user_name}?\n\n"
            "Anything using it stops working at once, and a deleted key cannot be brought back."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_key(key.id)

        self.app.push_screen(ConfirmModal(question, "Delete key"), answered)

    def action_rotate(self) -> None:
        """Guided rotation of the highlighted key (or of the user's only key)."""
        self.s3cred_app.open_rotate(self.user_name, self.highlighted_key_id())

    def action_new_key(self) -> None:
        if not require_writable(self.app, "create an access key"):
            return
        if self.detail is None:
            self.notify("The user is still loading.", severity="warning")
            return
        if len(self.detail.access_keys) >= MAX_ACCESS_KEYS:
            self.notify(
                f"{self.user_name} already has {MAX_ACCESS_KEYS} access keys, the most AWS allows. "
                "To rotate: deactivate the old key, check nothing breaks, delete it, then create the new one.",
                title="Cannot create a key",
                severity="error",
                timeout=10,
            )
            return
        question = (
            f"Create a new access key for {self.user_name}?\n\n"
            "The secret is shown once, right after it is created."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.create_key()

        self.app.push_screen(ConfirmModal(question, "Create key", danger=False), answered)

    def action_delete_user(self) -> None:
        if not require_writable(self.app, "delete a user"):
            return
        if self.deleting:
            self.notify("Already deleting this user.", severity="warning")
            return
        if self.detail is None or self.deletion is None:
            self.notify("The user is still loading.", severity="warning")
            return
        if self._refused_as_self():
            return
        if self.deletion.deletion is None:
            self.notify(
                f"Cannot delete {self.user_name}: reading what it owns failed ({self.deletion.problem}). "
                "Nothing was removed.",
                title="Not deleted",
                severity="error",
                timeout=10,
            )
            return
        self._ask_to_delete(self.deletion.deletion)

    def _ask_to_delete(self, deletion: UserDeletion, *, changed: bool = False) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.deleting = True
                self.remove_user(deletion)

        made = self.detail is not None and is_ours(self.detail.tags)
        question = deletion_question(deletion, changed=changed, made=made)
        if made:
            modal: ConfirmModal = ConfirmModal(question, "Delete user")
        else:
            # Someone else's user, perhaps: a reflexive `y` must not delete it.
            modal = TypedNameConfirmModal(question, deletion.user_name, "Delete user", what="user's name")
        self.app.push_screen(modal, answered)

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="user-action", name="changing the key's status")
    def set_key_status(self, key_id: str, status: str) -> None:
        set_access_key_status(self.aws, self.user_name, key_id, status == "Active")
        self.post_message(UserChanged(self.user_name, f"Access key {key_id} is now {status.lower()}."))

    @work(thread=True, exit_on_error=False, group="user-action", name="deleting the access key")
    def delete_key(self, key_id: str) -> None:
        delete_access_key(self.aws, self.user_name, key_id)
        forget_key(self.app, key_id)
        self.post_message(UserChanged(self.user_name, f"Access key {key_id} deleted."))

    @work(thread=True, exit_on_error=False, group="user-action", name="creating an access key")
    def create_key(self) -> None:
        credentials = create_access_key(self.aws, self.user_name)
        self.post_message(
            UserChanged(self.user_name, f"Access key {credentials.access_key_id} created.", credentials=credentials)
        )

    @work(thread=True, exit_on_error=False, group="user-action", name="deleting the user")
    def remove_user(self, confirmed: UserDeletion) -> None:
        # Read again: the list the person confirmed may be stale; nothing goes unless it still holds.
        fresh = self._read_deletion(confirmed)
        if fresh.deletion is None:
            raise S3CredError(f"Reading what {self.user_name} owns failed ({fresh.problem}); nothing was removed.")
        if fresh.changed:
            self.post_message(fresh)
            return
        worker = get_current_worker()
        result = run_user_deletion(self.aws, fresh.deletion, is_cancelled=lambda: worker.is_cancelled)
        self.post_message(UserDeletionFinished(fresh.deletion, result))

    def on_user_deletion_finished(self, message: UserDeletionFinished) -> None:
        self.deleting = False
        result = message.result
        if result.ok:
            self.post_message(UserChanged(self.user_name, result.summary(), deleted=True, removed=result.removed))
            return
        for removal in message.deletion.removals:
            if removal.operation == "iam:DeleteAccessKey" and removal.title in result.removed:
                forget_key(self.app, removal.params["AccessKeyId"])
        title = f"User {self.user_name} partly deleted" if result.removed else f"User {self.user_name} not deleted"
        self.app.push_screen(ErrorModal(title, result.summary()))
        account = self.s3cred_app.account_screen()
        if account is not None:
            account.recount_user(self.user_name)
        self.load_detail()

    def on_user_changed(self, message: UserChanged) -> None:
        account = self.s3cred_app.account_screen()
        if message.deleted:
            for key in self.detail.access_keys if self.detail is not None else ():
                forget_key(self.app, key.id)
            if account is not None:
                account.forget_user(message.user_name)
            self.s3cred_app.account_changed()  # an access map may list the user too
            self.app.pop_screen()
            self.app.push_screen(DeletedUserModal(message.user_name, message.removed))
            return
        self.notify(message.summary, title=self.user_name)
        if message.credentials is not None:
            remember_new_key(self.app, message.credentials)
            self.highlight_after_load = message.credentials.access_key_id
            self.app.push_screen(NewKeyModal(message.credentials, self.user_name))
        if account is not None:
            account.recount_user(message.user_name)
        self.load_detail()

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.name == "deleting the user" and worker.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self.deleting = False
        if worker.group == "user-action" and worker.state is WorkerState.ERROR:
            # The change may have half-happened: show the truth.
            self.load_detail()
