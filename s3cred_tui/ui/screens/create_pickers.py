"""Small modals the create form opens to pick buckets or a prefix from the account.

Both list the account in thread workers, page by page, checking for cancellation between
pages, and add what they found to the list from the event loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from s3cred_tui.core import inventory
from s3cred_tui.core.errors import translate
from s3cred_tui.ui.base import AwsModalScreen
from s3cred_tui.ui.formatting import count
from s3cred_tui.ui.widgets.motion import MotionOptionList, MotionSelectionList

PICKER_CSS = Path(__file__).with_name("create_pickers.tcss")
# A SelectionList holds every option it shows; beyond this many matches, ask for a narrower filter.
MAX_SHOWN_BUCKETS = 500
PARENT_OPTION_ID = "parent"


def parent_prefix(prefix: str) -> str:
    """`a/b/` -> `a/`, `a/` -> ``."""
    trimmed = prefix.rstrip("/")
    if "/" not in trimmed:
        return ""
    return trimmed.rsplit("/", 1)[0] + "/"


class _PickerModal(AwsModalScreen[Any]):
    """What both pickers share: Use/Cancel buttons, and listing errors shown in the picker.

    A listing failure is shown in the picker itself, not as a second (error) modal over it.
    """

    STATUS_ID = ""
    LISTING = ""  # what the worker lists, for the error line

    def worker_state_changed(self, worker: Worker) -> None:
        if worker.state is WorkerState.ERROR and worker.group in self.WORKER_FAILURES_SHOWN_HERE:
            self.listing_failed()
            reason = translate(worker.error).message if worker.error is not None else "Unknown error."
            self.query_one(f"#{self.STATUS_ID}", Static).update(f"Could not list {self.LISTING}: {reason}")

    def listing_failed(self) -> None:
        """Hook for state a picker keeps about its listing."""

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "use":
            self.action_use()
        else:
            self.action_cancel()

    def action_use(self) -> None:
        raise NotImplementedError

    def action_cancel(self) -> None:
        self.dismiss(None)


class BucketPickerModal(_PickerModal):
    """Tick buckets from the account; dismisses with the chosen names, or None when cancelled."""

    CSS_PATH = PICKER_CSS
    STATUS_ID = "bucket-status"
    LISTING = "buckets"
    WORKER_FAILURES_SHOWN_HERE = frozenset({"picker-buckets"})
    BINDINGS = [
        Binding(
            "escape", "clear_or_cancel", "Cancel", id="bucket_picker.cancel",
            tooltip="Clear the filter; without one, keep the buckets as they were",
        ),
        Binding("ctrl+s", "use", "Use selected", id="bucket_picker.use", tooltip="Fill the form with the ticked buckets"),
    ]

    def __init__(self, selected: list[str]) -> None:
        super().__init__()
        self.names: list[str] = []
        # Kept apart from the list widget, which only holds the filtered names.
        self.chosen: dict[str, None] = dict.fromkeys(selected)
        self.listing = True
        self._filter_summary = "Loading buckets…"

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker-dialog"):
            yield Label("Pick buckets", classes="picker-title")
            yield Input(placeholder="type to filter", id="bucket-filter")
            yield MotionSelectionList(id="bucket-list")
            yield Static("Loading buckets…", id="bucket-status", markup=False)
            with Horizontal(classes="picker-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Use selected", id="use", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#bucket-filter", Input).focus()
        self.load_buckets()

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker-buckets")
    def load_buckets(self) -> None:
        worker = get_current_worker()
        for page in inventory.iter_bucket_pages(self.aws):
            if worker.is_cancelled:
                return
            self.app.call_from_thread(self._add_names, [bucket.name for bucket in page])
        self.app.call_from_thread(self._finish_loading)

    def _add_names(self, names: list[str]) -> None:
        self.names.extend(names)
        self._show_filtered()

    def _finish_loading(self) -> None:
        self.listing = False
        self._show_filtered()

    @on(Input.Changed, "#bucket-filter")
    def _filter_changed(self) -> None:
        self._show_filtered()

    def _show_filtered(self) -> None:
        needle = self.query_one("#bucket-filter", Input).value.strip().lower()
        matches = [name for name in self.names if needle in name.lower()]
        shown = matches[:MAX_SHOWN_BUCKETS]
        selection_list = self.query_one("#bucket-list", SelectionList)
        with self.app.batch_update():
            selection_list.clear_options()
            selection_list.add_options([(name, name, name in self.chosen) for name in shown])
            if shown:
                selection_list.highlighted = 0
        self._filter_summary = f"{len(self.names):,} buckets"
        if needle:
            self._filter_summary += f" · {len(matches):,} match"
        if len(matches) > len(shown):
            self._filter_summary += f" · first {len(shown):,} shown, type more to narrow"
        if self.listing:
            self._filter_summary += " · loading…"
        self._show_status()

    def _show_status(self) -> None:
        self.query_one("#bucket-status", Static).update(f"{self._filter_summary} · {len(self.chosen)} ticked")

    @on(Input.Submitted, "#bucket-filter")
    def _filter_done(self) -> None:
        self.query_one("#bucket-list", SelectionList).focus()

    @on(SelectionList.SelectionToggled, "#bucket-list")
    def _toggled(self, event: SelectionList.SelectionToggled) -> None:
        name = event.selection.value
        if name in self.chosen:
            del self.chosen[name]
        else:
            self.chosen[name] = None
        self._show_status()

    def listing_failed(self) -> None:
        self.listing = False

    def action_use(self) -> None:
        self.dismiss(list(self.chosen))

    def action_clear_or_cancel(self) -> None:
        """Esc clears an active filter first; only then does it close the picker."""
        bucket_filter = self.query_one("#bucket-filter", Input)
        if bucket_filter.value:
            bucket_filter.value = ""
            return
        self.action_cancel()

    def action_cancel(self) -> None:
        self.workers.cancel_group(self, "picker-buckets")
        self.dismiss(None)


class PrefixPickerModal(_PickerModal):
    """Walk one bucket's prefixes (one level at a time); dismisses with the chosen prefix or None."""

    CSS_PATH = PICKER_CSS
    STATUS_ID = "prefix-status"
    LISTING = "prefixes"
    WORKER_FAILURES_SHOWN_HERE = frozenset({"picker-prefixes"})
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prefix_picker.cancel", tooltip="Keep the prefix as it was"),
        Binding("backspace", "up", "Up", id="prefix_picker.up", tooltip="Go to the parent prefix"),
        Binding("ctrl+s", "use", "Use this prefix", id="prefix_picker.use", tooltip="Fill the form with the current prefix"),
    ]

    def __init__(self, bucket: str, prefix: str = "") -> None:
        super().__init__()
        self.bucket = bucket
        # Start at the deepest complete level of what was typed.
        self.prefix = prefix if prefix.endswith("/") or not prefix else parent_prefix(prefix)

    def compose(self) -> ComposeResult:
        with Vertical(classes="picker-dialog"):
            yield Label(f"Pick a prefix in {self.bucket}", classes="picker-title")
            yield Static("", id="prefix-current", markup=False)
            yield MotionOptionList(id="prefix-list")
            yield Static("", id="prefix-status", markup=False)
            with Horizontal(classes="picker-buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Use this prefix", id="use", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#prefix-list", OptionList).focus()
        self.open_prefix(self.prefix)

    def open_prefix(self, prefix: str) -> None:
        self.prefix = prefix
        self.query_one("#prefix-current", Static).update(f"s3://{self.bucket}/{prefix}")
        option_list = self.query_one("#prefix-list", OptionList)
        option_list.clear_options()
        if prefix:
            option_list.add_option(Option("↑ ..", id=PARENT_OPTION_ID))
        self.query_one("#prefix-status", Static).update("Loading…")
        self.load_prefixes(prefix)

    @work(thread=True, exclusive=True, exit_on_error=False, group="picker-prefixes")
    def load_prefixes(self, prefix: str) -> None:
        worker = get_current_worker()
        prefixes_found = objects_found = 0
        for page in inventory.iter_prefix_pages(self.aws, self.bucket, prefix):
            if worker.is_cancelled:
                return
            prefixes_found += len(page.prefixes)
            objects_found += len(page.objects)
            self.app.call_from_thread(
                self._add_prefixes, prefix, page.prefixes, prefixes_found, objects_found, page.is_last
            )

    def _add_prefixes(self, prefix: str, prefixes: list[str], prefixes_found: int, objects_found: int, done: bool) -> None:
        if prefix != self.prefix:
            return  # a page from a level the person already left
        self.query_one("#prefix-list", OptionList).add_options(
            [Option(name[len(prefix):], id=f"p:{name}") for name in prefixes]
        )
        status = count(prefixes_found, "sub-prefix", "sub-prefixes") + " · " + count(objects_found, "object") + " at this level"
        if not done:
            status += " · loading…"
        self.query_one("#prefix-status", Static).update(status)

    @on(OptionList.OptionSelected, "#prefix-list")
    def _descend(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        option_id = event.option.id or ""
        if option_id == PARENT_OPTION_ID:
            self.action_up()
        elif option_id.startswith("p:"):
            self.open_prefix(option_id[2:])

    def action_up(self) -> None:
        if self.prefix:
            self.open_prefix(parent_prefix(self.prefix))

    def action_use(self) -> None:
        self.dismiss(self.prefix)
