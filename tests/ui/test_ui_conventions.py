"""The UI conventions of docs/ARCHITECTURE.md, held by tests: how screens reach one another,
where imports go, and where a failed worker is shown."""

from __future__ import annotations

import ast
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from textual.widgets import Static

import s3cred_tui.ui
from s3cred_tui.core.errors import AccessDenied
from s3cred_tui.ui.screens import apply as apply_screen
from s3cred_tui.ui.screens.create_pickers import PrefixPickerModal
from s3cred_tui.ui.screens.error import ErrorModal
from tests.ui.helpers import make_app, settle

UI = Path(s3cred_tui.ui.__file__).parent
SCREENS = UI / "screens"
# Screen modules another screen may import: bases and small dialogs that import no screen.
SHARED_SCREEN_MODULES = {"create_flow", "confirm", "error", "create_pickers", "iam_list"}


def ui_modules() -> list[Path]:
    return sorted(UI.rglob("*.py"))


def runtime_imports(tree: ast.Module) -> list[str]:
    """Modules imported when the module runs (imports under `if TYPE_CHECKING:` left out)."""
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.ImportFrom) and inner.module:
                names.append(inner.module)
            elif isinstance(inner, ast.Import):
                names.extend(alias.name for alias in inner.names)
    return names


def test_no_function_level_imports_of_the_package():
    offenders = []
    for path in ui_modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("s3cred_tui"):
                    offenders.append(f"{path.relative_to(UI)}:{node.lineno} {node.module}")
    assert offenders == []


def test_screens_reach_other_screens_only_through_the_app():
    offenders = []
    for path in sorted(SCREENS.glob("*.py")):
        for module in runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if module.startswith("s3cred_tui.ui.app"):
                offenders.append(f"{path.name} imports the app at run time")
            elif module.startswith("s3cred_tui.ui.screens."):
                imported = module.rsplit(".", 1)[1]
                if imported not in SHARED_SCREEN_MODULES:
                    offenders.append(f"{path.name} imports screens.{imported}")
    assert offenders == []


def test_the_shared_screen_modules_import_no_screen_but_each_other():
    for name in SHARED_SCREEN_MODULES:
        imported = [
            m.rsplit(".", 1)[1]
            for m in runtime_imports(ast.parse((SCREENS / f"{name}.py").read_text(encoding="utf-8")))
            if m.startswith("s3cred_tui.ui.screens.")
        ]
        assert set(imported) <= SHARED_SCREEN_MODULES, name


def test_the_aws_context_is_reached_through_the_typed_base():
    offenders = [str(path.relative_to(UI)) for path in ui_modules() if "self.app.aws" in path.read_text(encoding="utf-8")]
    assert offenders == []


# -- the one error path ------------------------------------------------------------------------


@pytest.fixture
def empty_account():
    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


async def test_a_failure_a_picker_shows_itself_opens_no_error_modal(empty_account):
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(PrefixPickerModal("no-such-bucket"))
        await settle(pilot)
        assert isinstance(app.screen, PrefixPickerModal)
        assert not any(isinstance(screen, ErrorModal) for screen in app.screen_stack)
        status = str(app.screen.query_one("#prefix-status", Static).content)
        assert status == "Could not list prefixes: Not found (s3:ListBucket): The specified bucket does not exist"


async def test_a_titled_worker_failure_shows_one_modal_and_the_screen_says_what_it_means(empty_account, monkeypatch):
    def refused(*args, **kwargs):
        raise AccessDenied("Access denied (iam:CreateUser): not allowed", code="AccessDenied")

    monkeypatch.setattr(apply_screen, "apply_plan", refused)
    empty_account.create_bucket(Bucket="alpha-bucket")
    app = make_app()
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert app.open_create(["alpha-bucket"])
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        await pilot.press("ctrl+a")
        await settle(pilot)
        modals = [screen for screen in app.screen_stack if isinstance(screen, ErrorModal)]
        assert len(modals) == 1
        assert modals[0].error_title == "Applying the plan failed"
        assert modals[0].error_message == "Access denied (iam:CreateUser): not allowed", "the title says what failed"
        await pilot.press("escape")
        assert isinstance(app.screen, apply_screen.ApplyScreen)
        assert "unexpected error" in str(app.screen.query_one("#apply-outcome", Static).content)
