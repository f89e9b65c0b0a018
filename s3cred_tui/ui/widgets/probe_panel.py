"""The live probe in the app: expected against observed, row by row.

Expected answers come from the access level asked for (after creating credentials), or, for a
key whose policies are known (a user's key), from those policies through the evaluator
(`expect`, with `expected_from` saying whose).

Mount it with one line, e.g. on the result screen after credentials are created:

    yield ProbePanel(credentials, request.buckets, request.access, request.prefix)

It starts by itself once mounted (pass `autostart=False` to wait for the Run button). The
probe runs in a thread worker that posts each result as it arrives; it stops between
requests when cancelled (Stop, or leaving the screen). A new IAM key is waited for with
bounded, visible backoff, and the panel says how long that took.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, DataTable, Static
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import Cancelled
from s3cred_tui.core.probe import AUTO, Expectation, ProbeReport, ProbeResult, allowed_word, run_probe
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.ui.base import AppContext, ReportsWorkerFailures
from s3cred_tui.ui.guards import require_writable
from s3cred_tui.ui.widgets.motion import MotionDataTable

CONDITION_MARK = "¹"
# Who decides the answers depends on the endpoint: the demo's authorizer, an emulator the person
# points at (which may ignore Conditions), or AWS itself.
CONDITION_FOOTNOTE = (
    f"{CONDITION_MARK} AWS decides this row with a Condition (s3:prefix). Emulators such as a plain moto or "
    "LocalStack ignore Condition blocks, so it may show red there although AWS enforces it; the simulator "
    "shows the policy's intent."
)
DEMO_FOOTNOTE = (
    "In the demo, requests are authorized by s3cred-tui's evaluator following AWS's documented rules "
    f"(moto alone would not enforce them), Conditions included: rows marked {CONDITION_MARK} are decided by "
    "the s3:prefix Condition."
)
AWS_FOOTNOTE = f"{CONDITION_MARK} AWS decides this row with a Condition (s3:prefix)."
# How often a sleeping probe looks at its cancel flag, so Stop is felt quickly during backoff.
_CANCEL_POLL_SECONDS = 0.05

COLUMNS = (
    ("bucket", "Bucket"),
    ("check", "Check"),
    ("where", "Where"),
    ("expected", "Expected"),
    ("observed", "Observed"),
    ("agrees", "Agrees"),
    ("detail", "Detail"),
)


def _load_css() -> str:
    return Path(__file__).with_name("probe_panel.tcss").read_text(encoding="utf-8")


def row_style(result: ProbeResult) -> str:
    if result.observed_allowed is None:
        return "yellow"
    return "green" if result.agrees else "red"


def result_cells(result: ProbeResult) -> tuple[Text, ...]:
    case = result.case
    style = row_style(result)
    where = case.label.split(" ", 1)[1] + (f" {CONDITION_MARK}" if case.decided_by_condition else "")
    mark = "?" if result.observed_allowed is None else ("✓" if result.agrees else "✗")
    return (
        Text(case.bucket),
        Text(case.check),
        Text(where),
        Text(allowed_word(case.expected_allowed)),
        Text(allowed_word(result.observed_allowed), style=f"bold {style}"),
        Text(mark, style=f"bold {style}"),
        Text(result.detail, style="dim"),
    )


def wait_text(waited_seconds: float, attempts: int) -> str:
    """`key accepted after 2.4 s, 4 attempts` (or at once)."""
    if attempts <= 1:
        return "key accepted at once (1 attempt)"
    return f"key accepted after {waited_seconds:.1f} s, {attempts} attempts"


def summary_text(report: ProbeReport, attempts: int, cancelled: bool = False) -> Text:
    tally = report.tally
    text = Text(wait_text(report.waited_seconds, attempts) + " · ")
    text.append(f"{tally.agree} agree", style="green")
    text.append(" · ")
    text.append(f"{tally.differ} differ", style="bold red" if tally.differ else "")
    if tally.differ_by_condition:
        text.append(f" ({tally.differ_by_condition} decided by a Condition {CONDITION_MARK})")
    if tally.unclear:
        text.append(" · ")
        text.append(f"{tally.unclear} unclear", style="yellow")
    if cancelled:
        text.append(" · stopped before the end", style="yellow")
    for problem in report.cleanup_problems:
        text.append(f"\nCould not remove a probe object: {problem}", style="bold red")
    return text


class ProbePanel(AppContext, ReportsWorkerFailures, Vertical):
    """Runs the probe matrix with `credentials` against `buckets` and shows the table.

    `access` and `prefix` are what the person asked for: the expected column comes from
    them, never from the policy, so a policy granting more than asked for shows red. With
    `expect` (and `expected_from`, e.g. "alice's policies") it comes from known policies instead.
    `other_bucket` adds "can it reach a bucket it should not" rows.
    """

    DEFAULT_CSS = _load_css()

    class Waiting(Message):
        def __init__(self, generation: int, attempt: int, delay: float) -> None:
            super().__init__()
            self.generation = generation
            self.attempt = attempt
            self.delay = delay

    class Row(Message):
        def __init__(self, generation: int, result: ProbeResult) -> None:
            super().__init__()
            self.generation = generation
            self.result = result

    class Finished(Message):
        """The probe ended (`cancelled` when it stopped early); bubbles so hosts can react."""

        def __init__(self, panel: "ProbePanel", generation: int, report: ProbeReport, attempts: int, cancelled: bool) -> None:
            super().__init__()
            self.panel = panel
            self.generation = generation
            self.report = report
            self.attempts = attempts
            self.cancelled = cancelled

        @property
        def control(self) -> "ProbePanel":
            return self.panel

    def __init__(
        self,
        credentials: Credentials,
        buckets: Sequence[str],
        access: AccessLevel | str,
        prefix: str = "",
        *,
        other_bucket: str | None = AUTO,
        autostart: bool = True,
        timeout: float = 30.0,
        expect: Expectation | None = None,
        expected_from: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.expect = expect
        self.expected_from = expected_from
        self.credentials = credentials
        self.buckets = list(buckets)
        self.access = AccessLevel(access)
        self.prefix = prefix
        self.other_bucket = other_bucket
        self.autostart = autostart
        self.timeout = timeout
        self.generation = 0
        self.results: list[ProbeResult] = []
        self.report: ProbeReport | None = None
        self.running = False
        self._wait_attempts = 1
        self.border_title = f"Probe with key {credentials.access_key_id}"

    def compose(self) -> ComposeResult:
        where = ", ".join(f"s3://{bucket}/{self.prefix}" for bucket in self.buckets)
        if self.expect is not None:
            scope = Text.assemble(
                ("Probing ", "dim"), (where, "bold"), ("; expected: what ", "dim"),
                (self.expected_from or "the key's policies", "bold"), (" allow (evaluated offline)", "dim"),
            )
        else:
            scope = Text.assemble(("Asked for: ", "dim"), (f"{self.access.label} on {where}", "bold"))
        yield Static(scope, id="probe-scope")
        yield Static("", id="probe-status")
        table: DataTable[Any] = MotionDataTable(cursor_type="row", zebra_stripes=False, id="probe-table")
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        yield table
        yield Static(self._footnote()[0], id="probe-footnote", markup=False)
        with Horizontal(id="probe-buttons"):
            yield Button("Run probe", id="probe-run", variant="primary", compact=True, tooltip="Make the requests with this key")
            yield Button("Stop", id="probe-stop", compact=True, tooltip="Stop after the current request")

    def _footnote(self) -> tuple[str, bool]:
        """The footnote for this endpoint, and whether it shows before any Condition row does."""
        if getattr(self.app, "demo_note", None):
            return DEMO_FOOTNOTE, True
        config = getattr(getattr(self.app, "aws", None), "config", None)
        if config is not None and config.endpoint_label != "AWS":
            return CONDITION_FOOTNOTE, False
        return AWS_FOOTNOTE, False

    def on_mount(self) -> None:
        self._set_running(False)
        self.query_one("#probe-footnote", Static).display = self._footnote()[1]
        if self.autostart:
            self.start()
        else:
            self._status(Text("Press Run probe to make real S3 requests with this key.", style="dim"))

    # -- running -----------------------------------------------------------------------------

    def start(self) -> bool:
        """Run (or re-run) the probe. It writes and deletes a temporary object, so read-only mode refuses it."""
        if not require_writable(self.app, "run the live probe (it writes and then deletes a temporary object)"):
            self._status(Text("Not run: the app is in read-only mode.", style="yellow"))
            return False
        self.generation += 1
        self.results = []
        self.report = None
        self._wait_attempts = 1
        self.query_one("#probe-table", DataTable).clear()
        self.query_one("#probe-footnote", Static).display = self._footnote()[1]
        self._set_running(True)
        self._status(Text("Checking that AWS accepts the key…", style="italic"))
        self._probe(self.generation)
        return True

    def stop(self) -> None:
        self.workers.cancel_group(self, "probe")
        self._status(Text("Stopping after the current request…", style="yellow"))

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe", name="probing the new key")
    def _probe(self, generation: int) -> None:
        worker = get_current_worker()

        def sleep(seconds: float) -> None:
            # Backoff sleeps in slices so Stop (or leaving the screen) ends the wait promptly.
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                if worker.is_cancelled:
                    raise Cancelled("The probe was stopped.", code="Cancelled")
                time.sleep(min(_CANCEL_POLL_SECONDS, left))

        attempts = [1]

        def on_wait(attempt: int, delay: float) -> None:
            attempts[0] = attempt + 1
            self.post_message(self.Waiting(generation, attempt, delay))

        report = run_probe(
            self.aws,
            self.credentials,
            self.buckets,
            self.access,
            self.prefix,
            other_bucket=self.other_bucket,
            on_result=lambda result: self.post_message(self.Row(generation, result)),
            on_wait=on_wait,
            is_cancelled=lambda: worker.is_cancelled,
            timeout=self.timeout,
            sleep=sleep,
            expect=self.expect,
        )
        self.post_message(self.Finished(self, generation, report, attempts[0], worker.is_cancelled))

    def on_probe_panel_waiting(self, message: Waiting) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._wait_attempts = message.attempt + 1
        self._status(
            Text(
                f"Waiting for AWS to accept the new key (IAM takes a few seconds): attempt {message.attempt} "
                f"refused, next try in {message.delay:.1f} s…",
                style="italic yellow",
            )
        )

    def on_probe_panel_row(self, message: Row) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        if not self.results:
            self._status(Text(wait_text(0.0, self._wait_attempts) if self._wait_attempts <= 1 else "key accepted; probing…"))
        self.results.append(message.result)
        self._add_row(message.result)

    def on_probe_panel_finished(self, message: Finished) -> None:
        if message.generation != self.generation:
            message.stop()
            return
        self.report = message.report
        self._set_running(False)
        self._status(summary_text(message.report, message.attempts, message.cancelled))

    def show_report(self, report: ProbeReport, attempts: int = 1) -> None:
        """Show a finished report without running anything (hosts that already probed, snapshots)."""
        self.generation += 1
        self.results = list(report.results)
        self.report = report
        table = self.query_one("#probe-table", DataTable)
        table.clear()
        for result in report.results:
            self._add_row(result)
        self._set_running(False)
        self._status(summary_text(report, attempts))

    def _add_row(self, result: ProbeResult) -> None:
        table = self.query_one("#probe-table", DataTable)
        table.add_row(*result_cells(result), key=f"{len(table.rows)}")
        if result.case.decided_by_condition:
            self.query_one("#probe-footnote", Static).display = True

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.query_one("#probe-run", Button).disabled = running
        # Stop exists only while there is something to stop.
        self.query_one("#probe-stop", Button).display = running
        self.query_one("#probe-run", Button).label = "Run again" if self.generation and not running else "Run probe"

    def _status(self, text: Text) -> None:
        self.query_one("#probe-status", Static).update(text)

    @on(Button.Pressed, "#probe-run")
    def _run_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.start()

    @on(Button.Pressed, "#probe-stop")
    def _stop_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.stop()

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.group != "probe" or worker.state not in (WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if worker.state is WorkerState.CANCELLED or isinstance(worker.error, Cancelled):
            self._set_running(False)
            self._status(Text("Stopped.", style="yellow"))
            return
        self._set_running(False)
        message = getattr(worker.error, "message", None) or str(worker.error)
        self._status(Text(f"The probe could not run: {message}", style="bold red"))
