"""The hero flow in the app on the demo account: temporary read-write credentials for two
buckets under a prefix, reviewed, applied and probed on the result screen. Every row agrees,
and the app says who decided (the evaluator, not moto)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Input, Static

from s3cred_tui.demo import WHO_DECIDES
from s3cred_tui.demo.account import start_demo
from s3cred_tui.ui.app import S3CredApp
from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.result import ResultScreen
from s3cred_tui.ui.screens.review import ReviewScreen
from s3cred_tui.ui.widgets.probe_panel import DEMO_FOOTNOTE, ProbePanel
from tests.ui.helpers import settle, wait_until

SIZE = (120, 40)


def _text(widget: Static) -> str:
    rendered = widget.render()
    return rendered.plain if isinstance(rendered, Text) else str(rendered)


async def test_hero_flow_in_the_demo_every_probe_row_agrees():
    with start_demo() as demo:
        app = S3CredApp(demo.config, demo_note=demo.note)
        app.animation_level = "none"
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert WHO_DECIDES in _text(app.screen.query_one("#demo-banner", Static))

            await app.push_screen(CreateScreen(buckets=["acme-data-lake", "acme-ml-models"], prefix="reports/"))
            await pilot.pause()
            create = app.screen
            assert isinstance(create, CreateScreen)
            await pilot.click("#kind-assume-role")
            create.query_one("#duration", Input).value = "1h"
            await pilot.pause()
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen)
            await pilot.press("ctrl+a")
            await settle(pilot)
            applied = app.screen
            assert isinstance(applied, ApplyScreen) and applied.result is not None and applied.result.ok
            await pilot.press("enter")
            await settle(pilot)
            result = app.screen
            assert isinstance(result, ResultScreen)
            panel = result.query_one(ProbePanel)
            await wait_until(pilot, lambda: panel.report is not None, "the probe to finish", timeout=60)

            report = panel.report
            assert report is not None and len(report.results) == 20
            assert [r.case.label for r in report.results if not r.agrees] == []
            footnote = panel.query_one("#probe-footnote", Static)
            assert footnote.display and _text(footnote) == DEMO_FOOTNOTE
