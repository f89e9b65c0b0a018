"""A second opinion from AWS itself: IAM's policy simulator and IAM Access Analyzer.

The offline evaluator (`core/simulate.py`) and the live probe (`core/probe.py`) are this
project's own word. Before anything is applied, AWS can check a policy independently:

- **Policy simulator** (`iam:SimulateCustomPolicy`, free): the probe's matrix of requests
  (`probe.probe_cases`: list, read, write and delete inside and outside the prefix, at the
  root, in another bucket) is sent with the permissions boundary
  (`PermissionsBoundaryPolicyInputList`), the bucket policy (`ResourcePolicy`, with the new
  user as `CallerArn`) and the request context (`s3:prefix`). The offline evaluator is given
  exactly the same inputs, and every row says whether the two agree, with both reasons.
- **ValidatePolicy** (Access Analyzer, free): errors, security warnings, warnings and
  suggestions, each with its AWS link and where in the policy it is.
- **Charged checks** (Access Analyzer `CheckAccessNotGranted` / `CheckNoNewAccess`, billed per
  call, so only when asked for: `paid=True`): a read-only policy grants no write, delete or
  bucket-administration action; a write-only one no read; read-write no version deletion or
  administration; a custom policy nothing beyond the generated read-write policy for the same
  buckets and prefix.

Every check is optional and never raises for AWS's sake: it ends `done`, `not permitted`
(AccessDenied, naming the permission needed), `not available at this endpoint` (a non-AWS
`endpoint_url` such as the demo or MinIO is recognised before any call; an emulator answering
"not implemented" counts too), `throttled` (after a bounded retry with backoff) or `failed`.

Public API:
- `CheckStatus`, `CheckSubject`, `subject_for_request(...)`, `subject_for_plan(plan)`
- `SimulatedRequest`, `SimulationRow`, `SimulationCheck`, `matrix_requests(...)`,
  `compare_with_aws(ctx, requests, identity_policies, ...) -> SimulationCheck`
- `ValidationFinding`, `ValidationCheck`, `validate_with_aws(ctx, name, document, policy_type="IDENTITY_POLICY")`
- `ProofSpec`, `ProofResult`, `proofs_for(subject)`, `paid_cost_text(count)`, `run_proof(ctx, spec)`
- `AwsChecksReport` (`.lines()`, `.to_dict()`, `.summary`), `run_aws_checks(ctx, subject, paid=False)`,
  `check_request_with_aws(ctx, request, identity_policies, ...)` (one request: the `simulate` command)
- `unavailable_reason(ctx) -> str | None`
"""

from __future__ import annotations

import enum
import json
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.core.redact import redact_text
from s3cred_tui.core.request import AccessLevel, CredentialKind
from s3cred_tui.core.simulate import (
    S3_PROBE_KEY,
    Decision,
    PolicyError,
    RequestContext,
    evaluate,
)

if TYPE_CHECKING:
    from s3cred_tui.core.plan import Plan
    from s3cred_tui.core.session import AwsContext

Named = tuple[str, Mapping[str, Any]]

# "A charge is associated with each custom policy check" (IAM Access Analyzer pricing). The price
# AWS listed when this was written; the pricing page is the authority.
PAID_CHECK_PRICE_USD = 0.002
PRICING_URL = "https://aws.amazon.com/iam/access-analyzer/pricing/"

# The simulator is asked about at most this many buckets' rows (about five calls per bucket).
MAX_SIMULATED_BUCKETS = 5
# Attempts of one call while AWS throttles, and the first pause between them (doubled each time).
THROTTLE_ATTEMPTS = 3
THROTTLE_FIRST_DELAY = 0.5

_AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
}
# What an endpoint that lacks the operation answers (moto, LocalStack, MinIO, a proxy).
_UNKNOWN_OPERATION = {
    "InvalidAction",
    "UnknownOperation",
    "UnknownOperationException",
    "NotImplemented",
    "NotImplementedException",
    "UnsupportedOperation",
    "404",
    "501",
}

DISAGREEMENT_NOTE = (
    "A disagreement between AWS's simulator and s3cred-tui's offline evaluator is a bug: please report it "
    "to s3cred-tui with both reasons shown here."
)


class CheckStatus(str, enum.Enum):
    DONE = "done"
    NOT_PERMITTED = "not permitted"
    UNAVAILABLE = "not available at this endpoint"
    THROTTLED = "throttled"
    FAILED = "failed"
    SKIPPED = "skipped"


class _CheckFailed(Exception):
    """One check could not run; `status` and `message` say why (never a secret)."""

    def __init__(self, status: CheckStatus, message: str):
        # One line, whatever the error text held, and never a secret (AWS's messages can quote requests).
        message = " ".join(redact_text(message).split())
        super().__init__(message)
        self.status = status
        self.message = message


# --------------------------------------------------------------------------------------------
# Calling AWS: availability, permissions, throttling
# --------------------------------------------------------------------------------------------


def _is_aws_endpoint(url: str | None) -> bool:
    host = (urllib.parse.urlparse(url or "").hostname or "").lower()
    return host.endswith(_AWS_HOST_SUFFIXES)


