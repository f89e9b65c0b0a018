"""Checks of single inputs that run before any AWS call, with messages a person can act on.

Every refusal is a `ValidationError` whose `field` names the form field at fault
("buckets", "prefix", "username", "duration", "policy", "role"), so the UI can show
each problem beside its field. A whole request (its fields together, its policy and the
policy's size) is judged in `core.draft`; this module knows nothing of policies beyond
the shape of a statement, so `policies` can build on it without importing it back.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import (
    MAX_DURATION_SECONDS,
    MIN_DURATION_SECONDS,
    AccessLevel,
    CredentialKind,
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
# ASCII digits only: str.isdigit() and \d also accept "²" or "١", which int() refuses or reads.
_DURATION_SECONDS = re.compile(r"[0-9]+")
_DURATION_UNITS = re.compile(r"(?:(?P<h>[0-9]+)h)?(?:(?P<m>[0-9]+)m)?(?:(?P<s>[0-9]+)s)?")
# More digits than any duration within 36 hours needs; longer numbers are refused before int()
# (which also refuses strings of more than 4,300 digits).
_DURATION_MAX_DIGITS = 9

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
    check_characters(prefix, "prefix", "prefix")
    if prefix.startswith("/"):
        suggestion = prefix.lstrip("/")
        if suggestion and not suggestion.endswith("/") and not (mode is PrefixMode.PATTERN and suggestion.endswith("*")):
            suggestion += "/"
        raise refuse(f"S3 keys rarely start with /; did you mean {suggestion!r}?")
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


def normalise_prefixes(prefixes: Iterable[str], mode: PrefixMode = PrefixMode.PLAIN) -> tuple[str, ...]:
    """Several prefixes, each normalised (`normalise_prefix`), each once, in the order given.

    A prefix inside another one given (`reports/2024/` beside `reports/`) adds nothing and is
    dropped, except in PATTERN mode where wildcards make "inside" a matter of patterns.
    """
    mode = PrefixMode(mode)
    normalised = list(dict.fromkeys(normalise_prefix(p, mode) for p in prefixes if p))
    if mode is PrefixMode.PATTERN:
        return tuple(normalised)
    return tuple(p for p in normalised if not any(p != other and p.startswith(other) for other in normalised))


def validate_object_key(key: str) -> str:
    """An exact object key to grant (`--key`): non-empty text of at most 1,024 bytes, as typed.

    `*` and `?` are allowed: an exact key is always matched literally (escaped as `${*}`, `${?}`).
    """

    def refuse(message: str) -> ValidationError:
        return ValidationError("keys", message)

    if not isinstance(key, str):
        raise refuse(f"An object key must be text, not {type(key).__name__}.")
    if key == "":
        raise refuse("An object key cannot be empty.")
    check_characters(key, "keys", "object key")
    if key.startswith("/"):
        raise refuse(f"S3 keys rarely start with /; did you mean {key.lstrip('/')!r}?")
    size = len(key.encode("utf-8"))
    if size > MAX_PREFIX_BYTES:
        raise refuse(f"The key is {size:,} bytes; an S3 key can be at most {MAX_PREFIX_BYTES:,}.")
    return key


def check_key_listing(keys: Iterable[str], list_keys: bool, access: AccessLevel | str) -> None:
    """Listing exact keys (`--list-keys`) needs keys to list and a level that reads."""
    if not list_keys:
        return
    if not tuple(keys):
        raise ValidationError("keys", "Listing exact keys needs at least one key (--key).")
    access = AccessLevel(access)
    if not access.can_read:
        raise ValidationError("keys", f"Listing keys is only for levels that read, not {access.value}.")


def validate_endpoint_url(url: str) -> str:
    """An endpoint such as `https://s3.example.com` or `http://127.0.0.1:9000`, or a ValidationError
    (botocore raises a bare ValueError for one it cannot use)."""
    check_characters(url, "endpoint", "endpoint URL")

    def refuse() -> ValidationError:
        return ValidationError(
            "endpoint",
            f"The endpoint URL {printable(url, 100)!r} cannot be used; write it like https://s3.example.com "
            "or http://127.0.0.1:9000.",
        )

    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise refuse() from None
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise refuse()
    return url


def _validate_iam_name(name: str, field: str, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(field, f"Enter a {what} (1 to 64 letters, digits or + = , . @ _ -).")
    check_characters(name, field, what)
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


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")


def validate_region(region: str) -> str:
    """An AWS region name such as `eu-west-1` (field `"region"`: where new buckets are created)."""
    text = region.strip() if isinstance(region, str) else ""
    if not _REGION.fullmatch(text):
        raise ValidationError(
            "region", f"{printable(str(region), 40)!r} is not a region name; write it like us-east-1 or eu-west-1."
        )
    return text


# How long temporary credentials may last, by how they are made (AWS's limits). `duration_range`
# is the one place that turns them into a range and its reason; the form, the draft and the plan ask it.
ROLE_CHAINING_LIMIT_SECONDS = 3600  # an assumed-role caller assuming another role
FEDERATION_ROOT_LIMIT_SECONDS = 3600  # a federation token made by the root user
FEDERATION_MIN_SECONDS = 900
FEDERATION_MAX_SECONDS = 129600  # 36 hours


@dataclass(frozen=True)
class DurationRange:
    """The durations one way of making temporary credentials allows, and why (a clause for a message)."""

    min_seconds: int
    max_seconds: int
    reason: str

    @property
    def span(self) -> str:
        """`15m to 36h`."""
        return f"{_describe_seconds(self.min_seconds)} to {self.longest}"

    @property
    def longest(self) -> str:
        """`36h`."""
        return _describe_seconds(self.max_seconds)

    def refusal(self, seconds: int) -> str:
        """`The duration is 2h; you are signed in with an assumed role, and AWS caps role chaining at 1 hour.`"""
        return f"The duration is {_describe_seconds(seconds)}; {self.reason}."


GENERIC_DURATION_RANGE = DurationRange(
    MIN_DURATION_SECONDS, MAX_DURATION_SECONDS, "temporary credentials last from 15 minutes to 12 hours"
)


def duration_range(kind: CredentialKind | str, caller_type: str | None = None) -> DurationRange:
    """What `kind` allows for a caller of `caller_type` (`Identity.principal_type`; None when unknown).

    Assume-role: 15 minutes to 12 hours (the role's MaxSessionDuration is checked by the plan), but
    1 hour when the caller is itself an assumed role (role chaining). Federation token: 15 minutes to
    36 hours, 1 hour for the root user. Permanent keys do not expire: the generic range."""
    kind = CredentialKind(kind)
    if kind is CredentialKind.ASSUME_ROLE:
        if caller_type == "assumed-role":
            return DurationRange(
                MIN_DURATION_SECONDS,
                ROLE_CHAINING_LIMIT_SECONDS,
                "you are signed in with an assumed role, and AWS caps role chaining at 1 hour",
            )
        return DurationRange(
            MIN_DURATION_SECONDS,
            MAX_DURATION_SECONDS,
            "an assumed-role session lasts from 15 minutes to 12 hours",
        )
    if kind is CredentialKind.FEDERATION_TOKEN:
        if caller_type == "root":
            return DurationRange(
                FEDERATION_MIN_SECONDS, FEDERATION_ROOT_LIMIT_SECONDS, "a federation token made by the root user lasts at most 1 hour"
            )
        return DurationRange(
            FEDERATION_MIN_SECONDS,
            FEDERATION_MAX_SECONDS,
            "a federation token lasts from 15 minutes to 36 hours",
        )
    return GENERIC_DURATION_RANGE


def parse_duration(value: str | int, limits: DurationRange = GENERIC_DURATION_RANGE) -> int:
    """Seconds from `900`, `"900"`, `"900s"`, `"15m"`, `"2h"` or `"1h30m"`, within `limits`
    (`duration_range(kind, caller_type)`; by default 15 minutes to 12 hours)."""
    if isinstance(value, bool):
        raise ValidationError("duration", "Enter a duration such as 15m, 1h or 1h30m.")
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str):
        text = "".join(value.split()).lower()
        match = None if _DURATION_SECONDS.fullmatch(text) else _DURATION_UNITS.fullmatch(text)
        if not text or (match is None and not _DURATION_SECONDS.fullmatch(text)):
            raise ValidationError(
                "duration",
                f"Cannot read the duration {printable(value, 40)!r}; write it like 900, 900s, 15m, 2h or 1h30m.",
            )
        numbers = [text] if match is None else [n for n in match.groups() if n]
        if any(len(n.lstrip("0")) > _DURATION_MAX_DIGITS for n in numbers):
            raise ValidationError(
                "duration", f"The duration is far longer than {_describe_seconds(limits.max_seconds)}; {limits.reason}."
            )
        if match is None:
            seconds = int(text)
        else:
            seconds = int(match["h"] or 0) * 3600 + int(match["m"] or 0) * 60 + int(match["s"] or 0)
    else:
        raise ValidationError("duration", f"A duration must be text or seconds, not {type(value).__name__}.")
    if not limits.min_seconds <= seconds <= limits.max_seconds:
        raise ValidationError("duration", limits.refusal(seconds))
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


_EFFECTS = ("Allow", "Deny")


def validate_statement(statement: Any, what: str = "Statement") -> Mapping[str, Any]:
    """A policy statement needs Effect, Action (or NotAction) and Resource (or NotResource)."""
    if not isinstance(statement, Mapping):
        raise ValidationError("policy", f"{what} must be a JSON object, not {type(statement).__name__}.")
    check_json_depth(statement, what)
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
    check_json_depth(document, "The policy")
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


# ---------------------------------------------------------------------------
# Characters refused in prefixes and names, and JSON documents read from people.
#
# One rule for every field: a character that cannot be seen, that reorders the text shown
# around it, or that breaks lines or terminals makes a name that is not what it looks like
# (U+202E shows `reports/‮txt.exe` reversed on the review screen). Ranges, with why each is
# refused; anything else printable is left to the field's own rules.
_CONTROL = "it is a control character, which garbles logs and terminals"
_INVISIBLE = "it is invisible, so two names that look the same would differ"
_BIDI = "it is a bidirectional-text control, which shows the text around it in another order"
_NOT_TEXT = "not text"
_REFUSED_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0000, 0x001F, _CONTROL),
    (0x007F, 0x009F, _CONTROL),  # DEL and the C1 controls, U+0085 NEXT LINE among them
    (0x200B, 0x200D, _INVISIBLE),  # zero width space, non-joiner, joiner
    (0x200E, 0x200F, _BIDI),  # LRM, RLM
    (0x2028, 0x2029, "it is a line separator, which breaks the line it is shown on"),
    (0x202A, 0x202E, _BIDI),  # embeddings and overrides
    (0x2060, 0x2064, _INVISIBLE),  # word joiner, invisible operators
    (0x2066, 0x2069, _BIDI),  # isolates
    (0xD800, 0xDFFF, _NOT_TEXT),  # lone surrogates: bytes that were not UTF-8
    (0xFEFF, 0xFEFF, _INVISIBLE),  # zero width no-break space (a byte order mark)
)
# Names of the C0/C1 controls (unicodedata has none for them).
_CONTROL_NAMES = {
    0x00: "NULL", 0x07: "BELL", 0x08: "BACKSPACE", 0x09: "CHARACTER TABULATION", 0x0A: "LINE FEED",
    0x0B: "LINE TABULATION", 0x0C: "FORM FEED", 0x0D: "CARRIAGE RETURN", 0x1B: "ESCAPE", 0x7F: "DELETE",
    0x85: "NEXT LINE", 0x9B: "CONTROL SEQUENCE INTRODUCER",
}
# Deeper than any IAM policy needs (Statement > statement > Condition > operator > key > values),
# shallow enough that nothing walking a document recursively can run out of stack.
MAX_JSON_DEPTH = 32


def _refusal_reason(char: str) -> str | None:
    code = ord(char)
    for first, last, reason in _REFUSED_RANGES:
        if first <= code <= last:
            return reason
    return None


def describe_character(char: str) -> str:
    """`U+202E (RIGHT-TO-LEFT OVERRIDE)`: the code point and its Unicode name."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        # What Python makes of a byte that is not UTF-8 on the command line (surrogateescape).
        return f"byte 0x{code - 0xDC00:02X} (not UTF-8)"
    if 0xD800 <= code <= 0xDFFF:
        return f"U+{code:04X} (a lone surrogate, not text)"
    name = _CONTROL_NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X} ({name})" if name else f"U+{code:04X}"


