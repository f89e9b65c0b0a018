"""The Textual application: one AWS context, navigation between screens, and the error handler.

Screens never import one another: they call the `open_*` methods here, and only this module
imports the screens. Every worker failure reaches `on_worker_state_changed`, the one place it
becomes a message a person reads.

While a screen shows a secret AWS shows only once (`confirm.HoldsSecret`), every way out that
would drop it (q, ctrl+q, ctrl+c, the palette's Quit, Refresh and profile switches) asks first:
`leave_secret_first` is the one gate. On start, runs a previous process left unfinished
(`core.journal`) are listed with an offer to roll them back.

The person's settings (`core.settings`) give the theme (a theme picked in the palette is saved
back), the keymap (binding ids to keys, Textual's keymaps), the default profile and region
(`launch.run_app`), the boundary default of the create form and the INI profile name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import botocore.session
from textual import work
from textual.app import App
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widget import AwaitMount
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import errors
from s3cred_tui.core.inventory import Identity, whoami
from s3cred_tui.core.journal import unfinished_runs
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.core.settings import Settings, config_path, save_setting
from s3cred_tui.lazy import attribute_getter
from s3cred_tui.ui.base import ReportsWorkerFailures
from s3cred_tui.ui.clipboard import copy_and_notify
from s3cred_tui.ui.commands import S3CredCommands
from s3cred_tui.ui.formatting import utc_now
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.keys import binding_ids, key_rows, markdown_table
from s3cred_tui.ui.launch import Start, open_context
from s3cred_tui.ui.loading import HeadStart
from s3cred_tui.ui.screens.account import AccountScreen
from s3cred_tui.ui.screens.confirm import (
    ConfirmModal,
    HoldsSecret,
    LeaveSecretModal,
    leave_secret_question,
)
from s3cred_tui.ui.screens.error import ErrorModal, MessageModal
from s3cred_tui.ui.widgets.filter_table import FilterInput, FilterTable
from s3cred_tui.ui.widgets.motion import MotionDataTable, MotionTree

# For annotations only: the planner and the probe are imported with the screens that use them.
if TYPE_CHECKING:
    from s3cred_tui.core.bucket_grant import BucketGrantRequest, GrantPlan
    from s3cred_tui.core.credentials import Credentials
    from s3cred_tui.core.journal import UnfinishedRun
    from s3cred_tui.core.plan import Plan
    from s3cred_tui.core.probe import Expectation
    from s3cred_tui.core.request import CredentialRequest
    from s3cred_tui.core.third_party_role import (
        ThirdPartyRolePlan,
        ThirdPartyRoleRequest,
    )

# Screens (and modals) other than the account screen's, imported the first time one is needed:
# a start imports only what the first screen needs (the other screens, the planner, the probe
# and Markdown cost ~0.4 s of start-up). The same lookup as `cli.parser`'s commands (`s3cred_tui/lazy.py`).
_LATER: dict[str, str] = {
    "ApplyScreen": "s3cred_tui.ui.screens.apply",
    "BucketScreen": "s3cred_tui.ui.screens.bucket",
    "CreateScreen": "s3cred_tui.ui.screens.create",
    "CreateFlowScreen": "s3cred_tui.ui.screens.create_flow",
    "BucketPickerModal": "s3cred_tui.ui.screens.create_pickers",
    "PrefixPickerModal": "s3cred_tui.ui.screens.create_pickers",
    "GrantReviewScreen": "s3cred_tui.ui.screens.grant",
    "GrantResultScreen": "s3cred_tui.ui.screens.grant_result",
    "GroupsScreen": "s3cred_tui.ui.screens.group",
    "HelpScreen": "s3cred_tui.ui.screens.help",
    "MadeScreen": "s3cred_tui.ui.screens.made",
    "ProbeScreen": "s3cred_tui.ui.screens.probe",
    "UnfinishedRunsModal": "s3cred_tui.ui.screens.recover",
    "ResultScreen": "s3cred_tui.ui.screens.result",
    "ReviewScreen": "s3cred_tui.ui.screens.review",
    "RolesScreen": "s3cred_tui.ui.screens.roles",
    "RotateScreen": "s3cred_tui.ui.screens.rotate",
    "DeletedUserModal": "s3cred_tui.ui.screens.user",
    "UserScreen": "s3cred_tui.ui.screens.user",
    "CopyMenuModal": "s3cred_tui.ui.widgets.copy_menu",
    "NewKeyModal": "s3cred_tui.ui.widgets.new_key",
}


# `app.BucketScreen` and the other screens of `_LATER`, imported on first use.
__getattr__ = attribute_getter(_LATER, __name__)


def later(*names: str) -> Any:
    """The classes named (one, or a tuple), from `_LATER`, imported now if not yet."""
    classes = tuple(__getattr__(name) for name in names)
    return classes[0] if len(classes) == 1 else classes


ERROR_TITLES: tuple[tuple[type[errors.S3CredError], str], ...] = (
    (errors.CredentialsMissing, "No AWS credentials"),
    (errors.CredentialsExpired, "AWS credentials expired"),
    (errors.CredentialsInvalid, "AWS credentials not accepted"),
    (errors.AccessDenied, "Access denied"),
    (errors.Throttled, "AWS is throttling requests"),
    (errors.EndpointUnreachable, "Cannot reach AWS"),
    (errors.NotFound, "Not found"),
    (errors.LimitExceeded, "AWS limit reached"),
    (errors.ValidationError, "Invalid input"),
)


DEFAULT_THEME = "textual-dark"
SSO_EXPIRED_CODE = "SSOTokenExpired"


def error_message(error: errors.S3CredError, profile: str | None) -> str:
    """What a person reads for `error`; an expired SSO session names the command that renews it."""
    if error.code == SSO_EXPIRED_CODE:
        login = f"aws sso login --profile {profile}" if profile else "aws sso login"
        return f"The SSO session has expired or is missing: run `{login}`, then press r to try again."
    return error.message


def error_title(error: errors.S3CredError) -> str:
    for kind, title in ERROR_TITLES:
        if isinstance(error, kind):
            return title
    return "Something went wrong"


class IdentityLoaded(Message):
    def __init__(self, identity: Identity) -> None:
        super().__init__()
        self.identity = identity


class UnfinishedRunsFound(Message):
    def __init__(self, runs: list[UnfinishedRun]) -> None:
        super().__init__()
        self.runs = runs


class S3CredApp(App[None]):
    """`app.aws` is the shared AWS context; `app.identity` is set once whoami answers."""

    TITLE = "s3cred-tui"
    SUB_TITLE = "least-privilege S3 credentials"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {S3CredCommands}
    # Screens restack their panes below these sizes (`-narrow`, `-short` in the .tcss files):
    # everything stays usable at 80×24.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    BINDINGS = [
        # Not in the footers (every key of a screen fits at 80 columns); the help lists it.
        Binding("q", "quit", "Quit", show=False, id="app.quit", tooltip="Leave s3cred-tui"),
        Binding(
            "question_mark,f1",
            "help",
            "Help",
            key_display="?",
            id="app.help",
            tooltip="Screens, keys, and what read-only mode means",
        ),
    ]

    identity: reactive[Identity | None] = reactive(None, init=False)
    # Why whoami failed, shown in the identity bar until it answers (`ensure_identity` asks again).
    identity_problem: reactive[str | None] = reactive(None, init=False)

    def __init__(
        self,
        config: SessionConfig,
        *,
        read_only: bool = False,
        demo_note: str | None = None,
        settings: Settings | None = None,
        settings_path: Path | None = None,
        settings_error: errors.S3CredError | None = None,
        start: Start | None = None,
    ) -> None:
        """`start` (`launch.prepare`): the context and the first pages, made before this module was
        imported; without it (tests, embedding) the app opens the context and asks as it loads."""
        super().__init__()
        self.config = config
        self.read_only = read_only
        self.demo_note = demo_note
        self.settings = settings or Settings()
        # Where a theme picked in the palette is saved; None (tests, embedding) saves nothing.
        self.settings_path = settings_path
        self.aws, self.startup_error = (start.aws, start.startup_error) if start else open_context(config)
        self._account_head_start: HeadStart | None = start.head_start if start else None
        self._identity_asked = False
        self._settings_error = settings_error
        self._errors_on_screen: set[str] = set()
        # Ages ("3 days") are measured against this; tests pin it for stable snapshots.
        self.clock: Callable[[], datetime] = utc_now

    def on_load(self) -> None:
        # Before the terminal, the CSS and the first screen: the lists' first round trips overlap them.
        if self._account_head_start is None:
            self._account_head_start = HeadStart(self.aws)

    def take_account_head_start(self) -> HeadStart | None:
        """The listings started with the app, for the account screen's first load (None after)."""
        head_start, self._account_head_start = self._account_head_start, None
        return head_start

    def on_mount(self) -> None:
        self._apply_settings()
        self.push_screen(AccountScreen())
        self.load_identity()
        if self.demo_note is None:
            # The demo journals nothing (its account vanishes with its server), and a journal of a
            # real account is no business of the demo's: it would offer to roll back real runs.
            self.find_unfinished_runs()
        if self.startup_error is not None:
            self.show_error(self.startup_error)
        if self._settings_error is not None:
            self.show_error(self._settings_error, title="Settings not used")

    def _apply_settings(self) -> None:
        wanted = self.settings.theme or DEFAULT_THEME
        if wanted not in self.available_themes:
            self.notify(f"Unknown theme {wanted!r} in the settings; using {DEFAULT_THEME}.", severity="warning")
            wanted = DEFAULT_THEME
        self.theme = wanted
        if self.settings.keymap:
            unknown = sorted(set(self.settings.keymap) - binding_ids(key_places()))
            if unknown:
                self.notify(
                    f"Unknown binding ids in the settings' keymap: {', '.join(unknown)} (see the help for the ids).",
                    severity="warning",
                )
            self.set_keymap(self.settings.keymap)
        self.watch(self, "theme", self._theme_chosen, init=False)

    def _theme_chosen(self, theme: str) -> None:
        """A theme picked in the palette is the one the next start uses."""
        if self.settings_path is None or theme == self.settings.theme:
            return
        try:
            save_setting("theme", theme, self.settings_path)
        except (errors.S3CredError, OSError) as exc:
            self.notify(f"Could not save the theme: {exc}", severity="warning")
            return
        self.settings = replace(self.settings, theme=theme)

    @work(thread=True, exclusive=True, exit_on_error=False, group="journal", name="looking for unfinished runs")
    def find_unfinished_runs(self) -> None:
        # A run another live process is still applying is its own business, not an unfinished one.
        runs = [run for run in unfinished_runs() if not run.in_progress]
        if runs:
            self.post_message(UnfinishedRunsFound(runs))

    def on_unfinished_runs_found(self, message: UnfinishedRunsFound) -> None:
        UnfinishedRunsModal = later("UnfinishedRunsModal")
        self.push_screen(UnfinishedRunsModal(message.runs))

    # -- leaving a secret shown once --------------------------------------------------------

    def secret_holders(self) -> list[HoldsSecret]:
        """Open screens showing a secret the person has not confirmed leaving."""
        return [s for s in self.screen_stack if isinstance(s, HoldsSecret) and s.holds_unsaved_secret]

    def leave_secret_first(self, leaving: str, then: Callable[[], object]) -> None:
        """Run `then` now, or, while a secret shown once is open, only after a yes to "`leaving` anyway?"."""
        holders = self.secret_holders()
        if not holders:
            then()
            return
        if isinstance(self.screen, LeaveSecretModal):
            return  # already asking: one question at a time

        def answered(yes: bool | None) -> None:
            if yes:
                for holder in holders:
                    holder.secret_left()
                then()

        copies = list(dict.fromkeys(copy for holder in holders for copy in holder.secret_copies))
        self.push_screen(
            LeaveSecretModal(leave_secret_question(copies, leaving), confirm_label=f"{leaving} anyway"), answered
        )

    async def action_quit(self) -> None:
        """q, ctrl+q and the palette's Quit."""
        self.leave_secret_first("Quit", self.exit)

    def action_help_quit(self) -> None:
        """ctrl+c: Textual only says how to quit; with a secret open, ask the quit question itself."""
        if self.secret_holders():
            self.leave_secret_first("Quit", self.exit)
        else:
            super().action_help_quit()

    @work(thread=True, exclusive=True, exit_on_error=False, group="identity", name="checking who you are")
    def load_identity(self) -> None:
        self._identity_asked = True
        identity = whoami(self.aws)
        if not get_current_worker().is_cancelled:
            self.post_message(IdentityLoaded(identity))

    def on_identity_loaded(self, message: IdentityLoaded) -> None:
        self.identity_problem = None
        self.identity = message.identity

    def ensure_identity(self) -> None:
        """Ask whoami again unless it has answered or is asking (a refresh after it failed retries)."""
        if self.identity is not None:
            return
        if any(w.group == "identity" and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in self.workers):
            return
        if self._identity_asked and self.identity_problem is None:
            return  # answered, its message not handled yet (whoami can answer before the first screen is up)
        self.identity_problem = None
        self.load_identity()

    # -- the one error path ------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a failed worker becomes something a person reads.

        The app's own workers land here directly; every screen and widget forwards its own
        (`ui.base.ReportsWorkerFailures`), naming the modal's title per worker group or showing
        the failure in place instead.
        """
        if event.state is not WorkerState.ERROR:
            return
        worker = event.worker
        node = worker.node
        title: str | None = None
        if isinstance(node, ReportsWorkerFailures):
            if worker.group in node.WORKER_FAILURES_SHOWN_HERE:
                return
            title = node.WORKER_ERROR_TITLES.get(worker.group)
        error = errors.translate(worker.error) if worker.error is not None else None
        if error is None or isinstance(error, errors.Cancelled):
            return
        if worker.group == "identity" and worker.node is self:
            self.identity_problem = error_message(error, self.aws.profile)
        if title is not None:
            # The title already says what failed; the message is the reason alone.
            self.show_error(error, title=title)
        else:
            self.show_error(error, doing=worker.name)

    def show_error(self, error: errors.S3CredError, doing: str | None = None, *, title: str | None = None) -> None:
        # Several workers often fail for one reason (no credentials): say it once.
        reason = error_message(error, self.aws.profile)
        if reason in self._errors_on_screen:
            return
        self._errors_on_screen.add(reason)
        message = f"While {doing}:\n\n{reason}" if doing else reason
        self.push_screen(
            ErrorModal(title or error_title(error), message), lambda _: self._errors_on_screen.discard(reason)
        )

    # -- navigation: the only way from one screen to another ---------------------------------

    def account_screen(self) -> AccountScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, AccountScreen):
                return screen
        return None

    def open_bucket(self, name: str, region: str | None = None) -> None:
        BucketScreen = later("BucketScreen")
        self.push_screen(BucketScreen(name, region=region))

    def open_made(self) -> None:
        """Everything s3cred-tui made, with reach, key ages and a reviewed cleanup."""
        MadeScreen = later("MadeScreen")
        self.push_screen(MadeScreen())

    def open_rotate(self, user: str, key_id: str | None = None) -> bool:
        """Guided rotation of one of `user`'s keys, unless the app is read-only. True when opened."""
        if not require_writable(self, "rotate an access key"):
            return False
        RotateScreen = later("RotateScreen")
        self.push_screen(RotateScreen(user, key_id))
        return True

    def open_roles(self) -> None:
        RolesScreen = later("RolesScreen")
        self.push_screen(RolesScreen())

    def open_groups(self) -> None:
        GroupsScreen = later("GroupsScreen")
        self.push_screen(GroupsScreen())

    def open_user(self, name: str) -> None:
        UserScreen = later("UserScreen")
        self.push_screen(UserScreen(name))

    def open_create(self, buckets: Sequence[str] = (), prefix: str = "", *, user: str | None = None) -> bool:
        """Open the create form, prefilled (`user`: a key for that existing user), unless the app
        is read-only (then say why). True when opened."""
        if not require_writable(self, "create credentials"):
            return False
        CreateScreen = later("CreateScreen")
        self.push_screen(CreateScreen(buckets=buckets, prefix=prefix, user=user))
        return True

    def copy_plain(self, text: str, what: str) -> None:
        """Copy something that is no secret (a name, an ARN, a URL) and say how it went."""
        copy_and_notify(self, text, what)

    def open_in_console(self, url: str, what: str) -> None:
        """Open `what` in the AWS console (a browser); an endpoint that is not AWS has none."""
        if self.aws.config.endpoint_label != "AWS":
            self.notify(
                f"This account is at {self.aws.config.endpoint_label}, not AWS: there is no console to open {what} in.",
                severity="warning",
            )
            return
        self.open_url(url)
        self.notify(f"Opening {what} in the AWS console: {url}", title="Console")

    def open_review(self, request: CredentialRequest) -> None:
        """The plan for a validated request; building it only reads the account."""
        ReviewScreen = later("ReviewScreen")
        self.push_screen(ReviewScreen(request))

    def open_apply(self, plan: Plan | GrantPlan | ThirdPartyRolePlan) -> None:
        """Apply credentials or a grant to another account (the same engine and screen)."""
        if require_writable(self, "apply the plan"):
            ApplyScreen = later("ApplyScreen")
            self.push_screen(ApplyScreen(plan))

    def open_result(self, credentials: Credentials, plan: Plan) -> None:
        """The new credentials, in place of the apply screen: there is nothing to go back to."""
        ResultScreen = later("ResultScreen")
        self.switch_screen(ResultScreen(credentials, plan))

    def open_grant_review(self, request: BucketGrantRequest | ThirdPartyRoleRequest) -> None:
        """The plan for granting another account (bucket policy) or a service (a role with an
        external id); building it only reads the account. Refused, with a notice, when read-only."""
        if require_writable(self, "grant another account access"):
            GrantReviewScreen = later("GrantReviewScreen")
            self.push_screen(GrantReviewScreen(request))

    def open_grant_result(self, plan: GrantPlan | ThirdPartyRolePlan) -> None:
        """What the other side needs, in place of the apply screen: there is nothing to go back to."""
        GrantResultScreen = later("GrantResultScreen")
        self.switch_screen(GrantResultScreen(plan))

    def open_probe(
        self,
        access_key_id: str = "",
        buckets: Sequence[str] = (),
        access: AccessLevel = AccessLevel.READ_ONLY,
        prefix: str = "",
        *,
        secret: str | None = None,
        expect: Expectation | None = None,
        expected_from: str = "",
    ) -> AwaitMount:
        """The live probe, prefilled; await it to act on the mounted screen.

        `expect` (with `expected_from`, e.g. "alice's policies") makes the expected column come
        from known policies instead of an access level."""
        ProbeScreen = later("ProbeScreen")
        screen = ProbeScreen(
            access_key_id=access_key_id,
            buckets=buckets,
            access=access,
            prefix=prefix,
            secret=secret,
            expect=expect,
            expected_from=expected_from,
        )
        # Without wait_for_dismiss, push_screen returns the AwaitMount (never the Future).
        return cast(AwaitMount, self.push_screen(screen))

    def key_help(self) -> str:
        """The key table (Markdown) of the help screen, as the bindings and the keymap make it."""
        return markdown_table(key_rows(key_places(), self.settings.keymap))

    def open_help(self) -> None:
        HelpScreen = later("HelpScreen")
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help(), str(self.settings_path or config_path())))

    def action_help(self) -> None:
        self.open_help()

    def return_to_create_form(self) -> None:
        """From a later step of the create flow back to its form (after a failed apply)."""

        CreateScreen = later("CreateScreen")
        CreateFlowScreen = later("CreateFlowScreen")
        async def pop_to_form() -> None:
            while len(self.screen_stack) > 1 and isinstance(self.screen, CreateFlowScreen):
                if isinstance(self.screen, CreateScreen):
                    break
                await self.pop_screen()

        # Scheduled: a screen cannot await its own removal.
        self.call_later(pop_to_form)

    def close_create_flow(self) -> None:
        """Leave the create flow entirely, back to where it was opened from."""

        CreateFlowScreen = later("CreateFlowScreen")
        async def pop_flow() -> None:
            while len(self.screen_stack) > 1 and isinstance(self.screen, CreateFlowScreen):
                await self.pop_screen()

        # Scheduled: a screen cannot await its own removal.
        self.call_later(pop_flow)

    def account_changed(self) -> None:
        """The app changed the account (credentials created, a bucket, a key, a user): every list
        open is read again in place, so a count or a filter never shows the account as it was."""
        account = self.account_screen()
        if account is not None:
            account.action_refresh()
        BucketScreen = later("BucketScreen")
        for screen in self.screen_stack:
            if isinstance(screen, BucketScreen):
                screen.access_map.load()

    def reload_account(self) -> None:
        """Back to the account screen, and every list read again (closing a secret shown once asks first)."""
        self.leave_secret_first("Reload", self._reload_account)

    def _reload_account(self) -> None:
        account = self.account_screen()
        if account is None:
            return
        while self.screen is not account and len(self.screen_stack) > 2:
            self.pop_screen()
        account.action_refresh()

    # -- profiles ----------------------------------------------------------------------------

    def available_profiles(self) -> list[str]:
        try:
            return sorted(botocore.session.Session().available_profiles)
        except Exception:  # an unreadable config file means no profiles to offer, not a crash
            return []

    def switch_profile(self, profile: str) -> None:
        """Act as another profile: new clients, new identity, every list reloaded."""
        self.leave_secret_first(f"Switch to profile {profile}", lambda: self._switch_profile(profile))

    def _switch_profile(self, profile: str) -> None:
        config = replace(self.config, profile=profile, access_key_id=None, secret_access_key=None, session_token=None)
        try:
            context = AwsContext(config)
        except errors.S3CredError as exc:
            self.show_error(exc, doing=f"switching to profile {profile}")
            return
        self.config = config
        self.aws = context
        self.identity = None
        self.load_identity()
        self.reload_account()
        self.notify(f"Now using profile {profile}.", title="Profile")


