"""Prove a key is scoped: a short matrix of real S3 requests made with it.

The expected answer of every request comes from the access level and prefix the person asked
for, never from the policy, so a policy that grants more than was asked for shows up as a
mismatch; or, given `expect` (a key whose policies are known: the user screen's probe), from
those policies through the evaluator, asked about the exact request made. Probes leave data as it was: reads are HEAD requests on keys looked up with the
caller's own identity; writes go to a unique temporary key, only where the level allows writing
(or where the probe expects a refusal), and anything that was written is deleted straight away.

Public API:
- `probe_cases(buckets, access, prefix) -> list[ProbeCase]`
- `ProbeResult`, `ProbeReport` (`.tally -> ProbeTally`: agree/differ/unclear and Condition-decided counts)
- `allowed_word(allowed) -> str` (allowed / denied / unclear)
- `run_probe(caller, credentials, buckets, access, prefix, on_result=None, expect=None, ...) -> ProbeReport`
- `Expectation`: `(action, resource ARN, request context) -> allowed`, what `expect` is
- `wait_until_usable(ctx, ...) -> float` (seconds waited for a new key to be accepted)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import botocore.exceptions

from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.errors import S3CredError, translate
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext

# Codes a brand-new key answers with until IAM has propagated it.
_NOT_YET_CODES = {"InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch"}
_DENIED_CODES = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled"}
_ABSENT_CODES = {"NoSuchKey", "404", "NotFound"}

PROBE_KEY_NAME = ".s3cred-probe-{token}"

# Whether a request (action, resource ARN, request context such as s3:prefix) should be allowed:
# the expected answer of a probe row when it comes from known policies rather than an access level.
Expectation = Callable[[str, str, Mapping[str, str]], bool]


@dataclass(frozen=True)
class ProbeCase:
    """One request: what it does, where, and whether the requested access should allow it."""

    check: str  # "list", "read", "write", "delete"
    where: str  # "inside", "outside", "root", "other-bucket"
    bucket: str
    target: str  # the prefix listed or the object key used
    expected_allowed: bool
    # AWS decides this one with a Condition (ListBucket's s3:prefix), which emulators such as moto ignore.
    decided_by_condition: bool = False
    # The prefix the key was given, so an "outside" read can pick a real key beside it.
    scope_prefix: str = ""

    @property
    def label(self) -> str:
        places = {
            "inside": "inside the prefix",
            "outside": "outside the prefix",
            "root": "at the bucket root",
            "other-bucket": "in another bucket",
        }
        return f"{self.check} {places[self.where]}"


def allowed_word(allowed: bool | None) -> str:
    """How an expected or observed answer is shown: allowed, denied, or unclear (None)."""
    return {True: "allowed", False: "denied", None: "unclear"}[allowed]


@dataclass(frozen=True)
class ProbeResult:
    case: ProbeCase
    observed_allowed: bool | None  # None: the answer could not tell (see detail)
    detail: str

    @property
    def agrees(self) -> bool:
        return self.observed_allowed is not None and self.observed_allowed == self.case.expected_allowed

    @property
    def unclear(self) -> bool:
        return self.observed_allowed is None

    @property
    def differs(self) -> bool:
        """The key answered, and not as the access asked for says it should."""
        return not self.unclear and not self.agrees


@dataclass(frozen=True)
class ProbeTally:
    """How a probe's answers compare with the access asked for: the counts every view shows."""

    total: int
    agree: int
    differ: int
    unclear: int
    # Rows AWS decides with a Condition (`ProbeCase.decided_by_condition`): a view marks them
    # and explains that emulators ignore Conditions.
    condition_decided: int
    # Of `differ`, those decided by a Condition: on an emulator they may differ although AWS enforces them.
    differ_by_condition: int


@dataclass
class ProbeReport:
    results: list[ProbeResult] = field(default_factory=list)
    waited_seconds: float = 0.0
    attempts: int = 0  # requests until the new key was accepted
    cleanup_problems: list[str] = field(default_factory=list)

    @property
    def all_agree(self) -> bool:
        return all(r.agrees for r in self.results) and not self.cleanup_problems

    @property
    def mismatches(self) -> list[ProbeResult]:
        return [r for r in self.results if not r.agrees]

    @property
    def tally(self) -> ProbeTally:
        results = self.results
        return ProbeTally(
            total=len(results),
            agree=sum(1 for r in results if r.agrees),
            differ=sum(1 for r in results if r.differs),
            unclear=sum(1 for r in results if r.unclear),
            condition_decided=sum(1 for r in results if r.case.decided_by_condition),
            differ_by_condition=sum(1 for r in results if r.differs and r.case.decided_by_condition),
        )


def _outside_prefix(prefix: str) -> str:
    """A sibling of the prefix that shares its first characters: `reports/` -> `reports-outside/`.

    A policy that forgot the trailing `/` would wrongly grant exactly this kind of sibling.
    """
    return prefix.rstrip("/") + "-outside/" if prefix else ""


