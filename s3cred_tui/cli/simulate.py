"""`simulate`: would this request be allowed? Offline policy evaluation."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from s3cred_tui.cli.common import (
    EXIT_DENIED,
    EXIT_OK,
    UsageError,
    access_level,
    progress,
    read_json_file,
    stdout,
)
from s3cred_tui.cli.output import to_json
from s3cred_tui.core.errors import ValidationError

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


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
    return f"{what} {path}", read_json_file(path, what)


def _user_policies(ctx: AwsContext, name: str) -> tuple[list[tuple[str, Any]], tuple[str, Any] | None, str]:
    """The user's identity policies, its boundary (if any) and its ARN, read with read-only calls."""
    from s3cred_tui.core.inventory import managed_policy_document, user_details
    from s3cred_tui.core.validation import validate_user_name

    detail = user_details(ctx, validate_user_name(name))
    for owner, policies in [("", detail.attached_policies)] + [(f"group {g.name} ", g.attached_policies) for g in detail.groups]:
        for policy in policies:
            if policy.document is None:
                progress(f"warning: {owner}managed policy {policy.arn} could not be read; it is left out")
    identity = list(detail.policy_documents())
    boundary = None
    if detail.boundary_arn:
        document = managed_policy_document(ctx, detail.boundary_arn)
        boundary = (f"permissions boundary {detail.boundary_arn}", document)
    if not identity:
        progress(f"note: user {detail.name} has no policies, so nothing is allowed")
    return identity, boundary, detail.summary.arn


def _simulated_policies(ctx: AwsContext | None, args: argparse.Namespace) -> tuple[list[tuple[str, Any]], tuple[str, Any] | None, str | None]:
    if not args.bucket:
        for option, given in (("--read-only", args.read_only), ("--write-only", args.write_only), ("--prefix", args.prefix)):
            if given:
                raise UsageError(f"{option} describes the policy `create` would make; it needs --bucket")
    if args.policy_files:
        return [_policy_from_file(path, "policy file") for path in args.policy_files], None, None
    if getattr(args, "no_identity_policy", False):
        return [], None, None
    if args.user:
        assert ctx is not None
        return _user_policies(ctx, args.user)
    from s3cred_tui.core.policies import policy_for
    from s3cred_tui.core.validation import normalise_prefix

    access = access_level(args)
    prefix = normalise_prefix(args.prefix or "")
    described = f"generated policy ({args.bucket}, {access.value}" + (f", prefix {prefix}" if prefix else "") + ")"
    return [(described, policy_for([args.bucket], access, prefix))], None, None


_ARN = re.compile(r"^arn:[a-z0-9-]+:(iam|sts)::\d{12}:[^\s]+$")
_ACCOUNT = re.compile(r"^\d{12}$")


def _principal(args: argparse.Namespace, user_arn: str | None) -> str | None:
    """The caller's ARN: --principal, else --user's ARN; the two must agree when both are given."""
    given = (getattr(args, "principal", None) or "").strip() or None
    if given is None:
        return user_arn
    if not _ARN.match(given):
        raise ValidationError(
            "principal",
            f"--principal takes an IAM or STS ARN such as arn:aws:iam::123456789012:user/alice, got {given!r}.",
        )
    if user_arn is not None and given != user_arn:
        raise UsageError(f"--principal {given} is not --user's ARN ({user_arn}); give one or the other")
    return given


def _resource_account(args: argparse.Namespace) -> str | None:
    account = (getattr(args, "resource_account", None) or "").strip() or None
    if account is not None and not _ACCOUNT.match(account):
        raise ValidationError("resource_account", f"--resource-account takes a 12-digit account ID, got {account!r}.")
    return account


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
    from s3cred_tui.core.validation import check_utf8

    # The evaluator takes any text (an object key may hold any character), but it is printed back.
    for item in args.context or ():
        check_utf8(item, "context", "--context")
    action = check_utf8(args.action.strip(), "action", "action")
    resource_arn = check_utf8(args.resource.strip(), "resource", "resource")
    context = parse_context(args.context or ())
    identity, boundary, principal_arn = _simulated_policies(ctx, args)
    if args.boundary_file:
        if boundary is not None:
            progress(f"note: --boundary-file replaces the user's own {boundary[0]}")
        boundary = _policy_from_file(args.boundary_file, "permissions boundary")
    session = _policy_from_file(args.session_policy_file, "session policy") if args.session_policy_file else None
    resource = _policy_from_file(args.resource_policy_file, "resource policy") if args.resource_policy_file else None
    principal_arn = _principal(args, principal_arn)
    resource_account = _resource_account(args)
    request = RequestContext(action, resource_arn, context, principal_arn)
    try:
        decision = evaluate(
            request,
            identity,
            session_policy=session,
            boundary=boundary,
            resource_policy=resource,
            resource_account=resource_account,
        )
    except PolicyError as exc:
        # A policy the evaluator cannot read is bad input, like a malformed argument (exit 2).
        raise ValidationError("policy", exc.message) from None
    report = None
    if getattr(args, "aws_checks", False):
        from s3cred_tui.core.aws_checks import check_request_with_aws

        assert ctx is not None  # `main` gives --aws-checks an account
        report = check_request_with_aws(
            ctx, request, identity, boundary=boundary, session_policy=session, resource_policy=resource,
            resource_account=resource_account,
        )
    if args.json:
        record = decision_record(decision, request)
        if report is not None:
            record["aws_checks"] = report.to_dict()
        print(to_json(record, indent=2), file=stdout())
    else:
        print(_decision_text(decision), file=stdout())
        for line in report.lines() if report is not None else ():
            progress(line)
    return EXIT_OK if decision.allowed else EXIT_DENIED
