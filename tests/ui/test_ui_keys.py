"""Issue 12's key rules, over every binding of the app and driven with Pilot:

- one meaning per key on the screens (a question's y/n and the copy menu's letters answer
  their own dialog, which takes no other key);
- no key that only moves (j, k, g, G, arrows…) copies anything, and no single key copies a secret;
- vim motion in lists and trees, Esc clears an active filter before it leaves, focus lands on
  the main widget, `y` copies the highlighted name, `c` on Users opens the form for that user;
- footers show only what applies (read-only hides what would change the account);
- the README's key table is the one the bindings make.
"""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input

import s3cred_tui.ui
from s3cred_tui.ui import clipboard
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.core.settings import Settings
from s3cred_tui.ui.app import S3CredApp, key_places
from s3cred_tui.ui.base import action_name
from s3cred_tui.ui.guards import MUTATING_ACTIONS
from s3cred_tui.ui.keys import key_rows, markdown_table, own_bindings, readme_table
from s3cred_tui.ui.screens.bucket import BucketScreen
from s3cred_tui.ui.screens.confirm import ConfirmModal
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.create_pickers import BucketPickerModal
from s3cred_tui.ui.screens.error import MessageModal
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.screens.user import UserScreen
from s3cred_tui.ui.widgets.copy_menu import CopyMenuModal, copy_formats
from s3cred_tui.ui.widgets.motion import MOTION_KEYS
from s3cred_tui.ui.widgets.new_key import NewKeyModal
from tests.ui.helpers import make_app, settle

ROOT = Path(__file__).resolve().parents[2]
UI = Path(s3cred_tui.ui.__file__).parent
SIZE = (140, 42)
BUCKET = "alpha-bucket"

# Action names that mean the same thing to a person (what the key does, not how).
SAME_MEANING = {
    "leave": {"back", "close", "cancel", "done", "leave", "later", "clear_or_cancel", "clear_filter", "clear_or_leave"},
    "submit the form": {"review", "run", "use"},
    "probe": {"probe_key", "probe"},
    "copy": {"copy_name", "copy_menu"},
    "remove": {"delete_user", "cleanup"},
    "help": {"help", "toggle_help"},
    "open": {"open", "select_cursor", "to_table"},
}
# Dialogs whose keys answer their own question or menu (no other key reaches a modal): a
# question's y/n, the copy menu's letters, a message's Enter (OK).
CHOICE_DIALOGS = (ConfirmModal, CopyMenuModal, MessageModal)
ENTER_OR_MOVE = MOTION_KEYS | {"enter", "space", "tab", "shift+tab"}


def meaning(action: str) -> str:
    name = action_name(action)
    return next((group for group, names in SAME_MEANING.items() if name in names), name)


def test_one_meaning_per_key_on_every_screen():
    meanings: dict[str, dict[str, list[str]]] = {}
    for where, cls in key_places():
        if isinstance(cls, type) and issubclass(cls, CHOICE_DIALOGS):
            continue
        for binding in own_bindings(cls):
            for key in binding.key.split(","):
                meanings.setdefault(key.strip(), {}).setdefault(meaning(binding.action), []).append(where)
    clashes = {key: found for key, found in meanings.items() if len(found) > 1}
    assert clashes == {}


def test_r_is_refresh_and_v_reveals_wherever_they_are_bound():
    for _, cls in key_places():
        for binding in own_bindings(cls):
            keys = {k.strip() for k in binding.key.split(",")}
            if "r" in keys:
                assert action_name(binding.action) == "refresh", cls
            if action_name(binding.action) == "toggle_secret":
                assert keys == {"v"}, cls


def test_no_key_that_moves_or_enters_copies_anything():
    for _, cls in key_places():
        for binding in own_bindings(cls):
            if action_name(binding.action).startswith(("copy", "choose")):
                keys = {k.strip() for k in binding.key.split(",")}
                assert not keys & ENTER_OR_MOVE, (cls.__name__, binding.key, binding.action)
    assert not {fmt.letter for fmt in copy_formats("p")} & ENTER_OR_MOVE


