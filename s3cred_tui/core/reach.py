"""What policies grant, read back through the evaluator: S3 reach, and who may assume a role.

Names lie (a user called `s3.read-only.reports` may have been given write access since), so
both answers come from the policies themselves, asked of `core.simulate`:

- `reach_of(policies, ...)`: every bucket and prefix the Allow statements name, and what the
  principal can do there (list, read, write, delete) once boundaries and Denies are applied.
  A statement whose resource covers every bucket (`*`, `arn:aws:s3:::*`) is reported as the
  bucket `*`, decided for a bucket no policy names.
- `who_can_assume(trust_policy, role_arn)`: each principal a role's trust policy names, and
  whether the evaluator lets it assume the role. Principals of another account (or `*`) are
  asked with an identity policy of their own allowing `sts:AssumeRole` (cross-account access
  needs both sides); a statement with a Condition is reported as conditional, with its keys,
  since its request keys are unknown here.

Public API:
- `Reach(bucket, prefix, capabilities, level, error=None)`; `level` is "read-write",
  "read-only", "write-only", "list-only" or "none"
- `reach_of(policies, *, boundary=None, principal_arn=None, resource_policy_for=None) -> tuple[Reach, ...]`
- `level_of(capabilities) -> str`, `reach_text(reach) -> str` ("reports/2024/ read-only")
- `TrustEntry(principal, principal_type, who, allowed, conditional, reason)`
- `who_can_assume(trust_policy, role_arn) -> tuple[TrustEntry, ...]`
- `bucket_policy_access(bucket_policy, bucket, prefix, bucket_account, known_principals=()) ->
  list[access_map.UserAccess]`: the access-map rows of principals only a bucket policy names
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from s3cred_tui.core.access_map import CAPABILITIES, UserAccess
from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.policies import as_list
from s3cred_tui.core.simulate import RequestContext, evaluate, s3_capabilities

__all__ = ["Reach", "TrustEntry", "bucket_policy_access", "level_of", "reach_of", "reach_text", "who_can_assume"]

NamedPolicy = tuple[str, Mapping[str, Any]]

_S3_ARN = re.compile(r"^arn:aws[\w-]*:s3:::(.*)$")
_WILDCARDS = ("*", "?", "${")
# A bucket name no policy names, standing in for "any bucket" when a resource covers them all.
ANY_BUCKET = "*"
_ANY_BUCKET_PROBE = "s3cred-reach-any-bucket"


@dataclass(frozen=True)
class Reach:
    bucket: str  # a bucket name, or "*" for every bucket
    prefix: str  # "" for the whole bucket
    capabilities: tuple[str, ...]  # the allowed ones of list, read, write, delete
    level: str
    error: str | None = None  # the evaluator could not read a policy: nothing concluded


def level_of(capabilities: Iterable[str]) -> str:
    allowed = set(capabilities)
    if "read" in allowed and "write" in allowed:
        return "read-write"
    if "read" in allowed:
        return "read-only"
    if "write" in allowed:
        return "write-only"
    if "list" in allowed:
        return "list-only"
    return "none"


def reach_text(reach: Reach) -> str:
    where = "every bucket" if reach.bucket == ANY_BUCKET else f"{reach.bucket}/{reach.prefix}"
    if reach.error:
        return f"{where}: not evaluated ({reach.error})"
    return f"{where} {reach.level}"


def _literal_folder(path: str) -> str:
    """`reports/2024/*` -> `reports/2024/`: the folder before any wildcard or variable."""
    cut = min((i for i in (path.find(w) for w in _WILDCARDS) if i >= 0), default=len(path))
    literal = path[:cut]
    return literal[: literal.rfind("/") + 1]


def _targets(documents: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(bucket, prefix) pairs the Allow statements name, in the order first named.

    A bucket named only as the bucket (`arn:aws:s3:::reports`) is the whole bucket; once any
    object resource names it, its folders are the targets (a ListBucket on the bucket is then
    what lets those folders be listed, not a reach of its own).
    """
    buckets: list[str] = []
    folders: dict[str, list[str]] = {}
    any_bucket = False
    for document in documents:
        for statement in as_list(document.get("Statement") if isinstance(document, Mapping) else None):
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                continue
            if "NotResource" in statement:
                any_bucket = True
                continue
            for resource in as_list(statement.get("Resource")):
                resource = str(resource)
                if resource == "*":
                    any_bucket = True
                    continue
                match = _S3_ARN.match(resource)
                if match is None:
                    continue
                bucket, _, path = match.group(1).partition("/")
                if not bucket or any(w in bucket for w in _WILDCARDS):
                    any_bucket = True
                    continue
                if bucket not in buckets:
                    buckets.append(bucket)
                if "/" in match.group(1):
                    folder = _literal_folder(path)
                    if folder not in folders.setdefault(bucket, []):
                        folders[bucket].append(folder)
    targets = [(bucket, folder) for bucket in buckets for folder in (folders.get(bucket) or [""])]
    if any_bucket:
        targets.append((ANY_BUCKET, ""))
    return targets


