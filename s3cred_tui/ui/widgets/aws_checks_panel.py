"""AWS's second opinion on a policy, in the app: IAM's policy simulator row by row beside the
offline evaluator, Access Analyzer's findings with their links, and the charged proofs on request.

Mount it with one line and give it what to check:

    yield AwsChecksPanel(automatic=True, disagreement_is_a_bug=True, id="review-aws-checks")
    ...
    panel.set_subject(aws_checks.subject_for_plan(plan))

`automatic` asks AWS (the free checks) as soon as a subject is set; otherwise the person presses
"Ask AWS". The charged checks run only from their own button, whose label states the cost. Every
check runs in a thread worker and ends in a status line; nothing here ever blocks the flow, and at
an endpoint that is not AWS (the demo, MinIO) the panel says so in one quiet line.
"""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import aws_checks
from s3cred_tui.core.aws_checks import (
    AwsChecksReport,
    CheckStatus,
    CheckSubject,
    SimulationRow,
)
from s3cred_tui.ui.base import AppContext, ReportsWorkerFailures

TITLE = "AWS's second opinion"
IDLE_HINT = "Ask AWS (free): IAM's policy simulator and Access Analyzer check this policy; nothing is changed."
STALE_HINT = "The policy changed since AWS was asked; ask again."
ASKING = "Asking AWS (IAM policy simulator, Access Analyzer)…"
_STATUS_STYLES = {
    CheckStatus.DONE: "",
    CheckStatus.NOT_PERMITTED: "yellow",
    CheckStatus.THROTTLED: "yellow",
    CheckStatus.FAILED: "yellow",
    CheckStatus.SKIPPED: "dim",
    CheckStatus.UNAVAILABLE: "dim",
}
_FINDING_STYLES = {"ERROR": "bold red", "SECURITY_WARNING": "bold yellow", "WARNING": "yellow", "SUGGESTION": "cyan"}


def _load_css() -> str:
    return Path(__file__).with_name("aws_checks_panel.tcss").read_text(encoding="utf-8")


def paid_button_label(subject: CheckSubject | None) -> str:
    """The charged checks' button states what pressing it costs."""
    count = len(aws_checks.proofs_for(subject)) if subject is not None else 1
    return f"Prove (charged ≈${count * aws_checks.PAID_CHECK_PRICE_USD:.3f})"


def _row_text(row: SimulationRow, text: Text) -> None:
    if row.disagrees:
        text.append(f"✗ {row.request.label}\n", style="bold red")
        text.append(f"    offline: {row.offline_decision}: {row.offline_reason}\n", style="red")
        text.append(f"    AWS:     {row.aws_decision}: {row.aws_reason}\n", style="red")
    elif row.agrees:
        text.append("✓ ", style="green")
        text.append(f"{row.request.label}: {row.aws_decision}\n")
    else:
        text.append(f"? {row.request.label}: AWS {row.aws_decision}; {row.offline_reason}\n", style="yellow")


def summary_text(report: AwsChecksReport) -> Text:
    """The simulator's verdict in one line: red on any disagreement, green when AWS agrees throughout."""
    if report.unavailable:
        return Text(f"AWS checks: {report.unavailable}", style="dim")
    simulation = report.simulation
    style = "bold red" if simulation.disagreements else _STATUS_STYLES[simulation.status] or "green"
    return Text(simulation.summary, style=style)


def report_text(report: AwsChecksReport, *, disagreement_is_a_bug: bool = False, with_summary: bool = True) -> Text:
    """The whole report as styled text: disagreements in red with both reasons, findings with
    their AWS links (clickable where the terminal allows), the charged checks or their cost.
    `with_summary=False` leaves out the first line (the panel shows it as its status)."""
    text = Text()
    if with_summary or report.unavailable:
        text.append_text(summary_text(report))
        text.append("\n")
    if report.unavailable:
        return text.rstrip() or text
    simulation = report.simulation
    if simulation.disagreements and disagreement_is_a_bug:
        text.append(aws_checks.DISAGREEMENT_NOTE + "\n", style="bold red")
    for note in simulation.notes:
        text.append(f"  note: {note}\n", style="dim")
    for row in sorted(simulation.rows, key=lambda r: not r.disagrees):  # disagreements first
        _row_text(row, text)
    for validation in report.validations:
        text.append("\n" + validation.summary + "\n", style=_STATUS_STYLES[validation.status] or "bold")
        for finding in validation.findings:
            text.append(f"• {finding.kind} ", style=_FINDING_STYLES.get(finding.finding_type, ""))
            text.append(f"{finding.issue_code}", style="bold")
            if finding.locations:
                text.append(f" at {', '.join(finding.locations)}", style="dim")
            text.append(f": {finding.details}\n")
            text.append(f"  {finding.learn_more_link}\n", style=Style(dim=True, link=finding.learn_more_link))
    for proof in report.proofs:
        verdict_style = "green" if proof.passed else ("bold red" if proof.passed is False else "yellow")
        text.append(f"\nAccess Analyzer {proof.operation}: ", style="bold")
        text.append(proof.summary + "\n", style=verdict_style)
        for reason in proof.reasons:
            text.append(f"  {reason}\n", style="red" if proof.passed is False else "dim")
    if report.proofs_note:
        text.append(f"\nCharged checks: {report.proofs_note}\n", style="dim")
    return text.rstrip() or text