def test_every_list_tree_and_menu_of_the_app_takes_the_motion_keys():
    """Screens build lists from motion.py's widgets, never Textual's plain ones."""
    plain = {"DataTable", "Tree", "OptionList", "SelectionList"}
    offenders = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "motion.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in plain:
                    offenders.append(f"{path.relative_to(UI)}:{node.lineno} {name}(…)")
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split("[")[0] for b in node.bases}
                if bases & plain:
                    offenders.append(f"{path.relative_to(UI)}:{node.lineno} class {node.name} builds on a plain {bases & plain}")
    assert offenders == []


def test_the_readme_key_table_is_the_one_the_bindings_make():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table(readme) == markdown_table(key_rows(key_places())), (
        "README's key table differs from the bindings: run `python scripts/readme_keys.py`"
    )


def test_the_help_shows_the_same_table_with_a_keymap_applied():
    app = S3CredApp.__new__(S3CredApp)  # key_help reads the settings only
    app.settings = Settings(keymap={"account.create": "n"})
    table = app.key_help()
    assert "| `n` | Account | Create |" in table
    assert "| `c` | Account" not in table


# -- driven with Pilot ---------------------------------------------------------------------------


@pytest.fixture
def account():
    with mock_aws():
        mock_random.seed(42)
        s3 = boto3.client("s3", region_name="us-east-1")
        for n in range(30):
            s3.create_bucket(Bucket=f"bucket-{n:02d}")
        s3.create_bucket(Bucket=BUCKET)
        for key in ("reports/2024/a.csv", "reports/2025/b.csv", "top.txt"):
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        iam = boto3.client("iam", region_name="us-east-1")
        iam.create_user(UserName="alice")
        iam.create_access_key(UserName="alice")
        yield iam


@pytest.fixture
def copied(monkeypatch):
    received: list[str] = []
    monkeypatch.setattr(S3CredApp, "copy_to_clipboard", lambda self, text: received.append(text))
    monkeypatch.setattr(clipboard, "system_clipboard_commands", lambda *a, **k: [])
    return received