def unavailable_reason(ctx: AwsContext) -> str | None:
    """Why these checks cannot run at this endpoint (no call is made), or None on AWS itself.

    IAM's simulator and Access Analyzer exist only on AWS; the demo, MinIO and other
    emulators are reached through a non-AWS `endpoint_url`.
    """
    for service in ("iam", "accessanalyzer"):
        url = ctx.client(service).meta.endpoint_url
        if not _is_aws_endpoint(url):
            return (
                f"not available at this endpoint ({url}): IAM's policy simulator and Access Analyzer "
                "exist only on AWS"
            )
    return None


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status_code(exc: botocore.exceptions.ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _call(
    fn: Callable[[], Any],
    *,
    operation: str,
    sleep: Callable[[float], None],
    attempts: int = THROTTLE_ATTEMPTS,
    absent: frozenset[str] = frozenset(),
) -> Any:
    """`fn()`, retried with backoff while AWS throttles; every failure becomes `_CheckFailed`.
    An error whose code is in `absent` means "there is none" and returns None."""
    delay = THROTTLE_FIRST_DELAY
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except NotImplementedError:
            # An in-process emulator (moto's decorator) raises this for operations it lacks.
            raise _CheckFailed(CheckStatus.UNAVAILABLE, f"not available at this endpoint: it does not implement {operation}") from None
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            if code in absent:
                return None
            if code in _THROTTLED:
                if attempt < attempts:
                    sleep(delay)
                    delay *= 2
                    continue
                raise _CheckFailed(
                    CheckStatus.THROTTLED, f"throttled: AWS kept throttling {operation} ({attempts} attempts); try again later"
                ) from None
            if code in _DENIED:
                raise _CheckFailed(
                    CheckStatus.NOT_PERMITTED, f"not permitted: your identity needs {operation} for this check"
                ) from None
            if code in _UNKNOWN_OPERATION or _status_code(exc) in (404, 501):
                raise _CheckFailed(
                    CheckStatus.UNAVAILABLE, f"not available at this endpoint: it does not know {operation} ({code})"
                ) from None
            raise _CheckFailed(CheckStatus.FAILED, translate(exc, operation).message) from None
        except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.UnknownEndpointError) as exc:
            raise _CheckFailed(CheckStatus.UNAVAILABLE, f"not available at this endpoint: {exc}") from None
        except (botocore.exceptions.BotoCoreError, S3CredError) as exc:
            raise _CheckFailed(CheckStatus.FAILED, translate(exc, operation).message) from None
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _document_text(document: Mapping[str, Any]) -> str:
    # ASCII JSON: IAM's policy parameters accept only tabs, line breaks and U+0020-U+00FF, and
    # JSON's \uXXXX escapes keep any other character of a key name exactly.
    return json.dumps(document, separators=(",", ":"))


# --------------------------------------------------------------------------------------------
# What is checked
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckSubject:
    """A policy and what it is for, with what AWS should weigh beside it.

    `boundary` is a document (or `boundary_arn` is read from the account); `bucket_policies`
    maps bucket names to their policies (or `read_bucket_policies` reads them); `caller_arn` is
    the IAM user the credentials will be (AWS's simulator weighs a bucket policy only for an IAM
    user as the caller). `reference_policy` is what a custom policy is proven against.
    """

    policy: Mapping[str, Any]
    buckets: tuple[str, ...]
    access: AccessLevel
    prefix: str = ""
    policy_name: str = "the generated policy"
    boundary: Named | None = None
    boundary_arn: str | None = None
    bucket_policies: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    read_bucket_policies: bool = False
    caller_arn: str | None = None
    reference_policy: Mapping[str, Any] | None = None


def _reference_for(buckets: Sequence[str], prefix: str) -> dict[str, Any] | None:
    """The broadest generated policy (read-write) for the same buckets and prefix."""
    from s3cred_tui.core.policies import policy_for

    try:
        return policy_for(list(buckets), AccessLevel.READ_WRITE, prefix)
    except S3CredError:  # a custom policy may name buckets no generated policy can
        return None


def subject_for_request(
    policy: Mapping[str, Any], buckets: Sequence[str], access: AccessLevel | str, prefix: str = ""
) -> CheckSubject:
    """The policy alone (the `policy` command, the create form's preview)."""
    access = AccessLevel(access)
    custom = access is AccessLevel.CUSTOM
    return CheckSubject(
        policy=policy,
        buckets=tuple(buckets),
        access=access,
        prefix=prefix,
        policy_name="the custom policy" if custom else "the generated policy",
        reference_policy=_reference_for(buckets, prefix) if custom else None,
    )


def subject_for_plan(plan: Plan) -> CheckSubject:
    """The plan's policy with everything AWS would weigh: the new user's boundary, the bucket
    policies and, for a permanent key, the user as the caller. Pure: the boundary and the bucket
    policies are read by `run_aws_checks`."""
    assert plan.policy is not None
    request = plan.request
    subject = subject_for_request(plan.policy, request.buckets, request.access, request.prefix)
    boundary_arn = next(
        (step.params.get("PermissionsBoundary") for step in plan.steps if step.params.get("PermissionsBoundary")), None
    )
    caller_arn = None
    identity = plan.identity
    if request.kind is CredentialKind.PERMANENT and identity is not None and request.username:
        partition = identity.arn.split(":")[1] if identity.arn.startswith("arn:") else "aws"
        caller_arn = f"arn:{partition}:iam::{identity.account}:user/{request.username}"
    return replace(subject, boundary_arn=boundary_arn, read_bucket_policies=True, caller_arn=caller_arn)


