"""Issue 12's defects, each driven as a person meets it: stale lists after a change, the
simulator answering about a policy the form no longer has, the identity bar stuck on
"checking…", the user probe's guessed expectations, "just now ago", the access map's cut
explanation, a Stop button after the probe ended, and the review leaving out what CreateUser sends.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from textual.widgets import Button, Checkbox, Input, Static

from s3cred_tui.core import errors
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.user_analysis import policy_expectation
from s3cred_tui.ui import app as app_module
from s3cred_tui.ui import formatting
from s3cred_tui.ui.screens.apply import ApplyScreen
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.probe import ProbeScreen
from s3cred_tui.ui.screens.review import ReviewScreen
from s3cred_tui.ui.widgets.access_map_panel import AccessMapPanel
from s3cred_tui.ui.widgets.probe_panel import ProbePanel
from s3cred_tui.ui.widgets.simulate_panel import SimulatePanel
from tests.ui.helpers import make_app, settle, wait_until
from tests.ui.test_ui_verify import BUCKET, OTHER, Host, seeded  # noqa: F401 - the fixture

SIZE = (140, 42)
ALPHA = "alpha-bucket"
# backup-bot in the demo: it may put objects and list the bucket, nothing else.
PUT_AND_LIST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
    ],
}


@pytest.fixture
def account():
    with mock_aws():
        mock_random.seed(42)
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=ALPHA)
        yield boto3.client("iam", region_name="us-east-1")


def static_text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def run_create_flow(pilot, buckets: list[str], *, create_buckets: bool = False) -> ApplyScreen:
    app = pilot.app
    assert app.open_create(buckets)
    await settle(pilot)
    if create_buckets:
        app.screen.query_one("#create-buckets", Checkbox).value = True
        await pilot.pause()
    await pilot.press("ctrl+r")
    await settle(pilot)
    assert isinstance(app.screen, ReviewScreen) and app.screen.plan is not None and app.screen.plan.ok
    await pilot.press("ctrl+a")
    await settle(pilot)
    assert isinstance(app.screen, ApplyScreen) and app.screen.result is not None and app.screen.result.ok
    return app.screen


# -- lists refresh after every change the app makes -------------------------------------------


async def test_creating_a_user_refreshes_the_users_list_and_a_filter_finds_it(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        accounts = app.account_screen()
        assert accounts is not None and accounts.users.total == 0
        accounts.users.set_filter("s3.read-only")
        await settle(pilot)
        await run_create_flow(pilot, [ALPHA])
        await settle(pilot)
        # No `r` pressed: the list behind the flow was read again by itself.
        assert accounts.users.total == 1
        assert accounts.users.keys == [f"s3.read-only.{ALPHA}"]
        assert accounts.users.shown == 1, "the active filter finds the new user"


async def test_creating_a_bucket_refreshes_the_buckets_list(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        accounts = app.account_screen()
        assert accounts.bucket_names() == [ALPHA]
        await run_create_flow(pilot, ["fresh-bucket-12"], create_buckets=True)
        await settle(pilot)
        assert sorted(accounts.bucket_names()) == [ALPHA, "fresh-bucket-12"]


# -- the create form's simulator on an invalid form --------------------------------------------


async def test_the_simulator_says_nothing_about_a_policy_the_form_no_longer_has(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_create([ALPHA])
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CreateScreen)
        panel = screen.query_one(SimulatePanel)
        assert panel.last is not None and panel.last.decision is not None and panel.last.decision.allowed
        assert "ALLOW" in static_text(panel, "#sim-verdict")

        screen.query_one("#buckets", Input).value = ""  # no bucket: no policy
        await pilot.pause()
        assert panel.last is None and panel.unavailable
        assert static_text(panel, "#sim-verdict") == ""
        assert "Nothing to simulate yet" in static_text(panel, "#sim-reason")
        assert panel.ask("read", bucket=ALPHA) is None, "typing in the panel does not bring the old policy back"

        await pilot.click("#access-custom")
        screen.query_one("#buckets", Input).value = ALPHA
        await pilot.pause()
        screen.query_one("#custom-policy").load_text("{not json")
        await pilot.pause()
        assert panel.last is None and static_text(panel, "#sim-verdict") == ""

        await pilot.click("#access-read-only")
        await pilot.pause()
        assert panel.last is not None and panel.last.decision is not None, "a valid form answers again"


# -- the identity bar when whoami fails ---------------------------------------------------------


async def test_the_identity_bar_says_why_whoami_failed_and_r_asks_again(account, monkeypatch):
    real_whoami = app_module.whoami

    def refused(ctx):
        raise errors.AccessDenied("Access denied (sts:GetCallerIdentity): not today", code="AccessDenied")

    monkeypatch.setattr(app_module, "whoami", refused)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        line = static_text(app.account_screen(), "#identity-line")
        assert "checking" not in line
        assert "Identity unknown" in line and "not today" in line and "r asks again" in line
        await pilot.press("escape")  # the error modal
        await pilot.pause()
        monkeypatch.setattr(app_module, "whoami", real_whoami)
        await pilot.press("r")
        await settle(pilot)
        assert app.identity is not None
        assert static_text(app.account_screen(), "#identity-line").startswith(f"Account {app.identity.account}")


async def test_whoami_is_not_asked_twice_when_its_answer_is_on_its_way(account, monkeypatch):
    asked: list[str] = []
    real_whoami = app_module.whoami

    def counted(ctx):
        asked.append("whoami")
        return real_whoami(ctx)

    monkeypatch.setattr(app_module, "whoami", counted)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert asked == ["whoami"], "the account screen's first load does not ask again"
        # The worker has answered, its message not yet handled (as when whoami answers at once).
        app.identity = None
        app.ensure_identity()
        await settle(pilot)
        assert asked == ["whoami"]


def test_an_expired_sso_session_names_the_login_command_with_the_profile():
    expired = errors.CredentialsExpired("The SSO session has expired or is missing.", code=app_module.SSO_EXPIRED_CODE)
    assert "`aws sso login --profile work`" in app_module.error_message(expired, "work")
    assert "`aws sso login`" in app_module.error_message(expired, None)
    other = errors.AccessDenied("Access denied (s3:ListBuckets)", code="AccessDenied")
    assert app_module.error_message(other, "work") == other.message


# -- the user screen's probe expects what the user's policies allow --------------------------------


def test_policy_expectation_answers_for_the_exact_request():
    expect = policy_expectation([("backup", PUT_AND_LIST)])
    assert expect("s3:ListBucket", f"arn:aws:s3:::{BUCKET}", {"s3:prefix": ""})
    assert expect("s3:PutObject", f"arn:aws:s3:::{BUCKET}/x", {})
    assert not expect("s3:GetObject", f"arn:aws:s3:::{BUCKET}/x", {})
    assert not expect("s3:DeleteObject", f"arn:aws:s3:::{BUCKET}/x", {})
    assert not expect("s3:ListBucket", f"arn:aws:s3:::{OTHER}", {"s3:prefix": ""})


async def test_a_put_and_list_key_probed_against_its_policies_agrees_on_every_row(seeded):  # noqa: F811
    creds = seeded.key_with_policy(PUT_AND_LIST)
    seeded.enforce()
    expect = policy_expectation([("backup", PUT_AND_LIST)])
    app = Host(
        lambda: ProbePanel(creds, [BUCKET], AccessLevel.WRITE_ONLY, "", other_bucket=OTHER, expect=expect,
                           expected_from="backup-bot's policies"),
        seeded.config(),
    )
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        seeded.enforce(False)
        panel = app.query_one(ProbePanel)
        assert panel.report is not None and not app.failures
        expected = {(r.case.check, r.case.where): r.case.expected_allowed for r in panel.report.results}
        # The policy's own answers, not a level's: listing is expected although "write only" forbids it.
        assert expected[("list", "inside")] is True and expected[("write", "inside")] is True
        assert expected[("read", "inside")] is False and expected[("delete", "inside")] is False
        assert panel.report.tally.differ == 0, [(r.case.label, r.detail) for r in panel.report.mismatches]
        assert "backup-bot's policies" in str(panel.query_one("#probe-scope", Static).render())


async def test_probe_a_key_from_the_user_screen_expects_from_the_users_policies(account):
    account.create_user(UserName="backup-bot")
    account.put_user_policy(UserName="backup-bot", PolicyName="backup", PolicyDocument=json.dumps(PUT_AND_LIST))
    account.create_access_key(UserName="backup-bot")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_user("backup-bot")
        await settle(pilot)
        await pilot.press("p")
        await pilot.pause()
        probe = app.screen
        assert isinstance(probe, ProbeScreen) and probe.expect is not None
        assert probe.expect("s3:PutObject", f"arn:aws:s3:::{BUCKET}/k", {})
        assert not probe.expect("s3:GetObject", f"arn:aws:s3:::{BUCKET}/k", {})
        assert "backup-bot's policies" in static_text(probe, "#probe-intro")
        assert not probe.query_one("#probe-access").display, "no access level to pick: the policies decide"


# -- small ones ------------------------------------------------------------------------------------


def test_last_used_just_now_takes_no_ago():
    now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
    assert formatting.last_used(now - timedelta(seconds=5), "s3", now) == "just now (s3)"
    assert formatting.last_used(now - timedelta(minutes=5), None, now) == "5 min ago"


async def test_the_probe_has_no_stop_button_once_it_has_finished(seeded):  # noqa: F811
    creds = seeded.key_with_policy(PUT_AND_LIST)
    app = Host(lambda: ProbePanel(creds, [BUCKET], AccessLevel.WRITE_ONLY, "", other_bucket=None), seeded.config())
    async with app.run_test(size=(150, 50)) as pilot:
        await settle(pilot)
        panel = app.query_one(ProbePanel)
        assert panel.report is not None and not panel.running
        assert not panel.query_one("#probe-stop", Button).display
        assert panel.query_one("#probe-run", Button).display


async def test_the_access_map_explanation_scrolls_rather_than_being_cut(account):
    account.create_user(UserName="wordy")
    account.put_user_policy(
        UserName="wordy",
        PolicyName="many",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Sid": f"Statement{n}", "Effect": "Allow", "Action": "s3:*", "Resource": f"arn:aws:s3:::{ALPHA}*"}
                    for n in range(8)
                ],
            }
        ),
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_bucket(ALPHA)
        await settle(pilot)
        panel = app.screen.query_one(AccessMapPanel)
        await wait_until(pilot, lambda: bool(panel.entries), "the access map")
        scroll = panel.query_one("#map-why-scroll")
        why = panel.query_one("#map-why", Static)
        await pilot.pause()
        assert why.virtual_size.height > scroll.size.height, "the explanation is longer than its pane"
        assert scroll.can_focus and scroll.max_scroll_y > 0, "…and the pane scrolls to show all of it"
        scroll.focus()
        await pilot.press("G")
        assert scroll.scroll_y == scroll.max_scroll_y


async def test_the_review_lists_the_tags_and_boundary_create_user_sends(account):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_create([ALPHA])
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        plan = static_text(review, "#review-plan")
        create_user = next(s for s in review.plan.steps if s.action == "iam:CreateUser")
        for tag in create_user.params["Tags"]:
            assert f"{tag['Key']}={tag['Value']}" in plan
        assert "s3cred-tui-run=<this run's id>" in plan
        assert f"permissions boundary: {create_user.params['PermissionsBoundary']}" in plan


async def test_a_blocked_plan_offers_no_apply(account):
    account.create_user(UserName=f"s3.read-only.{ALPHA}")  # exists, and reuse is not ticked: blocked
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.open_create([ALPHA])
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen) and review.plan is not None and review.plan.blockers
        assert "apply" not in {b.binding.action for b in review.active_bindings.values()}
        await pilot.press("ctrl+a")
        await settle(pilot)
        assert app.screen is review, "ctrl+a does nothing on a blocked plan"