def check_characters(text: str, field: str, what: str) -> str:
    """`text`, or a ValidationError naming the first control, invisible, bidi or non-UTF-8 character.

    `what` names the field in the message: `prefix: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed; …`.
    """
    for char in text:
        reason = _refusal_reason(char)
        if reason == _NOT_TEXT:
            raise ValidationError(
                field, f"{what}: {describe_character(char)} is not allowed; type the {what} as UTF-8 text."
            )
        if reason is not None:
            raise ValidationError(field, f"{what}: {describe_character(char)} is not allowed; {reason}.")
    return text


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def check_utf8(text: str, field: str, what: str) -> str:
    """`text`, or a ValidationError if it holds bytes that were not UTF-8 (lone surrogates).

    For free text that may legitimately hold any other character (an object key to simulate,
    a condition value), but that must still be encodable to be sent or printed.
    """
    for char in text:
        if _refusal_reason(char) == _NOT_TEXT:
            raise ValidationError(field, f"{what}: {describe_character(char)} is not allowed; type the {what} as UTF-8 text.")
    return text


_KEY_TEXT = re.compile(r"[!-~]+")  # printable ASCII without spaces, as every AWS key id, secret and token is


def validate_key_part(value: str, field: str, what: str) -> str:
    """An access key id, secret access key or session token as text AWS can sign with, or a
    ValidationError that names the part but never shows its value (it may be a secret)."""
    if not isinstance(value, str) or not _KEY_TEXT.fullmatch(value):
        raise ValidationError(
            field, f"The {what} must be printable ASCII without spaces, as AWS issues it; check how it was pasted."
        )
    return value


