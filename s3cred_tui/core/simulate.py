"""Offline IAM policy evaluator: would AWS allow this request, and which statement decides?

moto does not evaluate Condition blocks, session policies, permissions boundaries, `?` and `.`
in resources or NotResource, so anything that depends on them is checked here instead. The
rules follow AWS's documentation ("Policy evaluation logic", "IAM JSON policy elements:
Condition operators", "IAM policy elements: Variables and tags"); each rule cites its source
next to the code that implements it.

Public API
----------
``RequestContext(action, resource, context={}, principal_arn=None)``
    One request: an action such as ``s3:GetObject``, the resource ARN, the request context
    (condition keys such as ``s3:prefix``, ``aws:SourceIp``, ``aws:SecureTransport``,
    ``aws:CurrentTime``; a value is a string, a list of strings for a multi-valued key, a bool,
    an int or a datetime) and the caller's ARN. From the ARN, ``aws:PrincipalArn``,
    ``aws:PrincipalAccount`` and (for IAM users) ``aws:username`` are added when not given.

``evaluate(request, identity_policies, *, session_policy=None, boundary=None,
resource_policy=None, resource_account=None, resource_policy_required=None) -> Decision``
    Every policy is a policy document (dict) or a ``(name, document)`` pair so that reasons can
    name it. All policies are checked before anything is evaluated: a malformed policy, an
    unknown element or an unknown condition operator raises `PolicyError` (never "Error"
    decisions and never a silent match). ``resource_account`` is the account that owns the
    resource: when it differs from the caller's account the request is cross-account and needs
    an allow on both sides (the caller's identity side and the resource policy); when it is
    None the resource is taken to be in the caller's account. ``resource_policy_required``
    makes the resource policy's own allow necessary even within one account (a role's trust
    policy for ``sts:AssumeRole*``, which is the default for those actions).

``Decision(allowed, decision, reason, deciding)``
    ``decision`` is ``"Allow"``, ``"ExplicitDeny"`` or ``"ImplicitDeny"``; ``reason`` is plain
    words; ``deciding`` lists the `MatchedStatement` objects that decided (the Deny statements
    for an explicit deny, the Allow statements that together grant for an allow, none for an
    implicit deny).

``MatchedStatement(policy_name, sid, effect, index)``
    ``index`` is the statement's 0-based position in the policy's ``Statement`` list.

``s3_capabilities(identity_policies, bucket, prefix="", *, boundary=None, session_policy=None,
resource_policy=None, principal_arn=None, context=None, resource_account=None)
-> dict[str, Decision]``
    What a principal can do in a bucket under a prefix: keys ``list`` (``s3:ListBucket`` on the
    bucket with ``s3:prefix=prefix``), ``read`` (``s3:GetObject``), ``write`` (``s3:PutObject``)
    and ``delete`` (``s3:DeleteObject``) on a probe key inside the prefix.

Choices where AWS's documentation leaves room (each is the stricter reading, so the evaluator
never reports more access than AWS would give):

- A policy variable with no value (and no ``${key, 'default'}``) makes that Resource entry
  match nothing; in a condition value it matches nothing, so negated operators are true.
- The text substituted for a variable is literal: a ``*`` in ``aws:username`` is no wildcard.
- A resource-policy statement naming the caller's account delegates to identity policies; a
  caller with no known ARN is matched only by ``"*"``, and its resource-policy grants are
  treated as limited by the boundary and the session policy. For a federated-user session the
  underlying IAM user is not known from its ARN, so grants naming that user do not match.

- An Allow whose ``NotResource`` holds a variable with no value matches no resource (read
  literally, "every resource except nothing" would grant everything).
- A ``Deny`` with ``NotPrincipal`` exempts only a caller whose own ARN it names: naming the
  account does not exempt its users, naming a role does not exempt its sessions.

Scope: identity, boundary, session and resource policies, within one account or across two.
Organizations SCPs/RCPs, VPC endpoint policies and ACLs are out of scope.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, Union

from s3cred_tui.core.errors import S3CredError, ValidationError

__all__ = [
    "Decision",
    "MatchedStatement",
    "PolicyError",
    "RequestContext",
    "evaluate",
    "s3_capabilities",
    "S3_PROBE_KEY",
]

ContextValue = Union[str, bool, int, float, datetime, bytes, Sequence[str]]
PolicyInput = Union[Mapping[str, Any], tuple[str, Mapping[str, Any]]]

# A key name that contains no IAM wildcard or variable character, so that a probe never
# matches a pattern by accident of its own spelling.
S3_PROBE_KEY = "s3cred-probe-object"


class PolicyError(S3CredError):
    """A policy the evaluator cannot read: malformed, unknown element, unknown operator.

    `code` is one of ``MalformedPolicy``, ``UnknownElement``, ``UnknownOperator``,
    ``InvalidVersion``, ``InvalidConditionValue``; `policy_name` and `statement_index`
    (0-based, or None for the document itself) say where.
    """

    def __init__(self, message: str, *, code: str, policy_name: str, statement_index: int | None = None):
        where = f"{policy_name}" if statement_index is None else f"{policy_name}, statement [{statement_index}]"
        super().__init__(f"{where}: {message}", code=code)
        self.policy_name = policy_name
        self.statement_index = statement_index


@dataclass(frozen=True)
class RequestContext:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)
    principal_arn: str | None = None


@dataclass(frozen=True)
class MatchedStatement:
    policy_name: str
    sid: str | None
    effect: Literal["Allow", "Deny"]
    index: int

    @property
    def label(self) -> str:
        name = f"statement {self.sid!r}" if self.sid else f"statement [{self.index}]"
        return f"{name} of {self.policy_name}"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    decision: Literal["Allow", "ExplicitDeny", "ImplicitDeny"]
    reason: str
    deciding: list[MatchedStatement] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# Patterns: wildcards, escapes and policy variables
# --------------------------------------------------------------------------------------------

# A pattern is a list of tokens. Literal text from a substituted variable or an escape is a
# `str` token; the wildcards and the colons written in the policy itself are the markers below
# (a colon inside a substituted value must not split an ARN into segments).
_STAR = object()
_QMARK = object()
_COLON = object()
Token = Union[str, object]

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"
_VERSIONS = (VERSION_2012, VERSION_2008)

_VARIABLE_BODY = re.compile(r"^\s*([^\s,']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")


class _Unresolved(Exception):
    """A policy variable with no value in this request (and no default)."""


def _tokenise(text: str, version: str, context: Mapping[str, Any] | None, where: "_Where") -> list[Token]:
    """Split policy text into tokens, substituting variables from `context`.

    With `context=None` only the syntax is checked (every variable counts as resolvable).
    Policy variables exist only in Version 2012-10-17: "If you don't include the Version
    element ... variables such as ${aws:username} aren't recognized as variables and are
    instead treated as literal strings" (IAM JSON policy elements: Version).
    """
    tokens: list[Token] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "$" and version == VERSION_2012 and text.startswith("${", i):
            end = _variable_end(text, i + 2)
            if end < 0:
                raise where.error(f"unterminated policy variable in {text!r}", "MalformedPolicy")
            body = text[i + 2 : end]
            tokens.extend(_resolve_variable(body, context, where, text))
            i = end + 1
            continue
        if char == "*":
            tokens.append(_STAR)
        elif char == "?":
            tokens.append(_QMARK)
        elif char == ":":
            tokens.append(_COLON)
        else:
            tokens.append(char)
        i += 1
    return tokens


def _variable_end(text: str, start: int) -> int:
    """Index of the `}` closing a variable whose body starts at `start` (quotes may hide `}`)."""
    in_quote = False
    i = start
    while i < len(text):
        char = text[i]
        if char == "'":
            if in_quote and text.startswith("''", i):
                i += 2
                continue
            in_quote = not in_quote
        elif char == "}" and not in_quote:
            return i
        i += 1
    return -1


def _resolve_variable(body: str, context: Mapping[str, Any] | None, where: "_Where", text: str) -> list[Token]:
    # `${*}`, `${?}` and `${$}` are the documented way to write those characters literally
    # ("Special characters" in IAM policy elements: Variables and tags).
    if body in ("*", "?", "$"):
        return [body]
    match = _VARIABLE_BODY.match(body)
    if not match:
        raise where.error(f"malformed policy variable ${{{body}}} in {text!r}", "MalformedPolicy")
    key, default = match.group(1), match.group(2)
    if context is None:
        return ["x"]
    value = context.get(key.lower())
    # Multi-valued keys cannot be used as variables; a missing key has no value. Either way the
    # documented default value (`${key, 'default'}`, with '' for a quote) is used when given.
    if value is None or isinstance(value, list):
        if default is None:
            raise _Unresolved(key)
        return list(default.replace("''", "'"))
    # A substituted value is data, not pattern syntax: its `*`, `?` and `:` are literal.
    return list(value)


def _tokens_regex(tokens: Sequence[Token]) -> str:
    parts: list[str] = []
    for token in tokens:
        if token is _STAR:
            parts.append(".*")
        elif token is _QMARK:
            parts.append(".")
        elif token is _COLON:
            parts.append(":")
        else:
            parts.append(re.escape(token))  # type: ignore[arg-type]
    return "".join(parts)


def _glob_match(tokens: Sequence[Token], value: str, ignore_case: bool = False) -> bool:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(_tokens_regex(tokens), value, flags) is not None


def _tokens_text(tokens: Sequence[Token]) -> str:
    """Tokens as plain text, for operators where `*` and `?` are not wildcards."""
    out = []
    for token in tokens:
        if token is _STAR:
            out.append("*")
        elif token is _QMARK:
            out.append("?")
        elif token is _COLON:
            out.append(":")
        else:
            out.append(token)  # type: ignore[arg-type]
    return "".join(out)


def _arn_match(tokens: Sequence[Token], arn: str) -> bool:
    """Match an ARN pattern segment by segment.

    "You can use wildcard characters (* and ?) within the individual segments of an ARN (the
    parts separated by colons) ... If the * wildcard is the last character of a resource ARN
    segment, it can expand to match beyond the colon boundaries" (IAM JSON policy elements:
    Resource). The sixth segment (the resource part) may itself contain colons.
    """
    segments: list[list[Token]] = [[]]
    for token in tokens:
        if token is _COLON:
            segments.append([])
        else:
            segments[-1].append(token)
    if len(segments) > 6:
        head, tail = segments[:5], segments[5:]
        merged: list[Token] = []
        for index, segment in enumerate(tail):
            if index:
                merged.append(":")
            merged.extend(segment)
        segments = head + [merged]
    parts = arn.split(":", 5)
    if len(segments) == len(parts):
        return all(_glob_match(seg, part) for seg, part in zip(segments, parts))
    if len(segments) < len(parts):
        last = segments[-1]
        if not last or last[-1] is not _STAR:
            return False
        head_ok = all(_glob_match(seg, part) for seg, part in zip(segments[:-1], parts))
        return head_ok and _glob_match(last, ":".join(parts[len(segments) - 1 :]))
    return False


# --------------------------------------------------------------------------------------------
# Parsed policies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    policy_name: str
    statement_index: int | None = None

    def error(self, message: str, code: str) -> PolicyError:
        return PolicyError(message, code=code, policy_name=self.policy_name, statement_index=self.statement_index)


# operator base name -> (family, negated). Negated operators are the logical negation of
# their positive twin: "StringNotEquals ... Negated matching".
_OPERATORS: dict[str, tuple[str, bool]] = {
    "StringEquals": ("string", False),
    "StringNotEquals": ("string", True),
    "StringEqualsIgnoreCase": ("string_ignore_case", False),
    "StringNotEqualsIgnoreCase": ("string_ignore_case", True),
    "StringLike": ("string_like", False),
    "StringNotLike": ("string_like", True),
    "NumericEquals": ("numeric_eq", False),
    "NumericNotEquals": ("numeric_eq", True),
    "NumericLessThan": ("numeric_lt", False),
    "NumericLessThanEquals": ("numeric_le", False),
    "NumericGreaterThan": ("numeric_gt", False),
    "NumericGreaterThanEquals": ("numeric_ge", False),
    "DateEquals": ("date_eq", False),
    "DateNotEquals": ("date_eq", True),
    "DateLessThan": ("date_lt", False),
    "DateLessThanEquals": ("date_le", False),
    "DateGreaterThan": ("date_gt", False),
    "DateGreaterThanEquals": ("date_ge", False),
    "Bool": ("bool", False),
    "BinaryEquals": ("binary", False),
    "IpAddress": ("ip", False),
    "NotIpAddress": ("ip", True),
    "ArnEquals": ("arn", False),
    "ArnLike": ("arn", False),
    "ArnNotEquals": ("arn", True),
    "ArnNotLike": ("arn", True),
    "Null": ("null", False),
}

# Policy variables are supported in string, Boolean and ARN condition operators only
# (the "Policy variables" line of each category in IAM JSON policy elements: Condition operators).
_VARIABLE_FAMILIES = {"string", "string_ignore_case", "string_like", "bool", "arn"}

_STATEMENT_ELEMENTS = {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_POLICY_ELEMENTS = {"Version", "Id", "Statement"}
_PRINCIPAL_TYPES = {"AWS", "Service", "Federated", "CanonicalUser"}


@dataclass(frozen=True)
class _Condition:
    operator: str
    family: str
    negated: bool
    set_operator: str | None  # "ForAnyValue" | "ForAllValues" | None
    if_exists: bool
    key: str  # lower-cased: condition keys are case-insensitive
    values: tuple[str, ...]


@dataclass(frozen=True)
class _Statement:
    where: _Where
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    principals: tuple[tuple[str, str], ...] | None  # (type, value); None in identity-type policies
    not_principal: bool
    conditions: tuple[_Condition, ...]

    def matched(self) -> MatchedStatement:
        return MatchedStatement(self.where.policy_name, self.sid, self.effect, self.where.statement_index or 0)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _Policy:
    name: str
    version: str
    statements: tuple[_Statement, ...]


def _as_list(value: Any, where: _Where, element: str) -> list[Any]:
    if isinstance(value, list):
        if not value:
            raise where.error(f"{element} is an empty list", "MalformedPolicy")
        return value
    return [value]


def _strings(value: Any, where: _Where, element: str) -> tuple[str, ...]:
    items = _as_list(value, where, element)
    for item in items:
        if not isinstance(item, str) or not item:
            raise where.error(f"{element} must be a non-empty string or a list of them, got {item!r}", "MalformedPolicy")
    return tuple(items)


def _scalar_text(value: Any, where: _Where, element: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise where.error(f"{element} values must be strings, numbers or booleans, got {value!r}", "MalformedPolicy")


def _parse_policy(document: Any, name: str, kind: str) -> _Policy:
    """Check a policy document completely and return it parsed. `kind` is "identity" or "resource"."""
    where = _Where(name)
    if not isinstance(document, Mapping):
        raise where.error(f"a policy must be a JSON object, got {type(document).__name__}", "MalformedPolicy")
    unknown = set(document) - _POLICY_ELEMENTS
    if unknown:
        raise where.error(f"unknown policy element(s): {', '.join(sorted(map(str, unknown)))}", "UnknownElement")
    version = document.get("Version", VERSION_2008)
    if version not in _VERSIONS:
        raise where.error(f"Version must be {VERSION_2012!r} (or the legacy {VERSION_2008!r}), got {version!r}", "InvalidVersion")
    if "Statement" not in document:
        raise where.error("the policy has no Statement", "MalformedPolicy")
    raw_statements = document["Statement"]
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list):
        raise where.error("Statement must be an object or a list of objects", "MalformedPolicy")
    statements = tuple(
        _parse_statement(raw, _Where(name, index), version, kind) for index, raw in enumerate(raw_statements)
    )
    return _Policy(name, version, statements)


def _exactly_one(raw: Mapping[str, Any], a: str, b: str, where: _Where) -> tuple[str, bool]:
    has_a, has_b = a in raw, b in raw
    if has_a and has_b:
        raise where.error(f"a statement cannot have both {a} and {b}", "MalformedPolicy")
    if not has_a and not has_b:
        raise where.error(f"a statement needs {a} or {b}", "MalformedPolicy")
    return (a, False) if has_a else (b, True)


def _parse_statement(raw: Any, where: _Where, version: str, kind: str) -> _Statement:
    if not isinstance(raw, Mapping):
        raise where.error(f"a statement must be a JSON object, got {type(raw).__name__}", "MalformedPolicy")
    unknown = set(raw) - _STATEMENT_ELEMENTS
    if unknown:
        raise where.error(f"unknown statement element(s): {', '.join(sorted(map(str, unknown)))}", "UnknownElement")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise where.error(f"Sid must be a string, got {sid!r}", "MalformedPolicy")
    if "Effect" not in raw:
        raise where.error("the statement has no Effect", "MalformedPolicy")
    effect = raw["Effect"]
    if effect not in ("Allow", "Deny"):
        raise where.error(f'Effect must be "Allow" or "Deny", got {effect!r}', "MalformedPolicy")

    action_element, not_action = _exactly_one(raw, "Action", "NotAction", where)
    actions = _strings(raw[action_element], where, action_element)
    for action in actions:
        if action != "*" and (":" not in action or action.startswith(":") or action.endswith(":")):
            raise where.error(f"{action_element} {action!r} is not of the form service:Action", "MalformedPolicy")

    resource_element, not_resource = _exactly_one(raw, "Resource", "NotResource", where)
    resources = _strings(raw[resource_element], where, resource_element)
    for resource in resources:
        if resource != "*" and not resource.startswith("arn:"):
            raise where.error(f"{resource_element} {resource!r} must be an ARN or *", "MalformedPolicy")
        _tokenise(resource, version, None, where)

    principals: tuple[tuple[str, str], ...] | None = None
    not_principal = False
    if kind == "identity":
        for element in ("Principal", "NotPrincipal"):
            if element in raw:
                raise where.error(f"{element} is not allowed in an identity-based policy", "MalformedPolicy")
    else:
        principal_element, not_principal = _exactly_one(raw, "Principal", "NotPrincipal", where)
        principals = _parse_principal(raw[principal_element], where, principal_element)

    conditions = _parse_conditions(raw.get("Condition", {}), where, version)
    return _Statement(where, sid, effect, actions, not_action, resources, not_resource, principals, not_principal, conditions)


def _parse_principal(value: Any, where: _Where, element: str) -> tuple[tuple[str, str], ...]:
    if value == "*":
        return (("*", "*"),)
    if not isinstance(value, Mapping) or not value:
        raise where.error(f'{element} must be "*" or an object such as {{"AWS": "arn:..."}}, got {value!r}', "MalformedPolicy")
    out: list[tuple[str, str]] = []
    for principal_type, names in value.items():
        if principal_type not in _PRINCIPAL_TYPES:
            raise where.error(f"unknown {element} type {principal_type!r}", "UnknownElement")
        for name in _strings(names, where, f"{element}.{principal_type}"):
            out.append((principal_type, name))
    return tuple(out)


def _parse_conditions(raw: Any, where: _Where, version: str) -> tuple[_Condition, ...]:
    if not isinstance(raw, Mapping):
        raise where.error("Condition must be an object of operators", "MalformedPolicy")
    out: list[_Condition] = []
    for operator, entries in raw.items():
        family, negated, set_operator, if_exists = _parse_operator(operator, where)
        if not isinstance(entries, Mapping) or not entries:
            raise where.error(f"{operator} must map condition keys to values", "MalformedPolicy")
        for key, raw_values in entries.items():
            if not isinstance(key, str) or not key:
                raise where.error(f"{operator} has an empty condition key", "MalformedPolicy")
            values = tuple(_scalar_text(v, where, f"{operator} {key}") for v in _as_list(raw_values, where, f"{operator} {key}"))
            for value in values:
                _check_condition_value(family, operator, value, where, version)
            out.append(_Condition(operator, family, negated, set_operator, if_exists, key.lower(), values))
    return tuple(out)


def _parse_operator(operator: Any, where: _Where) -> tuple[str, bool, str | None, bool]:
    if not isinstance(operator, str):
        raise where.error(f"unknown condition operator {operator!r}", "UnknownOperator")
    name = operator
    set_operator = None
    for prefix in ("ForAnyValue:", "ForAllValues:"):
        if name.startswith(prefix):
            set_operator, name = prefix[:-1], name[len(prefix) :]
            break
    if_exists = name.endswith("IfExists") and name != "IfExists"
    base = name[: -len("IfExists")] if if_exists else name
    if base not in _OPERATORS:
        raise where.error(f"unknown condition operator {operator!r}", "UnknownOperator")
    family, negated = _OPERATORS[base]
    # Null tests for presence itself, so "...IfExists" and the set qualifiers make no sense there.
    if family == "null" and (if_exists or set_operator):
        raise where.error(f"unknown condition operator {operator!r}", "UnknownOperator")
    return family, negated, set_operator, if_exists


def _check_condition_value(family: str, operator: str, value: str, where: _Where, version: str) -> None:
    if family in _VARIABLE_FAMILIES:
        _tokenise(value, version, None, where)
        if family == "bool" and "${" not in value and value.lower() not in ("true", "false"):
            raise where.error(f'{operator} takes "true" or "false", got {value!r}', "InvalidConditionValue")
        return
    problem = None
    if family.startswith("numeric") and _number(value) is None:
        problem = "a number"
    elif family.startswith("date") and _date(value) is None:
        problem = "an ISO 8601 date or epoch seconds"
    elif family == "binary" and _binary(value) is None:
        problem = "base64-encoded data"
    elif family == "ip" and _network(value) is None:
        problem = "an IPv4 or IPv6 address or CIDR block"
    elif family == "null" and value.lower() not in ("true", "false"):
        problem = '"true" or "false"'
    if problem:
        raise where.error(f"{operator} takes {problem}, got {value!r}", "InvalidConditionValue")


# --------------------------------------------------------------------------------------------
# Value parsing
# --------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


_EPOCH = re.compile(r"^-?\d+(\.\d+)?$")


def _date(text: str) -> datetime | None:
    text = text.strip()
    if _EPOCH.match(text):
        return datetime.fromtimestamp(float(text), tz=timezone.utc)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _context_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


# aws:PrincipalType for each kind of caller ("AWS global condition context keys", aws:PrincipalType).
_PRINCIPAL_TYPES_BY_KIND = {
    "user": "User",
    "role": "AssumedRole",
    "assumed-role": "AssumedRole",
    "federated-user": "FederatedUser",
    "root": "Account",
}


def _normalise_context(request: RequestContext, resource_account: str | None = None) -> dict[str, str | list[str]]:
    """Lower-cased keys (condition keys are case-insensitive), string values, lists for multi-valued keys.

    Keys the request gives explicitly win over the ones derived from the caller's ARN.
    """
    out: dict[str, str | list[str]] = {}
    for key, value in request.context.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key.lower()] = [_context_text(v) for v in value]
        elif value is not None:
            out[key.lower()] = _context_text(value)
    caller = _Caller.parse(request.principal_arn)
    if caller.arn:
        # "For IAM roles, the request context returns the ARN of the role, not the ARN of the user
        # that assumed the role" (AWS global condition context keys, aws:PrincipalArn). A session
        # ARN does not carry the role's path; a caller that knows it passes aws:PrincipalArn.
        principal_arn = caller.arn
        if caller.kind == "assumed-role":
            principal_arn = f"arn:{caller.partition}:iam::{caller.account}:role/{caller.role_name}"
        out.setdefault("aws:principalarn", principal_arn)
        out.setdefault("aws:principalaccount", caller.account)
        if caller.kind in _PRINCIPAL_TYPES_BY_KIND:
            out.setdefault("aws:principaltype", _PRINCIPAL_TYPES_BY_KIND[caller.kind])
        if caller.kind == "user":
            out.setdefault("aws:username", caller.name)
    if resource_account:
        out.setdefault("aws:resourceaccount", resource_account)
    return out


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def _action_matches(statement: _Statement, action: str) -> bool:
    # Action names are case-insensitive ("IAM JSON policy elements: Action"); * and ? are wildcards.
    hit = any(_glob_match(_tokenise(pattern, VERSION_2008, None, statement.where), action, ignore_case=True) for pattern in statement.actions)
    return hit != statement.not_action


def _resource_matches(statement: _Statement, resource: str, version: str, context: Mapping[str, Any]) -> bool:
    hit = False
    unresolved = False
    for pattern in statement.resources:
        if pattern == "*":
            hit = True
            break
        try:
            tokens = _tokenise(pattern, version, context, statement.where)
        except _Unresolved:
            # A variable with no value in the request leaves nothing to match: "If AWS cannot
            # resolve a variable this might cause the entire statement to be invalid" (IAM policy
            # elements: Variables and tags). So this pattern matches no resource.
            unresolved = True
            continue
        if _arn_match(tokens, resource):
            hit = True
            break
    if statement.not_resource and unresolved and statement.effect == "Allow":
        # Read as "every resource except nothing", the Allow would grant everything; an invalid
        # statement grants nothing, which is the stricter reading (a Deny keeps applying).
        return False
    return hit != statement.not_resource


def _policy_values(condition: _Condition, version: str, context: Mapping[str, Any], where: _Where) -> list[list[Token]]:
    """The condition's values with variables substituted; values whose variable has no value
    are dropped: "When you use a policy variable with no value in the condition element ...
    conditions like StringEquals or StringLike do not match ... Inverted condition operators
    like StringNotEquals or StringNotLike do match against a null value"."""
    out = []
    for value in condition.values:
        if condition.family in _VARIABLE_FAMILIES:
            try:
                out.append(_tokenise(value, version, context, where))
            except _Unresolved:
                continue
        else:
            out.append([value])
    return out


