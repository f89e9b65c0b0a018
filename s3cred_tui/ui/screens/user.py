"""One IAM user: what it may do (policies, groups, boundary) and its access keys, with actions.

"What may it do" is answered twice: the policies as written, and an offline simulator over
them (with the boundary when there is one). "Probe a key…" checks a key of the user live.
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, DataTable, Footer, Input, Static
from textual.worker import Worker, WorkerState

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.plan import MAX_ACCESS_KEYS_PER_USER as MAX_ACCESS_KEYS
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.ui import formatting
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.messages import UserChanged, UserDetailLoaded
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.error import MessageModal
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from s3cred_tui.ui.widgets.policy_json import PolicyJsonArea
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel
from s3cred_tui.ui.widgets.worker_reporting import ForwardWorkerStates

S3_ARN = re.compile(r"^arn:aws[\w-]*:s3:::([^/]+)(?:/(.*))?$")
WILDCARDS = ("*", "?", "${")

# Keys made on a user screen in this run of the app, by access key id. The secret is shown
# once by AWS; keeping it in memory (never on disk) lets "Probe a key…" prefill it.
_keys_made_this_session: "weakref.WeakKeyDictionary[Any, dict[str, Credentials]]" = weakref.WeakKeyDictionary()


def remember_new_key(app: Any, credentials: Credentials) -> None:
    _keys_made_this_session.setdefault(app, {})[credentials.access_key_id] = credentials


def key_made_this_session(app: Any, key_id: str | None) -> Credentials | None:
    return _keys_made_this_session.get(app, {}).get(key_id or "")


def forget_key(app: Any, key_id: str) -> None:
    _keys_made_this_session.get(app, {}).pop(key_id, None)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _literal_prefix(path: str) -> str:
    """`reports/2024/*` -> `reports/2024/`: the folder part before any wildcard."""
    cut = min((i for i in (path.find(w) for w in WILDCARDS) if i >= 0), default=len(path))
    literal = path[:cut]
    return literal[: literal.rfind("/") + 1]


def suggested_target(documents: Iterable[Mapping[str, Any]], known_buckets: Iterable[str] = ()) -> tuple[str, str]:
    """The bucket and prefix a user's policies are most plainly about, to prefill questions.

    The first bucket named literally in an Allow statement wins, with the folder of its first
    object resource; policies that only use wildcards (`*`) fall back to the first known
    bucket they reach. ("", "") when nothing points anywhere.
    """
    from s3cred_tui.core.inventory import document_references_bucket

    documents = list(documents)
    bucket = ""
    prefix: str | None = None
    for document in documents:
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            for resource in _as_list(statement.get("Resource")):
                match = S3_ARN.match(str(resource))
                if match is None or any(w in match.group(1) for w in WILDCARDS):
                    continue
                name, path = match.group(1), match.group(2)
                if not bucket:
                    bucket = name
                if name == bucket and path is not None and prefix is None:
                    prefix = _literal_prefix(path)
    if bucket:
        return bucket, prefix or ""
    for name in known_buckets:
        if any(document_references_bucket(doc, name) for doc in documents):
            return name, ""
    return "", ""


def expected_access(
    policies: Iterable[tuple[str, Mapping[str, Any]]],
    bucket: str,
    prefix: str,
    *,
    boundary: Any = None,
    principal_arn: str | None = None,
) -> AccessLevel:
    """The access level the policies give at bucket/prefix, for the probe to compare against."""
    from s3cred_tui.core.simulate import s3_capabilities

    if not bucket:
        return AccessLevel.READ_ONLY
    try:
        decisions = s3_capabilities(list(policies), bucket, prefix, boundary=boundary, principal_arn=principal_arn)
    except S3CredError:
        return AccessLevel.READ_ONLY
    can_read, can_write = decisions["read"].allowed, decisions["write"].allowed
    if can_read and can_write:
        return AccessLevel.READ_WRITE
    return AccessLevel.WRITE_ONLY if can_write else AccessLevel.READ_ONLY


class BoundaryRead(Message):
    """The user's permissions boundary document, or why it could not be read."""

    def __init__(self, arn: str | None, document: dict | None, problem: str | None = None) -> None:
        super().__init__()
        self.arn = arn
        self.document = document
        self.problem = problem


def policy_text(document: dict | None) -> str:
    if document is None:
        return "// The policy document could not be read."
    return json.dumps(document, indent=2, sort_keys=False)