def key_places() -> list[tuple[str, type]]:
    """Every class that binds keys, and where in the app it applies (help, README, keymap ids)."""
    ApplyScreen = later("ApplyScreen")
    BucketScreen = later("BucketScreen")
    CreateScreen = later("CreateScreen")
    BucketPickerModal, PrefixPickerModal = later("BucketPickerModal", "PrefixPickerModal")
    GrantReviewScreen = later("GrantReviewScreen")
    GrantResultScreen = later("GrantResultScreen")
    GroupsScreen = later("GroupsScreen")
    HelpScreen = later("HelpScreen")
    MadeScreen = later("MadeScreen")
    ProbeScreen = later("ProbeScreen")
    UnfinishedRunsModal = later("UnfinishedRunsModal")
    ResultScreen = later("ResultScreen")
    ReviewScreen = later("ReviewScreen")
    RolesScreen = later("RolesScreen")
    RotateScreen = later("RotateScreen")
    DeletedUserModal, UserScreen = later("DeletedUserModal", "UserScreen")
    CopyMenuModal = later("CopyMenuModal")
    NewKeyModal = later("NewKeyModal")
    return [
        ("everywhere", S3CredApp),
        ("lists, menus, panes", MotionDataTable),
        ("trees", MotionTree),
        ("lists", FilterTable),
        ("filter box", FilterInput),
        ("Account", AccountScreen),
        ("Bucket", BucketScreen),
        ("User", UserScreen),
        ("Create", CreateScreen),
        ("Pick buckets", BucketPickerModal),
        ("Pick a prefix", PrefixPickerModal),
        ("Review", ReviewScreen),
        ("Apply", ApplyScreen),
        ("Result", ResultScreen),
        ("Review a grant", GrantReviewScreen),
        ("Grant made", GrantResultScreen),
        ("Copy menu", CopyMenuModal),
        ("New key", NewKeyModal),
        ("Probe", ProbeScreen),
        ("Questions", ConfirmModal),
        ("Messages", MessageModal),
        ("Messages", ErrorModal),
        ("Messages", DeletedUserModal),
        ("Unfinished runs", UnfinishedRunsModal),
        ("Help", HelpScreen),
        ("Made by s3cred-tui", MadeScreen),
        ("Rotate a key", RotateScreen),
        ("Roles", RolesScreen),
        ("Groups", GroupsScreen),
    ]
