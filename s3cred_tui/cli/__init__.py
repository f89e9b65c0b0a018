"""The scriptable command line: `s3cred-tui [COMMAND] ...`.

Without a command the full-screen app starts. Every command accepts the account options
(`--profile`, `--region`, `--endpoint-url`, `--demo`) before or after its name.

Output contract:
- results go to stdout, progress and errors to stderr; a secret access key is only ever
  written to stdout, by `create`;
- exit status 0 on success, 1 when AWS or the account refused or failed, 2 for bad
  arguments or input that fails validation (one line on stderr starting `error:`, with
  line breaks, terminal escapes and bidi controls from the input escaped, secrets redacted);
  a bug ends in one line `s3cred-tui: internal error: <type>: <message>` and status 1, never
  a traceback;
- listings stream as AWS pages arrive: a JSON array by default (`[` is printed with the
  first page, `]` only once the listing is complete, so a listing cut short by an error is
  never valid JSON), `--nl` for one JSON object per line, `--csv`/`--tsv` for tables;
- records are AWS's own (field names as AWS spells them), datetimes in ISO-8601;
- CSV/TSV keep every field: the header is the command's usual fields plus any other field
  seen on the first page, and a last column `extra` holds, as a JSON object, any field that
  first appears on a later page (a header cannot be widened once printed);
- `list-bucket` lists every key under the prefix, recursively, like `s3-credentials`;
- `create --dry-run` prints the plan (text, or `--json`) and changes nothing; a plan that
  cannot run (its blockers, such as an existing user without `--reuse-user`) exits 1;
- `create` applies with short, bounded timeouts; SIGINT, SIGTERM and SIGHUP cancel it between
  steps and roll back (a second one prints what is half-made, by ARN, and exits); a run that dies
  leaves a journal that `recover` undoes (`--dry-run` lists), and every other command notes it in
  one `note:` line on stderr;
- `probe` makes real requests with a key and exits 0 only when every answer agrees with the
  access asked for, 1 when any differs or cannot tell; it never prints the key's secret;
- `simulate` evaluates policies offline and exits 0 for Allow, 3 for Deny, 2 for a policy it
  cannot read.
- `rotate-key`, `cleanup` and `delete-user` (`cli/lifecycle.py`) ask on stderr and read the
  answer from stdin (only y/yes is a yes; end of input is a no); `rotate-key` prints the new key
  on stdout, once; `made --json` and `list-roles --details` print JSON.
"""

from __future__ import annotations

# Importing this package must stay cheap: `--help`, `policy` and an offline `simulate` never
# touch AWS, so nothing here (or in the command modules) imports boto3 or botocore at module
# level, and the parser imports a command's module only when that command runs. Core modules
# that need boto3 (session, inventory, plan, apply, probe) are imported inside the command
# functions that use them. tests/cli/test_cli_e2e.py and tests/cli/test_cli_start_up.py check this.
import argparse
import os
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import (
    EXIT_DENIED,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROBE_SECRET_ENV,
    PROBE_TOKEN_ENV,
    PROG,
    UsageError,
    error_line,
    progress,
    report_error,
)
from s3cred_tui.cli.output import RecordWriter, to_json
from s3cred_tui.cli.parser import build_parser
from s3cred_tui.core.errors import S3CredError, ValidationError, is_sdk_error, translate

if TYPE_CHECKING:
    from s3cred_tui.core.session import SessionConfig

# Names re-exported from command modules, imported on first use so that importing the package
# (every command does) does not import every command's module.
_LAZY_EXPORTS = {
    "AwsContext": "s3cred_tui.core.session",
    "CONDITION_MARK": "s3cred_tui.cli.probe",
    "CONDITION_NOTE": "s3cred_tui.cli.probe",
    "PROBE_COLUMNS": "s3cred_tui.cli.probe",
    "probe_rows": "s3cred_tui.cli.probe",
    "probe_summary": "s3cred_tui.cli.probe",
    "probe_table": "s3cred_tui.cli.probe",
    "decision_record": "s3cred_tui.cli.simulate",
    "parse_context": "s3cred_tui.cli.simulate",
}

