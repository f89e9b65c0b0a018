"""AWS's second opinion on the review and create screens (ui/widgets/aws_checks_panel.py).

The core function (`core.aws_checks.run_aws_checks`) is replaced by one returning a fixed report,
so no request leaves the process; the account is moto's. One test keeps the real function: on
moto (which has neither IAM's simulator nor Access Analyzer) it must say "not available" quietly.
"""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws
from moto.moto_api._internal import mock_random
from textual.widgets import Button, Input, Static

from s3cred_tui.core import aws_checks
from s3cred_tui.core.aws_checks import (
    AwsChecksReport,
    CheckStatus,
    SimulatedRequest,
    SimulationCheck,
    SimulationRow,
    ValidationCheck,
    ValidationFinding,
)
from s3cred_tui.core.draft import draft_request
from s3cred_tui.core.policies import S3_READ_ONLY_POLICY_ARN
from s3cred_tui.core.request import AccessLevel, CredentialRequest
from s3cred_tui.core.simulate import Decision
from s3cred_tui.ui.screens.create import CreateScreen
from s3cred_tui.ui.screens.error import ErrorModal
from s3cred_tui.ui.widgets.aws_checks_panel import AwsChecksPanel, report_text
from tests.ui.helpers import make_app, settle, wait_until

BUCKET = "alpha-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
INSIDE = f"{BUCKET_ARN}/reports/s3cred-probe-object"
LINK = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html"


def _row(label, action, resource, offline_allowed, aws_decision, context=None):
    decision = (
        Decision(True, "Allow", f"{action} on {resource} is allowed by statement 'ReadObjects' of the generated policy.")
        if offline_allowed
        else Decision(False, "ImplicitDeny", f"No statement allows {action} on {resource} (implicit deny).")
    )
    statements = ("the generated policy (line 1)",) if aws_decision == "allowed" else ()
    return SimulationRow(SimulatedRequest(label, action, resource, context or {}), decision, aws_decision, statements)


REPORT = AwsChecksReport(
    SimulationCheck(
        CheckStatus.DONE,
        rows=(
            _row("list inside the prefix (s3://alpha-bucket/reports/)", "s3:ListBucket", BUCKET_ARN, True, "allowed",
                 {"s3:prefix": "reports/"}),
            _row("list outside the prefix (s3://alpha-bucket/reports-outside/)", "s3:ListBucket", BUCKET_ARN, False,
                 "allowed", {"s3:prefix": "reports-outside/"}),
            _row("read inside the prefix (s3://alpha-bucket/reports/s3cred-probe-object)", "s3:GetObject", INSIDE, True,
                 "allowed"),
        ),
    ),
    (
        ValidationCheck(
            "the generated policy",
            CheckStatus.DONE,
            findings=(
                ValidationFinding("SUGGESTION", "REDUNDANT_ACTION", "The action s3:GetObjectVersion is redundant.",
                                  LINK, ("Statement[2].Action[1] (line 9)",)),
            ),
        ),
    ),
    proofs_note="not run, since AWS charges for them (1 charged Access Analyzer call, about $0.002); turned on, "
    "they prove the policy grants no write, delete or bucket administration",
)


@pytest.fixture
def account():
    with mock_aws():
        mock_random.seed(42)
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="reports/2024/a.csv", Body=b"data")
        yield


class Asked(list):
    """Every call of the replaced core function; `answer` is what it returns (or raises)."""

    answer: object = REPORT


@pytest.fixture
def asked(monkeypatch):
    """Replaces the core function: every call is recorded and answered with `asked.answer`."""
    calls = Asked()

    def fake_run(ctx, subject, *, paid=False, **_):
        calls.append({"subject": subject, "paid": paid})
        if isinstance(calls.answer, Exception):
            raise calls.answer
        return calls.answer

    monkeypatch.setattr(aws_checks, "run_aws_checks", fake_run)
    return calls


def text_of(widget: Static) -> str:
    return str(widget.render())


async def open_review(pilot, prefix: str = "reports/") -> None:
    await settle(pilot)
    request = CredentialRequest(buckets=(BUCKET,), access=AccessLevel.READ_ONLY, prefix=prefix)
    pilot.app.open_review(draft_request(request).request)  # normalised, as the form hands it over
    await settle(pilot)


# -- review screen -------------------------------------------------------------------------------


