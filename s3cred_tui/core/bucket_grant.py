"""Granting another AWS account (or one role or user in it) access through the bucket policy.

A backup or CI service that asks for "an access key to your bucket" needs no key of this account:
a bucket-policy statement naming its account grants the chosen level and prefix, and the other
account gives its own principal the matching identity policy (cross-account access needs an
allow on both sides). What this module writes into a bucket policy:

- Statements built by `policies.policy_for` for that one bucket, each with a `Principal` and a
  `Sid` starting with `grant_sid_base(principal)` (`S3CredTui` + account + a hash of the ARN), so
  the grant is found again by Sid: a second grant to the same principal replaces its statements,
  `without_grant` removes them, and no other statement is dropped, reordered or rewritten.
- The previous document's exact text is the step's `restore`, so a failed run (or the journal's
  recover) puts it back byte for byte, or deletes the policy when there was none; the apply step
  refuses to overwrite a policy changed since the plan.

Read-only facts in the plan: Block Public Access (a policy naming one account is not public, so it
does not block the grant), and Object Ownership (BucketOwnerEnforced is recommended when the other
account writes, so its objects belong to the bucket owner).

Public API:
- `principal_arn_for(value) -> str` (an account id or an IAM ARN; `ValidationError(field="grant")`)
- `grant_sid_base(principal_arn) -> str`, `grant_statements(bucket, access, principal_arn, prefixes=(),
  keys=(), mode=PLAIN) -> list[dict]`, `other_account_policy(buckets, access, prefixes=(), keys=(), mode=PLAIN) -> dict`
- `merge_grant(existing_text, statements) -> dict`, `without_grant(existing_text, principal_arn) -> dict | None`
- `policy_diff(before_text, after) -> str`
- `BucketGrantRequest`, `GrantPlan`, `build_grant_plan(ctx, request, identity=None) -> GrantPlan`,
  `build_revoke_plan(ctx, buckets, principal, identity=None) -> GrantPlan`
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui import PROG
from s3cred_tui.core import policies
from s3cred_tui.core.describe import outcome_lines, policy_lines
from s3cred_tui.core.errors import ValidationError, translate
from s3cred_tui.core.request import AccessLevel, PrefixMode

if TYPE_CHECKING:
    from s3cred_tui.core.apply import StepKind
    from s3cred_tui.core.inventory import Identity
    from s3cred_tui.core.plan import Step
    from s3cred_tui.core.session import AwsContext

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PRINCIPAL_ARN = re.compile(r"^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):(root|user/[\w+=,.@/-]+|role/[\w+=,.@/-]+)$")
SID_PREFIX = "S3CredTui"


def principal_arn_for(value: str) -> str:
    """The principal to name: a 12-digit account id (its `:root`, i.e. the account, which then
    decides which of its principals may use the grant) or the ARN of one user or role in it."""
    text = (value or "").strip() if isinstance(value, str) else ""
    if _ACCOUNT_ID.match(text):
        return f"arn:aws:iam::{text}:root"
    if _PRINCIPAL_ARN.match(text):
        return text
    raise ValidationError(
        "grant",
        "Name the other account by its 12-digit id, or one user or role in it by its ARN "
        "(arn:aws:iam::123456789012:role/NAME).",
    )


def account_of(principal_arn: str) -> str:
    return principal_arn.split(":")[4]


def grant_sid_base(principal_arn: str) -> str:
    """The Sid every statement of this principal's grant starts with (letters and digits only)."""
    digest = hashlib.sha256(principal_arn.encode()).hexdigest()[:8]
    return f"{SID_PREFIX}{account_of(principal_arn)}{digest}"


def grant_statements(
    bucket: str,
    access: AccessLevel | str,
    principal_arn: str,
    prefixes: Iterable[str] = (),
    keys: Iterable[str] = (),
    mode: PrefixMode = PrefixMode.PLAIN,
) -> list[dict[str, Any]]:
    """The generated statements for this bucket, each naming the principal, under the grant's Sids."""
    base = grant_sid_base(principal_arn)
    document = policies.policy_for([bucket], access, prefixes=tuple(prefixes), keys=tuple(keys), mode=mode)
    statements = []
    for statement in document["Statement"]:
        named = {"Sid": base + statement["Sid"], "Effect": statement["Effect"], "Principal": {"AWS": principal_arn}}
        named.update({k: v for k, v in statement.items() if k not in ("Sid", "Effect")})
        statements.append(named)
    return statements


