"""`policy` and `create`: the policy a request would use, and making the credentials."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    UsageError,
    access_level,
    progress,
    read_json_file,
    report_error,
    stdout,
)
from s3cred_tui.cli.output import to_json
from s3cred_tui.cli.probe import probe_summary, probe_table, probe_with_progress
from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest, PrefixMode

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


class _Blocked(S3CredError):
    """The plan was read from the account and cannot run as asked (e.g. the user exists)."""


def _as_statements(value: Any, source: str) -> list[dict[str, Any]]:
    """A statement, a list of them, or a policy document whose statements are taken."""
    from s3cred_tui.core.validation import validate_statement

    if isinstance(value, dict) and "Statement" in value:
        value = value["Statement"]
    statements = value if isinstance(value, list) else [value]
    return [dict(validate_statement(s, f"{source}, statement {i + 1}")) for i, s in enumerate(statements)]


def _extra_statements(args: argparse.Namespace) -> tuple[dict[str, Any], ...]:
    from s3cred_tui.core.validation import loads_json

    statements: list[dict[str, Any]] = []
    for path in args.extra_statements or ():
        statements += _as_statements(read_json_file(path, "extra statements"), f"Extra statements file {path!r}")
    for index, text in enumerate(args.statement or ()):
        parsed = loads_json(text, f"--statement number {index + 1}")
        statements += _as_statements(parsed, f"--statement number {index + 1}")
    return tuple(statements)


def _policy_option(value: str) -> Any:
    """`--policy`: the JSON itself when it starts with `{` (as the reference CLI accepts), else a file
    (`-` is stdin)."""
    from s3cred_tui.core.validation import loads_json

    if value.lstrip().startswith("{"):
        return loads_json(value, "The --policy JSON")
    return read_json_file(value, "policy")


def _access(args: argparse.Namespace) -> AccessLevel:
    if getattr(args, "policy_file", None):
        return AccessLevel.CUSTOM
    return access_level(args)


def _prefix_mode(args: argparse.Namespace) -> PrefixMode:
    if args.literal_prefix:
        return PrefixMode.LITERAL
    if args.prefix_pattern:
        return PrefixMode.PATTERN
    return PrefixMode.PLAIN


def _prefixes(args: argparse.Namespace) -> tuple[str, ...]:
    """Every `--prefix` given (the option repeats)."""
    return tuple(args.prefix or ())


def _scope(args: argparse.Namespace) -> dict[str, Any]:
    """The request fields of --prefix (the first, and all of them), --key and --list-keys."""
    prefixes = _prefixes(args)
    return {
        "prefix": prefixes[0] if prefixes else "",
        "prefixes": prefixes if len(prefixes) > 1 else (),
        "keys": tuple(args.keys or ()),
        "list_keys": args.list_keys,
    }


def cmd_policy(ctx: AwsContext | None, args: argparse.Namespace) -> int:
    from s3cred_tui.core import policies
    from s3cred_tui.core.validation import validate_bucket_name, validate_policy_document

    extra = _extra_statements(args)
    if args.policy_file:
        _refuse_options_beside_policy_file(args)
        buckets = tuple(validate_bucket_name(b) for b in args.buckets)
        document = dict(validate_policy_document(_policy_option(args.policy_file)))
        request = CredentialRequest(buckets=buckets, access=AccessLevel.CUSTOM, custom_policy=document, allow_broad=args.allow_broad)
    else:
        scope = _scope(args)
        document = policies.policy_for(
            args.buckets,
            _access(args),
            scope["prefix"],
            _prefix_mode(args),
            extra,
            prefixes=scope["prefixes"],
            keys=scope["keys"],
            list_keys=scope["list_keys"],
        )
        request = CredentialRequest(buckets=tuple(args.buckets), extra_statements=extra)
    review = None
    if args.policy_file or extra:  # what the person wrote is reviewed; a generated policy needs no review
        from s3cred_tui.core.policy_checks import check_custom_policy

        review = check_custom_policy(document, request.buckets)
    _refuse_unacknowledged_broad_policy(request, review)
    if review is not None:
        _report_review(review, acknowledged=args.allow_broad, headline=bool(args.policy_file))
    size = policies.policy_size(document)
    # The tightest limit of any credentials `create` makes (a user's inline policy, a session policy).
    limit = min(policies.policy_limit(kind)[0] for kind in CredentialKind)
    if size > limit:
        progress(
            f"warning: this policy is {size:,} characters; too long for a user's inline policies or a session "
            f"policy ({limit:,}), it fits a role or managed policy up to "
            f"{policies.MANAGED_POLICY_LIMIT:,}."
        )
    for prefix in _prefixes(args):
        _warn_about_prefix(prefix)
    _refuse_paid_checks_alone(args)
    _refuse_aws_checks_beyond_one_prefix(args)
    print(policies.policy_json(document), file=stdout())
    if args.aws_checks:
        from s3cred_tui.core.aws_checks import subject_for_request
        from s3cred_tui.core.validation import normalise_prefix

        prefix = "" if args.policy_file else normalise_prefix(_scope(args)["prefix"], _prefix_mode(args))
        assert ctx is not None  # `main` gives --aws-checks an account
        report = _aws_checks(ctx, subject_for_request(document, request.buckets, _access(args), prefix), args)
        for line in report.lines():
            progress(line)
    return EXIT_OK


def _refuse_aws_checks_beyond_one_prefix(args: argparse.Namespace) -> None:
    """AWS's checks compare with what one prefix (or a whole bucket) should grant."""
    if args.aws_checks and (args.keys or len(_prefixes(args)) > 1):
        raise UsageError("--aws-checks compares with one --prefix or a whole bucket; not with --key or several prefixes")


