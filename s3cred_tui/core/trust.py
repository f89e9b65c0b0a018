"""May an existing role's trust policy be relied on? Only when exactly the caller can assume it.

A helper role carries AmazonS3FullAccess; its session policy narrows what *our* sessions get,
but anyone else the trust policy admits gets the role's full rights. So an existing role is
reusable only when its trust policy lets the caller assume it and nobody else. Whatever this
module cannot prove is treated as a reason to refuse, never as a pass.

Public API
----------
``assess_trust(trust_policy, caller_principal_arn, account_id) -> TrustAssessment``
    ``TrustAssessment(ok, reasons, extra_principals)``: ``reasons`` are plain sentences (empty
    when ``ok``); ``extra_principals`` are the principals other than the caller that the
    trust policy admits, as written in it (``"*"``, an account, a service name, ...).

Rules (each a reason of its own, all collected so a person sees every problem at once):

- A principal in an Allow statement other than the caller disqualifies: ``"*"``, a whole account
  (``arn:aws:iam::ACCOUNT:root`` or the bare 12-digit id, the caller's own account included,
  since that lets every principal there with ``sts:AssumeRole`` permission in), another user or
  role, a service, a federated identity provider, a canonical user.
- ``NotPrincipal`` in any statement disqualifies: with Allow it admits everyone not listed; with
  Deny it "exempts only the principals it names exactly", so an assumed-role session is denied
  unless its session ARN is named - either way it cannot be read as "only the caller".
- An Allow statement with a Condition disqualifies: the conditions depend on the request
  (MFA, source IP, external id, tags), which cannot be known here.
- Allow actions other than ``sts:AssumeRole`` and ``sts:TagSession`` (including ``*``,
  ``sts:*`` and ``NotAction``) disqualify: they let principals in by other doors
  (web identity, SAML, source identity).
- Deny statements grant nothing. An unconditional Deny that stops the caller makes the role
  unusable, which is a reason too; a Deny with a Condition can only narrow who gets in, so it
  neither disqualifies nor is counted on.
- The evaluator in `core.simulate` decides whether the caller is allowed at all, and probes a
  stranger in the caller's account and one in another account, so a way in that the
  structural rules miss still shows up.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.policies import string_values
from s3cred_tui.core.simulate import RequestContext, evaluate

__all__ = ["ASSUME_ACTIONS", "TrustAssessment", "assess_trust"]

# The actions a helper-role trust statement may allow. TagSession is what AssumeRole needs when
# session tags are passed; it admits nobody by itself.
ASSUME_ACTIONS = frozenset({"sts:assumerole", "sts:tagsession"})

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ROOT_ARN = re.compile(r"^arn:[\w-]+:iam::(\d{12}):root$")

# Names that cannot be a real principal's, so a probe never matches a policy by accident.
_STRANGER_NAME = "s3cred-trust-probe-stranger"
_OTHER_ACCOUNT = "000000000000"


@dataclass(frozen=True)
class TrustAssessment:
    ok: bool
    reasons: tuple[str, ...]
    extra_principals: tuple[str, ...]


def assess_trust(trust_policy: Any, caller_principal_arn: str, account_id: str) -> TrustAssessment:
    """Does `trust_policy` let exactly `caller_principal_arn` assume the role, and nobody else?"""
    reasons: list[str] = []
    extras: list[str] = []

    def reason(text: str) -> None:
        if text not in reasons:
            reasons.append(text)

    def extra(principal: str) -> None:
        if principal not in extras:
            extras.append(principal)

    statements = _statements(trust_policy)
    if statements is None:
        return TrustAssessment(False, ("The trust policy is not a policy document with a Statement list.",), ())

    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            reason(f"Statement [{index}] of the trust policy is not a JSON object.")
            continue
        label = _label(statement, index)
        effect = statement.get("Effect")
        if "NotPrincipal" in statement:
            reason(
                f"{label} uses NotPrincipal, which cannot be read as \"only you\" "
                "(with Allow it admits everyone not listed; with Deny it also denies your sessions unless each is named)."
            )
            if effect == "Allow":
                extra("*")
            continue
        if effect != "Allow":
            continue  # Deny grants nothing; whether it stops the caller is asked of the evaluator below.
        for principal_type, value in _principals(statement.get("Principal")):
            who = _describe_principal(principal_type, value, caller_principal_arn, account_id)
            if who is None:
                continue
            extra(value if principal_type in ("AWS", "*") else f"{principal_type}:{value}")
            reason(f"{label} lets {who} assume it.")
        if "NotAction" in statement:
            reason(f"{label} allows every action except {_listed(statement['NotAction'])} (NotAction), not just sts:AssumeRole.")
        else:
            others = [a for a in string_values(statement.get("Action")) if a.lower() not in ASSUME_ACTIONS]
            if others:
                reason(f"{label} allows {_listed(others)}, not just sts:AssumeRole.")
        if statement.get("Condition"):
            condition = statement["Condition"]
            operators = condition.values() if isinstance(condition, Mapping) else []
            keys = sorted({str(k) for entries in operators if isinstance(entries, Mapping) for k in entries})
            reason(
                f"{label} has a Condition ({', '.join(keys) or 'unreadable'}) that cannot be checked here, "
                "so who it admits is not known."
            )

    _evaluate(trust_policy, statements, caller_principal_arn, account_id, reason, extra, extras)
    return TrustAssessment(not reasons, tuple(reasons), tuple(extras))


# ---------------------------------------------------------------------------------------------


def _statements(policy: Any) -> list[Any] | None:
    if not isinstance(policy, Mapping):
        return None
    raw = policy.get("Statement")
    if isinstance(raw, Mapping):
        return [raw]
    return raw if isinstance(raw, list) else None


def _label(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return f"Trust statement {sid!r}" if isinstance(sid, str) and sid else f"Trust statement [{index}]"


def _listed(value: Any) -> str:
    return ", ".join(string_values(value)) or repr(value)


def _principals(value: Any) -> list[tuple[str, str]]:
    if value == "*":
        return [("*", "*")]
    if not isinstance(value, Mapping):
        return [("?", repr(value))] if value is not None else []
    out = []
    for principal_type, names in value.items():
        entries = string_values(names) or [repr(names)]
        out.extend((str(principal_type), name) for name in entries)
    return out


def _describe_principal(principal_type: str, value: str, caller: str, account_id: str) -> str | None:
    """Who this Principal entry admits in plain words, or None when it names exactly the caller."""
    if principal_type == "*" or value == "*":
        return 'anyone (Principal "*")'
    if principal_type != "AWS":
        kinds = {"Service": "the AWS service", "Federated": "users of the identity provider", "CanonicalUser": "the canonical user"}
        return f"{kinds.get(principal_type, principal_type)} {value}"
    if value == caller:
        return None
    root = _ROOT_ARN.match(value)
    account = root.group(1) if root else value if _ACCOUNT_ID.match(value) else None
    if account is not None:
        whose = "your account" if account == account_id else "account"
        return f"every principal in {whose} {account} (a whole account, {value})"
    return f"another principal, {value}"


def _evaluate(
    policy: Any, statements: list[Any], caller: str, account_id: str, reason: Any, extra: Any, extras: list[str]
) -> None:
    """Ask the evaluator: may the caller assume the role, may a stranger here or elsewhere?

    Both questions are asked of the most permissive reading: Allow conditions assumed to hold
    (they already disqualify on their own) and conditional Denies assumed not to apply (they can
    only narrow who gets in, and their request keys are unknown here). For the caller, a
    statement naming the caller's own account counts as naming the caller: AWS then delegates to
    the caller's identity policy, which is not the question here (that grant is a reason above).
    """
    if not all(isinstance(s, Mapping) for s in statements):
        reason("The trust policy could not be read by the policy evaluator.")
        return
    permissive = _permissive(policy, statements)
    partition = caller.split(":")[1] if caller.startswith("arn:") and caller.count(":") >= 5 else "aws"
    role_resource = f"arn:{partition}:iam::{account_id}:role/{_STRANGER_NAME}"

    def decide(document: dict, principal: str):
        return evaluate(RequestContext("sts:AssumeRole", role_resource, {}, principal), [], resource_policy=("trust policy", document))

    strangers = {
        f"a stranger in your account ({account_id})": f"arn:{partition}:iam::{account_id}:user/{_STRANGER_NAME}",
        "a stranger in another account": f"arn:{partition}:iam::{_OTHER_ACCOUNT}:user/{_STRANGER_NAME}",
    }
    try:
        mine = decide(_account_as_caller(permissive, caller, account_id), caller)
        admitted = {who: decide(permissive, arn) for who, arn in strangers.items()}
    except S3CredError as exc:
        reason(f"The trust policy could not be read by the policy evaluator: {exc}")
        return
    if mine.decision == "ExplicitDeny":
        labels = "; ".join(s.label for s in mine.deciding)
        reason(f"A Deny in the trust policy ({labels}) stops {caller} from assuming it.")
    elif not mine.allowed:
        reason(f"The trust policy does not let {caller} assume it.")
    for who, decision in admitted.items():
        if decision.allowed and "*" not in extras:
            extra("*")
            reason(f"The policy evaluator finds that {who} could assume it.")


def _permissive(policy: Mapping[str, Any], statements: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The policy with Allow conditions dropped, conditional Denies removed, and `Resource: *`
    added (trust policies have no Resource element; the role's own ARN is what it applies to)."""
    kept = []
    for statement in statements:
        if statement.get("Effect") == "Deny" and statement.get("Condition"):
            continue
        copied = {k: copy.deepcopy(v) for k, v in statement.items() if k != "Condition"}
        if "Resource" not in copied and "NotResource" not in copied:
            copied["Resource"] = "*"
        kept.append(copied)
    return {"Version": policy.get("Version", "2012-10-17"), "Statement": kept}


def _account_as_caller(policy: dict[str, Any], caller: str, account_id: str) -> dict[str, Any]:
    """`policy` with every AWS principal naming the caller's account replaced by the caller."""
    own = {account_id, *(f"arn:{p}:iam::{account_id}:root" for p in ("aws", "aws-cn", "aws-us-gov"))}
    out = copy.deepcopy(policy)
    for statement in out["Statement"]:
        principal = statement.get("Principal")
        if isinstance(principal, Mapping) and "AWS" in principal:
            names = string_values(principal["AWS"])
            principal["AWS"] = [caller if name in own else name for name in names] or principal["AWS"]
    return out