# --------------------------------------------------------------------------------------------
# Policy simulator
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulatedRequest:
    """One request of the matrix: what it asks for, and the bucket policy that applies to it."""

    label: str
    action: str
    resource: str
    context: Mapping[str, str | list[str]] = field(default_factory=dict)
    resource_policy: Named | None = None


@dataclass(frozen=True)
class SimulationRow:
    request: SimulatedRequest
    offline: Decision | None  # None: the offline evaluator could not read a policy (offline_error)
    aws_decision: str  # allowed | explicitDeny | implicitDeny, as AWS spells it
    aws_statements: tuple[str, ...] = ()
    missing_context: tuple[str, ...] = ()
    boundary_allows: bool | None = None
    offline_error: str = ""

    @property
    def aws_allowed(self) -> bool:
        return self.aws_decision == "allowed"

    @property
    def offline_decision(self) -> str:
        """The offline decision in AWS's spelling, so the two compare word for word."""
        if self.offline is None:
            return "unknown"
        return {"Allow": "allowed", "ExplicitDeny": "explicitDeny", "ImplicitDeny": "implicitDeny"}[self.offline.decision]

    @property
    def agrees(self) -> bool:
        return self.offline is not None and self.offline_decision == self.aws_decision

    @property
    def disagrees(self) -> bool:
        return self.offline is not None and not self.agrees

    @property
    def offline_reason(self) -> str:
        return self.offline.reason if self.offline is not None else self.offline_error

    @property
    def aws_reason(self) -> str:
        """AWS's answer in plain words: the statements it matched, or what is missing."""
        where = "; ".join(self.aws_statements)
        if self.aws_decision == "allowed":
            reason = f"allowed by {where}" if where else "allowed"
        elif self.aws_decision == "explicitDeny":
            reason = f"denied explicitly by {where}" if where else "denied explicitly"
        else:
            reason = "no statement allows it (implicit deny)"
            if self.boundary_allows is False:
                reason += "; the permissions boundary does not allow it"
        if self.missing_context:
            reason += f"; context keys AWS had no value for: {', '.join(self.missing_context)}"
        return reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.request.label,
            "action": self.request.action,
            "resource": self.request.resource,
            "context": dict(self.request.context),
            "bucket_policy": self.request.resource_policy is not None,
            "offline": self.offline_decision,
            "offline_reason": self.offline_reason,
            "aws": self.aws_decision,
            "aws_reason": self.aws_reason,
            "agrees": self.agrees,
        }


@dataclass(frozen=True)
class SimulationCheck:
    status: CheckStatus
    message: str = ""
    rows: tuple[SimulationRow, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def disagreements(self) -> list[SimulationRow]:
        return [row for row in self.rows if row.disagrees]

    @property
    def summary(self) -> str:
        if self.status is not CheckStatus.DONE:
            return f"IAM policy simulator: {self.message}"
        total, differ = len(self.rows), len(self.disagreements)
        unknown = sum(1 for row in self.rows if row.offline is None)
        if differ:
            text = f"IAM policy simulator: AWS DISAGREES with the offline evaluator on {differ} of {total} requests"
        else:
            text = f"IAM policy simulator: AWS agrees with the offline evaluator on {total - unknown} of {total} requests"
        if unknown:
            text += f" ({unknown} the offline evaluator could not judge)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "message": self.message,
            "agree": sum(1 for row in self.rows if row.agrees),
            "disagree": len(self.disagreements),
            "rows": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }


def _outside(prefix: str) -> str:
    # The same sibling the probe uses (reports/ -> reports-outside/), so the two matrices match.
    return prefix.rstrip("/") + "-outside/" if prefix else ""


def _other_bucket(buckets: Sequence[str]) -> str:
    name, counter = "s3cred-tui-other-bucket", 2
    while name in buckets:
        name, counter = f"s3cred-tui-other-bucket-{counter}", counter + 1
    return name


_ACTIONS = {"list": "s3:ListBucket", "read": "s3:GetObject", "write": "s3:PutObject", "delete": "s3:DeleteObject"}


def matrix_requests(
    buckets: Sequence[str],
    access: AccessLevel | str,
    prefix: str = "",
    bucket_policies: Mapping[str, Named] | None = None,
) -> list[SimulatedRequest]:
    """The probe's matrix (`probe.probe_cases`) as simulator requests, for the first
    `MAX_SIMULATED_BUCKETS` buckets and a bucket the policy does not name.

    Listing rows carry `s3:prefix` (none at the root, as a listing without a prefix sends none);
    object rows name one fixed key inside or outside the prefix.
    """
    # Imported here: probe imports boto3, and `--help` reads this module (for the charged checks' price).
    from s3cred_tui.core.probe import probe_cases

    level = AccessLevel(access)
    # A custom policy has no level to expect from; every check is asked all the same.
    matrix_level = AccessLevel.READ_WRITE if level is AccessLevel.CUSTOM else level
    named = list(buckets)[:MAX_SIMULATED_BUCKETS]
    policies = bucket_policies or {}
    requests = []
    for case in probe_cases(named, matrix_level, prefix, other_bucket=_other_bucket(buckets)):
        place = {"inside": prefix, "outside": _outside(prefix), "root": "", "other-bucket": ""}[case.where]
        if case.check == "list":
            resource = f"arn:aws:s3:::{case.bucket}"
            context: dict[str, str | list[str]] = {"s3:prefix": place} if place else {}
            shown = f"s3://{case.bucket}/{place}"
        else:
            key = place + S3_PROBE_KEY
            resource = f"arn:aws:s3:::{case.bucket}/{key}"
            context = {}
            shown = f"s3://{case.bucket}/{key}"
        requests.append(
            SimulatedRequest(f"{case.label} ({shown})", _ACTIONS[case.check], resource, context, policies.get(case.bucket))
        )
    return requests