def _refuse_paid_checks_alone(args: argparse.Namespace) -> None:
    if getattr(args, "aws_paid_checks", False) and not args.aws_checks:
        raise UsageError("--aws-paid-checks adds charged checks to --aws-checks; give both")


def _aws_checks(ctx: AwsContext, subject: Any, args: argparse.Namespace) -> Any:
    """AWS's second opinion on `subject` (never raises for AWS's sake; see core/aws_checks.py)."""
    from s3cred_tui.core.aws_checks import paid_cost_text, proofs_for, run_aws_checks

    paid = bool(getattr(args, "aws_paid_checks", False))
    if paid:
        progress(f"Running Access Analyzer's charged checks: {paid_cost_text(len(proofs_for(subject)))}.")
    return run_aws_checks(ctx, subject, paid=paid)


def _warn_about_prefix(prefix: str) -> None:
    """Warnings about a prefix that is allowed (validated already), e.g. one not in Unicode NFC."""
    from s3cred_tui.core.validation import prefix_warnings

    for warning in prefix_warnings(prefix):
        progress(f"warning: {warning}")


def _refuse_options_beside_policy_file(args: argparse.Namespace) -> None:
    for option, given in (
        ("--prefix", args.prefix),
        ("--literal-prefix", args.literal_prefix),
        ("--prefix-pattern", args.prefix_pattern),
        ("--key", args.keys),
        ("--list-keys", args.list_keys),
        ("--statement", args.statement),
        ("--extra-statements", args.extra_statements),
    ):
        if given:
            raise UsageError(f"--policy is used as it is; write what {option} would add into the policy file")


def _refuse_unacknowledged_broad_policy(request: CredentialRequest, review: Any) -> None:
    """A custom policy broader than the named buckets needs --allow-broad: one line, every reason."""
    if review is None:  # nothing reviewed, nothing to acknowledge (and core.plan, which imports boto3, stays out)
        return
    from s3cred_tui.core.plan import acknowledgement_required

    if acknowledgement_required(request, review):
        raise UsageError(
            f"the --policy file grants more than the named buckets ({review.headline}), so it needs "
            f"--allow-broad: {' '.join(review.broad)}"
        )


def _report_review(review: Any, acknowledged: bool, headline: bool) -> None:
    """What the policy grants and what was found in it, on stderr (stdout stays the policy).
    The headline describes a custom policy; a generated one with extra statements has its level."""
    if headline:
        progress(review.headline)
    for finding in review.findings:
        progress(f"warning: policy lint (parliament): {finding.text}")
    for note in review.notes:
        progress(f"warning: {note}")
    if review.broad:
        accepted = "accepted with --allow-broad: " if acknowledged else ""
        progress(f"warning: {accepted}the policy grants more than the named buckets: {' '.join(review.broad)}")


def _credential_request(args: argparse.Namespace) -> CredentialRequest:
    from s3cred_tui.core.validation import duration_range, parse_duration

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
        _refuse_options_beside_policy_file(args)
    custom = _policy_option(args.policy_file) if args.policy_file else None
    return CredentialRequest(
        buckets=tuple(args.buckets),
        access=_access(args),
        **_scope(args),
        prefix_mode=_prefix_mode(args),
        kind=kind,
        duration_seconds=parse_duration(args.duration, duration_range(kind)) if args.duration else None,
        username=args.username,
        reuse_existing_user=args.reuse_user,
        create_buckets=args.create_bucket,
        bucket_region=args.bucket_region,
        permissions_boundary=not args.no_permissions_boundary,
        role_name=args.role_name,
        extra_statements=_extra_statements(args),
        custom_policy=custom,
        allow_broad=args.allow_broad,
    )