def _value_matches(family: str, policy_tokens: list[Token], request_value: str) -> bool:
    """The positive form of the operator family for one policy value and one request value."""
    if family == "string":
        return _tokens_text(policy_tokens) == request_value
    if family == "string_ignore_case":
        return _tokens_text(policy_tokens).casefold() == request_value.casefold()
    if family == "string_like":
        return _glob_match(policy_tokens, request_value)
    if family == "arn":
        return _arn_match(policy_tokens, request_value)
    if family == "bool":
        return _tokens_text(policy_tokens).lower() == request_value.lower()
    text = policy_tokens[0]
    assert isinstance(text, str)
    if family.startswith("numeric"):
        left, right = _number(request_value), _number(text)
        return left is not None and right is not None and _compare(family, left, right)
    if family.startswith("date"):
        left_date, right_date = _date(request_value), _date(text)
        return left_date is not None and right_date is not None and _compare(family, left_date, right_date)
    if family == "binary":
        left_bytes = _binary(request_value)
        return left_bytes is not None and left_bytes == _binary(text)
    if family == "ip":
        network = _network(text)
        try:
            address = ipaddress.ip_address(request_value.strip())
        except ValueError:
            return False
        return network is not None and address.version == network.version and address in network
    raise AssertionError(f"unhandled operator family {family}")


