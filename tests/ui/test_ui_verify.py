"""Pilot tests of the "prove it" widgets: live probe, offline simulate, access map.

Each widget is mounted in a tiny host app that offers what the real app offers
(`.aws`, `.identity`, `.read_only`) and records failed workers the way the real app's
single error handler receives them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from moto import mock_aws
from textual.app import App, ComposeResult
from textual.widget import Widget
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import Worker, WorkerState

from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.demo.seed import register_aws_managed_policies
from s3cred_tui.ui.screens.probe import ProbeScreen
from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel
from s3cred_tui.ui.widgets.probe_panel import CONDITION_MARK, ProbePanel
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel, simulate
from tests.ui.helpers import settle

BUCKET = "probe-data"
OTHER = "probe-other"
SIZE = (150, 50)
ACCOUNT = "123456789012"


class Host(App[None]):
    """Stands in for S3CredApp: `aws`, `identity`, `read_only`, and one place failures land."""

    def __init__(self, make: Callable[[], Widget] | None, config: SessionConfig | None = None, *, read_only: bool = False) -> None:
        super().__init__()
        self.make = make
        self.aws = AwsContext(config or SessionConfig(region="us-east-1"))
        self.identity = None
        self.read_only = read_only
        self.failures: list[BaseException] = []

    def compose(self) -> ComposeResult:
        if self.make is not None:
            yield self.make()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            self.failures.append(event.worker.error)


def text_of(widget: Static) -> str:
    return str(widget.render())


def table_rows(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def cell_style(table: DataTable, row: int, column: str) -> str:
    return str(table.get_cell_at((row, list(table.columns).index(column))).style)  # type: ignore[union-attr]


# -- probe ------------------------------------------------------------------------------------


@pytest.fixture
def seeded(server_account):
    s3 = server_account.client("s3")
    for bucket in (BUCKET, OTHER):
        s3.create_bucket(Bucket=bucket)
    for key in ("reports/q1.csv", "reports-outside/secret.csv", "root.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    return server_account


def _bucket_keys(account) -> set[str]:
    return {o["Key"] for o in account.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])}


async def test_probe_panel_green_for_a_generated_policy_except_condition_rows(seeded):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/"))
    before = _bucket_keys(seeded)
    seeded.enforce()
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.READ_ONLY, "reports/", other_bucket=OTHER), seeded.config())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(ProbePanel)
        table = panel.query_one("#probe-table", DataTable)
        seeded.enforce(False)
        assert not app.failures
        assert panel.report is not None and table.row_count == len(panel.results) > 0
        for index, result in enumerate(panel.results):
            row = table_rows(table)[index]
            if result.case.decided_by_condition:
                # moto ignores the s3:prefix Condition, so this listing gets through: red, and footnoted.
                assert CONDITION_MARK in row[2] and row[5] == "✗" and "red" in cell_style(table, index, "agrees")
            else:
                assert row[5] == "✓", row
                assert "green" in cell_style(table, index, "agrees")
        assert panel.query_one("#probe-footnote", Static).display
        assert "ignore Condition blocks" in text_of(panel.query_one("#probe-footnote", Static))
        status = text_of(panel.query_one("#probe-status", Static))
        assert "key accepted at once (1 attempt)" in status and "unclear" not in status
        condition_rows = sum(1 for r in panel.results if r.case.decided_by_condition)
        assert f"{condition_rows} differ ({condition_rows} decided by a Condition {CONDITION_MARK})" in status
        assert creds.secret_access_key not in app.export_screenshot()
    assert _bucket_keys(seeded) == before


async def test_probe_panel_red_for_an_over_broad_custom_policy(seeded):
    too_broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}],
    }
    creds = seeded.key_with_policy(too_broad)
    seeded.enforce()
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.READ_ONLY, "reports/", other_bucket=OTHER), seeded.config())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        seeded.enforce(False)
        panel = app.query_one(ProbePanel)
        table = panel.query_one("#probe-table", DataTable)
        red = {
            (row[1], row[2].rstrip(f" {CONDITION_MARK}"))
            for index, row in enumerate(table_rows(table))
            if row[5] == "✗" and "red" in cell_style(table, index, "observed")
        }
        assert {("write", "inside the prefix"), ("write", "outside the prefix"), ("read", "outside the prefix"), ("delete", "inside the prefix")} <= red
        assert ("list", "in another bucket") not in red
        status = text_of(panel.query_one("#probe-status", Static))
        assert re.search(r"[1-9]\d* differ", status), status
        assert panel.query_one("#probe-run").label.plain == "Run again"


def _refuse_first_calls(monkeypatch, refusals: int) -> list[str]:
    """New IAM keys are refused for a few seconds on AWS; moto accepts them at once, so the
    first `refusals` GetCallerIdentity calls made with the probed key answer InvalidClientTokenId."""
    original = AwsContext.for_keys
    seen: list[str] = []

    def for_keys(self, *args, **kwargs):
        ctx = original(self, *args, **kwargs)

        def refuse(**_: Any):
            seen.append("call")
            if len(seen) > refusals:
                return None
            error = {"Error": {"Code": "InvalidClientTokenId", "Message": "not yet"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
            return SimpleNamespace(status_code=403, headers={}), error

        ctx.sts.meta.events.register("before-call.sts.GetCallerIdentity", refuse)
        return ctx

    monkeypatch.setattr(AwsContext, "for_keys", for_keys)
    return seen


async def test_probe_panel_shows_the_wait_for_a_new_key(seeded, monkeypatch):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_WRITE, ""))
    calls = _refuse_first_calls(monkeypatch, refusals=2)
    statuses: list[str] = []
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.READ_WRITE, ""), seeded.config())
    seeded.enforce()
    try:
        async with app.run_test(size=SIZE) as pilot:
            panel = app.query_one(ProbePanel)
            original = panel._status
            monkeypatch.setattr(panel, "_status", lambda text: (statuses.append(str(text)), original(text)))
            await settle(pilot)
            final = text_of(panel.query_one("#probe-status", Static))
    finally:
        seeded.enforce(False)
    assert len(calls) == 3
    waits = [s for s in statuses if s.startswith("Waiting for AWS to accept the new key")]
    assert waits and "attempt 1 refused, next try in 0.2 s" in waits[0]
    assert "attempt 2 refused, next try in 0.4 s" in waits[-1]
    assert re.search(r"key accepted after \d+\.\d s, 3 attempts", final), final
    assert "0 differ" in final


async def test_stop_ends_a_probe_that_is_waiting(seeded, monkeypatch):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, ""))
    _refuse_first_calls(monkeypatch, refusals=1000)
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.READ_ONLY, ""), seeded.config())
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(ProbePanel)
        for _ in range(200):
            await pilot.pause(0.01)
            if "Waiting for AWS" in text_of(panel.query_one("#probe-status", Static)):
                break
        await pilot.click("#probe-stop")
        await settle(pilot)
        assert not panel.running
        assert panel.query_one("#probe-table", DataTable).row_count == 0
        assert "Stopped" in text_of(panel.query_one("#probe-status", Static))
        assert not panel.query_one("#probe-run").disabled
        assert all(type(f).__name__ == "Cancelled" for f in app.failures)


async def test_probe_refused_in_read_only_mode(seeded):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, ""))
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.READ_ONLY, ""), seeded.config(), read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(ProbePanel)
        assert panel.report is None and panel.query_one("#probe-table", DataTable).row_count == 0
        assert "read-only" in text_of(panel.query_one("#probe-status", Static))
        assert any("read-only" in str(n.message).lower() for n in app._notifications)


async def test_probe_screen_runs_with_pasted_keys_and_masks_the_secret(seeded):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/"))
    seeded.enforce()
    app = Host(None, seeded.config())
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ProbeScreen(access_key_id=creds.access_key_id, buckets=[BUCKET], prefix="reports"))
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ProbeScreen)
        secret_input = screen.query_one("#probe-secret", Input)
        assert secret_input.password and secret_input.has_focus
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "secret" in text_of(screen.query_one("#probe-problem", Static)).lower()
        assert screen.panel is None

        secret_input.value = creds.secret_access_key
        await pilot.press("ctrl+r")
        await settle(pilot)
        seeded.enforce(False)
        panel = screen.panel
        assert panel is not None and panel.prefix == "reports/", "the typed prefix is normalised"
        assert panel.report is not None and panel.results
        assert all(r.agrees for r in panel.results if not r.case.decided_by_condition)
        assert creds.secret_access_key not in app.export_screenshot()
        assert not app.failures


async def test_probe_screen_checks_the_form_before_any_request(server_account):
    app = Host(None, server_account.config())
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ProbeScreen())
        screen = app.screen
        problem = screen.query_one("#probe-problem", Static)
        screen.query_one("#probe-key-id", Input).value = "ASIAEXAMPLEEXAMPLE00"
        screen.query_one("#probe-secret", Input).value = "secret-value-here"
        await pilot.press("ctrl+r")
        assert "session token" in text_of(problem)
        screen.query_one("#probe-token", Input).value = "token"
        await pilot.press("ctrl+r")
        assert "bucket" in text_of(problem).lower()
        screen.query_one("#probe-buckets", Input).value = "Bad_Bucket"
        await pilot.press("ctrl+r")
        assert screen.panel is None and text_of(problem)
        screen.query_one("#probe-buckets", Input).value = BUCKET
        screen.query_one("#probe-prefix", Input).value = "/reports"
        await pilot.press("ctrl+r")
        assert "did you mean 'reports/'" in text_of(problem)
        assert screen.panel is None
        await pilot.press("escape")
        assert not isinstance(app.screen, ProbeScreen)


# -- simulate ---------------------------------------------------------------------------------


async def test_simulate_panel_allows_with_the_deciding_sid_of_a_generated_policy():
    policy = policy_for(["reports"], AccessLevel.READ_ONLY, "2024/")
    app = Host(lambda: SimulatePanel([("preview", policy)], bucket="reports", key="2024/q1.csv"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(SimulatePanel)
        await pilot.pause()
        verdict = panel.query_one("#sim-verdict", Static)
        deciding = panel.query_one("#sim-deciding", Static)
        assert text_of(verdict) == "✓ ALLOW"
        assert "preview · Sid 'ReadObjects' · Allow" in text_of(deciding)
        assert text_of(panel.query_one("#sim-request")) == "s3:GetObject on arn:aws:s3:::reports/2024/q1.csv"

        panel.ask("write")
        await pilot.pause()
        assert text_of(verdict).startswith("✗ DENY (no statement allows it)")
        assert "implicit deny" in text_of(panel.query_one("#sim-reason", Static))

        panel.ask("list", key="2024/")
        await pilot.pause()
        assert text_of(verdict) == "✓ ALLOW" and "ListObjectsInBucket" in text_of(deciding)
        panel.ask("list", key="2023/")
        await pilot.pause()
        reason = text_of(panel.query_one("#sim-reason", Static))
        assert text_of(verdict).startswith("✗ DENY") and "s3:prefix" in reason

        # The operation menu as a person uses it: pick "any action…", type one.
        panel.query_one("#sim-operation", Select).value = "action"
        await pilot.pause()
        action = panel.query_one("#sim-action", Input)
        assert action.display
        action.focus()
        await pilot.press(*"GetBucketLocation")
        await pilot.pause()
        assert panel.last is not None and panel.last.action == "s3:GetBucketLocation"
        assert panel.last.resource == "arn:aws:s3:::reports"
        assert text_of(verdict) == "✓ ALLOW" and "GetBucketLocation" in text_of(deciding)


async def test_simulate_panel_shows_a_deny_statement_winning_and_follows_set_policies():
    allow_all = {"Version": "2012-10-17", "Statement": [{"Sid": "AllS3", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    deny_secret = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/secret/*"}],
    }
    app = Host(lambda: SimulatePanel([("wide", allow_all), ("guard", deny_secret)], bucket="reports", key="secret/pay.csv"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(SimulatePanel)
        await pilot.pause()
        verdict = panel.query_one("#sim-verdict", Static)
        assert text_of(verdict) == "✗ DENY (explicit Deny statement)"
        assert "guard · Sid 'NoSecrets' · Deny" in text_of(panel.query_one("#sim-deciding", Static))

        panel.set_policies([("wide", allow_all)])
        await pilot.pause()
        assert text_of(verdict) == "✓ ALLOW"
        assert panel.query_one("#sim-key", Input).value == "secret/pay.csv", "the person's key is kept"

        panel.set_policies([("wide", allow_all)], boundary=("boundary", deny_secret), bucket="reports")
        await pilot.pause()
        assert text_of(verdict).startswith("✗ DENY") and "NoSecrets" in text_of(panel.query_one("#sim-deciding", Static))


async def test_simulate_panel_reports_a_malformed_policy_without_crashing():
    broken = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Acton": "s3:GetObject", "Resource": "*"}]}
    app = Host(lambda: SimulatePanel([("typo", broken)], bucket="reports", key="a.txt"))
    async with app.run_test(size=SIZE) as pilot:
        panel = app.query_one(SimulatePanel)
        await pilot.pause()
        reason = panel.query_one("#sim-reason", Static)
        assert "This policy cannot be evaluated: typo" in text_of(reason)
        assert reason.has_class("sim-error")
        assert panel.last is not None and panel.last.decision is None

        panel.set_policies([("fixed", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})])
        await pilot.pause()
        assert text_of(panel.query_one("#sim-verdict", Static)) == "✓ ALLOW"
        assert not reason.has_class("sim-error")
        assert "statement [0] (no Sid)" in text_of(panel.query_one("#sim-deciding", Static))

        panel.ask("read", bucket="")
        await pilot.pause()
        assert "bucket name" in text_of(reason)


def test_simulate_resolves_the_username_variable_from_the_principal():
    home = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home/${aws:username}/*"}]}
    arn = f"arn:aws:iam::{ACCOUNT}:user/dana"
    assert simulate([home], "write", "", "home", "dana/notes.txt", principal_arn=arn).decision.allowed  # type: ignore[union-attr]
    assert not simulate([home], "write", "", "home", "eve/notes.txt", principal_arn=arn).decision.allowed  # type: ignore[union-attr]


# -- access map -------------------------------------------------------------------------------

ADMIN = {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
S3_READ_ONLY_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"


def seed_access_map_account() -> None:
    """reader: inline read-only on the bucket; admin: AdministratorAccess-like via a group;
    capped: an admin policy under an S3 read-only boundary; idle: nothing."""
    iam = boto3.client("iam", region_name="us-east-1")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
    for name in ("reader", "admin", "capped", "idle"):
        iam.create_user(UserName=name)
    iam.put_user_policy(UserName="reader", PolicyName="reports-read", PolicyDocument=json.dumps(policy_for(["reports"], AccessLevel.READ_ONLY, "")))
    admin_arn = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(ADMIN))["Policy"]["Arn"]
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=admin_arn)
    iam.add_user_to_group(GroupName="admins", UserName="admin")
    iam.put_user_policy(UserName="capped", PolicyName="admin", PolicyDocument=json.dumps(ADMIN))


def report_boundaries(ctx: AwsContext, boundaries: dict[str, str]) -> None:
    """moto does not store user permissions boundaries; AWS returns them in
    GetAccountAuthorizationDetails, so add them to the answer as AWS would."""

    def add(parsed: dict, **_: Any) -> None:
        for user in parsed.get("UserDetailList", []):
            if user["UserName"] in boundaries:
                user["PermissionsBoundary"] = {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": boundaries[user["UserName"]],
                }

    ctx.iam.meta.events.register("after-call.iam.GetAccountAuthorizationDetails", add)


@pytest.fixture
def map_account():
    with mock_aws():
        seed_access_map_account()
        yield


@pytest.fixture
def map_account_with_aws_policies():
    """As map_account, with the AWS-managed S3 policies (the read-only boundary) present, as in AWS."""
    with mock_aws():
        register_aws_managed_policies()
        seed_access_map_account()
        yield


async def test_access_map_for_inline_group_admin_and_bounded_users(map_account_with_aws_policies):
    app = Host(lambda: AccessMapPanel("reports"))
    report_boundaries(app.aws, {"capped": S3_READ_ONLY_ARN})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(AccessMapPanel)
        table = panel.query_one("#map-table", DataTable)
        assert not app.failures
        rows = {row[0]: row[1:5] for row in table_rows(table)}
        assert rows == {
            "reader": ["✓", "✓", "✗", "✗"],
            "admin": ["✓", "✓", "✓", "✓"],
            "capped": ["✓", "✓", "✗", "✗"],
        }, "idle has no access and is hidden"
        assert "boundary AmazonS3ReadOnlyAccess" in table_rows(table)[[r[0] for r in table_rows(table)].index("capped")][5]
        capped = panel.entry("capped")
        assert capped is not None and capped.write is not None and "permissions boundary does not" in capped.write.reason
        status = text_of(panel.query_one("#map-status", Static))
        assert "3 users with some access of 4" in status and "1 without access hidden" in status

        # The "why" line follows the highlighted row.
        table.move_cursor(row=[r[0] for r in table_rows(table)].index("admin"))
        await pilot.pause()
        why = text_of(panel.query_one("#map-why", Static))
        assert why.startswith("admin") and "group admins managed admin" in why

        await pilot.click("#map-show-all")
        await settle(pilot)
        assert {row[0] for row in table_rows(table)} == {"reader", "admin", "capped", "idle"}
        assert table_rows(table)[[r[0] for r in table_rows(table)].index("idle")][1:5] == ["✗"] * 4


async def test_access_map_prefix_is_re_evaluated_without_aws(map_account):
    limited = policy_for(["reports"], AccessLevel.READ_WRITE, "2024/")
    boto3.client("iam", region_name="us-east-1").put_user_policy(UserName="idle", PolicyName="2024", PolicyDocument=json.dumps(limited))
    app = Host(lambda: AccessMapPanel("reports", prefix="2024"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(AccessMapPanel)
        table = panel.query_one("#map-table", DataTable)
        assert panel.prefix == "2024/"
        assert panel.entry("idle").allowed == ("list", "read", "write", "delete")  # type: ignore[union-attr]
        calls: list[str] = []
        app.aws.iam.meta.events.register("before-call", lambda **kw: calls.append(kw["event_name"]))
        prefix_input = panel.query_one("#map-prefix", Input)
        prefix_input.value = "2023/"
        await settle(pilot)
        assert panel.prefix == "2023/"
        assert "idle" not in {row[0] for row in table_rows(table)}
        assert calls == [], "changing the prefix must not call AWS"
        prefix_input.value = "/2023"
        await settle(pilot)
        assert "did you mean" in text_of(panel.query_one("#map-status", Static))


async def test_access_map_marks_users_it_cannot_evaluate(map_account):
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="odd")
    iam.put_user_policy(
        UserName="odd",
        PolicyName="strange",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}]}),
    )
    app = Host(lambda: AccessMapPanel("reports"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        panel = app.query_one(AccessMapPanel)
        rows = {row[0]: row for row in table_rows(panel.query_one("#map-table", DataTable))}
        assert rows["odd"][1:5] == ["!"] * 4 and "strange" in rows["odd"][5]
        assert "admin" in rows


async def test_access_map_rows_reach_the_table_a_frame_at_a_time_and_no_worker_reprs_the_users(map_account, monkeypatch):
    """Rows landing on screen are handed over `rows_per_step(..., on_screen=True)` per frame (Rich
    draws a cell the first time in ~0.4 ms), and starting the evaluation does not make Textual's
    default worker description, the repr of every user's details (5,000: ~60 ms of event loop)."""
    from s3cred_tui.core.inventory import UserDetail
    from s3cred_tui.ui.pacing import rows_per_step

    iam = boto3.client("iam", region_name="us-east-1")
    read = json.dumps(policy_for(["reports"], AccessLevel.READ_ONLY, ""))
    for index in range(60):
        iam.create_user(UserName=f"reader-{index:02d}")
        iam.put_user_policy(UserName=f"reader-{index:02d}", PolicyName="read", PolicyDocument=read)
    reprs: list[str] = []
    monkeypatch.setattr(UserDetail, "__repr__", lambda self: reprs.append(self.summary.name) or "UserDetail")
    rows_at_each_frame: list[int] = []
    wait = DataTable.wait_for_refresh

    async def noting(self):
        if self.id == "map-table":
            rows_at_each_frame.append(self.row_count)
        return await wait(self)

    monkeypatch.setattr(DataTable, "wait_for_refresh", noting)
    app = Host(lambda: AccessMapPanel("reports"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.query_one(AccessMapPanel).query_one("#map-table", DataTable)
        assert table.row_count == 63, "60 readers, reader, admin, capped"
        per_frame = rows_per_step(len(table.columns), on_screen=True)
        steps = [b - a for a, b in zip([0, *rows_at_each_frame], rows_at_each_frame)]
        assert rows_at_each_frame and max(steps) <= per_frame, "a screenful is handed over in several frames"
        assert reprs == []


async def test_access_map_says_when_iam_cannot_be_read(server_account):
    iam = server_account.client("iam")
    iam.create_user(UserName="limited")
    iam.put_user_policy(
        UserName="limited",
        PolicyName="s3-only",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
    )
    key = iam.create_access_key(UserName="limited")["AccessKey"]
    server_account.enforce()
    config = server_account.config().with_keys(key["AccessKeyId"], key["SecretAccessKey"])
    app = Host(lambda: AccessMapPanel("reports"), config)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        server_account.enforce(False)
        status = text_of(app.query_one(AccessMapPanel).query_one("#map-status", Static))
        assert status.startswith("Could not build the access map: Access denied")
        assert app.failures and type(app.failures[0]).__name__ == "AccessDenied"
