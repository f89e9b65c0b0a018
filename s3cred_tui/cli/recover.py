"""`recover`: finish the rollback of runs that died half-way, from their journals.

A `create` that is killed (SIGKILL, power loss, a second Ctrl-C) leaves its journal in the
state directory (`core.journal`). `recover` lists those runs and undoes what each one made,
newest first, one line per resource by ARN on stdout; `--dry-run` only lists. Each run is
undone with the profile, region and endpoint it used, unless `--profile`, `--region` or
`--endpoint-url` are given; a run is refused when the credentials belong to another account.

Every other command (and the app) says so, in one line on stderr, while such a journal exists.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    error_line,
    progress,
    stdout,
)
from s3cred_tui.core.errors import S3CredError

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


def unfinished_notice() -> str | None:
    """The one stderr line every command prints while a dead run's journal exists, else None."""
    try:
        from s3cred_tui.core.journal import unfinished_runs

        runs = [run for run in unfinished_runs() if not run.in_progress]
    except Exception:  # a notice must never stop a command
        return None
    if not runs:
        return None
    things = sum(len(run.entries) for run in runs)
    which = "a run" if len(runs) == 1 else f"{len(runs)} runs"
    return error_line(
        f"note: {which} of {PROG} stopped before finishing and may have left {things} change"
        f"{'s' if things != 1 else ''} in AWS; `{PROG} recover --dry-run` lists them, `{PROG} recover` undoes them."
    )


def _context_for(run: Any, ctx: AwsContext | None, args: argparse.Namespace) -> Any:
    """The account options given on the command line win; otherwise what the run used."""
    if ctx is not None and (args.profile or args.region or args.endpoint_url):
        return ctx
    from s3cred_tui.core.journal import context_for

    return context_for(run.info)


def cmd_recover(ctx: AwsContext | None, args: argparse.Namespace) -> int:
    from s3cred_tui.core.journal import recover, unfinished_runs

    runs = unfinished_runs()
    if not runs:
        progress("No unfinished runs: nothing to recover.")
        return EXIT_OK
    out = stdout()
    status = EXIT_OK
    for run in runs:
        progress(error_line(run.summary()))
        if run.info is None or run.in_progress:
            if run.info is None:
                progress(f"  skipped: remove {run.path} once you have checked the account by hand")
            else:
                progress("  skipped: that run is still going")
            status = EXIT_FAILED
            continue

        def on_event(state: str, text: str) -> None:
            print(f"{state}: {error_line(text)}", file=out, flush=True)

        try:
            result = recover(run, _context_for(run, ctx, args) if not args.dry_run else None, on_event, args.dry_run)
        except S3CredError as exc:
            progress(f"  error: {error_line(exc.message)}")
            status = EXIT_FAILED
            continue
        if not result.ok:
            progress(f"  {len(result.not_undone)} could not be undone; the journal stays for another try: {run.path}")
            status = EXIT_FAILED
    return status
