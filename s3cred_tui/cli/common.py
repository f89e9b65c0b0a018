"""What every command shares: the program name, exit statuses, where output goes, reading files."""

from __future__ import annotations

import argparse
import sys
from typing import IO, TYPE_CHECKING, Any

import s3cred_tui
from s3cred_tui.core.errors import ValidationError

if TYPE_CHECKING:
    from s3cred_tui.core.request import AccessLevel

PROG = s3cred_tui.PROG  # the command modules take it from here
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# `simulate` only: the request would be denied. Distinct from 1 (a failure) so scripts can branch.
EXIT_DENIED = 3
EXIT_INTERRUPTED = 130
# Where `probe` reads the secret of the key it probes (and a session token), rather than argv.
# Here, not in cli/probe.py, because the parser's help names them without importing the probe.
PROBE_SECRET_ENV = "S3CRED_PROBE_SECRET_ACCESS_KEY"
PROBE_TOKEN_ENV = "S3CRED_PROBE_SESSION_TOKEN"


class UsageError(Exception):
    """A command line argparse refused; shown as one line, exit status 2."""


def stdout() -> IO[str]:
    return sys.stdout


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def error_line(message: str) -> str:
    """`message` made safe for one stderr line: secrets redacted; line breaks, terminal escapes,
    bidi controls and undecodable bytes (often echoed from the input at fault) escaped."""
    from s3cred_tui.core.redact import redact_text
    from s3cred_tui.core.validation import printable

    return printable(redact_text(message), limit=4000)


def report_error(message: str) -> None:
    """The one `error:` line of a failed command."""
    progress(f"error: {error_line(message)}")


def read_text(path: str, field: str, what: str) -> str:
    """A file's text, or standard input for `-`; an unreadable file is a one-line ValidationError."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ValidationError(field, f"Cannot read {what} file {path!r}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        source = "standard input" if path == "-" else f"file {path!r}"
        raise ValidationError(
            field,
            f"The {what} {source} is not UTF-8 (byte 0x{exc.object[exc.start]:02X} at offset {exc.start:,}); "
            "save it as UTF-8.",
        ) from None
    except ValueError as exc:  # a NUL or an unencodable character in the path: open() cannot take it
        raise ValidationError(field, f"Cannot read {what} file {path!r}: it is not a usable file name ({exc}).") from None


def read_json_file(path: str, what: str) -> Any:
    from s3cred_tui.core.validation import loads_json

    field = "policy"
    text = read_text(path, field, what)
    return loads_json(text, f"{what.capitalize()} file {path!r}", field)



def access_level(args: argparse.Namespace) -> AccessLevel:
    """The access `--read-only` / `--write-only` ask for (read-write when neither is given)."""
    from s3cred_tui.core.request import AccessLevel  # here: `--help` needs no request model (nor dataclasses)

    if args.read_only:
        return AccessLevel.READ_ONLY
    if args.write_only:
        return AccessLevel.WRITE_ONLY
    return AccessLevel.READ_WRITE