def _compare(family: str, left: Any, right: Any) -> bool:
    relation = family.split("_", 1)[1]
    return {
        "eq": left == right,
        "lt": left < right,
        "le": left <= right,
        "gt": left > right,
        "ge": left >= right,
    }[relation]


def _condition_holds(condition: _Condition, version: str, context: Mapping[str, Any], where: _Where) -> bool:
    raw = context.get(condition.key)
    request_values = ([raw] if isinstance(raw, str) else list(raw)) if raw is not None else []
    present = bool(request_values)

    if condition.family == "null":
        # "Null": true means the key must be absent, false that it must be present; several
        # values are ORed like any other condition values.
        return any((value.lower() == "true") == (not present) for value in condition.values)

    if not present:
        if condition.if_exists:
            return True  # "If the key is not present, evaluate the condition element as true."
        if condition.set_operator == "ForAllValues":
            # "ForAllValues ... also returns true if there are no context keys in the request."
            return True
        if condition.set_operator == "ForAnyValue":
            return False  # "ForAnyValue ... If the key is missing ... the condition returns false."
        # "If the key that you specify in a policy condition is not present in the request
        # context, the values do not match and the condition is false. If the policy condition
        # requires that the key is not matched, such as StringNotLike or ArnNotLike, and the right
        # key is not present, the condition is true."
        return condition.negated

    values = _policy_values(condition, version, context, where)

    def positive(request_value: str) -> bool:
        return any(_value_matches(condition.family, tokens, request_value) for tokens in values)

    def satisfied(request_value: str) -> bool:
        return not positive(request_value) if condition.negated else positive(request_value)

    if condition.set_operator == "ForAllValues":
        return all(satisfied(v) for v in request_values)
    if condition.set_operator == "ForAnyValue":
        return any(satisfied(v) for v in request_values)
    # Without a set qualifier a multi-valued key matches when any of its values does; a negated
    # operator is then the negation of that (none of the request values matches).
    hit = any(positive(v) for v in request_values)
    return not hit if condition.negated else hit