async def test_review_asks_aws_about_the_plan_and_shows_a_disagreement_as_a_bug(account, asked):
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await open_review(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")

        [call] = asked
        subject = call["subject"]
        assert call["paid"] is False
        assert subject.boundary_arn == S3_READ_ONLY_POLICY_ARN
        assert subject.caller_arn.endswith(f":user/s3.read-only.{BUCKET}") and subject.read_bucket_policies
        status = text_of(panel.query_one("#aws-checks-status", Static))
        assert status == "IAM policy simulator: AWS DISAGREES with the offline evaluator on 1 of 3 requests"
        body = text_of(panel.query_one("#aws-checks-body", Static))
        assert aws_checks.DISAGREEMENT_NOTE in body
        assert "✗ list outside the prefix (s3://alpha-bucket/reports-outside/)" in body
        assert "offline: implicitDeny: No statement allows s3:ListBucket" in body
        assert "AWS:     allowed: allowed by the generated policy (line 1)" in body
        assert "REDUNDANT_ACTION at Statement[2].Action[1] (line 9)" in body and LINK in body
        assert "Charged checks: not run, since AWS charges for them" in body
        assert str(panel.query_one("#aws-checks-paid", Button).label) == "Prove (charged ≈$0.002)"
        assert not app.screen.query_one("#apply", Button).disabled  # never blocks the flow


async def test_the_charged_checks_run_only_from_their_button(account, asked):
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await open_review(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")
        assert [c["paid"] for c in asked] == [False]

        panel.query_one("#aws-checks-paid", Button).press()
        await settle(pilot)

        assert [c["paid"] for c in asked] == [False, True]


async def test_on_moto_the_checks_say_not_available_quietly(account):
    """The real core function: moto implements neither API, so one dim line and no buttons."""
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await open_review(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")

        assert text_of(panel.query_one("#aws-checks-status", Static)) == (
            "AWS checks: not available at this endpoint: it does not implement iam:SimulateCustomPolicy"
        )
        assert not panel.query_one("#aws-checks-buttons").display
        assert not panel.query_one("#aws-checks-body").display
        assert not any(isinstance(screen, ErrorModal) for screen in app.screen_stack)


async def test_at_a_local_endpoint_like_the_demo_nothing_is_asked(server_account, monkeypatch):
    """The demo and MinIO are reached through a non-AWS endpoint: the real core function knows
    before any call, and the panel says so in one dim line."""
    server_account.client("s3").create_bucket(Bucket=BUCKET)
    calls: list[str] = []
    monkeypatch.setattr(aws_checks, "compare_with_aws", lambda *a, **k: calls.append("simulator"))
    app = make_app(config=server_account.config())
    async with app.run_test(size=(140, 50)) as pilot:
        await open_review(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")

        status = text_of(panel.query_one("#aws-checks-status", Static))
        assert status == (
            f"AWS checks: not available at this endpoint ({server_account.endpoint_url}): IAM's policy simulator "
            "and Access Analyzer exist only on AWS"
        )
        assert calls == [] and not panel.query_one("#aws-checks-buttons").display


async def test_a_failing_check_is_shown_in_the_panel_never_as_a_modal(account, asked):
    asked.answer = RuntimeError("simulated bug")
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await open_review(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        status = panel.query_one("#aws-checks-status", Static)
        await wait_until(pilot, lambda: "could not run" in text_of(status), "the failure in place")

        assert text_of(status) == "AWS checks could not run: simulated bug"
        assert not any(isinstance(screen, ErrorModal) for screen in app.screen_stack)
        assert not app.screen.query_one("#apply", Button).disabled


# -- create screen -------------------------------------------------------------------------------


async def test_the_form_asks_aws_only_on_request_and_marks_an_answer_stale(account, asked):
    app = make_app()
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        app.push_screen(CreateScreen(buckets=[BUCKET], prefix="reports"))
        await settle(pilot)
        panel = app.screen.query_one(AwsChecksPanel)
        assert asked == []  # typing never calls AWS
        status = panel.query_one("#aws-checks-status", Static)
        assert text_of(status).startswith("Ask AWS (free)")

        panel.query_one("#aws-checks-run", Button).press()
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")

        [call] = asked
        subject = call["subject"]
        assert (subject.buckets, subject.access, subject.prefix) == ((BUCKET,), AccessLevel.READ_ONLY, "reports/")
        assert subject.boundary_arn is None and not subject.read_bucket_policies  # the policy alone
        assert "DISAGREES" in text_of(status)

        app.screen.query_one("#prefix", Input).value = "raw"
        await settle(pilot)
        assert text_of(status) == "The policy changed since AWS was asked; ask again."
        assert len(asked) == 1

        app.screen.query_one("#buckets", Input).value = ""
        await settle(pilot)
        assert text_of(status) == "Fix the highlighted fields to ask AWS."
        assert panel.query_one("#aws-checks-run", Button).disabled


def test_report_text_puts_disagreements_first_and_links_findings():
    text = report_text(REPORT, disagreement_is_a_bug=True)
    lines = text.plain.splitlines()

    assert lines[0].startswith("IAM policy simulator: AWS DISAGREES")
    assert lines[1] == aws_checks.DISAGREEMENT_NOTE
    assert lines[2].startswith("✗ list outside the prefix")
    linked = [span for span in text.spans if getattr(span.style, "link", None) == LINK]
    assert linked, "the finding's AWS link is a terminal hyperlink"
    assert aws_checks.DISAGREEMENT_NOTE not in report_text(REPORT).plain  # only where it is asked for


# -- snapshots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_review_with_aws_checks_snapshot(account, asked, snap_compare, size):
    async def review(pilot):
        await open_review(pilot)
        panel = pilot.app.screen.query_one(AwsChecksPanel)
        await wait_until(pilot, lambda: panel.report is not None, "AWS's answer")
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=review)
