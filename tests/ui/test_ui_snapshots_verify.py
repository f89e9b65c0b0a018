"""Snapshots of the probe, simulate and access-map widgets, from fixed data only.

No random ids or dates reach the screen: the probe panel shows a fixed report (no AWS), the
simulator is offline, and the access map reads users from an in-process moto account whose
names and policies are fixed (moto's random ids and creation dates are not displayed).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest
from moto import mock_aws
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.probe import ProbeCase, ProbeReport, ProbeResult
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel
from s3cred_tui.ui.widgets.probe_panel import ProbePanel
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel

SIZE = (130, 34)


class Host(App[None]):
    def __init__(self, make: Callable[[], Widget]) -> None:
        super().__init__()
        self.make = make
        self.aws = AwsContext(SessionConfig(region="us-east-1"))
        self.identity = None
        self.read_only = False

    def compose(self) -> ComposeResult:
        yield self.make()

    def on_mount(self) -> None:
        self.theme = "textual-dark"


def fixed_report() -> ProbeReport:
    """A read-only-on-reports/ key whose policy also lets it write: one red row, one footnoted."""
    cases_and_answers = [
        (ProbeCase("list", "inside", "reports", "2024/", True), True, "allowed"),
        (ProbeCase("list", "outside", "reports", "2024-outside/", False, decided_by_condition=True), True, "allowed"),
        (ProbeCase("list", "root", "reports", "", False, decided_by_condition=True), False, "AccessDenied"),
        (ProbeCase("read", "inside", "reports", "2024/", True), True, "allowed · HEAD 2024/q1.csv"),
        (ProbeCase("read", "outside", "reports", "2024-outside/", False), False, "AccessDenied · HEAD 2024-outside/x.csv"),
        (ProbeCase("write", "inside", "reports", "2024/.s3cred-probe-0001", False), True, "allowed · PUT 2024/.s3cred-probe-0001"),
        (ProbeCase("delete", "inside", "reports", "2024/.s3cred-probe-0001-absent", False), None, "inconclusive (500)"),
        (ProbeCase("list", "other-bucket", "website", "", False), False, "AccessDenied"),
    ]
    results = [ProbeResult(case, observed, detail) for case, observed, detail in cases_and_answers]
    return ProbeReport(results=results, waited_seconds=2.4)


def test_probe_panel_snapshot(snap_compare):
    credentials = Credentials("AKIAEXAMPLEPROBE0001", "fixed-secret-that-is-never-shown-000000")

    async def show(pilot) -> None:
        pilot.app.query_one(ProbePanel).show_report(fixed_report(), attempts=4)
        pilot.app.query_one("#probe-table", DataTable).focus()
        await pilot.pause()

    app = Host(lambda: ProbePanel(credentials, ["reports"], AccessLevel.READ_ONLY, "2024/", autostart=False))
    assert snap_compare(app, terminal_size=SIZE, run_before=show)


def test_simulate_panel_snapshot(snap_compare):
    policy = policy_for(["reports"], AccessLevel.READ_ONLY, "2024/")
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoDrafts", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/2024/drafts/*"}],
    }

    async def blur(pilot) -> None:
        pilot.app.set_focus(None)
        await pilot.pause()

    app = Host(lambda: SimulatePanel([("s3.read-only.reports", policy), ("guard", deny)], bucket="reports", key="2024/drafts/q3.csv"))
    assert snap_compare(app, terminal_size=SIZE, run_before=blur)


@pytest.fixture
def fixed_account():
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        for name in ("alice", "bob", "carol", "dave"):
            iam.create_user(UserName=name)
        iam.put_user_policy(UserName="alice", PolicyName="read", PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_ONLY, "")))
        iam.put_user_policy(UserName="bob", PolicyName="rw-2024", PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_WRITE, "2024/")))
        iam.create_group(GroupName="admins")
        iam.put_group_policy(
            GroupName="admins",
            PolicyName="everything",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "All", "Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        )
        iam.add_user_to_group(GroupName="admins", UserName="carol")
        yield


def test_access_map_panel_snapshot(snap_compare, fixed_account):
    async def settle(pilot) -> None:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table = pilot.app.query_one("#map-table", DataTable)
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()

    app = Host(lambda: AccessMapPanel("reports", prefix="2024/"))
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