def other_account_policy(
    buckets: Iterable[str],
    access: AccessLevel | str,
    prefixes: Iterable[str] = (),
    keys: Iterable[str] = (),
    mode: PrefixMode = PrefixMode.PLAIN,
) -> dict[str, Any]:
    """The identity policy the other account must give its principal (cross-account needs both sides)."""
    return policies.policy_for(buckets, access, prefixes=tuple(prefixes), keys=tuple(keys), mode=mode)


def _statements_of(existing_text: str | None) -> tuple[dict[str, Any], list[Any]]:
    if existing_text is None:
        return {"Version": policies.POLICY_VERSION}, []
    document = json.loads(existing_text)
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    return document, list(statements)


def _grant_sids(statements: Iterable[dict[str, Any]]) -> set[str]:
    return {s["Sid"] for s in statements}


def merge_grant(existing_text: str | None, statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The bucket policy with the grant's statements: ones with the same Sid are replaced where they
    stand, new ones are appended, every other statement (and key) is kept as it was."""
    document, current = _statements_of(existing_text)
    new_by_sid = {s["Sid"]: s for s in statements}
    merged: list[Any] = []
    placed: set[str] = set()
    for statement in current:
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        if sid in new_by_sid:
            if sid not in placed:
                merged.append(new_by_sid[sid])
                placed.add(sid)
            continue
        if isinstance(sid, str) and _same_grant(sid, statements):
            continue  # a statement of an earlier grant to this principal that the new one no longer has
        merged.append(statement)
    merged.extend(s for s in statements if s["Sid"] not in placed)
    return {**document, "Statement": merged}


def _same_grant(sid: str, statements: list[dict[str, Any]]) -> bool:
    bases = {s["Principal"]["AWS"] for s in statements}
    return any(sid.startswith(grant_sid_base(arn)) for arn in bases)


def without_grant(existing_text: str | None, principal_arn: str) -> dict[str, Any] | None:
    """The bucket policy with this principal's grant removed; None when nothing else is left."""
    document, current = _statements_of(existing_text)
    base = grant_sid_base(principal_arn)
    kept = [s for s in current if not (isinstance(s, dict) and str(s.get("Sid", "")).startswith(base))]
    return {**document, "Statement": kept} if kept else None


def policy_diff(before_text: str | None, after: dict[str, Any] | None) -> str:
    """A unified diff of the bucket policy, both sides indented the same way."""
    before_lines = policies.policy_json(json.loads(before_text)).splitlines() if before_text else []
    after_lines = policies.policy_json(after).splitlines() if after is not None else []
    return "\n".join(
        difflib.unified_diff(before_lines, after_lines, "bucket policy now", "bucket policy after", lineterm="")
    )


@dataclass(frozen=True)
class BucketGrantRequest:
    buckets: tuple[str, ...]
    principal: str  # an account id or a user/role ARN in the other account, as typed
    access: AccessLevel = AccessLevel.READ_ONLY
    prefixes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    prefix_mode: PrefixMode = PrefixMode.PLAIN


@dataclass
class GrantPlan:
    """Like `plan.Plan`, for a bucket-policy grant: `apply.apply_plan` runs it (steps, blockers,
    identity); it makes no credentials. `other_account_policy` is what the other side must attach."""

    request: BucketGrantRequest
    principal_arn: str
    identity: Identity | None
    other_account_policy: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)  # bucket -> diff of its policy
    revoking: bool = False  # the plan removes the grant instead of adding it

    policy = None  # no access policy of the credentials' own: each step sends its document

    @property
    def ok(self) -> bool:
        return not self.blockers

    @property
    def revoke_command(self) -> str:
        """The command that takes this grant out again, ready to paste."""
        buckets = " ".join(shlex.quote(bucket) for bucket in self.request.buckets)
        return f"{PROG} revoke-grant {buckets} --account {shlex.quote(self.principal_arn)}"

    def add(
        self, kind: StepKind, title: str, params: dict[str, Any], *, document: dict[str, Any] | None, restore: dict[str, Any]
    ) -> Step:
        from s3cred_tui.core.plan import Step

        step = Step(kind, title, params, self, document=document, restore=restore)  # type: ignore[arg-type]
        self.steps.append(step)
        return step

    def describe(self) -> str:
        req = self.request
        if self.revoking:
            lines = [f"Plan: remove the bucket-policy grant for {self.principal_arn} from {', '.join(req.buckets)}."]
        else:
            lines = [
                f"Plan: a bucket-policy grant of {req.access.value} access to {', '.join(req.buckets)} "
                f"for {self.principal_arn}."
            ]
        if self.identity is not None:
            lines.append(f"Acting as {self.identity.arn} (account {self.identity.account}).")
        if self.facts:
            lines += ["", "What the account looks like now:"] + [f"  - {fact}" for fact in self.facts]
        lines.append("")
        if self.steps:
            lines.append("Steps:")
            for number, step in enumerate(self.steps, 1):
                lines.append(f"  {number}. {step.title}")
                lines.append(f"     {step.action}(Bucket={step.params['Bucket']!r})")
                lines.extend("     " + line for line in self.diffs.get(step.params["Bucket"], "").splitlines())
        else:
            lines.append("Steps: none.")
        if not self.revoking:
            lines += [
                "",
                "The other account must also allow its principal, in its own IAM (cross-account access needs both sides):",
            ]
            lines.extend(policy_lines(self.other_account_policy, "  "))
        lines += outcome_lines(self.warnings, self.blockers)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "grant": {
                "buckets": list(self.request.buckets),
                "principal": self.principal_arn,
                "access": self.request.access.value,
                "prefixes": list(self.request.prefixes),
                "keys": list(self.request.keys),
            },
            "ok": self.ok,
            "steps": [{**step.to_dict(), "previous_policy": (step.restore or {}).get("Policy")} for step in self.steps],
            "other_account_policy": self.other_account_policy,
            "facts": list(self.facts),
            "warnings": list(self.warnings),
            "blockers": list(self.blockers),
        }