def _conditions_hold(statement: _Statement, version: str, context: Mapping[str, Any]) -> bool:
    # Several operators, and several keys under one operator, are ANDed; values are ORed.
    return all(_condition_holds(c, version, context, statement.where) for c in statement.conditions)


@dataclass(frozen=True)
class _Caller:
    arn: str | None
    kind: str  # user | role | assumed-role | federated-user | root | other | unknown
    account: str | None = None
    partition: str = "aws"
    name: str | None = None
    role_name: str | None = None

    @classmethod
    def parse(cls, arn: str | None) -> "_Caller":
        if not arn:
            return cls(None, "unknown")
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[0] != "arn":
            raise ValidationError("principal_arn", f"Not an ARN: {arn!r}")
        partition, service, account, resource = parts[1], parts[2], parts[4], parts[5]
        if service == "iam" and resource == "root":
            return cls(arn, "root", account, partition)
        if service == "iam" and resource.startswith("user/"):
            return cls(arn, "user", account, partition, name=resource.rsplit("/", 1)[1])
        if service == "iam" and resource.startswith("role/"):
            name = resource.rsplit("/", 1)[1]
            return cls(arn, "role", account, partition, name=name, role_name=name)
        if service == "sts" and resource.startswith("assumed-role/") and resource.count("/") >= 2:
            _, role_name, session = resource.split("/", 2)
            return cls(arn, "assumed-role", account, partition, name=session, role_name=role_name)
        if service == "sts" and resource.startswith("federated-user/"):
            return cls(arn, "federated-user", account, partition, name=resource.split("/", 1)[1])
        return cls(arn, "other", account, partition)


