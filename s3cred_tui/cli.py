"""The scriptable command line: `s3cred-tui [COMMAND] ...`.

Without a command the full-screen app starts. Every command accepts the account options
(`--profile`, `--region`, `--endpoint-url`, `--demo`) before or after its name.

Output contract:
- results go to stdout, progress and errors to stderr; a secret access key is only ever
  written to stdout, by `create`;
- exit status 0 on success, 1 when AWS or the account refused or failed, 2 for bad
  arguments or input that fails validation (one line on stderr starting `error:`);
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
- `probe` makes real requests with a key and exits 0 only when every answer agrees with the
  access asked for, 1 when any differs or cannot tell; it never prints the key's secret;
- `simulate` evaluates policies offline and exits 0 for Allow, 3 for Deny, 2 for a policy it
  cannot read.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import replace
from typing import IO, Any

import botocore.exceptions

from s3cred_tui.core.errors import S3CredError, ValidationError, translate
from s3cred_tui.core.probe import AUTO
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest, PrefixMode
from s3cred_tui.core.session import AwsContext, SessionConfig

PROG = "s3cred-tui"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# `simulate` only: the request would be denied. Distinct from 1 (a failure) so scripts can branch.
EXIT_DENIED = 3
EXIT_INTERRUPTED = 130

EXTRA_COLUMN = "extra"
OUTPUT_FORMATS = ("json", "ini", "env", "credential-process")


class UsageError(Exception):
    """A command line argparse refused; shown as one line, exit status 2."""


class _Blocked(S3CredError):
    """The plan was read from the account and cannot run as asked (e.g. the user exists)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ---------------------------------------------------------------------------
# Output


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def to_json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, default=_json_default, indent=indent, ensure_ascii=False)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, (dict, list, tuple)):
        return to_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class RecordWriter:
    """Writes pages of records as they arrive, in one of: json, nl, csv, tsv."""

    def __init__(self, out: IO[str], fmt: str = "json", fields: Sequence[str] = ()):
        self.out = out
        self.fmt = fmt
        self.preferred = list(fields)
        self.header: list[str] | None = None
        self._written = 0
        self._opened = False
        self._csv = None
        if fmt in ("csv", "tsv"):
            self._csv = csv.writer(out, delimiter="," if fmt == "csv" else "\t", lineterminator="\n")

    def write_page(self, records: Iterable[dict[str, Any]]) -> None:
        records = list(records)
        if self.fmt == "json":
            if not self._opened:
                self.out.write("[")
                self._opened = True
            for record in records:
                self.out.write(("," if self._written else "") + "\n  " + to_json(record))
                self._written += 1
        elif self.fmt == "nl":
            for record in records:
                self.out.write(to_json(record) + "\n")
                self._written += 1
        else:
            if self.header is None and records:
                self._write_header(records)
            for record in records:
                self._write_row(record)
        self.out.flush()

    def _write_header(self, first_page: list[dict[str, Any]]) -> None:
        fields = list(self.preferred)
        for record in first_page:
            for key in record:
                if key not in fields:
                    fields.append(key)
        self.extra_column = EXTRA_COLUMN if EXTRA_COLUMN not in fields else "_" + EXTRA_COLUMN
        self.header = fields
        assert self._csv is not None
        self._csv.writerow([*fields, self.extra_column])

    def _write_row(self, record: dict[str, Any]) -> None:
        assert self._csv is not None and self.header is not None
        known = set(self.header)
        extra = {key: value for key, value in record.items() if key not in known}
        row = [_cell(record.get(field)) for field in self.header]
        row.append(to_json(dict(sorted(extra.items()))) if extra else "")
        self._csv.writerow(row)
        self._written += 1

    def close(self) -> None:
        """Complete the output of a listing that finished."""
        if self.fmt == "json":
            self.out.write(("\n]" if self._written else ("]" if self._opened else "[]")) + "\n")
        elif self.fmt in ("csv", "tsv") and self.header is None:
            self._write_header([])
        self.out.flush()


def _stdout() -> IO[str]:
    return sys.stdout


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _listing_format(args: argparse.Namespace) -> str:
    for fmt in ("nl", "csv", "tsv"):
        if getattr(args, fmt, False):
            return fmt
    return "json"


def _stream(args: argparse.Namespace, pages: Iterable[list[dict[str, Any]]], fields: Sequence[str]) -> int:
    writer = RecordWriter(_stdout(), _listing_format(args), fields)
    for page in pages:
        writer.write_page(page)
    writer.close()
    return EXIT_OK


# ---------------------------------------------------------------------------
# Reading AWS


def _paginate(client: Any, method: str, key: str, operation: str, page_size: int | None, **kwargs: Any) -> Iterator[list[dict]]:
    """AWS's own records, one list per page; errors become typed errors."""
    config = {"PageSize": page_size} if page_size else {}
    pages = client.get_paginator(method).paginate(**kwargs, PaginationConfig=config)
    iterator = iter(pages)
    while True:
        try:
            page = next(iterator)
        except StopIteration:
            return
        except Exception as exc:
            raise translate(exc, operation) from None
        yield list(page.get(key, []) or [])