def _code(exc: BaseException) -> str:
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def _read_policy_text(s3: Any, bucket: str) -> str | None:
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except Exception as exc:
        if _code(exc) == "NoSuchBucketPolicy":
            return None
        raise translate(exc, "s3:GetBucketPolicy") from None


def _bucket_facts(s3: Any, bucket: str, access: AccessLevel, plan: GrantPlan) -> None:
    """Block Public Access and Object Ownership, read-only; an unreadable one is a warning."""
    try:
        config = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        on = [name for name, value in config.items() if value]
        plan.facts.append(
            f"bucket {bucket}: Block Public Access {'on (' + ', '.join(on) + ')' if on else 'off'}; "
            "a policy naming one account is not public, so it does not block this grant"
        )
    except Exception as exc:
        if _code(exc) == "NoSuchPublicAccessBlockConfiguration":
            plan.facts.append(f"bucket {bucket}: no Block Public Access configuration")
        else:
            plan.warnings.append(f"bucket {bucket}: could not read Block Public Access ({_code(exc) or 'error'})")
    try:
        rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
        ownership = rules[0]["ObjectOwnership"] if rules else None
    except Exception as exc:
        if _code(exc) != "OwnershipControlsNotFoundError":
            plan.warnings.append(f"bucket {bucket}: could not read Object Ownership ({_code(exc) or 'error'})")
            return
        ownership = None
    plan.facts.append(f"bucket {bucket}: Object Ownership {ownership or 'not set (ACLs decide)'}")
    if access.can_write and ownership != "BucketOwnerEnforced":
        plan.warnings.append(
            f"Bucket {bucket} is not set to Object Ownership BucketOwnerEnforced: objects the other account "
            "writes may stay owned by it. Set BucketOwnerEnforced (s3:PutBucketOwnershipControls) so they "
            "belong to you."
        )


