"""A custom policy, checked before use: what parliament finds, what reaches beyond the buckets.

A custom policy is the one place where a person, not this tool, decides what a key can do.
Before it is used it is checked three ways, and the results travel with the plan:

- ``findings``: parliament's lint (unknown actions, `Resource: *` where a narrower resource
  exists, malformed conditions, ...). parliament is imported lazily; when it is missing the
  review says so in ``notes`` and has no findings, never a crash.
- ``broad``: every reason the policy grants more than data access to the named buckets; each
  needs an explicit acknowledgement (the app's confirm step, the CLI's ``--allow-broad``):
  actions outside S3; ``*`` or ``s3:*`` on ``*``; any ``iam:``/``sts:`` action; an Allow with
  ``NotAction`` or ``NotResource``; a ``Principal``/``NotPrincipal`` element; and any grant the
  evaluator in `core.simulate` shows reaching a bucket that is not named (probed on synthetic
  other buckets, including names that share a named bucket's spelling so ``arn:aws:s3:::data*``
  is caught), or an S3 resource outside the named buckets it cannot probe (access points,
  wildcard bucket names). ``s3:ListAllMyBuckets`` alone is not broad: it has no bucket resource,
  shows bucket names and grants nothing in them.
- ``headline``: what the policy really grants, in plain words, for the review screen and CLI.

Reach is read at its widest: Allow conditions are assumed to hold and Deny statements with
conditions are assumed not to apply (a request can usually arrange both), so nothing broad is
hidden behind a condition. Only unconditional Denies narrow what is reported.

Public API
----------
``check_custom_policy(policy, buckets, prefix="") -> PolicyReview``
``PolicyReview(findings, broad, headline, notes=())``: ``.acknowledgement_needed``
``Finding(issue, severity, title, detail, line)``: ``.text``
"""

from __future__ import annotations

import copy
import fnmatch
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.policies import policy_json, string_values
from s3cred_tui.core.simulate import RequestContext, evaluate, s3_capabilities

__all__ = ["OTHER_BUCKET", "Finding", "PolicyReview", "check_custom_policy"]

# A bucket name nobody names, for probing what a policy grants elsewhere.
OTHER_BUCKET = "s3cred-probe-other-bucket"
_PROBE_KEY = "s3cred-probe-object"

# What is asked of the evaluator on a bucket that is not named: data, listing, and the bucket
# settings that hand a bucket to others.
_BUCKET_PROBES = ("s3:ListBucket", "s3:PutBucketPolicy", "s3:DeleteBucket")
_OBJECT_PROBES = ("s3:GetObject", "s3:PutObject", "s3:DeleteObject")

# Account-level S3 actions with no bucket or object resource: probing them on a bucket ARN would
# report a reach they do not have. ListAllMyBuckets shows bucket names and grants nothing in them.
_NOT_BUCKET_ACTIONS = frozenset({"s3:listallmybuckets"})

# Actions that change who can do what, or hand out other credentials: a wildcard that can match
# any of them counts as an IAM/STS grant.
_IAM_STS_SAMPLES = (
    "iam:PassRole",
    "iam:CreateUser",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "sts:AssumeRole",
    "sts:GetFederationToken",
)
_ALL_SAMPLES = ("ec2:RunInstances", "kms:Decrypt", "s3:GetObject", *_IAM_STS_SAMPLES)
_HEADLINE_EXTRAS = 3


@dataclass(frozen=True)
class Finding:
    """One parliament finding; `line` is in `policies.policy_json(policy)` (the shown JSON)."""

    issue: str
    severity: str
    title: str
    detail: str
    line: int | None = None

    @property
    def text(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        title = self.title or self.issue
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.severity or 'NOTE'} {self.issue}{where}: {title}{detail}"


@dataclass(frozen=True)
class PolicyReview:
    findings: tuple[Finding, ...]
    broad: tuple[str, ...]
    headline: str
    notes: tuple[str, ...] = field(default=())

    @property
    def acknowledgement_needed(self) -> bool:
        return bool(self.broad)