def reach_of(
    policies: Iterable[NamedPolicy],
    *,
    boundary: NamedPolicy | None = None,
    principal_arn: str | None = None,
    resource_policy_for: Callable[[str], NamedPolicy | None] | None = None,
) -> tuple[Reach, ...]:
    """What the policies let the principal do at each bucket and prefix they name.

    `resource_policy_for(bucket)` may give a bucket's policy, so a bucket-policy Deny (or grant)
    counts. A policy the evaluator cannot read gives one entry with `error` per target.
    """
    policies = list(policies)
    out: list[Reach] = []
    for bucket, prefix in _targets(document for _, document in policies):
        asked = _ANY_BUCKET_PROBE if bucket == ANY_BUCKET else bucket
        resource_policy = resource_policy_for(bucket) if resource_policy_for and bucket != ANY_BUCKET else None
        try:
            decisions = s3_capabilities(
                policies, asked, prefix, boundary=boundary, principal_arn=principal_arn, resource_policy=resource_policy
            )
        except S3CredError as exc:
            out.append(Reach(bucket, prefix, (), "none", error=exc.message))
            continue
        allowed = tuple(name for name in CAPABILITIES if decisions[name].allowed)
        out.append(Reach(bucket, prefix, allowed, level_of(allowed)))
    return tuple(out)


# -- who may assume a role --------------------------------------------------------------------


@dataclass(frozen=True)
class TrustEntry:
    principal: str  # as written in the trust policy ("*", an account, an ARN, a service name)
    principal_type: str  # "AWS", "Service", "Federated", "CanonicalUser"
    who: str  # in a few words: "user alice", "this account", "account 999999999999", "anyone"
    allowed: bool  # the evaluator's answer, with any Condition taken as met
    conditional: tuple[str, ...]  # condition keys the statement depends on (empty: unconditional)
    reason: str


