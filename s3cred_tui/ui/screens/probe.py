"""Probe any key pair the person pastes: is it scoped the way they think?

Open it with one line from anywhere (a user's detail, the command palette, a key binding):

    self.s3cred_app.open_probe(access_key_id=key.id, buckets=["reports"], prefix="2024/")

The secret is typed (or, for a key made in this session, prefilled) into a masked input, kept
only in memory for the probe, and never shown. Expected answers come from the access level
picked on the form, or, when the key's policies are known (`expect`, from the user screen),
from those policies through the evaluator: then there is no level to pick.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.widgets import Button, Footer, Input, Label, Select, Static

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.probe import AUTO, Expectation
from s3cred_tui.core.request import AccessLevel, PrefixMode
from s3cred_tui.core.validation import normalise_prefix, validate_bucket_name
from s3cred_tui.ui.base import AwsScreen
from s3cred_tui.ui.widgets.motion import MotionScroll
from s3cred_tui.ui.widgets.probe_panel import ProbePanel

ACCESS_CHOICES = [(level.label, level.value) for level in AccessLevel if level is not AccessLevel.CUSTOM]


def split_buckets(text: str) -> list[str]:
    return list(dict.fromkeys(part for part in re.split(r"[\s,]+", text.strip()) if part))


def probe_inputs(
    access_key_id: str, secret: str, token: str, buckets_text: str, access: str, prefix: str
) -> tuple[Credentials, list[str], AccessLevel, str]:
    """Check the form; raises `ValidationError` naming the field at fault."""
    access_key_id = access_key_id.strip()
    if not access_key_id:
        raise ValidationError("access_key_id", "Paste the access key id (AKIA… or ASIA…).")
    if not secret.strip():
        raise ValidationError("secret", "Paste the secret access key.")
    if access_key_id.startswith("ASIA") and not token.strip():
        raise ValidationError("token", "Keys starting with ASIA are temporary: paste their session token too.")
    buckets = split_buckets(buckets_text)
    if not buckets:
        raise ValidationError("buckets", "Name at least one bucket the key is meant for.")
    for bucket in buckets:
        validate_bucket_name(bucket)
    credentials = Credentials(access_key_id, secret.strip(), token.strip() or None)
    return credentials, buckets, AccessLevel(access), normalise_prefix(prefix, PrefixMode.LITERAL)


class ProbeScreen(AwsScreen[None]):
    CSS_PATH = Path(__file__).with_name("probe.tcss")
    BINDINGS = [
        Binding("escape", "back", "Back", id="probe.back", tooltip="Back to the previous screen"),
        Binding("ctrl+r", "run", "Run probe", id="probe.run", tooltip="Make the probe requests with the pasted key"),
    ]

    def __init__(
        self,
        access_key_id: str = "",
        buckets: Sequence[str] = (),
        access: AccessLevel | str = AccessLevel.READ_ONLY,
        prefix: str = "",
        *,
        secret: str | None = None,
        other_bucket: str | None = AUTO,
        expect: Expectation | None = None,
        expected_from: str = "",
    ) -> None:
        super().__init__()
        self.expect = expect
        self.expected_from = expected_from
        self.prefill_key_id = access_key_id
        self._prefill_secret = secret or ""
        self.prefill_buckets = list(buckets)
        access = AccessLevel(access)
        self.prefill_access = AccessLevel.READ_ONLY if access is AccessLevel.CUSTOM else access
        self.prefill_prefix = prefix
        self.other_bucket = other_bucket

    def compose(self) -> ComposeResult:
        with MotionScroll(id="probe-main"):
            yield Label("Probe a key: which requests does it really get through?", id="probe-title")
            yield Static(self._intro(), id="probe-intro", markup=False)
            with Grid(id="probe-form"):
                yield Label("Access key id")
                yield Input(self.prefill_key_id, placeholder="AKIA…", compact=True, id="probe-key-id")
                yield Label("Secret access key")
                yield Input(
                    self._prefill_secret, password=True, placeholder="pasted secret (hidden)", compact=True, id="probe-secret"
                )
                yield Label("Session token")
                yield Input(password=True, placeholder="only for temporary (ASIA…) keys", compact=True, id="probe-token")
                yield Label("Buckets")
                yield Input(", ".join(self.prefill_buckets), placeholder="bucket-a, bucket-b", compact=True, id="probe-buckets")
                yield Label("Access level", id="probe-access-label")
                yield Select(ACCESS_CHOICES, value=self.prefill_access.value, allow_blank=False, compact=True, id="probe-access")
                yield Label("Prefix")
                yield Input(self.prefill_prefix, placeholder="(whole bucket)", compact=True, id="probe-prefix")
            yield Static("", id="probe-problem", markup=False)
            with Horizontal(id="probe-form-buttons"):
                yield Button("Run probe (ctrl+r)", id="probe-start", variant="primary", compact=True, tooltip="Make the requests")
                yield Button("Back (Esc)", id="probe-back", compact=True, tooltip="Leave")
            yield Vertical(id="probe-results")
        yield Footer()

    def _intro(self) -> str:
        how = (
            "Real S3 requests are made with the key: reads are HEAD requests; a write puts a small temporary "
            "object and deletes it straight away with your own identity. "
        )
        if self.expect is not None:
            return how + f"Expected answers: what {self.expected_from or 'the key’s policies'} allow, evaluated offline."
        return how + "Expected answers come from the access level you pick below, not from the key's policy."

    def on_mount(self) -> None:
        # With the key's own policies to go by, an access level to pick would only mislead.
        self.query_one("#probe-access-label").display = self.expect is None
        self.query_one("#probe-access").display = self.expect is None
        if self._prefill_secret:
            self.query_one("#probe-start", Button).focus()  # everything is filled in: ready to run
            return
        first_empty = "#probe-secret" if self.prefill_key_id else "#probe-key-id"
        self.query_one(first_empty, Input).focus()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_run(self) -> None:
        problem = self.query_one("#probe-problem", Static)
        try:
            credentials, buckets, access, prefix = probe_inputs(
                self.query_one("#probe-key-id", Input).value,
                self.query_one("#probe-secret", Input).value,
                self.query_one("#probe-token", Input).value,
                self.query_one("#probe-buckets", Input).value,
                str(self.query_one("#probe-access", Select).value),
                self.query_one("#probe-prefix", Input).value,
            )
        except ValidationError as exc:
            problem.update(exc.message)
            problem.add_class("shown")
            return
        problem.update("")
        problem.remove_class("shown")
        results = self.query_one("#probe-results", Vertical)
        results.remove_children()
        panel = ProbePanel(
            credentials,
            buckets,
            access,
            prefix,
            other_bucket=self.other_bucket,
            expect=self.expect,
            expected_from=self.expected_from,
        )
        results.mount(panel)
        self.call_after_refresh(panel.scroll_visible)

    @property
    def panel(self) -> ProbePanel | None:
        panels = self.query(ProbePanel)
        return panels.first() if panels else None

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_run()

    @on(Button.Pressed, "#probe-start")
    def _start(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_run()

    @on(Button.Pressed, "#probe-back")
    def _back(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_back()

    def on_probe_panel_finished(self, message: ProbePanel.Finished) -> None:
        message.stop()
        message.panel.query_one("#probe-table").focus()
        message.panel.scroll_visible()