# Global condition keys whose simulator type is not a string (ContextKeyType).
_CONTEXT_TYPES = {
    "aws:securetransport": "boolean",
    "aws:multifactorauthpresent": "boolean",
    "aws:viaawsservice": "boolean",
    "aws:multifactorauthage": "numeric",
    "aws:epochtime": "numeric",
    "s3:max-keys": "numeric",
    "aws:sourceip": "ip",
    "aws:currenttime": "date",
    "aws:tokenissuetime": "date",
}


def _context_entries(context: Mapping[str, str | list[str]]) -> list[dict[str, Any]]:
    entries = []
    for key, value in context.items():
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        kind = _CONTEXT_TYPES.get(key.lower(), "string")
        if isinstance(value, (list, tuple)):
            kind += "List"
        entries.append({"ContextKeyName": key, "ContextKeyValues": [str(v) for v in values], "ContextKeyType": kind})
    return entries


def _statement_words(statement: Mapping[str, Any], names: Mapping[str, str]) -> str:
    source = str(statement.get("SourcePolicyId", ""))
    name = names.get(source, source or "a policy")
    start = (statement.get("StartPosition") or {}).get("Line")
    end = (statement.get("EndPosition") or {}).get("Line")
    if start and end and start != end:
        return f"{name} (lines {start}-{end})"
    return f"{name} (line {start})" if start else name


def _result_for(results: list[dict[str, Any]], action: str, resource: str) -> dict[str, Any] | None:
    """AWS's answer for `action` on `resource`: its ResourceSpecificResults entry when there is
    one (the top level is an aggregate over every resource asked about), else the top level."""
    for result in results:
        if result.get("EvalActionName", "").lower() != action.lower():
            continue
        for specific in result.get("ResourceSpecificResults") or ():
            if specific.get("EvalResourceName") == resource:
                return {
                    "decision": specific["EvalResourceDecision"],
                    "statements": specific.get("MatchedStatements") or [],
                    "missing": specific.get("MissingContextValues") or [],
                    "boundary": (specific.get("PermissionsBoundaryDecisionDetail") or {}).get("AllowedByPermissionsBoundary"),
                }
        if result.get("EvalResourceName") in (resource, "*", None):
            return {
                "decision": result["EvalDecision"],
                "statements": result.get("MatchedStatements") or [],
                "missing": result.get("MissingContextValues") or [],
                "boundary": (result.get("PermissionsBoundaryDecisionDetail") or {}).get("AllowedByPermissionsBoundary"),
            }
    return None