class AwsChecksPanel(AppContext, ReportsWorkerFailures, VerticalScroll):
    """Asks AWS about the subject it is given (`set_subject`) and shows the answers.

    It scrolls as a whole within its share of the screen, so a long report never pushes the
    policy above it (or its own buttons) off a small terminal."""

    DEFAULT_CSS = _load_css()
    # A failure here (a bug: the core never raises for AWS's sake) is shown in place, never a modal.
    WORKER_FAILURES_SHOWN_HERE = frozenset({"aws-checks"})

    class Finished(Message):
        """AWS answered (or could not); bubbles so a host screen can react."""

        def __init__(self, panel: AwsChecksPanel, generation: int, report: AwsChecksReport) -> None:
            super().__init__()
            self.panel = panel
            self.generation = generation
            self.report = report

        @property
        def control(self) -> AwsChecksPanel:
            return self.panel

    def __init__(
        self,
        *,
        automatic: bool = False,
        disagreement_is_a_bug: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.automatic = automatic
        self.disagreement_is_a_bug = disagreement_is_a_bug
        self.subject: CheckSubject | None = None
        self.report: AwsChecksReport | None = None
        self.generation = 0
        self.running = False
        self.border_title = TITLE

    def compose(self) -> ComposeResult:
        yield Static(IDLE_HINT, id="aws-checks-status")
        yield Static("", id="aws-checks-body")
        with Horizontal(id="aws-checks-buttons"):
            yield Button(
                "Ask AWS", id="aws-checks-run", compact=True, disabled=True,
                tooltip="IAM's policy simulator and Access Analyzer's ValidatePolicy: free, read-only",
            )
            yield Button(
                paid_button_label(None), id="aws-checks-paid", compact=True, disabled=True, variant="warning",
                tooltip=f"Access Analyzer's CheckAccessNotGranted / CheckNoNewAccess: AWS charges per call "
                f"(about ${aws_checks.PAID_CHECK_PRICE_USD:.3f} each; {aws_checks.PRICING_URL})",
            )

    # -- what to check ---------------------------------------------------------------------------

    def set_subject(self, subject: CheckSubject | None, unavailable_note: str = "") -> None:
        """Check `subject` from now on (None: nothing to check, `unavailable_note` says why). The
        same subject again changes nothing, so re-showing a plan never asks AWS twice."""
        if subject == self.subject and subject is not None:
            return
        self.subject = subject
        self.generation += 1
        self.workers.cancel_group(self, "aws-checks")
        self.running = False
        had_answer = self.report is not None
        self.report = None
        self.query_one("#aws-checks-body", Static).update("")
        self.query_one("#aws-checks-body").display = False
        paid = self.query_one("#aws-checks-paid", Button)
        paid.label = paid_button_label(subject)
        paid.disabled = subject is None or not aws_checks.proofs_for(subject)
        self.query_one("#aws-checks-run", Button).disabled = subject is None
        if subject is None:
            self._status(Text(unavailable_note or IDLE_HINT, style="dim"))
        elif self.automatic:
            self.run_checks()
        else:
            self._status(Text(STALE_HINT if had_answer else IDLE_HINT, style="dim"))

    def run_checks(self, paid: bool = False) -> None:
        if self.subject is None:
            return
        self.generation += 1
        self.running = True
        self._status(Text(ASKING, style="dim"))
        for button in self.query("#aws-checks-buttons Button").results(Button):
            button.disabled = True
        self._ask(self.generation, self.subject, paid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="aws-checks", name="asking AWS about the policy")
    def _ask(self, generation: int, subject: CheckSubject, paid: bool) -> None:
        worker = get_current_worker()
        report = aws_checks.run_aws_checks(self.aws, subject, paid=paid, is_cancelled=lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self.post_message(self.Finished(self, generation, report))

    def on_aws_checks_panel_finished(self, message: Finished) -> None:
        if message.generation != self.generation:
            message.stop()  # an answer about a policy no longer shown
            return
        self.running = False
        self.show_report(message.report)

    def show_report(self, report: AwsChecksReport) -> None:
        self.report = report
        if report.unavailable:
            # Quietly: one dim line, no buttons (asking again cannot help at this endpoint).
            self._status(summary_text(report))
            self.query_one("#aws-checks-body").display = False
            self.query_one("#aws-checks-buttons").display = False
            return
        self.query_one("#aws-checks-buttons").display = True
        self._status(summary_text(report))
        self.query_one("#aws-checks-body", Static).update(
            report_text(report, disagreement_is_a_bug=self.disagreement_is_a_bug, with_summary=False)
        )
        self.query_one("#aws-checks-body").display = True
        self.query_one("#aws-checks-run", Button).disabled = False
        self.query_one("#aws-checks-paid", Button).disabled = self.subject is None or not aws_checks.proofs_for(self.subject)

    # -- buttons ---------------------------------------------------------------------------------

    @on(Button.Pressed, "#aws-checks-run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_checks()

    @on(Button.Pressed, "#aws-checks-paid")
    def _paid_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.run_checks(paid=True)

    def _status(self, text: Text) -> None:
        self.query_one("#aws-checks-status", Static).update(text)

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group == "aws-checks" and worker.state is WorkerState.ERROR:
            self.running = False
            message = getattr(worker.error, "message", None) or str(worker.error)
            self._status(Text(f"AWS checks could not run: {message}", style="yellow"))
            self.query_one("#aws-checks-run", Button).disabled = self.subject is None