def _principal_relation(principal_type: str, value: str, caller: _Caller) -> str | None:
    """How a Principal entry names the caller: "direct", "role", "account" or None."""
    if principal_type == "*" or (principal_type == "AWS" and value == "*"):
        return "direct"
    if principal_type != "AWS" or caller.arn is None:
        return None
    if value == caller.arn:
        return "direct"
    if caller.kind == "assumed-role" and caller.role_name:
        parts = value.split(":", 5)
        if (
            len(parts) == 6
            and parts[2] == "iam"
            and parts[4] == caller.account
            and parts[5].startswith("role/")
            and parts[5].rsplit("/", 1)[1] == caller.role_name
        ):
            return "role"
    if value == caller.account or value == f"arn:{caller.partition}:iam::{caller.account}:root":
        return "account"
    return None


def _principal_applies(statement: _Statement, caller: _Caller, has_boundary: bool) -> str | None:
    """The relation through which a resource-policy statement applies to the caller, or None."""
    assert statement.principals is not None
    relations = [r for r in (_principal_relation(t, v, caller) for t, v in statement.principals) if r]
    if statement.not_principal:
        # "The NotPrincipal element with a Deny effect will always deny any IAM principal that
        # has a permissions boundary policy attached, regardless of the values specified in the
        # NotPrincipal element" (Permissions boundaries for IAM entities).
        if statement.effect == "Deny" and has_boundary:
            return "direct"
        # Only a caller named exactly is exempt. "If you do not include the account ARN [...] the
        # policy might deny access to the entire account"; naming the account or the role does
        # not name its users or sessions (AWS JSON policy elements: NotPrincipal). Naming "*"
        # names everyone.
        return None if "direct" in relations else "direct"
    for relation in ("direct", "role", "account"):
        if relation in relations:
            return relation
    return None


