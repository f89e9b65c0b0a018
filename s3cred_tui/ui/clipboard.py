"""Copy text to the clipboard, say honestly how it was copied, and offer a file when it cannot be.

Textual's `copy_to_clipboard` writes an OSC 52 escape sequence: the terminal never answers,
so we cannot know whether it worked (macOS Terminal and some multiplexers ignore it). Where a
system clipboard tool exists we use it as well. The text goes to the tool on stdin, never on
its command line, because argv is visible to every user on the machine through `ps`.

`clipboard_support()` says beforehand when a copy will probably go nowhere (OSC 52 known not to
arrive and no tool), so a screen can offer `write_private_file` instead. Nothing here imports
Textual: the rules are tested over plain environments.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.validation import check_characters

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
    which: Callable[[str], str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, list[str]]]:
    """The clipboard tools usable here, as (name, argv), best first (`which` defaults to `shutil.which`)."""
    env = os.environ if environ is None else environ
    which = shutil.which if which is None else which
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


# -- will a copy arrive? ---------------------------------------------------------------------

_TMUX_QUERY_TIMEOUT_SECONDS = 1.0
TOOL_NAMES = ", ".join(program for program, _, _ in _SYSTEM_TOOLS)


def tmux_set_clipboard(
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    timeout: float = _TMUX_QUERY_TIMEOUT_SECONDS,
) -> str | None:
    """tmux's global `set-clipboard` value (`on`, `external`, `off`), or None when tmux does not answer."""
    try:
        completed = run(
            ["tmux", "show", "-gv", "set-clipboard"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = (completed.stdout or "").strip()
    return value if completed.returncode == 0 and value else None


def osc52_doubt(environ: Mapping[str, str], tmux_option: Callable[[], str | None]) -> str | None:
    """Why an OSC 52 copy will probably not reach the clipboard here, or None when nothing says so.

    tmux passes an application's OSC 52 on only with `set-clipboard on`: with `external` (its
    default since 2.6) it sets the outer clipboard from its own copy mode but drops the
    application's sequence, exactly as with `off` (tmux's input.c returns unless the option is on).
    """
    if environ.get("TERM_PROGRAM") == "Apple_Terminal":
        return "macOS Terminal does not support OSC 52"
    if environ.get("TMUX"):
        value = tmux_option()
        if value is None:
            return "tmux did not say whether set-clipboard is on (its default drops OSC 52 from applications)"
        if value != "on":
            return f"tmux has set-clipboard {value}, so OSC 52 does not reach your terminal (`set -g set-clipboard on`)"
    return None


@dataclass(frozen=True)
class ClipboardSupport:
    """What copying can do here: why OSC 52 is doubtful (None: no reason to doubt it) and the tools found."""

    osc52_doubt: str | None
    tools: tuple[str, ...]

    @property
    def copy_unlikely(self) -> bool:
        """A copy will probably go nowhere: OSC 52 is known not to arrive and no tool can take it."""
        return self.osc52_doubt is not None and not self.tools

    @property
    def warning(self) -> str:
        return (
            f"Your clipboard will probably not receive a copy: {self.osc52_doubt}, and no clipboard tool "
            f"({TOOL_NAMES}) is available."
        )


def clipboard_support(
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] | None = None,
    tmux_option: Callable[[], str | None] = tmux_set_clipboard,
) -> ClipboardSupport:
    """Judge this environment (the process's own by default); asks tmux only inside tmux."""
    env = os.environ if environ is None else environ
    tools = tuple(name for name, _ in system_clipboard_commands(which, env))
    return ClipboardSupport(osc52_doubt=osc52_doubt(env, tmux_option), tools=tools)


# -- the alternative: a file only its owner can read -------------------------------------------

PRIVATE_FILE_MODE = 0o600


class FileExists(ValidationError):
    """The file is already there; writing it again needs the person's yes (`replace=True`)."""


def credentials_file_path(user_name: str | None, extension: str, home: Path | None = None) -> Path:
    """`~/s3cred-<user>.<extension>`: where the credentials go unless the person says otherwise."""
    stem = "".join(c if c.isalnum() or c in "-_.+=@" else "_" for c in (user_name or "credentials"))
    return (Path.home() if home is None else home) / f"s3cred-{stem}.{extension}"


def private_file_target(text: str) -> Path:
    """The path a person typed, checked: one `ValidationError(field="path")` naming what is wrong."""
    typed = check_characters(text.strip(), "path", "path")
    if not typed:
        raise ValidationError("path", "path: enter the file to write.")
    path = Path(typed).expanduser()
    if path.is_dir():
        raise ValidationError("path", f"path: {path} is a folder; name a file in it.")
    if not path.parent.is_dir():
        raise ValidationError("path", f"path: the folder {path.parent} does not exist.")
    return path


def _create_private(path: Path, data: bytes) -> None:
    """Create `path` (never an existing file or a symlink) with mode 0600 from the first moment."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0), PRIVATE_FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def write_private_file(path: Path, text: str, *, replace: bool = False) -> None:
    """Write `text` to a new file only its owner can read and write.

    The mode is given to `open` itself (never a chmod after, which would leave a moment when the
    file is readable). Replacing writes a new 0600 file beside it and renames it over the old one.
    Errors are one-line `ValidationError(field="path")`s that never hold the text.
    """
    data = text.encode("utf-8")
    try:
        if not replace:
            try:
                _create_private(path, data)
            except FileExistsError:
                raise FileExists("path", f"path: {path} already exists.") from None
            return
        if path.is_dir():
            raise ValidationError("path", f"path: {path} is a folder; name a file in it.")
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        _create_private(temporary, data)
        try:
            os.replace(temporary, path)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise
    except ValidationError:
        raise
    except OSError as error:
        raise ValidationError("path", f"path: cannot write {path}: {error.strerror or error}.") from None
