"""`probe`: real requests with a key, compared with the access that was asked for."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROBE_SECRET_ENV,
    PROBE_TOKEN_ENV,
    PROG,
    UsageError,
    access_level,
    progress,
    read_text,
    stdout,
)
from s3cred_tui.cli.output import to_json
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import AccessLevel

if TYPE_CHECKING:
    from s3cred_tui.core.probe import ProbeReport, ProbeResult
    from s3cred_tui.core.session import AwsContext

CONDITION_MARK = "*"
CONDITION_NOTE = (
    f"{CONDITION_MARK} AWS decides this row with a Condition (ListBucket's s3:prefix). Emulators such as moto "
    f"ignore Condition blocks, so there it may differ although AWS enforces it; `{PROG} simulate` checks the "
    "policy's condition offline."
)
PROBE_COLUMNS = ("check", "where", "bucket", "target", "expected", "observed", "verdict", "detail")


def _verdict(result: ProbeResult) -> str:
    if result.unclear:
        return "unclear"
    return "agrees" if result.agrees else "DIFFERS"


def probe_rows(report: ProbeReport) -> list[dict[str, Any]]:
    """One record per probe request, as printed by `probe --json`."""
    from s3cred_tui.core.probe import allowed_word

    return [
        {
            "check": r.case.check,
            "where": r.case.where,
            "bucket": r.case.bucket,
            "target": r.case.target,
            "expected": allowed_word(r.case.expected_allowed),
            "observed": allowed_word(r.observed_allowed),
            "verdict": _verdict(r),
            "agrees": r.agrees,
            "decided_by_condition": r.case.decided_by_condition,
            "detail": r.detail,
        }
        for r in report.results
    ]


def probe_summary(report: ProbeReport, cancelled: bool = False) -> str:
    """`N of M agree`, then what went wrong, if anything."""
    tally = report.tally
    line = f"{tally.agree} of {tally.total} agree"
    if tally.differ:
        line += f"; {tally.differ} differ"
        if tally.differ_by_condition:
            line += f" ({tally.differ_by_condition} decided by a Condition, marked {CONDITION_MARK})"
    if tally.unclear:
        line += f"; {tally.unclear} unclear"
    if report.cleanup_problems:
        line += f"; {len(report.cleanup_problems)} probe object(s) not removed"
    if cancelled:
        line += "; stopped before the end"
    return line


def probe_table(report: ProbeReport) -> str:
    """The probe as an aligned text table, with the Condition note under it when it applies."""
    rows = [
        [
            row["check"],
            row["where"] + (CONDITION_MARK if row["decided_by_condition"] else ""),
            row["bucket"],
            row["target"] or "(bucket root)",
            row["expected"],
            row["observed"],
            row["verdict"],
            row["detail"],
        ]
        for row in probe_rows(report)
    ]
    header = list(PROBE_COLUMNS)
    # The detail column is last and free-form: it is not padded.
    widths = [max(len(str(line[i])) for line in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for line in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(line, widths)]
        lines.append("  ".join([*cells, str(line[-1])]).rstrip())
    if report.tally.condition_decided:
        lines.append("")
        lines.append(CONDITION_NOTE)
    return "\n".join(lines)


def _credentials_from_document(document: Any, source: str) -> Any:
    """Credentials from the JSON `create --format json` (or credential-process, or `aws sts`) prints.

    Messages name the fields, never their values: the document holds a secret.
    """
    if isinstance(document, dict) and isinstance(document.get("Credentials"), dict):
        document = document["Credentials"]
    if not isinstance(document, dict):
        raise ValidationError("credentials", f"{source} must be a JSON object with AccessKeyId and SecretAccessKey.")
    missing = [name for name in ("AccessKeyId", "SecretAccessKey") if not document.get(name)]
    if missing:
        raise ValidationError("credentials", f"{source} has no {' or '.join(missing)}.")
    fields = {name: document.get(name) for name in ("AccessKeyId", "SecretAccessKey", "SessionToken")}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise ValidationError("credentials", f"{source}: {name} must be a string.")
    return _checked_credentials(fields["AccessKeyId"], fields["SecretAccessKey"], fields["SessionToken"] or None)


def _checked_credentials(access_key_id: str, secret: str, token: str | None) -> Any:
    """Credentials whose parts AWS can sign with (a stray byte would fail deep in botocore)."""
    from s3cred_tui.core.credentials import Credentials
    from s3cred_tui.core.validation import validate_key_part

    validate_key_part(access_key_id, "credentials", "access key id")
    validate_key_part(secret, "credentials", "secret access key")
    if token is not None:
        validate_key_part(token, "credentials", "session token")
    return Credentials(access_key_id, secret, token)


def _read_credentials_file(path: str) -> Any:
    source = "standard input" if path == "-" else f"Credentials file {path!r}"
    text = read_text(path, "credentials", "credentials")
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to be credentials
        # json's message can quote the text it choked on, and that text may be a secret.
        raise ValidationError(
            "credentials", f"{source} is not JSON; give the output of `{PROG} create --format json`."
        ) from None
    return _credentials_from_document(document, source)


def _probe_credentials(args: argparse.Namespace) -> Any:
    if args.credentials_file:
        for option, given in (
            ("--access-key-id", args.access_key_id),
            ("--secret-access-key", args.secret_access_key),
            ("--session-token", args.session_token),
        ):
            if given:
                raise UsageError(f"--credentials-file holds the whole key; leave out {option}")
        return _read_credentials_file(args.credentials_file)
    if not args.access_key_id:
        raise UsageError(
            f"say which key to probe: --credentials-file FILE ('-' for stdin), or --access-key-id ID with the "
            f"secret in ${PROBE_SECRET_ENV}"
        )
    secret = args.secret_access_key or os.environ.get(PROBE_SECRET_ENV)
    if not secret:
        raise UsageError(f"--access-key-id needs its secret: set ${PROBE_SECRET_ENV} (or use --credentials-file)")
    token = args.session_token or os.environ.get(PROBE_TOKEN_ENV) or None
    return _checked_credentials(args.access_key_id.strip(), secret, token)


def probe_with_progress(
    ctx: AwsContext,
    credentials: Any,
    buckets: Sequence[str],
    access: AccessLevel,
    prefix: str,
    other_bucket: str | None,
    timeout: float,
) -> tuple[Any, bool]:
    """Run the probe with progress on stderr; Ctrl-C stops it cleanly (its probe objects are removed)."""
    from s3cred_tui.core.probe import run_probe

    cancel = threading.Event()

    def on_wait(attempt: int, delay: float) -> None:
        progress(f"waiting for the new key... {delay:.1f} s (attempt {attempt} was refused)")

    def on_interrupt(signum: int, frame: Any) -> None:
        cancel.set()
        progress("Stopping the probe after the current request...")

    where = f" under {prefix!r}" if prefix else ""
    progress(f"Probing key {credentials.access_key_id} ({access.value}{where} in {', '.join(buckets)})...")
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        report = run_probe(
            ctx,
            credentials,
            buckets,
            access,
            prefix,
            other_bucket=other_bucket,
            on_wait=on_wait,
            is_cancelled=cancel.is_set,
            timeout=timeout,
        )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    for problem in report.cleanup_problems:
        progress(f"warning: could not remove a probe object, delete it by hand: {problem}")
    return report, cancel.is_set()


def cmd_probe(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.probe import AUTO
    from s3cred_tui.core.validation import normalise_prefix, validate_bucket_name

    buckets = [validate_bucket_name(b) for b in args.buckets]
    other = validate_bucket_name(args.other_bucket) if args.other_bucket else AUTO
    if other in buckets:
        raise UsageError("--other-bucket must be a bucket the key should NOT reach; it is one of the probed buckets")
    prefix = normalise_prefix(args.prefix or "")
    credentials = _probe_credentials(args)
    report, cancelled = probe_with_progress(ctx, credentials, buckets, access_level(args), prefix, other, args.timeout)
    summary = probe_summary(report, cancelled)
    if args.json:
        document = {
            "access_key_id": credentials.access_key_id,
            "buckets": buckets,
            "access": access_level(args).value,
            "prefix": prefix,
            "waited_seconds": round(report.waited_seconds, 3),
            "agree": report.tally.agree,
            "total": report.tally.total,
            "all_agree": report.all_agree and not cancelled,
            "cancelled": cancelled,
            "results": probe_rows(report),
            "cleanup_problems": report.cleanup_problems,
        }
        print(to_json(document, indent=2), file=stdout())
        progress(summary)
    else:
        print(probe_table(report), file=stdout())
        print(summary, file=stdout())
    if cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.results and report.all_agree else EXIT_FAILED