def _statement_applies(statement: _Statement, policy: _Policy, request: RequestContext, context: Mapping[str, Any]) -> bool:
    return (
        _action_matches(statement, request.action)
        and _resource_matches(statement, request.resource, policy.version, context)
        and _conditions_hold(statement, policy.version, context)
    )


# --------------------------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------------------------


def _named(policy: PolicyInput | None, default_name: str) -> tuple[str, Any] | None:
    if policy is None:
        return None
    if isinstance(policy, tuple):
        if len(policy) != 2 or not isinstance(policy[0], str):
            raise PolicyError("expected a policy document or a (name, document) pair", code="MalformedPolicy", policy_name=default_name)
        return policy[0], policy[1]
    return default_name, policy


def _labels(statements: Iterable[MatchedStatement]) -> str:
    return "; ".join(s.label for s in statements)


_ACCOUNT_ID = re.compile(r"^\d{12}$")


def _requires_resource_policy(action: str) -> bool:
    # A role can be assumed only if its trust policy trusts the caller: "the trust policy [...]
    # defines which principals can assume the role" (IAM roles: terms and concepts), whatever the
    # caller's identity policies allow.
    return action.lower().startswith("sts:assumerole")


def evaluate(
    request: RequestContext,
    identity_policies: Iterable[PolicyInput],
    *,
    session_policy: PolicyInput | None = None,
    boundary: PolicyInput | None = None,
    resource_policy: PolicyInput | None = None,
    resource_account: str | None = None,
    resource_policy_required: bool | None = None,
) -> Decision:
    """Would AWS allow `request`? See the module docstring; raises `PolicyError` for bad policies."""
    if not isinstance(request.action, str) or ":" not in request.action:
        raise ValidationError("action", f"An action looks like s3:GetObject, got {request.action!r}.")
    if not isinstance(request.resource, str) or not request.resource:
        raise ValidationError("resource", "The request needs a resource ARN.")
    if resource_account is not None and not _ACCOUNT_ID.match(str(resource_account)):
        raise ValidationError("resource_account", f"An account ID is 12 digits, got {resource_account!r}.")

    identity = [
        _parse_policy(doc, name, "identity")
        for name, doc in (_named(p, f"identity policy {i + 1}") for i, p in enumerate(identity_policies))  # type: ignore[misc]
    ]
    session_pair = _named(session_policy, "session policy")
    boundary_pair = _named(boundary, "permissions boundary")
    resource_pair = _named(resource_policy, "resource policy")
    session = _parse_policy(session_pair[1], session_pair[0], "identity") if session_pair else None
    bound = _parse_policy(boundary_pair[1], boundary_pair[0], "identity") if boundary_pair else None
    resource = _parse_policy(resource_pair[1], resource_pair[0], "resource") if resource_pair else None

    context = _normalise_context(request, resource_account)
    caller = _Caller.parse(request.principal_arn)
    # "Cross-account policy evaluation logic": the caller's account and the resource's account
    # each have to allow. Without a resource account the resource is in the caller's account.
    cross_account = bool(resource_account and caller.account and resource_account != caller.account)
    if resource_policy_required is None:
        resource_policy_required = _requires_resource_policy(request.action)

    def matching(policy: _Policy | None, effect: str) -> list[_Statement]:
        if policy is None:
            return []
        return [s for s in policy.statements if s.effect == effect and _statement_applies(s, policy, request, context)]

    def resource_matching(effect: str) -> list[tuple[_Statement, str]]:
        if resource is None:
            return []
        out = []
        for statement in resource.statements:
            if statement.effect != effect:
                continue
            relation = _principal_applies(statement, caller, bound is not None)
            if relation and _statement_applies(statement, resource, request, context):
                out.append((statement, relation))
        return out

    what = f"{request.action} on {request.resource}"

    # 1. "An explicit deny in any of these policies overrides the allow": identity, session,
    #    boundary and resource policies alike.
    denies = [s.matched() for p in identity for s in matching(p, "Deny")]
    denies += [s.matched() for s in matching(session, "Deny")]
    denies += [s.matched() for s in matching(bound, "Deny")]
    denies += [s.matched() for s, _ in resource_matching("Deny")]
    if denies:
        return Decision(False, "ExplicitDeny", f"{what} is denied explicitly by {_labels(denies)}.", denies)

    identity_allows = [s.matched() for p in identity for s in matching(p, "Allow")]
    boundary_allows = [s.matched() for s in matching(bound, "Allow")]
    session_allows = [s.matched() for s in matching(session, "Allow")]
    boundary_ok = bound is None or bool(boundary_allows)
    session_ok = session is None or bool(session_allows)
    # "By default, all requests are implicitly denied with the exception of the AWS account root
    # user, which has full access" (How AWS enforcement code logic evaluates requests).
    is_root = caller.kind == "root"
    identity_side = is_root or bool(identity_allows and boundary_ok and session_ok)
    identity_deciding = identity_allows + boundary_allows + session_allows
    identity_words = "the account's root user" if is_root else _labels(identity_deciding)
    resource_allows = resource_matching("Allow")
    resource_deciding = [s.matched() for s, _ in resource_allows]

    if cross_account:
        return _cross_account_decision(
            what, caller, resource_account, identity_side, identity_deciding, identity_words, resource_allows,
            resource is not None, identity_allows, boundary_ok, session_ok, identity, request, context,
        )

    # 2. Identity-based permissions count only where the boundary and the session policy also
    #    allow: the effective permissions are their intersection.
    if identity_side:
        if resource_policy_required and not resource_allows:
            return Decision(
                False,
                "ImplicitDeny",
                f"{identity_words} allows {what}, but the resource policy (a role's trust policy) must also allow "
                "this principal, and it does not (implicit deny).",
                [],
            )
        deciding = identity_deciding + (resource_deciding if resource_policy_required else [])
        if is_root:
            return Decision(True, "Allow", f"{what} is allowed: the caller is the account's root user, allowed "
                            "everything no policy denies explicitly.", deciding)
        return Decision(True, "Allow", f"{what} is allowed by {identity_words}.", deciding)

    # 3. A same-account resource policy can grant by itself, depending on whom it names
    #    (Permissions boundaries for IAM entities; Session policies):
    #    - the IAM user ARN: "not limited by an implicit deny in an identity-based policy or
    #      permissions boundary"; when the user's credentials are a federation-token session,
    #      a grant to the user ARN is added before the session exists, so the session policy
    #      limits it;
    #    - an assumed-role or federated-user session ARN: granted to the session directly, not
    #      limited by the identity policy, the boundary or the session policy;
    #    - the role ARN (of the caller's session, or a role caller): limited by the boundary and
    #      the session policy, like the role's own identity policies;
    #    - the account: delegation only, the identity policy must allow (no grant by itself).
    #    "*" names every caller directly. A caller with no known ARN gets the strictest reading.
    granting: list[MatchedStatement] = []
    for statement, relation in resource_allows:
        if relation == "account":
            continue
        if relation == "direct" and caller.kind in ("assumed-role", "federated-user"):
            grants = True
        elif relation == "direct" and caller.kind in ("user", "root"):
            grants = session_ok
        else:
            grants = boundary_ok and session_ok
        if grants:
            granting.append(statement.matched())
    if granting:
        return Decision(True, "Allow", f"{what} is allowed by {_labels(granting)} (a resource-based policy naming this principal).", granting)

    # 4. Implicit deny: say which layer is missing.
    return Decision(False, "ImplicitDeny", _missing_layer(what, identity_allows, boundary_ok, session_ok, resource_allows, identity, request, context), [])