def printable(text: str, limit: int = 200) -> str:
    """`text` for a one-line message: refused characters escaped, long text shortened."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for char in text:
        if _refusal_reason(char) is None:
            out.append(char)
        elif char in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[char])
        elif ord(char) <= 0xFF:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def prefix_warnings(prefix: str) -> list[str]:
    """Things worth saying about a prefix that is allowed: today, a prefix not in Unicode NFC form."""
    warnings = []
    if isinstance(prefix, str) and not unicodedata.is_normalized("NFC", prefix):
        composed = unicodedata.normalize("NFC", prefix)
        mark = next((c for c in prefix if unicodedata.combining(c)), None)
        spelled = f" (it has {describe_character(mark)} as a separate character)" if mark else ""
        warnings.append(
            f"The prefix {printable(prefix)!r} is not in Unicode NFC form{spelled}: it looks like "
            f"{printable(composed)!r} but is a different S3 key, and most tools name objects in NFC. Type it "
            "composed unless your keys really are decomposed."
        )
    return warnings


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in `value`, measured without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _too_deep(what: str, field: str) -> ValidationError:
    return ValidationError(
        field, f"{what} nests lists and objects more than {MAX_JSON_DEPTH} levels deep; no IAM policy needs that."
    )


def check_json_depth(value: Any, what: str, field: str = "policy") -> Any:
    """`value`, or a ValidationError if it nests deeper than `MAX_JSON_DEPTH` (code that walks a
    document recursively, json.dumps included, would run out of stack)."""
    if json_depth(value) > MAX_JSON_DEPTH:
        raise _too_deep(what, field)
    return value


def loads_json(text: str, what: str, field: str = "policy") -> Any:
    """A JSON document typed or read by a person, or a one-line ValidationError: not JSON, or nested too deeply."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            field, f"{what} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
        ) from None
    except RecursionError:
        raise _too_deep(what, field) from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ValidationError(field, f"{what} is not valid JSON: {exc}.") from None
    return check_json_depth(value, what, field)