def build_grant_plan(ctx: AwsContext, request: BucketGrantRequest, identity: Identity | None = None) -> GrantPlan:
    """Check the request (its first problem raised before any AWS call), read each bucket's policy,
    Block Public Access and Object Ownership, and lay out one PutBucketPolicy per bucket."""
    from s3cred_tui.core.apply import PUT_BUCKET_POLICY
    from s3cred_tui.core.inventory import whoami
    from s3cred_tui.core.validation import validate_bucket_name

    principal_arn = principal_arn_for(request.principal)
    access = AccessLevel(request.access)
    if access is AccessLevel.CUSTOM:
        raise ValidationError("grant", "A bucket-policy grant is read-only, write-only or read-write, not custom.")
    buckets = tuple(validate_bucket_name(b) for b in request.buckets)
    if not buckets:
        raise ValidationError("buckets", "Choose at least one bucket.")
    request = BucketGrantRequest(buckets, request.principal, access, tuple(request.prefixes), tuple(request.keys), request.prefix_mode)
    statements = {b: grant_statements(b, access, principal_arn, request.prefixes, request.keys, request.prefix_mode) for b in buckets}
    other = other_account_policy(buckets, access, request.prefixes, request.keys, request.prefix_mode)
    if identity is None:
        identity = whoami(ctx)
    plan = GrantPlan(request, principal_arn, identity, other)
    if account_of(principal_arn) == identity.account:
        plan.blockers.append(
            f"{principal_arn} is in this account ({identity.account}); a bucket-policy grant is for another "
            "account. Use `create` for keys of this account."
        )
    from s3cred_tui.core.encryption import kms_grants_for

    kms, kms_facts, kms_warnings = kms_grants_for(ctx, buckets)
    plan.facts.extend(kms_facts)
    plan.warnings.extend(kms_warnings)
    for key_arn in sorted({grant.key_arn for grant in kms}):
        plan.warnings.append(
            f"Objects are encrypted with customer-managed KMS key {key_arn}: the other account can read or write "
            "them only if that key's policy also allows it (kms:Decrypt, kms:GenerateDataKey). This tool does not "
            "change key policies."
        )
    for bucket in buckets:
        before = _read_policy_text(ctx.s3, bucket)
        after = merge_grant(before, statements[bucket])
        size = policies.policy_size(after)
        if size > BUCKET_POLICY_LIMIT:
            plan.blockers.append(
                f"The bucket policy of {bucket} would be {size:,} characters; S3 allows {BUCKET_POLICY_LIMIT:,}."
            )
        plan.facts.append(f"bucket {bucket} has {'a bucket policy' if before else 'no bucket policy'}")
        _bucket_facts(ctx.s3, bucket, access, plan)
        plan.diffs[bucket] = policy_diff(before, after)
        plan.add(
            PUT_BUCKET_POLICY,
            f"Add the grant for {principal_arn} to the bucket policy of {bucket}",
            {"Bucket": bucket},
            document=after,
            restore={"Policy": before} if before is not None else {},
        )
    return plan


BUCKET_POLICY_LIMIT = 20 * 1024  # S3's bucket policy size limit (20 KB)


def build_revoke_plan(ctx: AwsContext, buckets: Iterable[str], principal: str, identity: Identity | None = None) -> GrantPlan:
    """Remove this principal's grant (its Sids) from each bucket policy, the rest untouched; a policy
    left with no statement is deleted. A bucket without the grant gets no step."""
    from s3cred_tui.core.apply import DELETE_BUCKET_POLICY, PUT_BUCKET_POLICY
    from s3cred_tui.core.inventory import whoami
    from s3cred_tui.core.validation import validate_bucket_name

    principal_arn = principal_arn_for(principal)
    names = tuple(validate_bucket_name(b) for b in buckets)
    if not names:
        raise ValidationError("buckets", "Choose at least one bucket.")
    if identity is None:
        identity = whoami(ctx)
    request = BucketGrantRequest(names, principal)
    plan = GrantPlan(request, principal_arn, identity, {"Version": policies.POLICY_VERSION, "Statement": []}, revoking=True)
    base = grant_sid_base(principal_arn)
    for bucket in names:
        before = _read_policy_text(ctx.s3, bucket)
        _, current = _statements_of(before)
        if not any(isinstance(s, dict) and str(s.get("Sid", "")).startswith(base) for s in current):
            plan.facts.append(f"bucket {bucket} has no grant for {principal_arn}")
            continue
        after = without_grant(before, principal_arn)
        plan.diffs[bucket] = policy_diff(before, after)
        if after is None:
            title = f"Delete the bucket policy of {bucket} (only the grant for {principal_arn} was in it)"
            plan.add(DELETE_BUCKET_POLICY, title, {"Bucket": bucket}, document=None, restore={"Policy": before})
        else:
            title = f"Remove the grant for {principal_arn} from the bucket policy of {bucket}"
            plan.add(PUT_BUCKET_POLICY, title, {"Bucket": bucket}, document=after, restore={"Policy": before})
    return plan