_ROOT_ARN = re.compile(r"^arn:([\w-]+):iam::(\d{12}):root$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_IAM_ARN = re.compile(r"^arn:([\w-]+):iam::(\d{12}):(user|role)/(.+)$")
_STAND_IN = "s3cred-reach-principal"
_OTHER_ACCOUNT = "000000000000"


_DELEGATES = " Any of its principals whose own policies allow sts:AssumeRole on the role gets in."


def _caller_for(principal: str, role_account: str, partition: str) -> tuple[str, str, str]:
    """A caller ARN standing for `principal`, the principal in a few words, and what naming it means
    beyond itself ("" for a single principal)."""
    if principal == "*":
        return (f"arn:{partition}:iam::{_OTHER_ACCOUNT}:user/{_STAND_IN}", "anyone",
                " That is every principal of every AWS account whose own policies allow sts:AssumeRole.")
    root = _ROOT_ARN.match(principal)
    account = root.group(2) if root else principal if _ACCOUNT_ID.match(principal) else None
    if account is not None:
        whose = "this account" if account == role_account else f"account {account}"
        return f"arn:{partition}:iam::{account}:user/{_STAND_IN}", whose, _DELEGATES
    named = _IAM_ARN.match(principal)
    if named is not None and named.group(3) == "role":
        role_name = named.group(4).rsplit("/", 1)[-1]
        return (
            f"arn:{named.group(1)}:sts::{named.group(2)}:assumed-role/{role_name}/{_STAND_IN}",
            f"sessions of role {role_name}" + ("" if named.group(2) == role_account else f" (account {named.group(2)})"),
            "",
        )
    if named is not None:
        user = named.group(4).rsplit("/", 1)[-1]
        return principal, f"user {user}" + ("" if named.group(2) == role_account else f" (account {named.group(2)})"), ""
    return principal, f"principal {principal}", ""


def _statement_principals(statement: Mapping[str, Any]) -> list[tuple[str, str]]:
    value = statement.get("Principal")
    if value == "*":
        return [("AWS", "*")]
    if not isinstance(value, Mapping):
        return []
    return [(str(kind), str(name)) for kind, names in value.items() for name in as_list(names)]


def _condition_keys(statement: Mapping[str, Any]) -> tuple[str, ...]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return ()
    return tuple(sorted({str(k) for entries in condition.values() if isinstance(entries, Mapping) for k in entries}))


def _without_conditions(policy: Mapping[str, Any]) -> dict[str, Any]:
    """The trust policy with Allow conditions taken as met (their request keys are unknown here)
    and conditional Denies left out (they can only narrow who gets in); trust policies have no
    Resource, so `*` is added (the role's own ARN is what they apply to)."""
    kept = []
    for statement in as_list(policy.get("Statement")):
        if not isinstance(statement, Mapping):
            continue
        if statement.get("Effect") == "Deny" and statement.get("Condition"):
            continue
        copied = {k: v for k, v in statement.items() if k != "Condition"}
        if "Resource" not in copied and "NotResource" not in copied:
            copied["Resource"] = "*"
        kept.append(copied)
    return {"Version": policy.get("Version", "2012-10-17"), "Statement": kept}


def who_can_assume(trust_policy: Any, role_arn: str) -> tuple[TrustEntry, ...]:
    """Each principal the trust policy's Allow statements name, and the evaluator's answer for it."""
    if not isinstance(trust_policy, Mapping):
        return ()
    parts = role_arn.split(":")
    partition = parts[1] if len(parts) > 4 and parts[1] else "aws"
    role_account = parts[4] if len(parts) > 4 else ""
    permissive = _without_conditions(trust_policy)
    entries: list[TrustEntry] = []
    seen: set[tuple[str, str]] = set()
    for statement in as_list(trust_policy.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        conditional = _condition_keys(statement)
        for principal_type, principal in _statement_principals(statement):
            if (principal_type, principal) in seen:
                continue
            seen.add((principal_type, principal))
            if principal_type != "AWS":
                kinds = {"Service": "the AWS service", "Federated": "users of the identity provider"}
                who = f"{kinds.get(principal_type, principal_type)} {principal}"
                entries.append(
                    TrustEntry(principal, principal_type, who, True, conditional,
                               f"The trust policy names {who}; the policy evaluator models AWS principals only.")
                )
                continue
            caller, who, meaning = _caller_for(principal, role_account, partition)
            own = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}
            try:
                decision = evaluate(
                    RequestContext("sts:AssumeRole", role_arn, {}, caller),
                    [("its own policy allowing sts:AssumeRole", own)],
                    resource_policy=("trust policy", permissive),
                    resource_account=role_account or None,
                )
            except S3CredError as exc:
                entries.append(TrustEntry(principal, principal_type, who, False, conditional,
                                          f"The trust policy could not be evaluated: {exc.message}"))
                continue
            # The identity side is a stand-in ("its own policies allow it"): what admits the principal
            # is the trust policy's statements, so those are what the reason names.
            trusting = [s.label for s in decision.deciding if s.policy_name == "trust policy"]
            if decision.allowed:
                reason = f"Admitted by {'; '.join(trusting) or 'the trust policy'}.{meaning}"
            else:
                reason = decision.reason
            if conditional:
                reason += f" Only when its Condition holds ({', '.join(conditional)})."
            entries.append(TrustEntry(principal, principal_type, who, decision.allowed, conditional, reason))
    return tuple(entries)


# -- principals a bucket policy names -----------------------------------------------------------

_THEIR_SIDE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


def bucket_policy_access(
    bucket_policy: Mapping[str, Any] | None,
    bucket: str,
    prefix: str,
    bucket_account: str | None,
    known_principals: Iterable[str] = (),
) -> list[UserAccess]:
    """Rows of the access map for the principals the bucket policy's Allow statements name that the
    account's own user and role rows do not cover: `*` (anyone, even without credentials), other
    accounts and their principals (their own account must allow it too: assumed here, so the row
    shows what the bucket policy opens), services (named, not evaluated). The bucket's own account
    is left out: naming it delegates to the users' and roles' own policies, which their rows show.
    """
    if not isinstance(bucket_policy, Mapping):
        return []
    known = set(known_principals)
    named = ("bucket policy", dict(bucket_policy))
    rows: list[UserAccess] = []
    seen: set[tuple[str, str]] = set()
    for statement in as_list(bucket_policy.get("Statement")):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        conditional = _condition_keys(statement)
        for principal_type, principal in _statement_principals(statement):
            if (principal_type, principal) in seen or principal in known:
                continue
            seen.add((principal_type, principal))
            when = f"when its Condition holds ({', '.join(conditional)})" if conditional else ""
            if principal_type != "AWS":
                rows.append(UserAccess(
                    f"{principal_type} {principal}", None, None, None, None, kind="bucket policy",
                    error=f"The bucket policy names {principal_type} {principal}; the policy evaluator models AWS "
                          "principals only.",
                ))
                continue
            if principal == "*":
                caller, who, identity, account = None, "anyone (*)", [], None
                via = "anyone, even without AWS credentials"
            else:
                caller, who, _meaning = _caller_for(principal, bucket_account or "", "aws")
                if who == "this account":
                    continue  # delegation to the account's own policies: the user and role rows show it
                parts = caller.split(":")
                account = parts[4] if len(parts) > 4 else None
                same = bool(bucket_account) and account == bucket_account
                identity = [] if same else [("its own account's policies (assumed to allow)", _THEIR_SIDE)]
                via = "" if same else "if its own account's policies allow it too"
            try:
                decisions = s3_capabilities(
                    identity, bucket, prefix, resource_policy=named, principal_arn=caller,
                    resource_account=bucket_account if caller else None,
                )
            except S3CredError as exc:
                rows.append(UserAccess(who, None, None, None, None, kind="bucket policy", error=exc.message))
                continue
            rows.append(UserAccess(
                who, decisions["list"], decisions["read"], decisions["write"], decisions["delete"],
                kind="bucket policy", via="; ".join(v for v in (via, when) if v),
                notes=(f"Only {when}.",) if conditional else (),
            ))
    return rows