def owned_summary(detail: Any) -> str:
    """What deleting the user takes with it, in plain words (only what it really has)."""
    parts = []
    if detail.access_keys:
        parts.append(formatting.count(len(detail.access_keys), "access key"))
    if detail.inline_policies:
        parts.append(formatting.count(len(detail.inline_policies), "inline policy", "inline policies"))
    if detail.attached_policies:
        parts.append(
            formatting.count(len(detail.attached_policies), "attached managed policy", "attached managed policies")
            + " (detached, not deleted)"
        )
    if detail.groups:
        parts.append(formatting.count(len(detail.groups), "group membership"))
    if not parts:
        return "the user alone: it has no keys, policies or groups"
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]


class DeletedUserModal(MessageModal):
    BINDINGS = [Binding("escape,enter", "close", "Close", id="deleted.close", tooltip="Back to the account")]

    def __init__(self, user_name: str, removed: list[str]) -> None:
        lines = "\n".join(f"• {item}" for item in removed) or "• the user"
        super().__init__(f"User {user_name} deleted", f"Removed:\n{lines}")
        self.user_name = user_name
        self.removed = removed


class UserScreen(ForwardWorkerStates, Screen[None]):
    CSS_PATH = Path(__file__).with_name("user.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="user.back", tooltip="Back to the previous screen"),
        Binding("a", "toggle_key", "(De)activate key", id="user.toggle_key", tooltip="Deactivate or activate the highlighted access key"),
        Binding("d", "delete_key", "Delete key", id="user.delete_key", tooltip="Delete the highlighted access key"),
        Binding("n", "new_key", "New key", id="user.new_key", tooltip="Create another access key (at most 2 per user)"),
        Binding("x", "delete_user", "Delete user", id="user.delete_user", tooltip="Delete this user and everything it owns"),
        Binding("p", "probe_key", "Probe a key…", id="user.probe_key", tooltip="Check live what the highlighted key can really do"),
        Binding("r", "refresh", "Refresh", id="user.refresh", tooltip="Reload this user from AWS"),
    ]

    def __init__(self, user_name: str) -> None:
        super().__init__()
        self.user_name = user_name
        self.detail: Any = None
        self.boundary: BoundaryRead | None = None
        # A key just created is highlighted once the list reloads, ready for "Probe a key…".
        self.highlight_after_load: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text.assemble(("User ", "dim"), (self.user_name, "bold"), ("   loading…", "dim")), id="user-title")
        with Horizontal(id="user-body"):
            with VerticalScroll(id="user-left"):
                yield Static("Access keys", classes="section-title")
                keys: DataTable[Any] = DataTable(cursor_type="row", id="access-keys")
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
        self.action_refresh()

    @property
    def keys_table(self) -> DataTable[Any]:
        return self.query_one("#access-keys", DataTable)

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_refresh(self) -> None:
        self.load_detail()

    @work(thread=True, exclusive=True, exit_on_error=False, group="user-detail", name="reading the user")
    def load_detail(self) -> None:
        from s3cred_tui.core.access_map import fetch_boundary_documents
        from s3cred_tui.core.inventory import user_details

        detail = user_details(self.app.aws, self.user_name)  # type: ignore[attr-defined]
        boundary = BoundaryRead(None, None)
        if detail.boundary_arn:
            document = fetch_boundary_documents(self.app.aws, [detail.boundary_arn])[detail.boundary_arn]  # type: ignore[attr-defined]
            if isinstance(document, S3CredError):
                boundary = BoundaryRead(detail.boundary_arn, None, document.message)
            else:
                boundary = BoundaryRead(detail.boundary_arn, document)
        # The boundary first, so the simulator never answers without a cap it should apply.
        self.post_message(boundary)
        self.post_message(UserDetailLoaded(detail))

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

    def _show_keys(self, detail: Any) -> None:
        table = self.keys_table
        now = self.app.clock()  # type: ignore[attr-defined]
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

    def _show_facts(self, detail: Any) -> None:
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
    def boundary_policy(self) -> tuple[str, dict] | None:
        if self.boundary is None or self.boundary.document is None or self.boundary.arn is None:
            return None
        return (f"boundary {self.boundary.arn.rsplit('/', 1)[-1]}", self.boundary.document)

    def _known_buckets(self) -> list[str]:
        account = self.app.account_screen() if hasattr(self.app, "account_screen") else None
        return account.bucket_names() if account is not None else []

    def _show_simulation(self, detail: Any) -> None:
        panel = self.query_one("#user-simulate", SimulatePanel)
        panel.principal_arn = detail.summary.arn or None
        policies = list(detail.policy_documents())
        # Only the first load suggests a bucket and key; after that the person's choice stays.
        first = not panel.query_one("#sim-bucket", Input).value
        bucket, prefix = suggested_target((doc for _, doc in policies), self._known_buckets()) if first else (None, None)
        panel.set_policies(policies, boundary=self.boundary_policy, bucket=bucket or None, key=prefix or None)

    async def _show_policies(self, detail: Any) -> None:
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
    def _policy_sections(detail: Any) -> list[tuple[Text, dict | None]]:
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

    def _highlighted_key(self) -> Any:
        key_id = self.highlighted_key_id()
        if self.detail is None or key_id is None:
            self.notify("Highlight an access key first (the Access keys table).", severity="warning")
            return None
        return next((k for k in self.detail.access_keys if k.id == key_id), None)

    # -- actions ----------------------------------------------------------------------------

    async def action_probe_key(self) -> None:
        """Open the probe for the highlighted key, with what this user's policies lead us to expect."""
        from s3cred_tui.ui.screens.probe import ProbeScreen

        key_id = self.highlighted_key_id() or ""
        bucket, prefix, access = "", "", AccessLevel.READ_ONLY
        if self.detail is not None:
            policies = list(self.detail.policy_documents())
            bucket, prefix = suggested_target((doc for _, doc in policies), self._known_buckets())
            access = expected_access(
                policies, bucket, prefix, boundary=self.boundary_policy, principal_arn=self.detail.summary.arn or None
            )
        screen = ProbeScreen(access_key_id=key_id, buckets=[bucket] if bucket else [], access=access, prefix=prefix)
        await self.app.push_screen(screen)
        made_here = key_made_this_session(self.app, key_id)
        if made_here is not None:
            screen.query_one("#probe-secret", Input).value = made_here.secret_access_key
            screen.query_one("#probe-start", Button).focus()

    @on(Button.Pressed, "#probe-key")
    async def _probe_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        await self.action_probe_key()

    def action_toggle_key(self) -> None:
        if not require_writable(self.app, "change an access key's status"):
            return
        key = self._highlighted_key()
        if key is None:
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
        if key is None:
            return
        question = (
            f"Delete access key {key.id} of {self.user_name}?\n\n"
            "Anything using it stops working at once, and a deleted key cannot be brought back."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_key(key.id)

        self.app.push_screen(ConfirmModal(question, "Delete key"), answered)

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
        if self.detail is None:
            self.notify("The user is still loading.", severity="warning")
            return
        question = (
            f"Delete user {self.user_name} and everything it owns?\n\n"
            f"That is {owned_summary(self.detail)}. Anything using its keys stops working at once. "
            "This cannot be undone."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.delete_user()

        self.app.push_screen(ConfirmModal(question, "Delete user"), answered)

    # -- workers ----------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="user-action", name="changing the key's status")
    def set_key_status(self, key_id: str, status: str) -> None:
        from s3cred_tui.core.apply import set_access_key_status

        set_access_key_status(self.app.aws, self.user_name, key_id, status == "Active")  # type: ignore[attr-defined]
        self.post_message(UserChanged(self.user_name, f"Access key {key_id} is now {status.lower()}."))

    @work(thread=True, exit_on_error=False, group="user-action", name="deleting the access key")
    def delete_key(self, key_id: str) -> None:
        from s3cred_tui.core.apply import delete_access_key

        delete_access_key(self.app.aws, self.user_name, key_id)  # type: ignore[attr-defined]
        forget_key(self.app, key_id)
        self.post_message(UserChanged(self.user_name, f"Access key {key_id} deleted."))

    @work(thread=True, exit_on_error=False, group="user-action", name="creating an access key")
    def create_key(self) -> None:
        from s3cred_tui.core.apply import create_access_key

        credentials = create_access_key(self.app.aws, self.user_name)  # type: ignore[attr-defined]
        self.post_message(
            UserChanged(self.user_name, f"Access key {credentials.access_key_id} created.", credentials=credentials)
        )

    @work(thread=True, exit_on_error=False, group="user-action", name="deleting the user")
    def delete_user(self) -> None:
        from s3cred_tui.core.apply import delete_user

        removed = delete_user(self.app.aws, self.user_name)  # type: ignore[attr-defined]
        self.post_message(UserChanged(self.user_name, f"User {self.user_name} deleted.", deleted=True, removed=removed))

    def on_user_changed(self, message: UserChanged) -> None:
        account = self.app.account_screen()  # type: ignore[attr-defined]
        if message.deleted:
            for key in self.detail.access_keys if self.detail is not None else ():
                forget_key(self.app, key.id)
            if account is not None:
                account.forget_user(message.user_name)
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
        if worker.group == "user-action" and worker.state is WorkerState.ERROR:
            # The change may have half-happened (delete_user stops at the first failure): show the truth.
            self.load_detail()