def compare_with_aws(
    ctx: AwsContext,
    requests: Sequence[SimulatedRequest],
    identity_policies: Sequence[Named],
    *,
    boundary: Named | None = None,
    caller_arn: str | None = None,
    resource_owner: str | None = None,
    notes: Sequence[str] = (),
    sleep: Callable[[float], None] = time.sleep,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> SimulationCheck:
    """Ask `iam:SimulateCustomPolicy` about each request and compare with the offline evaluator,
    which is given exactly the same policies, caller and context.

    Requests sharing a resource, a context and a bucket policy go in one call (one resource per
    call, so AWS's answer is never an aggregate over resources). `caller_arn` must be an IAM user
    (the simulator accepts no other caller); `resource_owner` is an account id.
    """
    names = {f"PolicyInputList.{i + 1}": name for i, (name, _) in enumerate(identity_policies)}
    if boundary is not None:
        names["PermissionsBoundaryPolicyInputList.1"] = boundary[0]
    groups: dict[tuple[str, str, str], list[SimulatedRequest]] = {}
    for request in requests:
        policy_text = _document_text(request.resource_policy[1]) if request.resource_policy else ""
        key = (request.resource, json.dumps(dict(request.context), sort_keys=True), policy_text)
        groups.setdefault(key, []).append(request)
    answers: dict[int, dict[str, Any]] = {}
    try:
        for (resource, _, policy_text), members in groups.items():
            if is_cancelled():
                return SimulationCheck(CheckStatus.SKIPPED, "cancelled", notes=tuple(notes))
            params: dict[str, Any] = {
                "PolicyInputList": [_document_text(doc) for _, doc in identity_policies],
                "ActionNames": list(dict.fromkeys(r.action for r in members)),
                "ResourceArns": [resource],
            }
            if boundary is not None:
                params["PermissionsBoundaryPolicyInputList"] = [_document_text(boundary[1])]
            if policy_text:
                params["ResourcePolicy"] = policy_text
                names["ResourcePolicy"] = members[0].resource_policy[0]  # type: ignore[index]
            if caller_arn:
                params["CallerArn"] = caller_arn
            if resource_owner:
                params["ResourceOwner"] = f"arn:aws:iam::{resource_owner}:root"
            if members[0].context:
                params["ContextEntries"] = _context_entries(members[0].context)
            results = _simulate_all(ctx, params, sleep)
            for request in members:
                answer = _result_for(results, request.action, resource)
                if answer is None:
                    raise _CheckFailed(CheckStatus.FAILED, f"AWS's answer left out {request.action} on {resource}")
                answer["names"] = dict(names)
                answers[id(request)] = answer
    except _CheckFailed as failure:
        return SimulationCheck(failure.status, failure.message, notes=tuple(notes))
    rows = []
    for request in requests:
        answer = answers[id(request)]
        offline, error = _offline(request, identity_policies, boundary, caller_arn, resource_owner)
        rows.append(
            SimulationRow(
                request,
                offline,
                answer["decision"],
                tuple(_statement_words(s, answer["names"]) for s in answer["statements"]),
                tuple(answer["missing"]),
                answer["boundary"],
                error,
            )
        )
    return SimulationCheck(CheckStatus.DONE, "", tuple(rows), tuple(notes))


def _simulate_all(ctx: AwsContext, params: dict[str, Any], sleep: Callable[[float], None]) -> list[dict[str, Any]]:
    """Every EvaluationResult of one simulation, following Marker while IsTruncated."""
    results: list[dict[str, Any]] = []
    marker = None
    while True:
        page_params = dict(params, Marker=marker) if marker else params
        page = _call(lambda page_params=page_params: ctx.iam.simulate_custom_policy(**page_params), operation="iam:SimulateCustomPolicy", sleep=sleep)
        results.extend(page.get("EvaluationResults") or [])
        marker = page.get("Marker") if page.get("IsTruncated") else None
        if not marker:
            return results


def _offline(
    request: SimulatedRequest,
    identity_policies: Sequence[Named],
    boundary: Named | None,
    caller_arn: str | None,
    resource_owner: str | None,
) -> tuple[Decision | None, str]:
    try:
        decision = evaluate(
            RequestContext(request.action, request.resource, dict(request.context), caller_arn),
            list(identity_policies),
            boundary=boundary,
            resource_policy=request.resource_policy,
            resource_account=resource_owner,
        )
    except PolicyError as exc:
        return None, f"the offline evaluator cannot read it: {exc.message}"
    return decision, ""


# --------------------------------------------------------------------------------------------
# Access Analyzer: ValidatePolicy
# --------------------------------------------------------------------------------------------

FINDING_ORDER = ("ERROR", "SECURITY_WARNING", "WARNING", "SUGGESTION")
FINDING_WORDS = {
    "ERROR": "error",
    "SECURITY_WARNING": "security warning",
    "WARNING": "warning",
    "SUGGESTION": "suggestion",
}


@dataclass(frozen=True)
class ValidationFinding:
    finding_type: str  # ERROR | SECURITY_WARNING | WARNING | SUGGESTION
    issue_code: str
    details: str
    learn_more_link: str
    locations: tuple[str, ...] = ()  # `Statement[0].Action[1] (line 5)`

    @property
    def kind(self) -> str:
        return FINDING_WORDS.get(self.finding_type, self.finding_type.lower())

    @property
    def text(self) -> str:
        where = f" at {', '.join(self.locations)}" if self.locations else ""
        return f"{self.kind} {self.issue_code}{where}: {self.details}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.finding_type,
            "issue_code": self.issue_code,
            "details": self.details,
            "learn_more_link": self.learn_more_link,
            "locations": list(self.locations),
        }


@dataclass(frozen=True)
class ValidationCheck:
    policy_name: str
    status: CheckStatus
    message: str = ""
    findings: tuple[ValidationFinding, ...] = ()

    @property
    def summary(self) -> str:
        head = f"Access Analyzer ValidatePolicy ({self.policy_name})"
        if self.status is not CheckStatus.DONE:
            return f"{head}: {self.message}"
        if not self.findings:
            return f"{head}: no findings"
        counts = []
        for finding_type in FINDING_ORDER:
            n = sum(1 for f in self.findings if f.finding_type == finding_type)
            if n:
                counts.append(f"{n} {FINDING_WORDS[finding_type]}{'s' if n != 1 else ''}")
        return f"{head}: {', '.join(counts)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy_name,
            "status": self.status.value,
            "message": self.message,
            "findings": [f.to_dict() for f in self.findings],
        }


def _path_text(path: Sequence[Mapping[str, Any]]) -> str:
    """`Statement[0].Resource[1]`: AWS names a policy's keys with `value` (its own examples) or `key`."""
    text = ""
    for element in path:
        name = element.get("key", element.get("value"))
        if name is not None:
            text += ("." if text else "") + str(name)
        elif "index" in element:
            text += f"[{element['index']}]"
        elif "substring" in element:
            sub = element["substring"]
            text += f"[characters {sub.get('start')}-{sub.get('start', 0) + sub.get('length', 0)}]"
    return text


def _location_text(location: Mapping[str, Any]) -> str:
    path = _path_text(location.get("path") or [])
    line = ((location.get("span") or {}).get("start") or {}).get("line")
    if path and line:
        return f"{path} (line {line})"
    return path or (f"line {line}" if line else "")