def check_custom_policy(policy: Mapping[str, Any], buckets: Sequence[str], prefix: str = "") -> PolicyReview:
    """Review a custom identity policy meant to grant access to `buckets` (under `prefix`)."""
    findings, notes = _parliament(policy)
    statements = _statements(policy)
    broad: list[str] = []

    def add(reason: str) -> None:
        if reason not in broad:
            broad.append(reason)

    for index, statement in enumerate(statements):
        if "Principal" in statement or "NotPrincipal" in statement:
            element = "Principal" if "Principal" in statement else "NotPrincipal"
            add(f"{_label(statement, index)} has a {element} element: this is a resource policy's element, not a user's or session's.")

    unreadable = _unreadable(policy, statements)
    if unreadable:
        add(f"The policy evaluator cannot read the policy ({unreadable}), so what it grants is unknown.")

    unconditional_denies = [_without(s, "Principal", "NotPrincipal") for s in statements if _effect(s) == "Deny" and not s.get("Condition")]
    version = policy.get("Version", "2012-10-17")
    admin = False
    extras: list[str] = []
    for index, statement in enumerate(statements):
        if _effect(statement) != "Allow":
            continue
        label = _label(statement, index)
        actions = string_values(statement.get("Action", statement.get("NotAction")))
        resources = string_values(statement.get("Resource", statement.get("NotResource")))
        not_action, not_resource = "NotAction" in statement, "NotResource" in statement
        every_action = not not_action and any(_matches_everything(a) for a in actions)
        every_resource = not not_resource and "*" in resources
        s3_everywhere = every_resource and any(a.lower() == "s3:*" for a in actions)
        confined = True

        if not_action:
            add(f"{label} allows every action except {', '.join(actions)} (Allow with NotAction).")
            confined = False
        if not_resource:
            add(f"{label} allows {', '.join(actions)} on every resource except {', '.join(resources)} (Allow with NotResource).")
            confined = False
        if every_action:
            confined = False
            if every_resource:
                admin = True
                add(f"{label} allows every action on every resource (* on *): a full administrator.")
            else:
                add(f"{label} allows every action (*) on {', '.join(resources)}.")
        elif not not_action:
            iam_sts = [a for a in actions if _can_match_any(a, _IAM_STS_SAMPLES)]
            outside = [a for a in actions if a not in iam_sts and not a.lower().startswith("s3:")]
            if iam_sts:
                add(f"{label} allows IAM/STS actions ({', '.join(iam_sts)}), which can change permissions or obtain other credentials.")
                confined = False
            if outside:
                add(f"{label} allows actions outside S3 ({', '.join(outside)}).")
                confined = False
            if s3_everywhere:
                add(f"{label} allows s3:* on *: every S3 action on every bucket in the account.")
                confined = False

        reach = _other_bucket_reach(statement, unconditional_denies, version, buckets)
        if reach is None:
            add(f"{label} could not be read by the policy evaluator, so what it reaches is unknown.")
            confined = False
        elif every_action or s3_everywhere:
            pass  # already the widest reason there is for this statement
        elif reach:
            reached, example = reach
            add(f"{label} reaches buckets that are not named ({', '.join(reached)} on a bucket such as {example}).")
            confined = False
        elif not not_resource:
            loose = [r for r in resources if _s3_resource_outside(r, buckets)]
            if loose and any(a.lower().startswith("s3:") for a in actions):
                add(f"{label} grants S3 actions on resources outside the named buckets ({', '.join(loose)}).")
                confined = False
        if not confined:
            extras.append(_describe_grant(actions, resources, not_action, not_resource))

    headline = _headline(policy, statements, buckets, prefix, admin, extras)
    return PolicyReview(tuple(findings), tuple(broad), headline, tuple(notes))


# ---------------------------------------------------------------------------------------------
# parliament


def _parliament(policy: Mapping[str, Any]) -> tuple[list[Finding], list[str]]:
    try:
        import parliament
        from parliament.cli import is_finding_filtered
    except ImportError:
        return [], ["parliament is not installed, so the policy was not linted (pip install parliament)."]
    try:
        analysed = parliament.analyze_policy_string(policy_json(policy))
        out = []
        for raw in analysed.findings:
            enhanced = parliament.enhance_finding(raw)
            if is_finding_filtered(enhanced):
                continue
            location = enhanced.location if isinstance(enhanced.location, Mapping) else {}
            out.append(
                Finding(
                    issue=str(enhanced.issue),
                    severity=str(enhanced.severity or ""),
                    title=str(enhanced.title or ""),
                    detail=_detail_text(enhanced.detail),
                    line=location.get("line") if isinstance(location.get("line"), int) else None,
                )
            )
        return out, []
    except Exception as exc:  # noqa: BLE001 - parliament is a linter; its own failure must not stop the review
        return [], [f"parliament could not lint the policy ({type(exc).__name__})."]