def _event_line(event: Any, total: int) -> str:
    line = f"[{event.index + 1}/{total}] {event.status}: {event.title}"
    return f"{line} - {event.message}" if event.message else line


# Ctrl-C, `kill` and a closed terminal all mean "stop": cancel between steps and roll back.
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _say(message: str) -> None:
    """Progress that must never fail: after SIGHUP the terminal may be gone."""
    try:
        progress(message)
    except (OSError, ValueError):
        pass


def half_made_lines() -> list[str]:
    """What this process's journal lists as made and not yet undone, by ARN, and how to remove it."""
    from s3cred_tui.core.journal import unfinished_runs

    mine = [run for run in unfinished_runs() if run.info is not None and run.info.pid == os.getpid()]
    entries = [entry for run in mine for entry in run.entries]
    if not entries:
        return ["Nothing is half-made: every change of this run was undone (or never made)."]
    lines = ["Stopped before the rollback finished. Half-made, not yet removed:"]
    for entry in reversed(entries):
        state = "" if entry.created else " (its call was under way: it may or may not exist)"
        lines.append(f"  {entry.arn}: {entry.undo.title}{state}")
    lines.append(f"Remove them with `{PROG} recover` (it undoes exactly these, newest first).")
    return lines


def _apply_interruptibly(ctx: AwsContext, plan: Any, *, journal: bool = True, silent: bool = False) -> Any:
    """Run the plan in a worker thread: the first Ctrl-C (or SIGTERM, SIGHUP) cancels it and lets
    the rollback run to the end; a second one prints what is half-made and exits at once."""
    from s3cred_tui.core.apply import apply_plan

    cancel = threading.Event()
    outcome: dict[str, Any] = {}
    total = len(plan.steps)

    def work() -> None:
        try:
            outcome["result"] = apply_plan(
                ctx,
                plan,
                on_event=None if silent else lambda event: _say(_event_line(event, total)),
                is_cancelled=cancel.is_set,
                journal=journal,
            )
        except BaseException as exc:  # handed to the main thread, which reports it
            outcome["error"] = exc

    def on_stop(signum: int, frame: Any) -> None:
        name = signal.Signals(signum).name
        if not cancel.is_set():
            cancel.set()
            _say(f"Cancelling ({name}): finishing the current step, then undoing what was done... "
                 "(Ctrl-C again stops at once)")
            return
        for line in half_made_lines():
            _say(line)
        with contextlib.suppress(Exception):
            sys.stdout.flush()
        os._exit(EXIT_INTERRUPTED)  # the worker may be inside an AWS call: do not wait for it

    # While AWS resources are half made, a signal must ask for a clean cancel, never unwind
    # this thread past the rollback (or lose a secret that was already created).
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for number in STOP_SIGNALS:
            previous[number] = signal.signal(number, on_stop)
    try:
        worker = threading.Thread(target=work, name="apply-plan", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if "error" in outcome:
        raise translate(outcome["error"], "apply")
    return outcome["result"]


def _check_output_options(args: argparse.Namespace) -> None:
    """Refuse output options that cannot work before anything is created: a secret that
    cannot be printed is a secret lost."""
    if args.json and not args.dry_run:
        raise UsageError("--json shows the plan of a --dry-run; for credentials as JSON use --format json")
    if args.aws_checks and not args.dry_run:
        raise UsageError("--aws-checks asks AWS about the plan of a --dry-run; add --dry-run")
    _refuse_paid_checks_alone(args)
    _refuse_aws_checks_beyond_one_prefix(args)
    if args.probe:
        if args.dry_run:
            raise UsageError("--probe tests the credentials that --dry-run does not create")
        if args.policy_file:
            raise UsageError("--probe compares the key with an access level; a --policy file has none to compare with")
        if args.prefix_pattern:
            raise UsageError("--probe needs a prefix it can write keys under; --prefix-pattern is a pattern")
        if args.keys:
            raise UsageError("--probe checks a prefix or a whole bucket; it cannot check exact --key grants")
    if args.ini_profile is not None:
        if args.format != "ini":
            raise UsageError("--ini-profile names the profile of --format ini")
        from s3cred_tui.core.credentials import Credentials, to_ini

        try:
            to_ini(Credentials("AKIDPROFILECHECK", "not-a-secret"), profile=args.ini_profile)
        except ValueError as exc:
            raise UsageError(str(exc)) from None


def _check_custom_policy_first(request: CredentialRequest) -> None:
    """Refuse a broad custom policy before any AWS call (the plan would refuse it too, later)."""
    from s3cred_tui.core.draft import draft_request
    from s3cred_tui.core.plan import policy_review_for

    if request.custom_policy is None:
        return
    draft = draft_request(request)
    if draft.problems:
        raise draft.problems[0]
    _refuse_unacknowledged_broad_policy(request, policy_review_for(draft))


def _create_grant(ctx: AwsContext, args: argparse.Namespace) -> int:
    """`create --grant-account`: a bucket-policy statement for another account, no credentials."""
    from s3cred_tui.core.bucket_grant import BucketGrantRequest, build_grant_plan
    from s3cred_tui.core.third_party_role import ThirdPartyRoleRequest, build_third_party_role_plan

    for option, given in (
        ("--duration", args.duration),
        ("--method", args.method),
        ("--username", args.username),
        ("--reuse-user", args.reuse_user),
        ("--role-name", args.role_name and not args.via_role),
        ("--external-id", args.external_id and not args.via_role),
        ("--create-bucket", args.create_bucket),
        ("--policy", args.policy_file),
        ("--statement", args.statement),
        ("--extra-statements", args.extra_statements),
        ("--probe", args.probe),
        ("--aws-checks", args.aws_checks),
        ("--list-keys", args.list_keys),
        ("--ini-profile", args.ini_profile),
    ):
        if given:
            raise UsageError(f"--grant-account changes the bucket policy and makes no credentials; {option} does not apply")
    if args.json and not args.dry_run:
        raise UsageError("--json shows the plan of a --dry-run")
    scope = {
        "buckets": tuple(args.buckets),
        "principal": args.grant_account,
        "access": _access(args),
        "prefixes": _prefixes(args),
        "keys": tuple(args.keys or ()),
        "prefix_mode": _prefix_mode(args),
    }
    if args.via_role:
        role_request = ThirdPartyRoleRequest(**scope, role_name=args.role_name, external_id=args.external_id)
        plan: Any = build_third_party_role_plan(ctx, role_request)
    else:
        plan = build_grant_plan(ctx, BucketGrantRequest(**scope))
    if args.dry_run:
        print(to_json(plan.to_dict(), indent=2) if args.json else plan.describe(), file=stdout())
        if not plan.ok:
            report_error("this plan cannot run: " + "; ".join(plan.blockers))
            return EXIT_FAILED
        return EXIT_OK
    if not plan.ok:
        raise _Blocked("; ".join(plan.blockers))
    for warning in plan.warnings:
        progress(f"warning: {warning}")
    result = _apply_interruptibly(
        ctx.for_apply(), plan, journal=not getattr(args, "demo", False), silent=getattr(args, "silent", False)
    )
    if not result.ok:
        for title in result.not_undone or ():
            _say(f"NOT undone: {title}")
        reason = result.error.message if isinstance(result.error, S3CredError) else str(result.error or "cancelled")
        with contextlib.suppress(OSError, ValueError):
            report_error(reason)
        return EXIT_INTERRUPTED if result.cancelled else EXIT_FAILED
    from s3cred_tui.core.policies import policy_json

    if args.via_role:
        document = {"RoleArn": plan.role_arn, "ExternalId": plan.external_id, "OtherAccountPolicy": plan.other_account_policy}
        print(to_json(document, indent=2), file=stdout())
        progress(
            f"Created role {plan.role_arn}. Give the service the role ARN and external id above; its account must "
            "allow its principal to assume the role (OtherAccountPolicy)."
        )
        progress(f"To take it back: {plan.revoke_command}")
        return EXIT_OK
    print(policy_json(plan.other_account_policy), file=stdout())
    progress(
        f"Granted {plan.principal_arn} through the bucket policy of {', '.join(args.buckets)}. "
        "The other account must attach the policy above to its principal (cross-account access needs both sides)."
    )
    progress(f"To take it back: {plan.revoke_command}")
    return EXIT_OK


def cmd_revoke_grant(ctx: AwsContext, args: argparse.Namespace) -> int:
    """`revoke-grant`: take a `--grant-account` grant out of bucket policies."""
    from s3cred_tui.core.bucket_grant import build_revoke_plan

    plan = build_revoke_plan(ctx, args.buckets, args.account)
    if args.dry_run or not plan.steps:
        print(plan.describe(), file=stdout())
        return EXIT_OK
    result = _apply_interruptibly(ctx.for_apply(), plan, journal=not getattr(args, "demo", False))
    if not result.ok:
        for title in result.not_undone or ():
            _say(f"NOT undone: {title}")
        reason = result.error.message if isinstance(result.error, S3CredError) else str(result.error or "cancelled")
        with contextlib.suppress(OSError, ValueError):
            report_error(reason)
        return EXIT_INTERRUPTED if result.cancelled else EXIT_FAILED
    progress(f"Removed the grant for {plan.principal_arn} from {len(plan.steps)} bucket policy(ies).")
    return EXIT_OK


def cmd_create(ctx: AwsContext, args: argparse.Namespace) -> int:
    from s3cred_tui.core.plan import build_plan

    if args.grant_account:
        return _create_grant(ctx, args)
    for option, given in (("--via-role", args.via_role), ("--external-id", args.external_id)):
        if given:
            raise UsageError(f"{option} is used with --grant-account")
    _check_output_options(args)
    request = _credential_request(args)
    _check_custom_policy_first(request)
    plan = build_plan(ctx, request)
    for prefix in request.all_prefixes:
        _warn_about_prefix(prefix)
    if args.dry_run:
        report = None
        if args.aws_checks and plan.policy is not None:
            from s3cred_tui.core.aws_checks import subject_for_plan

            report = _aws_checks(ctx, subject_for_plan(plan), args)
        if args.json:
            document = plan.to_dict()
            if report is not None:
                document["aws_checks"] = report.to_dict()
            print(to_json(document, indent=2), file=stdout())
        else:
            print(plan.describe(), file=stdout())
            for line in report.lines() if report is not None else ():
                progress(line)
        if not plan.ok:
            report_error("this plan cannot run: " + "; ".join(str(b) for b in plan.blockers))
            return EXIT_FAILED
        return EXIT_OK
    if not plan.ok:
        raise _Blocked("; ".join(str(b) for b in plan.blockers))
    for warning in plan.warnings:
        progress(f"warning: {warning}")
    # The demo account vanishes with this process: nothing of it to recover later.
    result = _apply_interruptibly(
        ctx.for_apply(), plan, journal=not getattr(args, "demo", False), silent=getattr(args, "silent", False)
    )
    for note in result.notes or ():
        _say(f"note: {note}")
    if not result.ok:
        if result.cancelled:
            _say("Cancelled.")
        for title in result.not_undone or ():
            _say(f"NOT undone: {title}")
        if result.not_undone:
            _say(
                f"`{PROG} recover` retries these from the run's journal ({result.journal_path}); "
                "otherwise clean them up by hand."
                if result.journal_path
                else "Clean these up by hand."
            )
        reason = result.error.message if isinstance(result.error, S3CredError) else str(result.error or "cancelled")
        with contextlib.suppress(OSError, ValueError):
            report_error(reason)
        return EXIT_INTERRUPTED if result.cancelled else EXIT_FAILED
    from s3cred_tui.core.credentials import FORMATS, to_ini

    creds = result.credentials
    if args.format == "ini" and args.ini_profile is not None:
        text = to_ini(creds, profile=args.ini_profile)
    else:
        text = FORMATS[args.format](creds)
    print(text.rstrip("\n"), file=stdout())
    progress(f"Created credentials {creds.access_key_id}; the secret is shown once, above.")
    if args.probe:
        return _probe_created(ctx, plan.request, creds)
    return EXIT_OK


def _probe_created(ctx: AwsContext, request: CredentialRequest, creds: Any, timeout: float = 30.0) -> int:
    """Probe new credentials; everything goes to stderr, so stdout stays the credentials alone.

    The credentials are already printed: a probe that fails or disagrees loses nothing.
    """
    from s3cred_tui.core.probe import AUTO

    try:
        report, cancelled = probe_with_progress(ctx, creds, request.buckets, request.access, request.prefix, AUTO, timeout)
    except S3CredError as exc:
        report_error(f"the probe could not run: {exc.message}")
        return EXIT_FAILED
    progress(probe_table(report))
    progress(probe_summary(report, cancelled))
    if cancelled:
        return EXIT_INTERRUPTED
    return EXIT_OK if report.results and report.all_agree else EXIT_FAILED

