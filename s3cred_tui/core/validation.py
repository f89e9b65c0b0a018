"""Input checks that run before any AWS call, with messages a person can act on.

Every refusal is a `ValidationError` whose `field` names the form field at fault
("buckets", "prefix", "username", "duration", "policy", "role"), so the UI can show
each problem beside its field.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from typing import Any

from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import (
    MAX_DURATION_SECONDS,
    MIN_DURATION_SECONDS,
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)

# Temporary credentials without an explicit duration last one hour: the default
# MaxSessionDuration of a role, so it works without changing the role.
DEFAULT_DURATION_SECONDS = 3600

MAX_PREFIX_BYTES = 1024  # the longest S3 object key
MAX_IAM_NAME_LENGTH = 64

_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]+")
_SESSION_NAME_UNSAFE = re.compile(r"[^\w+=,.@-]", re.ASCII)
_DURATION_UNITS = re.compile(r"(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?")

# Reserved by S3 for its own features (IDN punycode, access point aliases,
# Object Lambda, Multi-Region Access Points, directory buckets, table buckets, docs).
_RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def validate_bucket_name(name: str) -> str:
    """Return the bucket name (surrounding spaces removed) or say which S3 naming rule it breaks."""

    def refuse(message: str) -> ValidationError:
        return ValidationError("buckets", message)

    if not isinstance(name, str):
        raise refuse(f"A bucket name must be text, not {type(name).__name__}.")
    name = name.strip()
    if not name:
        raise refuse("Enter a bucket name.")
    if not 3 <= len(name) <= 63:
        raise refuse(f"Bucket name {name!r} is {len(name)} characters long; S3 allows 3 to 63.")
    if name.lower() != name and _BUCKET_CHARS.fullmatch(name.lower()):
        raise refuse(f"Bucket name {name!r} has uppercase letters; S3 bucket names are lowercase ({name.lower()!r}).")
    if not _BUCKET_CHARS.fullmatch(name):
        bad = sorted({c for c in name if not _BUCKET_CHARS.fullmatch(c)})
        shown = " ".join(repr(c) for c in bad)
        raise refuse(
            f"Bucket name {name!r} contains {shown}; only lowercase letters, digits, '.' and '-' are allowed."
        )
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise refuse(f"Bucket name {name!r} must start and end with a lowercase letter or a digit.")
    if ".." in name:
        raise refuse(f"Bucket name {name!r} has two periods in a row ('..'), which S3 does not allow.")
    if _looks_like_ip_address(name):
        raise refuse(f"Bucket name {name!r} is shaped like an IP address, which S3 does not allow.")
    for reserved in _RESERVED_BUCKET_PREFIXES:
        if name.startswith(reserved):
            raise refuse(f"Bucket name {name!r} starts with {reserved!r}, a prefix S3 reserves.")
    for reserved in _RESERVED_BUCKET_SUFFIXES:
        if name.endswith(reserved):
            raise refuse(f"Bucket name {name!r} ends with {reserved!r}, a suffix S3 reserves.")
    return name


def _looks_like_ip_address(name: str) -> bool:
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        # S3 also refuses IP-shaped names that `ipaddress` rejects, such as "256.1.1.1".
        return bool(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name))
    return True


def normalise_prefix(prefix: str, mode: PrefixMode = PrefixMode.PLAIN) -> str:
    """Return the prefix ending in `/` (so `reports` never grants `reports-private/`), or refuse it.

    `""` means the whole bucket. In PATTERN mode a prefix ending in `*` is already open-ended
    and is left alone.
    """
    mode = PrefixMode(mode)

    def refuse(message: str) -> ValidationError:
        return ValidationError("prefix", message)

    if prefix is None:
        return ""
    if not isinstance(prefix, str):
        raise refuse(f"A prefix must be text, not {type(prefix).__name__}.")
    if prefix == "":
        return ""
    if prefix.startswith("/"):
        suggestion = prefix.lstrip("/")
        if suggestion and not suggestion.endswith("/") and not (mode is PrefixMode.PATTERN and suggestion.endswith("*")):
            suggestion += "/"
        raise refuse(f"S3 keys rarely start with /; did you mean {suggestion!r}?")
    control = [c for c in prefix if ord(c) < 32 or ord(c) == 127]
    if control:
        raise refuse(
            f"The prefix contains a control character ({control[0]!r}); type it without tabs or line breaks."
        )
    if mode is PrefixMode.PLAIN and ("*" in prefix or "?" in prefix):
        raise refuse(
            "The prefix contains '*' or '?', which IAM would read as wildcards. Choose Literal to match "
            "them as characters (--literal-prefix), or Pattern to use them as wildcards (--prefix-pattern)."
        )
    if not prefix.endswith("/") and not (mode is PrefixMode.PATTERN and prefix.endswith("*")):
        prefix += "/"
    size = len(prefix.encode("utf-8"))
    if size > MAX_PREFIX_BYTES:
        raise refuse(f"The prefix is {size:,} bytes; an S3 key (and so a prefix) can be at most {MAX_PREFIX_BYTES:,}.")
    return prefix


def _validate_iam_name(name: str, field: str, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(field, f"Enter a {what} (1 to 64 letters, digits or + = , . @ _ -).")
    if len(name) > MAX_IAM_NAME_LENGTH:
        raise ValidationError(field, f"The {what} is {len(name)} characters long; IAM allows at most 64.")
    if not _IAM_NAME.fullmatch(name):
        bad = sorted({c for c in name if not _IAM_NAME.fullmatch(c)})
        shown = " ".join(repr(c) for c in bad)
        raise ValidationError(field, f"The {what} contains {shown}; IAM allows only letters, digits and + = , . @ _ -.")
    return name


def validate_user_name(name: str) -> str:
    return _validate_iam_name(name, "username", "user name")


def validate_role_name(name: str) -> str:
    return _validate_iam_name(name, "role", "role name")


def parse_duration(value: str | int) -> int:
    """Seconds from `900`, `"900"`, `"900s"`, `"15m"`, `"2h"` or `"1h30m"`; 15 minutes to 12 hours."""
    if isinstance(value, bool):
        raise ValidationError("duration", "Enter a duration such as 15m, 1h or 1h30m.")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        text = "".join(value.split()).lower()
        if text.isdigit():
            seconds = int(text)
        else:
            match = _DURATION_UNITS.fullmatch(text)
            if not text or match is None:
                raise ValidationError(
                    "duration", f"Cannot read the duration {value!r}; write it like 900, 900s, 15m, 2h or 1h30m."
                )
            seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    else:
        raise ValidationError("duration", f"A duration must be text or seconds, not {type(value).__name__}.")
    if not MIN_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise ValidationError(
            "duration",
            f"The duration is {_describe_seconds(seconds)}; temporary credentials last from 15 minutes to 12 hours.",
        )
    return seconds


def _describe_seconds(seconds: int) -> str:
    if seconds < 0:
        return f"{seconds} seconds"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n]
    return "".join(parts) or "0s"


def _stable_suffix(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def _shorten(name: str, limit: int) -> str:
    """`name` if it fits; otherwise its start plus a hash of the whole, so different inputs stay distinct."""
    if len(name) <= limit:
        return name
    suffix = "-" + _stable_suffix(name)
    return name[: limit - len(suffix)] + suffix


def default_user_name(buckets: Iterable[str], access: AccessLevel | str) -> str:
    """`s3.read-only.BUCKET` (the s3-credentials convention); several buckets are joined by `.`."""
    level = AccessLevel(access).value
    return _shorten(f"s3.{level}." + ".".join(buckets), MAX_IAM_NAME_LENGTH)


def role_session_name(buckets: Iterable[str], access: AccessLevel | str, max_length: int = 64) -> str:
    """A name for an AssumeRole session (<= 64) or, with `max_length=32`, a federation token."""
    level = AccessLevel(access).value
    name = _SESSION_NAME_UNSAFE.sub("-", f"s3.{level}." + ".".join(buckets))
    return _shorten(name, max_length)


def request_problems(req: CredentialRequest) -> list[ValidationError]:
    """Every problem with the request, in form order, so the UI can show each beside its field."""
    problems: list[ValidationError] = []

    def check(func, *args):
        try:
            return func(*args)
        except ValidationError as exc:
            problems.append(exc)
            return None

    buckets = tuple(req.buckets) if req.buckets else ()
    if not buckets:
        problems.append(ValidationError("buckets", "Choose at least one bucket."))
    valid_buckets = [name for name in (check(validate_bucket_name, b) for b in buckets) if name is not None]
    seen: set[str] = set()
    for name in valid_buckets:
        if name in seen:
            problems.append(ValidationError("buckets", f"Bucket {name!r} is listed twice; list each bucket once."))
        seen.add(name)

    prefix_ok = check(normalise_prefix, req.prefix, req.prefix_mode) is not None

    kind = CredentialKind(req.kind)
    if kind.temporary:
        if req.duration_seconds is not None:
            check(parse_duration, req.duration_seconds)
        if req.username is not None:
            problems.append(
                ValidationError(
                    "username",
                    "A user name is only used for permanent keys; temporary credentials do not create a user.",
                )
            )
    else:
        if req.duration_seconds is not None:
            problems.append(
                ValidationError(
                    "duration",
                    "Permanent keys do not expire; clear the duration or choose temporary credentials.",
                )
            )
        if req.username is not None:
            check(validate_user_name, req.username)

    if req.role_name is not None:
        if kind is CredentialKind.ASSUME_ROLE:
            check(validate_role_name, req.role_name)
        else:
            problems.append(ValidationError("role", "A role name is only used for assume-role credentials."))

    policy_ok = True
    access = AccessLevel(req.access)
    if access is AccessLevel.CUSTOM:
        if req.custom_policy is None:
            problems.append(ValidationError("policy", "Custom access needs a policy document; paste or load one."))
            policy_ok = False
        else:
            policy_ok = check(validate_policy_document, req.custom_policy) is not None
    elif req.custom_policy is not None:
        problems.append(
            ValidationError("policy", f"A custom policy is only used with custom access, not {access.value}.")
        )
        policy_ok = False
    for index, statement in enumerate(req.extra_statements or ()):
        if check(validate_statement, statement, f"Extra statement {index + 1}") is None:
            policy_ok = False

    if policy_ok and prefix_ok and valid_buckets and len(valid_buckets) == len(buckets) and len(seen) == len(buckets):
        # Imported here: policies builds on this module's name checks.
        from s3cred_tui.core import policies

        try:
            document = policies.policy_for_request(req)
            limit = policies.SESSION_POLICY_LIMIT if kind.temporary else policies.INLINE_USER_POLICY_LIMIT
            what = "session policy" if kind.temporary else "user policy"
            policies.check_policy_size(document, limit, what)
        except ValidationError as exc:
            problems.append(exc)
        except policies.PolicyTooLarge as exc:
            problems.append(ValidationError("policy", exc.message))
    return problems


def validate_request(req: CredentialRequest) -> CredentialRequest:
    """A normalised copy of the request (trimmed bucket names, prefix ending in `/`, a duration for
    temporary kinds, a default user name for permanent keys), or the first problem raised."""
    problems = request_problems(req)
    if problems:
        raise problems[0]
    kind = CredentialKind(req.kind)
    access = AccessLevel(req.access)
    buckets = tuple(validate_bucket_name(b) for b in req.buckets)
    changes: dict[str, Any] = {
        "buckets": buckets,
        "access": access,
        "kind": kind,
        "prefix_mode": PrefixMode(req.prefix_mode),
        "prefix": normalise_prefix(req.prefix, req.prefix_mode),
        "extra_statements": tuple(req.extra_statements or ()),
    }
    if kind.temporary:
        changes["duration_seconds"] = (
            DEFAULT_DURATION_SECONDS if req.duration_seconds is None else parse_duration(req.duration_seconds)
        )
    elif req.username is None:
        changes["username"] = default_user_name(buckets, access)
    return dataclasses.replace(req, **changes)


_EFFECTS = ("Allow", "Deny")


def validate_statement(statement: Any, what: str = "Statement") -> Mapping[str, Any]:
    """A policy statement needs Effect, Action (or NotAction) and Resource (or NotResource)."""
    if not isinstance(statement, Mapping):
        raise ValidationError("policy", f"{what} must be a JSON object, not {type(statement).__name__}.")
    if statement.get("Effect") not in _EFFECTS:
        raise ValidationError("policy", f"{what} needs \"Effect\": \"Allow\" or \"Deny\".")
    if ("Action" in statement) == ("NotAction" in statement):
        raise ValidationError("policy", f"{what} needs exactly one of \"Action\" or \"NotAction\".")
    if ("Resource" in statement) == ("NotResource" in statement):
        raise ValidationError("policy", f"{what} needs exactly one of \"Resource\" or \"NotResource\".")
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in statement and not _is_string_or_strings(statement[key]):
            raise ValidationError("policy", f"{what}: \"{key}\" must be a string or a non-empty list of strings.")
    if "Condition" in statement and not isinstance(statement["Condition"], Mapping):
        raise ValidationError("policy", f"{what}: \"Condition\" must be a JSON object.")
    return statement


def _is_string_or_strings(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value)
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def validate_policy_document(document: Any) -> Mapping[str, Any]:
    """A custom policy: a JSON object with "Version" and a non-empty "Statement" of valid statements."""
    if not isinstance(document, Mapping):
        raise ValidationError("policy", f"The policy must be a JSON object, not {type(document).__name__}.")
    if "Version" not in document:
        raise ValidationError("policy", "The policy needs \"Version\": \"2012-10-17\".")
    if document["Version"] not in ("2012-10-17", "2008-10-17"):
        raise ValidationError("policy", f"Unknown policy Version {document['Version']!r}; use \"2012-10-17\".")
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise ValidationError("policy", "The policy needs a \"Statement\" list with at least one statement.")
    for index, statement in enumerate(statements):
        validate_statement(statement, f"Statement {index + 1}")
    return document