def _detail_text(detail: Any) -> str:
    if isinstance(detail, (list, tuple)):
        # parliament lists actions, or {"action": ..., "required_format": ...} entries per action.
        items = [str(d["action"]) if isinstance(d, Mapping) and "action" in d else str(d) for d in detail]
        if len(items) > 4:
            return f"{len(items)} actions ({', '.join(items[:3])}, ...)"
        return ", ".join(items)
    if isinstance(detail, Mapping):
        return json.dumps(detail, ensure_ascii=False, default=str)
    return "" if detail is None else str(detail)


# ---------------------------------------------------------------------------------------------
# statements


def _statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    raw = policy.get("Statement") if isinstance(policy, Mapping) else None
    if isinstance(raw, Mapping):
        raw = [raw]
    return [s for s in raw if isinstance(s, Mapping)] if isinstance(raw, list) else []


def _effect(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Effect", ""))


def _label(statement: Mapping[str, Any], index: int) -> str:
    """Statements are numbered from 1, as the policy validator numbers them."""
    sid = statement.get("Sid")
    return f"Statement {index + 1} ({sid!r})" if isinstance(sid, str) and sid else f"Statement {index + 1}"


def _without(statement: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in statement.items() if k not in keys}


def _can_match_any(pattern: str, samples: Sequence[str]) -> bool:
    # IAM action wildcards are `*` and `?` only, compared without case; fnmatch also reads `[`,
    # which no action name contains, so escaping it keeps the reading exact.
    escaped = pattern.lower().replace("[", "[[]")
    return any(fnmatch.fnmatchcase(sample.lower(), escaped) for sample in samples)


def _matches_everything(action: str) -> bool:
    """`*`, `*:*` and the like: a pattern that matches an action of every service."""
    return all(_can_match_any(action, [sample]) for sample in _ALL_SAMPLES)


def _s3_resource_outside(resource: str, buckets: Sequence[str]) -> bool:
    """An S3 resource pattern that is not inside one of the named buckets (wildcards in the
    bucket name, access points, other partitions' lookalikes all count as outside)."""
    if resource == "*":
        return False  # the evaluator's probe of other buckets answers for `*` exactly
    if not resource.lower().startswith("arn:") or resource.split(":")[2:3] != ["s3"]:
        return False  # not S3: the actions reason covers non-S3 grants
    if not resource.startswith("arn:aws:s3:::"):
        return True
    bucket = resource[len("arn:aws:s3:::") :].split("/", 1)[0]
    return bucket not in buckets


def _other_bucket_reach(
    statement: Mapping[str, Any], denies: list[dict[str, Any]], version: str, buckets: Sequence[str]
) -> tuple[list[str], str] | tuple[()] | None:
    """The probe actions this Allow statement grants on buckets that are not named and the first
    such bucket, read at its widest (its conditions assumed to hold); `()` when it reaches none,
    None when the evaluator cannot read it."""
    allow = _without(statement, "Condition", "Principal", "NotPrincipal")
    document = {"Version": version, "Statement": [allow, *denies]}
    # action asked -> how it is shown: a statement's own patterns are shown as written.
    probes = {action: action for action in (*_BUCKET_PROBES, *_OBJECT_PROBES)}
    if "NotAction" not in statement:
        for pattern in string_values(statement.get("Action")):
            if pattern.lower().startswith("s3:") and pattern.lower() not in _NOT_BUCKET_ACTIONS:
                probes.setdefault(_an_action_matching(pattern), pattern)
    reached: list[str] = []
    example = ""
    try:
        for bucket in _other_buckets(buckets):
            for action, shown in probes.items():
                for resource in (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/{_PROBE_KEY}"):
                    if shown not in reached and evaluate(RequestContext(action, resource), [document]).allowed:
                        reached.append(shown)
                        example = example or bucket
    except S3CredError:
        return None
    return (reached, example) if reached else ()


def _unreadable(policy: Mapping[str, Any], statements: list[Mapping[str, Any]]) -> str | None:
    """Why the evaluator cannot read the policy as written (Principal aside), or None."""
    document = {"Version": policy.get("Version", "2012-10-17"), "Statement": [_without(s, "Principal", "NotPrincipal") for s in statements]}
    try:
        evaluate(RequestContext("s3:GetObject", f"arn:aws:s3:::{OTHER_BUCKET}/{_PROBE_KEY}"), [document])
    except S3CredError as exc:
        return exc.message
    return None


def _an_action_matching(pattern: str) -> str:
    """A concrete action name that `pattern` matches (its wildcards filled in), so the probe
    asks about exactly what the statement grants, even `s3:*Acl`."""
    return pattern.replace("*", "Probe").replace("?", "P")


def _other_buckets(buckets: Sequence[str]) -> list[str]:
    """Synthetic buckets that are not named: a generic one, and for each named bucket names that
    extend it on either side (what `data*`, `*data` or `data?` would also match)."""
    out = [OTHER_BUCKET]
    for bucket in buckets:
        out.extend(f"{bucket}x" if i == 0 else f"x{bucket}" for i in range(2))
    return [b for b in dict.fromkeys(out) if b not in buckets]


# ---------------------------------------------------------------------------------------------
# headline


def _describe_grant(actions: list[str], resources: list[str], not_action: bool, not_resource: bool) -> str:
    what = f"every action except {', '.join(actions)}" if not_action else ", ".join(actions)
    where = f"everything except {', '.join(resources)}" if not_resource else ", ".join(resources)
    return f"{what} on {where}"


# Conditions that only shape a listing; every generated read policy has one, so they are no news.
_LISTING_KEYS = frozenset({"s3:prefix", "s3:delimiter", "s3:max-keys"})


def _condition_keys(statement: Mapping[str, Any]) -> set[str]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return set()
    return {str(k).lower() for entries in condition.values() if isinstance(entries, Mapping) for k in entries}


_VERBS = (("list", "list"), ("read", "read"), ("write", "write"), ("delete", "delete"))


def _headline(
    policy: Mapping[str, Any],
    statements: list[Mapping[str, Any]],
    buckets: Sequence[str],
    prefix: str,
    admin: bool,
    extras: list[str],
) -> str:
    """What the policy grants on the named buckets (asked of the evaluator, at the prefix asked
    for and at each prefix the policy's own object resources name), plus its broad grants."""
    if admin:
        return "Custom policy: full administrator (every action on every resource)"
    conditional = any(_effect(s) == "Allow" and _condition_keys(s) - _LISTING_KEYS for s in statements)
    identity = {
        "Version": policy.get("Version", "2012-10-17"),
        "Statement": [_without(s, "Principal", "NotPrincipal") for s in statements],
    }
    by_verbs: dict[str, list[str]] = {}
    for bucket in buckets:
        for where in _prefixes_named(statements, bucket, prefix):
            try:
                capabilities = s3_capabilities([identity], bucket, where, context={"aws:SecureTransport": True})
            except S3CredError:
                return "Custom policy: unreadable by the policy evaluator" + _plus(extras)
            verbs = [word for key, word in _VERBS if capabilities[key].allowed]
            if verbs:
                by_verbs.setdefault(_and(verbs), []).append(f"s3://{bucket}/{where}")
    parts = [f"{verbs} on {_and(places)}" for verbs, places in by_verbs.items()]
    if not parts:
        parts.append(f"nothing on {_and([f's3://{b}/{prefix}' for b in buckets])}")
    headline = "Custom policy: " + "; ".join(parts)
    if conditional:
        headline += " (some grants only under conditions)"
    return headline + _plus(extras)


def _prefixes_named(statements: list[Mapping[str, Any]], bucket: str, prefix: str) -> list[str]:
    """`prefix`, then the literal start of every object resource the Allow statements name in
    `bucket` (`arn:aws:s3:::b/reports/*` gives `reports/`)."""
    out = [prefix]
    head = f"arn:aws:s3:::{bucket}/"
    for statement in statements:
        if _effect(statement) != "Allow" or "NotResource" in statement:
            continue
        for resource in string_values(statement.get("Resource")):
            if resource.startswith(head):
                rest = resource[len(head) :]
                cut = min((i for i in (rest.find("*"), rest.find("?"), rest.find("${")) if i >= 0), default=len(rest))
                out.append(rest[:cut])
    return list(dict.fromkeys(out))


def _plus(extras: list[str]) -> str:
    if not extras:
        return ""
    shown = extras[:_HEADLINE_EXTRAS]
    more = len(extras) - len(shown)
    tail = f" and {more} more" if more else ""
    return ", plus " + "; ".join(shown) + tail


def _and(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