def _missing_layer(
    what: str,
    identity_allows: list[MatchedStatement],
    boundary_ok: bool,
    session_ok: bool,
    resource_allows: list[tuple[_Statement, str]],
    identity: list[_Policy],
    request: RequestContext,
    context: Mapping[str, Any],
) -> str:
    """Why a same-account request is implicitly denied, in plain words."""
    if identity_allows and not boundary_ok:
        return f"{_labels(identity_allows)} allows {what}, but the permissions boundary does not (implicit deny)."
    if identity_allows and not session_ok:
        return f"{_labels(identity_allows)} allows {what}, but the session policy does not (implicit deny)."
    if resource_allows and all(relation == "account" for _, relation in resource_allows):
        return (
            f"The resource policy allows {what} for the whole account, which delegates to identity policies, "
            "and none of them allows it (implicit deny)."
        )
    if resource_allows:
        missing = "permissions boundary" if not boundary_ok else "session policy"
        return (
            f"{_labels(s.matched() for s, _ in resource_allows)} allows {what}, but for this principal that grant "
            f"is limited by the {missing}, which does not allow it (implicit deny)."
        )
    reason = f"No statement allows {what} (implicit deny)."
    near = _near_misses(identity, request, context)
    if near:
        reason += " " + "; ".join(near) + "."
    return reason