def probe_cases(
    buckets: Sequence[str], access: AccessLevel | str, prefix: str = "", other_bucket: str | None = None
) -> list[ProbeCase]:
    access = AccessLevel(access)
    can_read, can_write, can_delete = access.can_read, access.can_write, access.can_delete
    token = uuid.uuid4().hex[:12]
    cases: list[ProbeCase] = []
    for bucket in buckets:
        inside_key = prefix + PROBE_KEY_NAME.format(token=token)
        cases.append(ProbeCase("list", "inside", bucket, prefix, can_read))
        if prefix:
            outside = _outside_prefix(prefix)
            outside_key = outside + PROBE_KEY_NAME.format(token=token)
            cases.append(ProbeCase("list", "outside", bucket, outside, False, decided_by_condition=can_read))
            cases.append(ProbeCase("list", "root", bucket, "", False, decided_by_condition=can_read))
        cases.append(ProbeCase("read", "inside", bucket, prefix, can_read))
        if prefix:
            cases.append(ProbeCase("read", "outside", bucket, outside, False, scope_prefix=prefix))
        cases.append(ProbeCase("write", "inside", bucket, inside_key, can_write))
        if prefix:
            cases.append(ProbeCase("write", "outside", bucket, outside_key, False))
        cases.append(ProbeCase("delete", "inside", bucket, inside_key + "-absent", can_delete))
        if prefix:
            cases.append(ProbeCase("delete", "outside", bucket, outside_key + "-absent", False))
    if other_bucket:
        cases.append(ProbeCase("list", "other-bucket", other_bucket, "", False))
        cases.append(ProbeCase("read", "other-bucket", other_bucket, "", False))
    return cases


def _error_code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _call_with_new_key(
    fn: Callable[[], Any], deadline: float, sleep: Callable[[float], None], clock: Callable[[], float]
) -> tuple[Any, int]:
    """Call `fn`, retrying while the new key is not yet known to S3 (bounded by `deadline`)."""
    delay, attempts = 0.2, 0
    while True:
        attempts += 1
        try:
            return fn(), attempts
        except botocore.exceptions.ClientError as exc:
            if _error_code(exc) not in _NOT_YET_CODES or clock() + delay > deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 3.0)


def wait_until_usable(
    ctx: AwsContext,
    *,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_wait: Callable[[int, float], None] | None = None,
) -> float:
    """Wait until STS accepts the key, with bounded exponential backoff; returns seconds waited."""
    started = clock()
    delay, attempt = 0.2, 0
    while True:
        attempt += 1
        try:
            ctx.sts.get_caller_identity()
            return clock() - started
        except botocore.exceptions.ClientError as exc:
            if _error_code(exc) not in _NOT_YET_CODES | _DENIED_CODES or clock() - started + delay > timeout:
                raise translate(exc, "sts:GetCallerIdentity") from None
        if on_wait:
            on_wait(attempt, delay)
        sleep(delay)
        delay = min(delay * 2, 3.0)


AUTO = "auto"


def pick_other_bucket(caller: AwsContext, buckets: Sequence[str]) -> str | None:
    """A bucket of the account that the key was not given, to prove it cannot reach it."""
    try:
        listing = caller.s3.list_buckets(MaxBuckets=100)
    except Exception:  # probing other buckets is a bonus; the caller may not list buckets
        return None
    return next((b["Name"] for b in listing.get("Buckets", []) if b["Name"] not in buckets), None)


def _find_object(caller: AwsContext, bucket: str, prefix: str, avoid_prefix: str | None = None) -> str | None:
    """An existing key under `prefix`, looked up with the caller's own identity (nothing is downloaded)."""
    paginator = caller.s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": 100, "MaxItems": 1000}):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if avoid_prefix and key.startswith(avoid_prefix):
                continue
            return key
    return None


def _observe(fn: Callable[[], Any], deadline, sleep, clock, *, absent_means_allowed: bool) -> tuple[bool | None, str, int]:
    try:
        _, attempts = _call_with_new_key(fn, deadline, sleep, clock)
        return True, "allowed", attempts
    except botocore.exceptions.ClientError as exc:
        code = _error_code(exc)
        if code in _DENIED_CODES:
            return False, "AccessDenied", 1
        if code in _ABSENT_CODES:
            if absent_means_allowed:
                return True, f"allowed ({code}: the key is not there, and the answer says so)", 1
            return None, f"inconclusive ({code})", 1
        return None, f"error: {translate(exc).message}", 1


