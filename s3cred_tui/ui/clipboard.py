"""Copy text to the clipboard, and say honestly how it was copied.

Textual's `copy_to_clipboard` writes an OSC 52 escape sequence: the terminal never answers,
so we cannot know whether it worked (macOS Terminal and some multiplexers ignore it). Where a
system clipboard tool exists we use it as well. The text goes to the tool on stdin, never on
its command line, because argv is visible to every user on the machine through `ps`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# (program, arguments, environment variable that must be set for it to reach a clipboard)
_SYSTEM_TOOLS: tuple[tuple[str, tuple[str, ...], str | None], ...] = (
    ("wl-copy", (), "WAYLAND_DISPLAY"),
    ("xclip", ("-selection", "clipboard"), "DISPLAY"),
    ("xsel", ("--clipboard", "--input"), "DISPLAY"),
    ("pbcopy", (), None),
    ("clip.exe", (), None),
)

_TOOL_TIMEOUT_SECONDS = 3


@dataclass(frozen=True)
class CopyOutcome:
    """What was copied (`what`, never the text itself) and through which channels."""

    what: str
    osc52: bool
    tools: tuple[str, ...] = ()
    failed_tools: tuple[str, ...] = field(default=())

    @property
    def message(self) -> str:
        channels = (["OSC 52"] if self.osc52 else []) + list(self.tools)
        if not channels:
            return f"Could not copy {self.what}: no clipboard is available here."
        if self.tools:
            text = f"Copied {self.what} via {' and '.join(channels)}."
        else:
            text = f"Copied {self.what} via OSC 52 only — your terminal may not support it."
        if self.failed_tools:
            text += f" ({', '.join(self.failed_tools)} failed.)"
        return text

    @property
    def certain(self) -> bool:
        """True when a system tool confirmed the copy (OSC 52 alone is a hope, not a fact)."""
        return bool(self.tools)


def system_clipboard_commands(
    which: Callable[[str], str | None] = shutil.which,
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, list[str]]]:
    """The clipboard tools usable here, as (name, argv), best first."""
    env = os.environ if environ is None else environ
    commands: list[tuple[str, list[str]]] = []
    for program, args, needs_env in _SYSTEM_TOOLS:
        if needs_env and not env.get(needs_env):
            continue
        path = which(program)
        if path:
            commands.append((program, [path, *args]))
    return commands


def _run_tool(argv: list[str], text: str) -> bool:
    try:
        completed = subprocess.run(
            argv,
            input=text.encode("utf-8"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_TOOL_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return completed.returncode == 0


def _copy_with_osc52(app: Any, text: str) -> bool:
    app.copy_to_clipboard(text)
    # Textual skips the escape sequence when there is no terminal driver (headless runs).
    return getattr(app, "_driver", None) is not None


def _copy_with_tools(
    text: str, commands: list[tuple[str, list[str]]], run_tool: Callable[[list[str], str], bool]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the tool that copied, the tools that failed before it)."""
    failed: list[str] = []
    for name, argv in commands:
        if run_tool(argv, text):
            return (name,), tuple(failed)
        failed.append(name)
    return (), tuple(failed)


def copy_text(
    app: Any,
    text: str,
    what: str,
    commands: list[tuple[str, list[str]]] | None = None,
    run_tool: Callable[[list[str], str], bool] = _run_tool,
) -> CopyOutcome:
    """Copy `text` with OSC 52 and the first system tool that succeeds (blocking).

    `what` names the content for the notice ("INI block"); the text itself is never logged.
    """
    osc52 = _copy_with_osc52(app, text)
    tools, failed = _copy_with_tools(text, system_clipboard_commands() if commands is None else commands, run_tool)
    return CopyOutcome(what=what, osc52=osc52, tools=tools, failed_tools=failed)


def _notify(app: Any, outcome: CopyOutcome) -> None:
    severity = "information" if outcome.certain else "warning"
    app.notify(outcome.message, title="Clipboard", severity=severity)


def copy_and_notify(
    app: Any,
    text: str,
    what: str,
    commands: list[tuple[str, list[str]]] | None = None,
    run_tool: Callable[[list[str], str], bool] = _run_tool,
) -> None:
    """Copy and tell the person what happened, in a toast.

    OSC 52 is written on the event loop (it goes to the terminal driver); a system tool can
    take a while (xclip waiting on a slow X server), so it runs in a thread and the notice
    follows when it has answered.
    """
    osc52 = _copy_with_osc52(app, text)
    commands = system_clipboard_commands() if commands is None else commands
    if not commands:
        _notify(app, CopyOutcome(what=what, osc52=osc52))
        return

    def copy_in_background() -> None:
        tools, failed = _copy_with_tools(text, commands, run_tool)
        app.call_from_thread(_notify, app, CopyOutcome(what=what, osc52=osc52, tools=tools, failed_tools=failed))

    app.run_worker(copy_in_background, thread=True, group="clipboard", exit_on_error=False)