def _call(operation: str, func: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return func(**kwargs)
    except Exception as exc:
        raise translate(exc, operation) from None


# ---------------------------------------------------------------------------
# Commands


def cmd_whoami(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import whoami

    print(to_json(whoami(ctx).to_dict(), indent=2), file=_stdout())
    return EXIT_OK


BUCKET_FIELDS = ("Name", "CreationDate", "Region")
BUCKET_DETAIL_FIELDS = ("Versioning", "MFADelete", "PublicAccessBlock", "DetailsError")


def _bucket_details(ctx: AwsContext, name: str) -> dict[str, Any]:
    from s3cred_tui.core.inventory import bucket_region

    details: dict[str, Any] = {"Region": None, "Versioning": None, "MFADelete": None, "PublicAccessBlock": None}
    try:
        details["Region"] = bucket_region(ctx, name)
        s3 = ctx.client("s3", details["Region"])
        versioning = _call("s3:GetBucketVersioning", s3.get_bucket_versioning, Bucket=name)
        details["Versioning"] = versioning.get("Status") or "Never enabled"
        details["MFADelete"] = versioning.get("MFADelete")
        try:
            block = s3.get_public_access_block(Bucket=name)
            details["PublicAccessBlock"] = block.get("PublicAccessBlockConfiguration")
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if code != "NoSuchPublicAccessBlockConfiguration":
                raise translate(exc, "s3:GetBucketPublicAccessBlock") from None
    except S3CredError as exc:
        # One unreadable bucket should not end the listing of all the others.
        details["DetailsError"] = exc.message
    return details


def cmd_list_buckets(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import iter_bucket_pages

    def pages() -> Iterator[list[dict[str, Any]]]:
        with ThreadPoolExecutor(max_workers=16) as pool:
            for page in iter_bucket_pages(ctx, page_size=args.page_size or 1000):
                records = [{"Name": b.name, "CreationDate": b.created, "Region": b.region} for b in page]
                if args.details:
                    looked_up = pool.map(lambda r: _bucket_details(ctx, r["Name"]), records)
                    records = [{**record, **details} for record, details in zip(records, looked_up)]
                yield records

    fields = BUCKET_FIELDS + (BUCKET_DETAIL_FIELDS if args.details else ())
    return _stream(args, pages(), fields)


OBJECT_FIELDS = ("Key", "LastModified", "ETag", "Size", "StorageClass")


def cmd_list_bucket(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.validation import validate_bucket_name

    bucket = validate_bucket_name(args.bucket)
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if args.prefix:
        kwargs["Prefix"] = args.prefix
    pages = _paginate(ctx.s3, "list_objects_v2", "Contents", "s3:ListBucket", args.page_size, **kwargs)
    return _stream(args, pages, OBJECT_FIELDS)


USER_FIELDS = ("UserName", "UserId", "Arn", "Path", "CreateDate", "PasswordLastUsed")


def cmd_list_users(ctx: AwsContext, args: argparse.Namespace) -> int:
    pages = _paginate(ctx.iam, "list_users", "Users", "iam:ListUsers", args.page_size)
    return _stream(args, pages, USER_FIELDS)


USER_POLICY_FIELDS = ("UserName", "InlinePolicies", "AttachedPolicies", "Groups", "PermissionsBoundary")


def _user_policies_record(ctx: AwsContext, name: str) -> dict[str, Any]:
    from s3cred_tui.core.inventory import user_details

    detail = user_details(ctx, name)

    def attached(policies: Iterable[Any]) -> list[dict[str, Any]]:
        return [{"PolicyName": p.name, "PolicyArn": p.arn, "Document": p.document} for p in policies]

    return {
        "UserName": detail.name,
        "InlinePolicies": detail.inline_policies,
        "AttachedPolicies": attached(detail.attached_policies),
        "Groups": [
            {"GroupName": g.name, "InlinePolicies": g.inline_policies, "AttachedPolicies": attached(g.attached_policies)}
            for g in detail.groups
        ],
        "PermissionsBoundary": detail.boundary_arn,
    }


def cmd_list_user_policies(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.inventory import iter_user_pages
    from s3cred_tui.core.validation import validate_user_name

    if args.users:
        names = [validate_user_name(name) for name in args.users]
        name_pages: Iterable[list[str]] = [names]
    else:
        name_pages = ([u.name for u in page] for page in iter_user_pages(ctx, page_size=args.page_size or 100))

    def pages() -> Iterator[list[dict[str, Any]]]:
        with ThreadPoolExecutor(max_workers=8) as pool:
            for names in name_pages:
                yield list(pool.map(lambda name: _user_policies_record(ctx, name), names))

    return _stream(args, pages(), USER_POLICY_FIELDS)


def _read_text(path: str, field: str, what: str) -> str:
    """A file's text, or standard input for `-`; an unreadable file is a one-line ValidationError."""
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise ValidationError(field, f"Cannot read {what} file {path!r}: {exc.strerror or exc}.") from None


def _read_json_file(path: str, what: str) -> Any:
    field = "policy"
    text = _read_text(path, field, what)
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValidationError(field, f"{what.capitalize()} file {path!r} is not valid JSON: {exc}.") from None


def _as_statements(value: Any, source: str) -> list[dict[str, Any]]:
    """A statement, a list of them, or a policy document whose statements are taken."""
    from s3cred_tui.core.validation import validate_statement

    if isinstance(value, dict) and "Statement" in value:
        value = value["Statement"]
    statements = value if isinstance(value, list) else [value]
    return [dict(validate_statement(s, f"{source}, statement {i + 1}")) for i, s in enumerate(statements)]


def _extra_statements(args: argparse.Namespace) -> tuple[dict[str, Any], ...]:
    statements: list[dict[str, Any]] = []
    for path in args.extra_statements or ():
        statements += _as_statements(_read_json_file(path, "extra statements"), f"Extra statements file {path!r}")
    for index, text in enumerate(args.statement or ()):
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ValidationError("policy", f"--statement number {index + 1} is not valid JSON: {exc}.") from None
        statements += _as_statements(parsed, f"--statement number {index + 1}")
    return tuple(statements)


def _access(args: argparse.Namespace) -> AccessLevel:
    if getattr(args, "policy_file", None):
        return AccessLevel.CUSTOM
    if args.read_only:
        return AccessLevel.READ_ONLY
    if args.write_only:
        return AccessLevel.WRITE_ONLY
    return AccessLevel.READ_WRITE


def _prefix_mode(args: argparse.Namespace) -> PrefixMode:
    if args.literal_prefix:
        return PrefixMode.LITERAL
    if args.prefix_pattern:
        return PrefixMode.PATTERN
    return PrefixMode.PLAIN


def cmd_policy(ctx: AwsContext | None, args: argparse.Namespace) -> int:
    from s3cred_tui.core import policies

    document = policies.policy_for(
        args.buckets, _access(args), args.prefix or "", _prefix_mode(args), _extra_statements(args)
    )
    size = policies.policy_size(document)
    if size > policies.INLINE_USER_POLICY_LIMIT:
        _progress(
            f"warning: this policy is {size:,} characters; too long for a user's inline policies or a session "
            f"policy ({policies.INLINE_USER_POLICY_LIMIT:,}), it fits a role or managed policy up to "
            f"{policies.MANAGED_POLICY_LIMIT:,}."
        )
    print(policies.policy_json(document), file=_stdout())
    return EXIT_OK


def _credential_request(args: argparse.Namespace) -> CredentialRequest:
    from s3cred_tui.core.validation import parse_duration

    if args.method == "permanent" and args.duration:
        raise UsageError("--duration makes temporary credentials; it cannot be combined with --method permanent")
    if args.method:
        kind = CredentialKind(args.method)
    elif args.duration:
        kind = CredentialKind.ASSUME_ROLE
    else:
        kind = CredentialKind.PERMANENT
    if kind.temporary:
        for option, given in (("--username", args.username), ("--reuse-user", args.reuse_user)):
            if given:
                raise UsageError(f"{option} applies to permanent keys only; temporary credentials create no user")
    if args.policy_file:
        for option, given in (
            ("--prefix", args.prefix),
            ("--literal-prefix", args.literal_prefix),
            ("--prefix-pattern", args.prefix_pattern),
            ("--statement", args.statement),
            ("--extra-statements", args.extra_statements),
        ):
            if given:
                raise UsageError(f"--policy is used as it is; write what {option} would add into the policy file")
    custom = _read_json_file(args.policy_file, "policy") if args.policy_file else None
    return CredentialRequest(
        buckets=tuple(args.buckets),
        access=_access(args),
        prefix=args.prefix or "",
        prefix_mode=_prefix_mode(args),
        kind=kind,
        duration_seconds=parse_duration(args.duration) if args.duration else None,
        username=args.username,
        reuse_existing_user=args.reuse_user,
        create_buckets=args.create_bucket,
        bucket_region=args.bucket_region,
        permissions_boundary=not args.no_permissions_boundary,
        role_name=args.role_name,
        extra_statements=_extra_statements(args),
        custom_policy=custom,
    )


def _event_line(event: Any, total: int) -> str:
    line = f"[{event.index + 1}/{total}] {event.status}: {event.title}"
    return f"{line} - {event.message}" if event.message else line


def _apply_interruptibly(ctx: AwsContext, plan: Any) -> Any:
    """Run the plan in a worker thread, so that Ctrl-C cancels it and the rollback runs to the end."""
    from s3cred_tui.core.apply import apply_plan

    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    total = len(plan.steps)

    def work() -> None:
        try:
            outcome["result"] = apply_plan(
                ctx, plan, on_event=lambda event: _progress(_event_line(event, total)), is_cancelled=cancel.is_set
            )
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome["error"] = exc

    def on_interrupt(signum: int, frame: Any) -> None:
        if not cancel.is_set():
            cancel.set()
            _progress("Cancelling: finishing the current step, then undoing what was done...")

    # While AWS resources are half made, Ctrl-C must ask for a clean cancel, never unwind
    # this thread past the rollback (or lose a secret that was already created).
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        worker = threading.Thread(target=work, name="apply-plan", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if "error" in outcome:
        raise translate(outcome["error"], "apply")
    return outcome["result"]


def _check_output_options(args: argparse.Namespace) -> None:
    """Refuse output options that cannot work before anything is created: a secret that
    cannot be printed is a secret lost."""
    if args.json and not args.dry_run:
        raise UsageError("--json shows the plan of a --dry-run; for credentials as JSON use --format json")
    if args.probe:
        if args.dry_run:
            raise UsageError("--probe tests the credentials that --dry-run does not create")
        if args.policy_file:
            raise UsageError("--probe compares the key with an access level; a --policy file has none to compare with")
        if args.prefix_pattern:
            raise UsageError("--probe needs a prefix it can write keys under; --prefix-pattern is a pattern")
    if args.ini_profile is not None:
        if args.format != "ini":
            raise UsageError("--ini-profile names the profile of --format ini")
        from s3cred_tui.core.credentials import Credentials, to_ini

        try:
            to_ini(Credentials("AKIDPROFILECHECK", "not-a-secret"), profile=args.ini_profile)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def cmd_create(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.plan import build_plan

    _check_output_options(args)
    request = _credential_request(args)
    plan = build_plan(ctx, request)
    if args.dry_run:
        if args.json:
            print(to_json(plan.to_dict(), indent=2), file=_stdout())
        else:
            print(plan.describe(), file=_stdout())
        if not plan.ok:
            _progress("error: this plan cannot run: " + "; ".join(str(b) for b in plan.blockers))
            return EXIT_FAILED
        return EXIT_OK
    if not plan.ok:
        raise _Blocked("; ".join(str(b) for b in plan.blockers))
    for warning in plan.warnings:
        _progress(f"warning: {warning}")
    result = _apply_interruptibly(ctx, plan)
    if not result.ok:
        if result.cancelled:
            _progress("Cancelled.")
        for title in result.not_undone or ():
            _progress(f"NOT undone, clean up by hand: {title}")
        reason = result.error.message if isinstance(result.error, S3CredError) else str(result.error or "cancelled")
        _progress(f"error: {reason}")
        return EXIT_INTERRUPTED if result.cancelled else EXIT_FAILED
    from s3cred_tui.core.credentials import FORMATS, to_ini

    creds = result.credentials
    if args.format == "ini" and args.ini_profile is not None:
        text = to_ini(creds, profile=args.ini_profile)
    else:
        text = FORMATS[args.format](creds)
    print(text.rstrip("\n"), file=_stdout())
    _progress(f"Created credentials {creds.access_key_id}; the secret is shown once, above.")
    if args.probe:
        return _probe_created(ctx, plan.request, creds)
    return EXIT_OK


def _probe_created(ctx: AwsContext, request: CredentialRequest, creds: Any, timeout: float = 30.0) -> int:
    """Probe new credentials; everything goes to stderr, so stdout stays the credentials alone.

    The credentials are already printed: a probe that fails or disagrees loses nothing.
    """
    try:
        report, cancelled = _run_probe(ctx, creds, request.buckets, request.access, request.prefix, AUTO, timeout)
    except S3CredError as exc:
        _progress(f"error: the probe could not run: {exc.message}")
        return EXIT_FAILED
    _progress(probe_table(report))
    _progress(probe_summary(report, cancelled))
    if cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.results and report.all_agree else EXIT_FAILED


# ---------------------------------------------------------------------------
# probe: real requests with a key, compared with the access that was asked for

PROBE_SECRET_ENV = "S3CRED_PROBE_SECRET_ACCESS_KEY"
PROBE_TOKEN_ENV = "S3CRED_PROBE_SESSION_TOKEN"
CONDITION_MARK = "*"
CONDITION_NOTE = (
    f"{CONDITION_MARK} AWS decides this row with a Condition (ListBucket's s3:prefix). Emulators such as moto "
    f"ignore Condition blocks, so there it may differ although AWS enforces it; `{PROG} simulate` checks the "
    "policy's condition offline."
)
PROBE_COLUMNS = ("check", "where", "bucket", "target", "expected", "observed", "verdict", "detail")


def _allowed_word(allowed: bool | None) -> str:
    return {True: "allowed", False: "denied", None: "unclear"}[allowed]


def _verdict(result: Any) -> str:
    if result.observed_allowed is None:
        return "unclear"
    return "agrees" if result.agrees else "DIFFERS"


def probe_rows(report: Any) -> list[dict[str, Any]]:
    """One record per probe request, as printed by `probe --json`."""
    return [
        {
            "check": r.case.check,
            "where": r.case.where,
            "bucket": r.case.bucket,
            "target": r.case.target,
            "expected": _allowed_word(r.case.expected_allowed),
            "observed": _allowed_word(r.observed_allowed),
            "verdict": _verdict(r),
            "agrees": r.agrees,
            "decided_by_condition": r.case.decided_by_condition,
            "detail": r.detail,
        }
        for r in report.results
    ]


def probe_summary(report: Any, cancelled: bool = False) -> str:
    """`N of M agree`, then what went wrong, if anything."""
    total = len(report.results)
    agree = sum(1 for r in report.results if r.agrees)
    unclear = sum(1 for r in report.results if r.observed_allowed is None)
    differ = total - agree - unclear
    line = f"{agree} of {total} agree"
    if differ:
        by_condition = sum(1 for r in report.mismatches if r.observed_allowed is not None and r.case.decided_by_condition)
        line += f"; {differ} differ"
        if by_condition:
            line += f" ({by_condition} decided by a Condition, marked {CONDITION_MARK})"
    if unclear:
        line += f"; {unclear} unclear"
    if report.cleanup_problems:
        line += f"; {len(report.cleanup_problems)} probe object(s) not removed"
    if cancelled:
        line += "; stopped before the end"
    return line


def probe_table(report: Any) -> str:
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
    if any(r.case.decided_by_condition for r in report.results):
        lines.append("")
        lines.append(CONDITION_NOTE)
    return "\n".join(lines)


def _credentials_from_document(document: Any, source: str) -> Any:
    """Credentials from the JSON `create --format json` (or credential-process, or `aws sts`) prints.

    Messages name the fields, never their values: the document holds a secret.
    """
    from s3cred_tui.core.credentials import Credentials

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
    return Credentials(fields["AccessKeyId"], fields["SecretAccessKey"], fields["SessionToken"] or None)


def _read_credentials_file(path: str) -> Any:
    source = "standard input" if path == "-" else f"Credentials file {path!r}"
    text = _read_text(path, "credentials", "credentials")
    try:
        document = json.loads(text)
    except ValueError:
        # json's message can quote the text it choked on, and that text may be a secret.
        raise ValidationError(
            "credentials", f"{source} is not JSON; give the output of `{PROG} create --format json`."
        ) from None
    return _credentials_from_document(document, source)


def _probe_credentials(args: argparse.Namespace) -> Any:
    from s3cred_tui.core.credentials import Credentials

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
    return Credentials(args.access_key_id.strip(), secret, token)


def _probe_access(args: argparse.Namespace) -> AccessLevel:
    if args.read_only:
        return AccessLevel.READ_ONLY
    if args.write_only:
        return AccessLevel.WRITE_ONLY
    return AccessLevel.READ_WRITE


def _run_probe(
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
        _progress(f"waiting for the new key... {delay:.1f} s (attempt {attempt} was refused)")

    def on_interrupt(signum: int, frame: Any) -> None:
        cancel.set()
        _progress("Stopping the probe after the current request...")

    where = f" under {prefix!r}" if prefix else ""
    _progress(f"Probing key {credentials.access_key_id} ({access.value}{where} in {', '.join(buckets)})...")
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
        _progress(f"warning: could not remove a probe object, delete it by hand: {problem}")
    return report, cancel.is_set()


def cmd_probe(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.validation import normalise_prefix, validate_bucket_name

    buckets = [validate_bucket_name(b) for b in args.buckets]
    other = validate_bucket_name(args.other_bucket) if args.other_bucket else AUTO
    if other in buckets:
        raise UsageError("--other-bucket must be a bucket the key should NOT reach; it is one of the probed buckets")
    prefix = normalise_prefix(args.prefix or "")
    credentials = _probe_credentials(args)
    report, cancelled = _run_probe(ctx, credentials, buckets, _probe_access(args), prefix, other, args.timeout)
    summary = probe_summary(report, cancelled)
    if args.json:
        document = {
            "access_key_id": credentials.access_key_id,
            "buckets": buckets,
            "access": _probe_access(args).value,
            "prefix": prefix,
            "waited_seconds": round(report.waited_seconds, 3),
            "agree": sum(1 for r in report.results if r.agrees),
            "total": len(report.results),
            "all_agree": report.all_agree and not cancelled,
            "cancelled": cancelled,
            "results": probe_rows(report),
            "cleanup_problems": report.cleanup_problems,
        }
        print(to_json(document, indent=2), file=_stdout())
        _progress(summary)
    else:
        print(probe_table(report), file=_stdout())
        print(summary, file=_stdout())
    if cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.results and report.all_agree else EXIT_FAILED


# ---------------------------------------------------------------------------
# simulate: offline policy evaluation


def parse_context(items: Iterable[str]) -> dict[str, str | list[str]]:
    """`key=value` pairs; a key given more than once becomes a list (a multi-valued key).

    Condition keys are case-insensitive, so `S3:Prefix` and `s3:prefix` are the same key.
    """
    context: dict[str, str | list[str]] = {}
    spelling: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--context takes key=value (e.g. s3:prefix=reports/), got {item!r}")
        name = spelling.setdefault(key.lower(), key)
        if name in context:
            existing = context[name]
            context[name] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            context[name] = value
    return context


def _policy_from_file(path: str, what: str) -> tuple[str, Any]:
    return f"{what} {path}", _read_json_file(path, what)


def _user_policies(ctx: AwsContext, name: str) -> tuple[list[tuple[str, Any]], tuple[str, Any] | None, str]:
    """The user's identity policies, its boundary (if any) and its ARN, read with read-only calls."""
    from s3cred_tui.core.inventory import user_details
    from s3cred_tui.core.validation import validate_user_name

    detail = user_details(ctx, validate_user_name(name))
    for owner, policies in [("", detail.attached_policies)] + [(f"group {g.name} ", g.attached_policies) for g in detail.groups]:
        for policy in policies:
            if policy.document is None:
                _progress(f"warning: {owner}managed policy {policy.arn} could not be read; it is left out")
    identity = list(detail.policy_documents())
    boundary = None
    if detail.boundary_arn:
        iam = ctx.iam
        version = _call("iam:GetPolicy", iam.get_policy, PolicyArn=detail.boundary_arn)["Policy"]["DefaultVersionId"]
        raw = _call("iam:GetPolicyVersion", iam.get_policy_version, PolicyArn=detail.boundary_arn, VersionId=version)
        document = raw["PolicyVersion"]["Document"]
        if isinstance(document, str):  # boto3 decodes it; a bare endpoint answer is URL-encoded JSON
            document = json.loads(urllib.parse.unquote(document))
        boundary = (f"permissions boundary {detail.boundary_arn}", document)
    if not identity:
        _progress(f"note: user {detail.name} has no policies, so nothing is allowed")
    return identity, boundary, detail.summary.arn


def _simulated_policies(ctx: AwsContext | None, args: argparse.Namespace) -> tuple[list[tuple[str, Any]], tuple[str, Any] | None, str | None]:
    if not args.bucket:
        for option, given in (("--read-only", args.read_only), ("--write-only", args.write_only), ("--prefix", args.prefix)):
            if given:
                raise UsageError(f"{option} describes the policy `create` would make; it needs --bucket")
    if args.policy_files:
        return [_policy_from_file(path, "policy file") for path in args.policy_files], None, None
    if args.user:
        assert ctx is not None
        return _user_policies(ctx, args.user)
    from s3cred_tui.core.policies import policy_for
    from s3cred_tui.core.validation import normalise_prefix

    access = _probe_access(args)
    prefix = normalise_prefix(args.prefix or "")
    described = f"generated policy ({args.bucket}, {access.value}" + (f", prefix {prefix}" if prefix else "") + ")"
    return [(described, policy_for([args.bucket], access, prefix))], None, None


def decision_record(decision: Any, request: Any) -> dict[str, Any]:
    """What `simulate --json` prints."""
    return {
        "decision": "Allow" if decision.allowed else "Deny",
        "evaluation": decision.decision,
        "action": request.action,
        "resource": request.resource,
        "context": dict(request.context),
        "principal_arn": request.principal_arn,
        "reason": decision.reason,
        "deciding": [
            {"policy": s.policy_name, "sid": s.sid, "effect": s.effect, "index": s.index} for s in decision.deciding
        ],
    }


def _decision_text(decision: Any) -> str:
    headline = {
        "Allow": "Allow",
        "ExplicitDeny": "Deny (explicit: a Deny statement matches)",
        "ImplicitDeny": "Deny (implicit: no statement allows it)",
    }[decision.decision]
    lines = [headline, f"reason: {decision.reason}"]
    if decision.deciding:
        lines.append("deciding statements:")
        for s in decision.deciding:
            sid = f"Sid {s.sid}" if s.sid else "no Sid"
            lines.append(f"  {s.effect:<5}  {s.policy_name}  {sid}  (statement [{s.index}])")
    return "\n".join(lines)


def cmd_simulate(ctx: AwsContext | None, args: argparse.Namespace) -> int:
    from s3cred_tui.core.simulate import PolicyError, RequestContext, evaluate

    context = parse_context(args.context or ())
    identity, boundary, principal_arn = _simulated_policies(ctx, args)
    if args.boundary_file:
        if boundary is not None:
            _progress(f"note: --boundary-file replaces the user's own {boundary[0]}")
        boundary = _policy_from_file(args.boundary_file, "permissions boundary")
    session = _policy_from_file(args.session_policy_file, "session policy") if args.session_policy_file else None
    resource = _policy_from_file(args.resource_policy_file, "resource policy") if args.resource_policy_file else None
    request = RequestContext(args.action.strip(), args.resource.strip(), context, principal_arn)
    try:
        decision = evaluate(request, identity, session_policy=session, boundary=boundary, resource_policy=resource)
    except PolicyError as exc:
        # A policy the evaluator cannot read is bad input, like a malformed argument (exit 2).
        raise ValidationError("policy", exc.message) from None
    if args.json:
        print(to_json(decision_record(decision, request), indent=2), file=_stdout())
    else:
        print(_decision_text(decision), file=_stdout())
    return EXIT_OK if decision.allowed else EXIT_DENIED


# ---------------------------------------------------------------------------
# Arguments


def _account_options(suppress: bool) -> argparse.ArgumentParser:
    """The options that choose the account, for the top level and for every command.

    On commands the defaults are suppressed so that `--profile x whoami` is not reset by
    the command's own (absent) `--profile`.
    """
    default = argparse.SUPPRESS if suppress else None
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("account")
    group.add_argument("--profile", default=default, help="AWS profile to use (default: AWS_PROFILE or the default chain)")
    group.add_argument("--region", default=default, help="AWS region for API calls (default: from the profile, else us-east-1)")
    group.add_argument(
        "--endpoint-url",
        default=default,
        help="S3/IAM/STS endpoint, e.g. a local emulator (AWS_ENDPOINT_URL also works)",
    )
    group.add_argument(
        "--demo",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="run against a built-in demo account (an in-process moto server) for the duration of the command",
    )
    return parent


def _listing_options(parser: argparse.ArgumentParser) -> None:
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--nl", action="store_true", help="one JSON object per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    fmt.add_argument("--tsv", action="store_true", help="tab-separated values with a header row")
    parser.add_argument("--page-size", type=_positive_int, default=None, help="records per AWS request")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected more than 0 seconds, got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def _policy_options(parser: argparse.ArgumentParser, *, custom: bool) -> None:
    parser.add_argument("buckets", nargs="+", metavar="BUCKET", help="bucket name(s)")
    access = parser.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="read and list only")
    access.add_argument("--write-only", action="store_true", help="upload only (no reading, no listing)")
    if custom:
        access.add_argument(
            "--policy", dest="policy_file", metavar="FILE", help="use this policy document as-is ('-' reads stdin)"
        )
    parser.add_argument("--prefix", default="", help="limit to keys under this prefix ('reports' means 'reports/')")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--literal-prefix", action="store_true", help="'*' and '?' in --prefix are ordinary characters")
    mode.add_argument("--prefix-pattern", action="store_true", help="'*' and '?' in --prefix are IAM wildcards")
    parser.add_argument(
        "--extra-statements", action="append", metavar="FILE", help="JSON file of extra policy statements to add"
    )
    parser.add_argument("--statement", action="append", metavar="JSON", help="an extra policy statement as JSON")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Least-privilege AWS credentials for S3. Without a command, starts the full-screen app.",
        parents=[_account_options(suppress=False)],
    )
    # A separate dest: a command's own --read-only (credentials that only read) must never be
    # confused with, or silently reset, the app's read-only mode.
    parser.add_argument(
        "--read-only", dest="app_read_only", action="store_true", help="app only: browse, never change anything"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    account = _account_options(suppress=True)

    def command(name: str, func: Callable[..., int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, parents=[account], help=help_text, description=help_text)
        sub.set_defaults(func=func)
        return sub

    command("whoami", cmd_whoami, "Show the identity behind the current credentials")

    sub = command("list-buckets", cmd_list_buckets, "List buckets")
    sub.add_argument(
        "--details", action="store_true", help="also look up each bucket's region, versioning and public access block"
    )
    _listing_options(sub)

    sub = command("list-bucket", cmd_list_bucket, "List every object in a bucket (recursively)")
    sub.add_argument("bucket", metavar="BUCKET")
    sub.add_argument("--prefix", default="", help="only keys starting with this text")
    _listing_options(sub)

    sub = command("list-users", cmd_list_users, "List IAM users")
    _listing_options(sub)

    sub = command("list-user-policies", cmd_list_user_policies, "Show the policies of IAM users (all users if none named)")
    sub.add_argument("users", nargs="*", metavar="USER")
    _listing_options(sub)

    sub = command("policy", cmd_policy, "Print the policy that `create` would use")
    _policy_options(sub, custom=False)

    sub = command("create", cmd_create, "Create credentials for one or more buckets")
    _policy_options(sub, custom=True)
    sub.add_argument(
        "--duration", help="temporary credentials lasting this long (15m to 12h, e.g. 900, 15m, 2h, 1h30m)"
    )
    sub.add_argument(
        "--method",
        choices=[k.value for k in CredentialKind],
        help="permanent (IAM user + key), assume-role or federation-token (default: assume-role with --duration)",
    )
    sub.add_argument("--username", help="IAM user name for permanent keys (default: s3.ACCESS.BUCKET)")
    sub.add_argument("--reuse-user", action="store_true", help="add a key to --username if it already exists")
    sub.add_argument("--role-name", help="role to assume for --method assume-role")
    sub.add_argument("--create-bucket", action="store_true", help="create buckets that do not exist")
    sub.add_argument("--bucket-region", help="region for buckets created by --create-bucket")
    sub.add_argument(
        "--no-permissions-boundary",
        action="store_true",
        help="do not cap the new user with an AWS-managed S3 permissions boundary",
    )
    sub.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    sub.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    sub.add_argument("--format", choices=OUTPUT_FORMATS, default="json", help="how to print the credentials")
    sub.add_argument("--ini-profile", metavar="NAME", help="profile name for --format ini (default: default)")
    sub.add_argument(
        "--probe",
        action="store_true",
        help="then make real requests with the new key and print how they compare with the access asked for "
        "(to stderr; exit status 1 if any differs, the credentials are printed all the same)",
    )

    sub = command(
        "probe",
        cmd_probe,
        "Prove a key is scoped: make real requests with it and compare each answer with the access asked for",
    )
    sub.epilog = (
        "Exit status: 0 when every answer agrees, 1 when any differs or cannot tell, 2 for bad arguments. "
        "Your own identity (--profile/--endpoint-url) looks up objects to read and removes what the probe writes."
    )
    sub.add_argument("buckets", nargs="+", metavar="BUCKET", help="the bucket(s) the key is meant for")
    access = sub.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="the key should read and list only")
    access.add_argument("--write-only", action="store_true", help="the key should upload only")
    sub.add_argument("--prefix", default="", help="the key should be limited to this prefix ('reports' means 'reports/')")
    sub.add_argument("--other-bucket", metavar="BUCKET", help="check that the key cannot reach this bucket (default: another bucket of the account)")
    keys = sub.add_argument_group("the key to probe")
    keys.add_argument(
        "--credentials-file",
        metavar="FILE",
        help=f"the JSON `{PROG} create --format json` prints ('-' reads stdin); the safest way to pass a secret",
    )
    keys.add_argument("--access-key-id", metavar="ID", help=f"the key's id; its secret comes from ${PROBE_SECRET_ENV}")
    keys.add_argument(
        "--secret-access-key",
        metavar="SECRET",
        help=f"the secret itself: visible to other users in `ps` and kept in shell history; prefer "
        f"${PROBE_SECRET_ENV} or --credentials-file",
    )
    keys.add_argument(
        "--session-token",
        metavar="TOKEN",
        help=f"for temporary keys (also visible in `ps`; ${PROBE_TOKEN_ENV} works too)",
    )
    sub.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    sub.add_argument(
        "--timeout", type=_positive_float, default=30.0, metavar="SECONDS",
        help="how long to wait for a new key to be accepted (default: 30)",
    )

    sub = command(
        "simulate",
        cmd_simulate,
        "Would this request be allowed? Evaluate IAM policies offline, including Conditions, boundaries and "
        "session policies",
    )
    sub.epilog = (
        "Exit status: 0 Allow, 3 Deny (scripts can branch on it), 2 for a malformed policy, an unknown condition "
        "operator or bad arguments, 1 when AWS could not be read (--user)."
    )
    sub.add_argument("action", metavar="ACTION", help="e.g. s3:GetObject")
    sub.add_argument("resource", metavar="RESOURCE", help="e.g. arn:aws:s3:::my-bucket/reports/a.csv")
    sub.add_argument(
        "--context",
        action="append",
        metavar="KEY=VALUE",
        help="a request context key, e.g. s3:prefix=reports/ or aws:SecureTransport=true; repeat a key for a list",
    )
    source = sub.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--policy-file", dest="policy_files", action="append", metavar="FILE",
        help="an identity policy (JSON file, '-' for stdin); repeat for several",
    )
    source.add_argument("--user", metavar="NAME", help="an IAM user's inline, attached and group policies and boundary")
    source.add_argument("--bucket", metavar="BUCKET", help="the policy `create` would generate for this bucket")
    access = sub.add_mutually_exclusive_group()
    access.add_argument("--read-only", action="store_true", help="with --bucket: the read-only policy")
    access.add_argument("--write-only", action="store_true", help="with --bucket: the write-only policy")
    sub.add_argument("--prefix", default="", help="with --bucket: limited to this prefix")
    sub.add_argument("--boundary-file", metavar="FILE", help="a permissions boundary (replaces a --user's own)")
    sub.add_argument("--session-policy-file", metavar="FILE", help="a session policy (AssumeRole/federation Policy)")
    sub.add_argument("--resource-policy-file", metavar="FILE", help="the resource's policy, e.g. a bucket policy")
    sub.add_argument("--json", action="store_true", help="print the decision as JSON")
    return parser


# ---------------------------------------------------------------------------
# Running


def _session_config(args: argparse.Namespace) -> SessionConfig:
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
    if args.command == "policy" or (args.command == "simulate" and not args.user):
        return args.func(None, args)  # pure: needs no account, not even the demo
    with ExitStack() as stack:
        config = _session_config(args)
        demo_note = None
        if args.demo:
            from s3cred_tui.demo.account import start_demo

            _progress("Starting the demo account (an in-process moto server)...")
            try:
                demo = stack.enter_context(start_demo())
            except ImportError as exc:
                raise S3CredError(
                    f"The demo account needs moto ({exc.name} is missing): pip install 's3cred-tui[demo]'"
                ) from None
            config = replace(demo.config, region=args.region or demo.config.region)
            demo_note = demo.note
        if not args.command:
            from s3cred_tui.ui.app import run_app

            run_app(config, read_only=args.app_read_only, demo_note=demo_note)
            return EXIT_OK
        return args.func(AwsContext(config), args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = _normalise(parser.parse_args(list(sys.argv[1:] if argv is None else argv)))
        return _run(args)
    except UsageError as exc:
        _progress(f"error: {exc}")
        return EXIT_USAGE
    except ValidationError as exc:
        _progress(f"error: {exc.message}")
        return EXIT_USAGE
    except S3CredError as exc:
        _progress(f"error: {exc.message}")
        return EXIT_FAILED
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        _progress(f"error: {translate(exc).message}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        _progress("error: interrupted")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