def _cross_account_decision(
    what: str,
    caller: _Caller,
    resource_account: str | None,
    identity_side: bool,
    identity_deciding: list[MatchedStatement],
    identity_words: str,
    resource_allows: list[tuple[_Statement, str]],
    has_resource_policy: bool,
    identity_allows: list[MatchedStatement],
    boundary_ok: bool,
    session_ok: bool,
    identity: list[_Policy],
    request: RequestContext,
    context: Mapping[str, Any],
) -> Decision:
    """Both sides must allow: "the principal's identity-based policy must allow the requested access
    to the resource [...] the resource-based policy in the trusting account must specify the
    principal" (Cross-account policy evaluation logic). Naming the caller's account is enough on the
    resource side, since the caller's account then decides through its identity policies."""
    accounts = f"from account {caller.account} to a resource of account {resource_account}"
    resource_deciding = [s.matched() for s, _ in resource_allows]
    if identity_side and resource_allows:
        deciding = identity_deciding + resource_deciding
        return Decision(
            True, "Allow", f"{what} ({accounts}) is allowed by {identity_words} and by {_labels(resource_deciding)}.", deciding
        )
    if not identity_side:
        own = _missing_layer(what, identity_allows, boundary_ok, session_ok, [], identity, request, context)
        return Decision(False, "ImplicitDeny", f"A cross-account request ({accounts}) needs the caller's own account to allow it: {own}", [])
    if not has_resource_policy:
        why = "and the resource has no resource policy"
    else:
        why = "and its resource policy does not name this principal or its account for it"
    return Decision(
        False,
        "ImplicitDeny",
        f"{identity_words} allows {what}, but a cross-account request ({accounts}) also needs the resource's "
        f"policy to allow it, {why} (implicit deny).",
        [],
    )


def _near_misses(policies: Iterable[_Policy], request: RequestContext, context: Mapping[str, Any]) -> list[str]:
    """Allow statements that match the action and resource but whose condition fails, so the
    reason can say which condition key to look at."""
    out = []
    for policy in policies:
        for statement in policy.statements:
            if statement.effect != "Allow" or not _action_matches(statement, request.action):
                continue
            if not _resource_matches(statement, request.resource, policy.version, context):
                continue
            for condition in statement.conditions:
                if not _condition_holds(condition, policy.version, context, statement.where):
                    given = context.get(condition.key)
                    shown = "absent" if given is None else repr(given)
                    out.append(
                        f"{statement.matched().label} matches but its condition {condition.operator} "
                        f"{condition.key} {list(condition.values)} is not met ({condition.key} is {shown})"
                    )
                    break
    return out


def s3_capabilities(
    identity_policies: Iterable[PolicyInput],
    bucket: str,
    prefix: str = "",
    *,
    boundary: PolicyInput | None = None,
    session_policy: PolicyInput | None = None,
    resource_policy: PolicyInput | None = None,
    principal_arn: str | None = None,
    context: Mapping[str, ContextValue] | None = None,
    resource_account: str | None = None,
) -> dict[str, Decision]:
    """What a principal can do in `bucket` under `prefix`: keys list, read, write, delete.

    `list` asks for s3:ListBucket on the bucket with `s3:prefix` = `prefix` (exactly what a
    client listing that folder sends); the others ask for the object action on
    `bucket/prefix` + `S3_PROBE_KEY`. `context` adds request keys (e.g. aws:SecureTransport);
    `resource_account` is the bucket owner's account (see `evaluate`).
    """
    policies = list(identity_policies)
    extra = dict(context or {})
    object_arn = f"arn:aws:s3:::{bucket}/{prefix}{S3_PROBE_KEY}"
    requests = {
        "list": RequestContext("s3:ListBucket", f"arn:aws:s3:::{bucket}", {**extra, "s3:prefix": prefix}, principal_arn),
        "read": RequestContext("s3:GetObject", object_arn, extra, principal_arn),
        "write": RequestContext("s3:PutObject", object_arn, extra, principal_arn),
        "delete": RequestContext("s3:DeleteObject", object_arn, extra, principal_arn),
    }
    return {
        name: evaluate(
            req,
            policies,
            session_policy=session_policy,
            boundary=boundary,
            resource_policy=resource_policy,
            resource_account=resource_account,
        )
        for name, req in requests.items()
    }