def validate_with_aws(
    ctx: AwsContext,
    policy_name: str,
    document: Mapping[str, Any],
    policy_type: str = "IDENTITY_POLICY",
    *,
    resource_type: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ValidationCheck:
    """Access Analyzer's findings for one policy, most severe first (every page)."""
    params: dict[str, Any] = {"policyDocument": _document_text(document), "policyType": policy_type, "locale": "EN"}
    if resource_type:
        params["validatePolicyResourceType"] = resource_type
    analyzer = ctx.client("accessanalyzer")
    findings: list[ValidationFinding] = []
    token = None
    try:
        while True:
            page_params = dict(params, nextToken=token) if token else params
            page = _call(lambda page_params=page_params: analyzer.validate_policy(**page_params), operation="access-analyzer:ValidatePolicy", sleep=sleep)
            for raw in page.get("findings") or ():
                findings.append(
                    ValidationFinding(
                        finding_type=raw["findingType"],
                        issue_code=raw["issueCode"],
                        details=raw["findingDetails"],
                        learn_more_link=raw["learnMoreLink"],
                        locations=tuple(t for t in (_location_text(loc) for loc in raw.get("locations") or ()) if t),
                    )
                )
            token = page.get("nextToken")
            if not token:
                break
    except _CheckFailed as failure:
        return ValidationCheck(policy_name, failure.status, failure.message)
    rank = {t: i for i, t in enumerate(FINDING_ORDER)}
    findings.sort(key=lambda f: rank.get(f.finding_type, len(rank)))
    return ValidationCheck(policy_name, CheckStatus.DONE, "", tuple(findings))


# --------------------------------------------------------------------------------------------
# Access Analyzer: charged checks (CheckAccessNotGranted, CheckNoNewAccess)
# --------------------------------------------------------------------------------------------

# Never granted by any generated level: changing who may reach the bucket, deleting it or its history.
ADMIN_ACTIONS = (
    "s3:DeleteBucket",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketAcl",
    "s3:PutObjectAcl",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:DeleteObjectVersion",
    "s3:BypassGovernanceRetention",
)
WRITE_DELETE_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject", "s3:RestoreObject")
READ_ACTIONS = (
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:GetObjectAttributes",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
)


@dataclass(frozen=True)
class ProofSpec:
    """One charged check: `CheckAccessNotGranted` of `actions`, or `CheckNoNewAccess` against `reference`."""

    title: str
    operation: str  # CheckAccessNotGranted | CheckNoNewAccess
    policy: Mapping[str, Any]
    actions: tuple[str, ...] = ()
    reference: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ProofResult:
    title: str
    operation: str
    status: CheckStatus
    passed: bool | None = None
    message: str = ""
    reasons: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        if self.status is not CheckStatus.DONE:
            return f"{self.title}: {self.message}"
        verdict = "PASS (proven)" if self.passed else "FAIL"
        return f"{self.title}: {verdict}" + (f" - {self.message}" if self.message else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "operation": self.operation,
            "status": self.status.value,
            "result": None if self.passed is None else ("PASS" if self.passed else "FAIL"),
            "message": self.message,
            "reasons": list(self.reasons),
        }


def proofs_for(subject: CheckSubject) -> list[ProofSpec]:
    """The charged checks that prove what `subject`'s level promises."""
    policy = subject.policy
    if subject.access is AccessLevel.READ_ONLY:
        return [ProofSpec("Grants no write, delete or bucket administration", "CheckAccessNotGranted", policy,
                          WRITE_DELETE_ACTIONS + ADMIN_ACTIONS)]
    if subject.access is AccessLevel.WRITE_ONLY:
        return [ProofSpec("Grants no read, listing, delete or bucket administration", "CheckAccessNotGranted", policy,
                          READ_ACTIONS + ("s3:DeleteObject",) + ADMIN_ACTIONS)]
    if subject.access is AccessLevel.READ_WRITE:
        return [ProofSpec("Grants no version deletion or bucket administration", "CheckAccessNotGranted", policy, ADMIN_ACTIONS)]
    if subject.reference_policy is None:
        return []
    return [ProofSpec("Grants nothing beyond the generated read-write policy for these buckets and prefix",
                      "CheckNoNewAccess", policy, reference=subject.reference_policy)]


def paid_cost_text(count: int) -> str:
    """What running `count` charged checks costs, in words (one place for the price)."""
    if count == 0:
        return "no charged check applies"
    calls = f"{count} charged Access Analyzer call{'s' if count != 1 else ''}"
    return f"{calls}, about ${count * PAID_CHECK_PRICE_USD:.3f}; pricing: {PRICING_URL}"


def run_proof(ctx: AwsContext, spec: ProofSpec, *, sleep: Callable[[float], None] = time.sleep) -> ProofResult:
    analyzer = ctx.client("accessanalyzer")
    operation = f"access-analyzer:{spec.operation}"
    try:
        if spec.operation == "CheckAccessNotGranted":
            answer = _call(
                lambda: analyzer.check_access_not_granted(
                    policyDocument=_document_text(spec.policy),
                    access=[{"actions": list(spec.actions)}],
                    policyType="IDENTITY_POLICY",
                ),
                operation=operation,
                sleep=sleep,
            )
        else:
            assert spec.reference is not None
            answer = _call(
                lambda: analyzer.check_no_new_access(
                    newPolicyDocument=_document_text(spec.policy),
                    existingPolicyDocument=_document_text(spec.reference),  # type: ignore[arg-type]
                    policyType="IDENTITY_POLICY",
                ),
                operation=operation,
                sleep=sleep,
            )
    except _CheckFailed as failure:
        return ProofResult(spec.title, spec.operation, failure.status, None, failure.message)
    reasons = []
    for reason in answer.get("reasons") or ():
        where = reason.get("statementId") or (
            f"statement [{reason['statementIndex']}]" if reason.get("statementIndex") is not None else ""
        )
        reasons.append(f"{where}: {reason.get('description', '')}".strip(": ") if where else reason.get("description", ""))
    return ProofResult(
        spec.title, spec.operation, CheckStatus.DONE, answer.get("result") == "PASS", answer.get("message", ""), tuple(reasons)
    )


# --------------------------------------------------------------------------------------------
# Everything at once
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwsChecksReport:
    simulation: SimulationCheck
    validations: tuple[ValidationCheck, ...]
    proofs: tuple[ProofResult, ...] = ()
    # Why the charged checks did not run (not asked for: their cost), or "" when they ran.
    proofs_note: str = ""
    unavailable: str = ""  # set when nothing could run at this endpoint

    @property
    def disagreements(self) -> list[SimulationRow]:
        return self.simulation.disagreements

    @property
    def summary(self) -> str:
        """One line for a status bar or a log."""
        if self.unavailable:
            return f"AWS checks: {self.unavailable}"
        parts = [self.simulation.summary] + [v.summary for v in self.validations] + [p.summary for p in self.proofs]
        return " · ".join(parts)

    def lines(self) -> list[str]:
        """The report as plain text lines (the CLI's stderr)."""
        if self.unavailable:
            return [f"AWS checks: {self.unavailable}"]
        lines = [self.simulation.summary]
        for note in self.simulation.notes:
            lines.append(f"  note: {note}")
        for row in self.simulation.rows:
            if row.disagrees:
                lines.append(f"  DISAGREE  {row.request.label}: {row.request.action} on {row.request.resource}")
                lines.append(f"            offline: {row.offline_decision}: {row.offline_reason}")
                lines.append(f"            AWS:     {row.aws_decision}: {row.aws_reason}")
            else:
                word = "agree" if row.agrees else "unknown"
                lines.append(f"  {word:<8}  {row.request.label}: {row.aws_decision}")
        if self.disagreements:
            lines.append(f"  {DISAGREEMENT_NOTE}")
        for validation in self.validations:
            lines.append(validation.summary)
            for finding in validation.findings:
                lines.append(f"  {finding.text}")
                lines.append(f"    {finding.learn_more_link}")
        for proof in self.proofs:
            lines.append(f"Access Analyzer {proof.operation}: {proof.summary}")
            for reason in proof.reasons:
                lines.append(f"  {reason}")
        if self.proofs_note:
            lines.append(f"Access Analyzer charged checks: {self.proofs_note}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "unavailable": self.unavailable or None,
            "simulation": self.simulation.to_dict(),
            "validations": [v.to_dict() for v in self.validations],
            "proofs": [p.to_dict() for p in self.proofs],
            "proofs_note": self.proofs_note or None,
        }


def unavailable_report(reason: str) -> AwsChecksReport:
    """Every check, reported as not available for `reason` (no call is made)."""
    return AwsChecksReport(
        SimulationCheck(CheckStatus.UNAVAILABLE, reason),
        (),
        unavailable=reason,
    )


def _is_iam_user_arn(arn: str | None) -> bool:
    parts = (arn or "").split(":", 5)
    return len(parts) == 6 and parts[2] == "iam" and parts[5].startswith("user/")


def check_request_with_aws(
    ctx: AwsContext,
    request: RequestContext,
    identity_policies: Sequence[Named],
    *,
    boundary: Named | None = None,
    session_policy: Named | None = None,
    resource_policy: Named | None = None,
    resource_account: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> AwsChecksReport:
    """One request (the `simulate` command) put to AWS's simulator, and every policy validated.

    The simulator takes no session policy, so a request with one is not compared; it takes only an
    IAM user as the caller, so another principal is left out of the comparison (said in a note)."""
    reason = unavailable_reason(ctx)
    if reason:
        return unavailable_report(reason)
    notes: list[str] = []
    caller = request.principal_arn if _is_iam_user_arn(request.principal_arn) else None
    if request.principal_arn and caller is None:
        notes.append(
            f"compared without the caller {request.principal_arn}: AWS's simulator takes only an IAM user as the caller"
        )
    if session_policy is not None:
        simulation = SimulationCheck(
            CheckStatus.SKIPPED,
            "not compared: AWS's simulator takes no session policy (it would read it as one more identity policy)",
        )
    elif resource_policy is not None and caller is None:
        simulation = SimulationCheck(
            CheckStatus.SKIPPED,
            "not compared: AWS's simulator weighs a resource policy only with an IAM user as the caller (--principal)",
        )
    else:
        simulation = compare_with_aws(
            ctx,
            [SimulatedRequest("the request", request.action, request.resource, dict(request.context), resource_policy)],
            identity_policies,
            boundary=boundary,
            caller_arn=caller,
            resource_owner=resource_account,
            notes=notes,
            sleep=sleep,
        )
    to_validate: list[tuple[Named, str, str | None]] = [(p, "IDENTITY_POLICY", None) for p in identity_policies]
    to_validate += [(p, "IDENTITY_POLICY", None) for p in (boundary, session_policy) if p is not None]
    if resource_policy is not None:
        s3_resource = request.resource.split(":")[2:3] == ["s3"]
        to_validate.append((resource_policy, "RESOURCE_POLICY", "AWS::S3::Bucket" if s3_resource else None))
    validations = tuple(
        validate_with_aws(ctx, name, document, policy_type, resource_type=resource_type, sleep=sleep)
        for (name, document), policy_type, resource_type in to_validate
    )
    statuses = {simulation.status, *(v.status for v in validations)}
    if CheckStatus.UNAVAILABLE in statuses and statuses <= {CheckStatus.UNAVAILABLE, CheckStatus.SKIPPED}:
        return unavailable_report(next(c.message for c in (simulation, *validations) if c.status is CheckStatus.UNAVAILABLE))
    return AwsChecksReport(simulation, validations)


def _read_bucket_policies(
    ctx: AwsContext, buckets: Sequence[str], sleep: Callable[[float], None]
) -> tuple[dict[str, Mapping[str, Any]], list[str]]:
    from s3cred_tui.core.inventory import decode_policy_document

    found: dict[str, Mapping[str, Any]] = {}
    notes: list[str] = []
    for bucket in buckets:
        try:
            raw = _call(
                lambda bucket=bucket: ctx.s3.get_bucket_policy(Bucket=bucket),
                operation="s3:GetBucketPolicy",
                sleep=sleep,
                absent=frozenset({"NoSuchBucketPolicy", "NoSuchBucket"}),
            )
        except _CheckFailed as failure:
            notes.append(f"the bucket policy of {bucket} could not be read ({failure.message}); simulated without it")
            continue
        if raw is None:
            continue
        try:
            found[bucket] = decode_policy_document(raw.get("Policy") or "{}")
        except ValueError:
            notes.append(f"the bucket policy of {bucket} is not JSON; simulated without it")
    return found, notes


def run_aws_checks(
    ctx: AwsContext,
    subject: CheckSubject,
    *,
    paid: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    is_cancelled: Callable[[], bool] = lambda: False,
) -> AwsChecksReport:
    """Every check of `subject`: the simulator's matrix, ValidatePolicy, and (with `paid`) the
    charged proofs. Never raises for AWS's sake; at a non-AWS endpoint no call is made."""
    reason = unavailable_reason(ctx)
    if reason:
        return unavailable_report(reason)
    notes: list[str] = []
    boundary = subject.boundary
    if boundary is None and subject.boundary_arn:
        from s3cred_tui.core.inventory import managed_policy_document

        try:
            boundary = (f"permissions boundary {subject.boundary_arn.rsplit('/', 1)[-1]}",
                        managed_policy_document(ctx, subject.boundary_arn))
        except S3CredError as exc:
            notes.append(f"the permissions boundary {subject.boundary_arn} could not be read ({exc.message}); simulated without it")
    bucket_policies = dict(subject.bucket_policies)
    if subject.read_bucket_policies:
        read, read_notes = _read_bucket_policies(ctx, subject.buckets[:MAX_SIMULATED_BUCKETS], sleep)
        bucket_policies.update(read)
        notes.extend(read_notes)
    if bucket_policies and not subject.caller_arn:
        notes.append(
            "bucket policies left out: AWS's simulator weighs a bucket policy only for an IAM user as the caller, "
            "and these credentials are a session"
        )
        bucket_policies = {}
    if len(subject.buckets) > MAX_SIMULATED_BUCKETS:
        notes.append(f"the first {MAX_SIMULATED_BUCKETS} of {len(subject.buckets)} buckets are simulated")
    named_bucket_policies = {b: (f"bucket policy of {b}", doc) for b, doc in bucket_policies.items()}
    requests = matrix_requests(subject.buckets, subject.access, subject.prefix, named_bucket_policies)
    simulation = compare_with_aws(
        ctx,
        requests,
        [(subject.policy_name, subject.policy)],
        boundary=boundary,
        caller_arn=subject.caller_arn if bucket_policies else None,
        notes=notes,
        sleep=sleep,
        is_cancelled=is_cancelled,
    )
    validations = (validate_with_aws(ctx, subject.policy_name, subject.policy, sleep=sleep),)
    if simulation.status is CheckStatus.UNAVAILABLE and all(v.status is CheckStatus.UNAVAILABLE for v in validations):
        # An emulator without these operations: said once, quietly, and the charged checks not tried.
        return unavailable_report(simulation.message)
    specs = proofs_for(subject)
    proofs: tuple[ProofResult, ...] = ()
    proofs_note = ""
    if not specs:
        proofs_note = "none applies to this policy"
    elif paid:
        proofs = tuple(run_proof(ctx, spec, sleep=sleep) for spec in specs if not is_cancelled())
    else:
        proofs_note = (
            f"not run, since AWS charges for them ({paid_cost_text(len(specs))}); turned on, they prove the policy "
            f"{specs[0].title[0].lower()}{specs[0].title[1:]}"
        )
    return AwsChecksReport(simulation, validations, proofs, proofs_note)