__all__ = [
    "CONDITION_MARK",
    "CONDITION_NOTE",
    "EXIT_DENIED",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROBE_COLUMNS",
    "PROBE_SECRET_ENV",
    "PROBE_TOKEN_ENV",
    "PROG",
    "RecordWriter",
    "UsageError",
    "build_parser",
    "decision_record",
    "main",
    "parse_context",
    "probe_rows",
    "probe_summary",
    "probe_table",
    "to_json",
]


def __getattr__(name: str) -> Any:
    # `cli.AwsContext` stays available (tests patch it) without importing boto3 with the package.
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def _session_config(args: argparse.Namespace) -> SessionConfig:
    from s3cred_tui.core.session import SessionConfig

    return SessionConfig(profile=args.profile, region=args.region, endpoint_url=args.endpoint_url)


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    for name in ("profile", "region", "endpoint_url"):
        if not hasattr(args, name):
            setattr(args, name, None)
    if not hasattr(args, "demo"):
        args.demo = False
    if args.demo and (args.profile or args.endpoint_url):
        raise UsageError("--demo brings its own account; leave out --profile and --endpoint-url")
    if args.command and args.app_read_only:
        raise UsageError(
            f"--read-only before a command is the app's browse-only mode; for read-only credentials write "
            f"`{PROG} {args.command} BUCKET --read-only`"
        )
    return args


def _run(args: argparse.Namespace) -> int:
    offline = args.command == "policy" or (args.command == "simulate" and not args.user)
    if offline and not getattr(args, "aws_checks", False):
        return args.func(None, args)  # pure: needs no account, not even the demo (unless AWS is asked too)
    if args.command == "demo-server":
        return args.func(None, args)  # it is the account
    with ExitStack() as stack:
        config = _session_config(args)
        demo_note = None
        if args.demo:
            from s3cred_tui.demo.account import start_demo

            progress("Starting the demo account (an in-process moto server)...")
            try:
                demo = stack.enter_context(start_demo(reuse_running=True))
            except ImportError as exc:
                raise S3CredError(
                    f"The demo account needs moto ({exc.name} is missing): pip install 's3cred-tui[demo]'"
                ) from None
            from dataclasses import replace  # here: `--help` imports no dataclasses

            config = replace(demo.config, region=args.region or demo.config.region)
            demo_note = demo.note
        if not args.command:
            from s3cred_tui.ui.launch import run_app

            run_app(config, read_only=args.app_read_only, demo_note=demo_note)
            return EXIT_OK
        from s3cred_tui.core.session import AwsContext

        return args.func(AwsContext(config), args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = _normalise(parser.parse_args(list(sys.argv[1:] if argv is None else argv)))
        if args.command != "recover":
            from s3cred_tui.cli.recover import unfinished_notice

            notice = unfinished_notice()
            if notice:
                progress(notice)
        return _run(args)
    except UsageError as exc:
        report_error(str(exc))
        return EXIT_USAGE
    except ValidationError as exc:
        report_error(exc.message)
        return EXIT_USAGE
    except S3CredError as exc:
        report_error(exc.message)
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress("error: interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last resort: a bug, told in one line, never a traceback
        if is_sdk_error(exc):  # AWS refused or failed: not a bug
            report_error(translate(exc).message)
            return EXIT_FAILED
        progress(f"{PROG}: internal error: {_describe_internal_error(exc)}")
        return EXIT_FAILED


def _describe_internal_error(exc: BaseException) -> str:
    """`<type>: <message>` on one line, with any secret the message carries redacted."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - an exception whose str() fails still gets its type named
        message = "(no message)"
    return error_line(f"{type(exc).__name__}: {message}")