async def test_vim_motion_moves_in_lists(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.account_screen().buckets.table
        assert table.has_focus, "focus lands on the list"
        await pilot.press("j", "j")
        assert table.cursor_row == 2
        await pilot.press("k")
        assert table.cursor_row == 1
        await pilot.press("G")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("g")
        assert table.cursor_row == 0
        await pilot.press("ctrl+d")
        assert table.cursor_row > 1
        await pilot.press("ctrl+u")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0


async def test_left_and_right_fold_and_unfold_the_prefix_tree(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_bucket(BUCKET)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BucketScreen)
        tree = screen.prefix_tree
        assert tree.has_focus, "focus lands on the tree"
        await pilot.press("j")  # reports/
        node = tree.cursor_node
        assert node is not None and str(node.label).startswith("reports/") and not node.is_expanded
        await pilot.press("right")
        await settle(pilot)
        assert node.is_expanded and node.children
        await pilot.press("right")  # expanded already: to its first child
        assert tree.cursor_node is node.children[0]
        await pilot.press("left")  # a folded child: to its parent
        assert tree.cursor_node is node
        await pilot.press("left")
        assert not node.is_expanded


async def test_escape_clears_an_active_filter_before_it_leaves(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        buckets = app.account_screen().buckets
        await pilot.press("slash", *"bucket-1")
        await pilot.press("down")  # from the filter into its list
        await settle(pilot)
        assert buckets.table.has_focus and buckets.shown == 10
        await pilot.press("escape")
        await settle(pilot)
        assert buckets.filter_text == "" and buckets.shown == buckets.total
        assert buckets.table.has_focus

        app.open_bucket(BUCKET)
        await settle(pilot)
        await pilot.press("escape")  # no filter here: Esc goes back
        await pilot.pause()
        assert app.screen is app.account_screen()

        app.open_create([])
        await settle(pilot)
        app.screen.action_pick_buckets()
        await settle(pilot)
        picker = app.screen
        assert isinstance(picker, BucketPickerModal)
        picker.query_one("#bucket-filter", Input).value = "bucket-2"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is picker and picker.query_one("#bucket-filter", Input).value == ""
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CreateScreen)


async def test_y_copies_the_highlighted_name_and_shift_y_its_arn(account, copied):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        await pilot.pause()
        first = app.account_screen().buckets.highlighted_key()
        assert copied[-1] == first
        await pilot.press("Y")
        assert copied[-1] == f"arn:aws:s3:::{first}"
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("Y")
        assert copied[-1] == f"arn:aws:iam::{app.identity.account}:user/alice"


async def test_c_on_the_users_tab_opens_the_form_for_that_user(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2", "c")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, CreateScreen)
        assert form.query_one("#username", Input).value == "alice"
        assert form.query_one("#reuse-user", Checkbox).value
        assert form.query_one("#buckets", Input).has_focus, "focus lands on the first field"


async def test_read_only_footers_offer_nothing_that_changes_the_account(account):
    for read_only in (False, True):
        app = make_app(read_only=read_only)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            shown = {action_name(b.binding.action) for b in app.screen.active_bindings.values() if b.binding.show}
            assert ("create" in shown) is not read_only
            app.open_user("alice")
            await settle(pilot)
            assert isinstance(app.screen, UserScreen) and app.screen.keys_table.has_focus
            shown = {action_name(b.binding.action) for b in app.screen.active_bindings.values() if b.binding.show}
            mutating = MUTATING_ACTIONS & {"toggle_key", "delete_key", "new_key", "delete_user"}
            assert (shown & mutating == set()) is read_only
            assert {"refresh", "probe_key"} <= shown


# -- no key copies a secret by accident -------------------------------------------------------------

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


async def test_moving_around_the_result_screen_and_its_copy_menu_copies_nothing(account, copied):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        plan = build_plan(app.aws, CredentialRequest(buckets=(BUCKET,), username="key-test"))
        credentials = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, user_name="key-test")
        await app.push_screen(ResultScreen(credentials, plan, autostart_probe=False))
        await pilot.pause()
        result = app.screen
        motions = sorted(MOTION_KEYS)
        for focus in (None, "#result-main", "#probe-table"):
            if focus:
                result.query_one(focus).focus()
            await pilot.press(*motions)
            await pilot.pause()
            assert app.screen is result
        assert copied == []

        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, CopyMenuModal)
        await pilot.press(*motions)
        await pilot.pause()
        assert copied == [], "j/k move the menu's highlight; nothing is copied"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is result and copied == []

        await pilot.press("y", "s")  # two deliberate keys
        await pilot.pause()
        assert copied == [SECRET] and result.secret_copies == ("secret access key",)


async def test_the_new_key_dialog_reveals_with_v_and_copies_only_through_its_menu(account, copied):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        credentials = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET, user_name="alice")
        await app.push_screen(NewKeyModal(credentials, "alice"))
        await pilot.pause()
        modal = app.screen
        assert isinstance(modal, ModalScreen)
        await pilot.press(*sorted(MOTION_KEYS))
        assert copied == [] and app.screen is modal
        await pilot.press("v")
        assert modal.revealed
        await pilot.press("y", "e")
        await pilot.pause()
        assert copied and f"AWS_SECRET_ACCESS_KEY={SECRET}" in copied[-1]
        assert modal.secret_copies == ("export lines",)


async def test_o_opens_the_highlighted_resource_in_the_aws_console(account, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(S3CredApp, "open_url", lambda self, url, **kwargs: opened.append(url))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = app.account_screen().buckets.highlighted_key()
        await pilot.press("o")
        assert opened == [f"https://s3.console.aws.amazon.com/s3/buckets/{first}?region=us-east-1"]
        await pilot.press("2", "o")
        assert opened[-1] == "https://console.aws.amazon.com/iam/home#/users/details/alice"


async def test_an_endpoint_that_is_not_aws_has_no_console_to_open(account, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(S3CredApp, "open_url", lambda self, url, **kwargs: opened.append(url))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.aws.config = type(app.aws.config)(endpoint_url="http://127.0.0.1:9000", region="us-east-1")
        await pilot.press("o")
        await pilot.pause()
        assert opened == []
        assert any("not AWS: there is no console" in str(n.message) for n in app._notifications)