def run_probe(
    caller: AwsContext,
    credentials: Credentials,
    buckets: Sequence[str],
    access: AccessLevel | str,
    prefix: str = "",
    *,
    other_bucket: str | None = AUTO,
    on_result: Callable[[ProbeResult], None] | None = None,
    on_wait: Callable[[int, float], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
    timeout: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    expect: Expectation | None = None,
) -> ProbeReport:
    """Run the matrix with `credentials`; `caller` (the person's own identity) finds keys and cleans up.

    `other_bucket` is a bucket the key must not reach: AUTO picks one of the account's, None skips it.
    `expect`, when given, decides each row's expected answer from the exact request made (the key
    read outside the prefix is only known once found) instead of from `access`.
    """
    if other_bucket == AUTO:
        other_bucket = pick_other_bucket(caller, buckets)
    key_ctx = caller.for_keys(credentials.access_key_id, credentials.secret_access_key, credentials.session_token)
    report = ProbeReport(attempts=1)

    def count_wait(attempt: int, delay: float) -> None:
        report.attempts = attempt + 1
        if on_wait:
            on_wait(attempt, delay)

    report.waited_seconds = wait_until_usable(key_ctx, timeout=timeout, sleep=sleep, clock=clock, on_wait=count_wait)
    deadline = clock() + timeout
    s3 = key_ctx.s3
    written: list[tuple[str, str]] = []
    try:
        for case in probe_cases(buckets, access, prefix, other_bucket):
            if is_cancelled():
                break
            result = _run_case(caller, s3, case, written, deadline, sleep, clock, expect)
            report.results.append(result)
            if on_result:
                on_result(result)
    finally:
        for bucket, key in written:
            try:
                caller.s3.delete_object(Bucket=bucket, Key=key)
            except Exception as exc:  # reported, never silently left behind
                report.cleanup_problems.append(f"s3://{bucket}/{key}: {translate(exc).message}")
    return report


def _expected(case: ProbeCase, expect: Expectation | None, action: str, resource: str, context=None) -> ProbeCase:
    """The case with its expected answer from `expect` for this exact request (unchanged without one)."""
    if expect is None:
        return case
    return replace(case, expected_allowed=expect(action, resource, dict(context or {})))


def _run_case(
    caller, s3, case: ProbeCase, written: list[tuple[str, str]], deadline, sleep, clock, expect: Expectation | None = None
) -> ProbeResult:
    bucket, target = case.bucket, case.target
    bucket_arn = f"arn:aws:s3:::{bucket}"
    try:
        if case.check == "list":
            case = _expected(case, expect, "s3:ListBucket", bucket_arn, {"s3:prefix": target})
            allowed, detail, _ = _observe(
                lambda: s3.list_objects_v2(Bucket=bucket, Prefix=target, Delimiter="/", MaxKeys=1),
                deadline, sleep, clock, absent_means_allowed=False,
            )
            return ProbeResult(case, allowed, detail)
        if case.check == "read":
            if case.where == "outside":
                # Best proof: a real key that shares the prefix's first characters (reports-private/...
                # beside reports/), else any key of the bucket outside the prefix.
                scope = case.scope_prefix
                key = _find_object(caller, bucket, scope.rstrip("/"), avoid_prefix=scope) or _find_object(
                    caller, bucket, "", avoid_prefix=scope
                )
            else:
                key = _find_object(caller, bucket, target)
            if key is None:
                # A missing key answers 404 only to a caller allowed to read it; AccessDenied otherwise.
                key = target + PROBE_KEY_NAME.format(token=uuid.uuid4().hex[:12]) + "-absent"
            case = _expected(case, expect, "s3:GetObject", f"{bucket_arn}/{key}")
            allowed, detail, _ = _observe(
                lambda: s3.head_object(Bucket=bucket, Key=key), deadline, sleep, clock, absent_means_allowed=True
            )
            if allowed is False and key.endswith("-absent") and case.expected_allowed:
                detail = "AccessDenied (no object to read here; a missing key may answer 403 without ListBucket)"
                allowed = None
            return ProbeResult(case, allowed, f"{detail} · HEAD {key}")
        if case.check == "write":
            case = _expected(case, expect, "s3:PutObject", f"{bucket_arn}/{target}")
            allowed, detail, _ = _observe(
                lambda: s3.put_object(Bucket=bucket, Key=target, Body=b"s3cred-tui probe; safe to delete\n"),
                deadline, sleep, clock, absent_means_allowed=False,
            )
            if allowed:
                written.append((bucket, target))
            return ProbeResult(case, allowed, f"{detail} · PUT {target}")
        if case.check == "delete":
            # Deleting a key that does not exist answers 204 when allowed: nothing real is touched.
            case = _expected(case, expect, "s3:DeleteObject", f"{bucket_arn}/{target}")
            allowed, detail, _ = _observe(
                lambda: s3.delete_object(Bucket=bucket, Key=target), deadline, sleep, clock, absent_means_allowed=True
            )
            return ProbeResult(case, allowed, f"{detail} · DELETE {target}")
    except S3CredError as exc:
        return ProbeResult(case, None, f"error: {exc.message}")
    except botocore.exceptions.BotoCoreError as exc:
        return ProbeResult(case, None, f"error: {translate(exc).message}")
    raise ValueError(f"unknown probe check {case.check!r}")
