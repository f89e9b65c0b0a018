"""Screenshots of every screen, taken from the demo account: `python scripts/screenshots.py [OUT_DIR]`.

Starts the embedded demo account, runs the app headless at 140x42, drives it to each
screen the way a person would (keys, mostly) and saves one SVG per screen.

Not byte-for-byte stable between runs: the demo server listens on a free port (shown as the
endpoint) and moto makes new random key ids each time.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot
from textual.worker import WorkerFailed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from s3cred_tui.demo.account import start_demo  # noqa: E402
from s3cred_tui.ui.app import S3CredApp  # noqa: E402

SIZE = (140, 42)
BUCKET = "acme-data-lake"
PREFIX = "reports/"
USER = "analytics-reader"


async def settle(pilot: Pilot) -> None:
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerFailed:
            pass  # the app shows it; the screenshot shows the app
        await pilot.pause()


async def wait_for_screen(pilot: Pilot, name: str, attempts: int = 200) -> None:
    for _ in range(attempts):
        if type(pilot.app.screen).__name__ == name:
            await settle(pilot)
            return
        await pilot.pause(0.05)
    raise RuntimeError(f"expected the {name} screen, got {type(pilot.app.screen).__name__}")


async def wait_for_probe(pilot: Pilot, attempts: int = 600) -> None:
    """Until the probe on the current screen has a finished report (it waits for new keys)."""
    from s3cred_tui.ui.widgets.probe_panel import ProbePanel

    for _ in range(attempts):
        panels = pilot.app.screen.query(ProbePanel)
        if panels and panels.first().report is not None and not panels.first().running:
            await settle(pilot)
            return
        await pilot.pause(0.05)
    raise RuntimeError("the probe did not finish")


async def back_to_account(pilot: Pilot) -> None:
    while type(pilot.app.screen).__name__ != "AccountScreen":
        pilot.app.pop_screen()
        await pilot.pause()


async def shoot(app: S3CredApp, pilot: Pilot, out: Path, name: str) -> None:
    await pilot.pause()
    path = app.save_screenshot(f"{name}.svg", path=str(out))
    print(f"saved {path}")


async def drive(app: S3CredApp, out: Path) -> None:
    steps: list[tuple[str, Callable[[Pilot], Awaitable[None]]]] = []

    async def account_buckets(pilot: Pilot) -> None:
        await settle(pilot)

    async def account_users(pilot: Pilot) -> None:
        await pilot.press("2")
        await settle(pilot)

    async def filtered_users(pilot: Pilot) -> None:
        await pilot.press("slash", *"reader")
        await settle(pilot)

    async def bucket_detail(pilot: Pilot) -> None:
        await pilot.press("escape", "escape", "1")
        app.account_screen().buckets.set_filter(BUCKET)
        await settle(pilot)
        await pilot.press("enter")
        await wait_for_screen(pilot, "BucketScreen")
        tree = app.screen.prefix_tree
        for node in tree.root.children:
            if getattr(node.data, "prefix", None) == PREFIX:
                node.expand()
                await settle(pilot)
                tree.move_cursor(node)
        await settle(pilot)

    async def user_detail(pilot: Pilot) -> None:
        await back_to_account(pilot)
        app.account_screen().open_user(USER)
        await wait_for_screen(pilot, "UserScreen")

    async def confirm_delete_user(pilot: Pilot) -> None:
        await pilot.press("x")
        await wait_for_screen(pilot, "ConfirmModal")

    async def help_screen(pilot: Pilot) -> None:
        await pilot.press("escape")  # cancel the deletion
        await pilot.press("question_mark")
        await wait_for_screen(pilot, "HelpScreen")

    async def command_palette(pilot: Pilot) -> None:
        await pilot.press("escape")
        await back_to_account(pilot)
        await pilot.press("ctrl+p", *"create")
        await settle(pilot)
        await pilot.pause(0.5)

    async def create_form(pilot: Pilot) -> None:
        await pilot.press("escape")
        app.account_screen().open_create([BUCKET], PREFIX)
        await wait_for_screen(pilot, "CreateScreen")

    async def review_plan(pilot: Pilot) -> None:
        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, "ReviewScreen")

    async def apply_progress(pilot: Pilot) -> None:
        await pilot.press("ctrl+a")
        await wait_for_screen(pilot, "ApplyScreen")
        for _ in range(600):
            if app.screen.query("#show") and app.screen.query_one("#show").display:
                break
            await pilot.pause(0.05)
        await settle(pilot)

    async def result(pilot: Pilot) -> None:
        await pilot.click("#show")
        await wait_for_screen(pilot, "ResultScreen")
        await wait_for_probe(pilot)

    async def probe_screen(pilot: Pilot) -> None:
        # The key just created, probed again from its user's screen with the secret pasted.
        from textual.widgets import Input

        credentials = app.screen.credentials
        await back_to_account(pilot)
        app.account_screen().open_user(credentials.user_name)
        await wait_for_screen(pilot, "UserScreen")
        await pilot.press("p")
        await wait_for_screen(pilot, "ProbeScreen")
        app.screen.query_one("#probe-secret", Input).value = credentials.secret_access_key
        await pilot.press("ctrl+r")
        await wait_for_probe(pilot)
        app.screen.query_one("#probe-main").scroll_end(animate=False)
        await settle(pilot)

    async def made_screen(pilot: Pilot) -> None:
        await back_to_account(pilot)
        await pilot.press("m")
        await wait_for_screen(pilot, "MadeScreen")
        for _ in range(600):
            if app.screen.made is not None:
                break
            await pilot.pause(0.05)
        await settle(pilot)

    async def rotate_screen(pilot: Pilot) -> None:
        await pilot.press("t")
        await wait_for_screen(pilot, "RotateScreen")
        for _ in range(600):
            if app.screen.check is not None:
                break
            await pilot.pause(0.05)
        await settle(pilot)

    async def roles_screen(pilot: Pilot) -> None:
        await back_to_account(pilot)
        await pilot.press("3")
        await wait_for_screen(pilot, "RolesScreen")

    async def groups_screen(pilot: Pilot) -> None:
        await back_to_account(pilot)
        await pilot.press("4")
        await wait_for_screen(pilot, "GroupsScreen")

    async def grant_review(pilot: Pilot) -> None:
        # Another account, through the bucket policy: the policy before and after, as a diff.
        from s3cred_tui.core.bucket_grant import BucketGrantRequest

        await back_to_account(pilot)
        app.open_grant_review(BucketGrantRequest(buckets=(BUCKET,), principal="111122223333", prefixes=(PREFIX,)))
        await wait_for_screen(pilot, "GrantReviewScreen")
        for _ in range(600):
            if app.screen.plan is not None:
                break
            await pilot.pause(0.05)
        await settle(pilot)

    async def grant_result(pilot: Pilot) -> None:
        await pilot.press("ctrl+a")
        await wait_for_screen(pilot, "GrantResultScreen", attempts=600)
        await settle(pilot)

    steps = [
        ("account-buckets", account_buckets),
        ("account-users", account_users),
        ("account-users-filtered", filtered_users),
        ("bucket-detail", bucket_detail),
        ("user-detail", user_detail),
        ("confirm-delete-user", confirm_delete_user),
        ("help", help_screen),
        ("command-palette", command_palette),
        ("create", create_form),
        ("review", review_plan),
        ("apply", apply_progress),
        ("result", result),
        ("probe", probe_screen),
        ("made", made_screen),
        ("rotate", rotate_screen),
        ("roles", roles_screen),
        ("groups", groups_screen),
        ("grant-review", grant_review),
        ("grant-result", grant_result),
    ]
    async with app.run_test(size=SIZE) as pilot:
        for name, step in steps:
            try:
                await step(pilot)
            except Exception as exc:  # one missing screen must not cost the others
                print(f"skipped {name}: {type(exc).__name__}: {exc}")
                continue
            await shoot(app, pilot, out, name)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else ROOT / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    with start_demo() as demo:
        app = S3CredApp(demo.config, demo_note=demo.note)
        asyncio.run(drive(app, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
