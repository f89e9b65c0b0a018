"""Validation runs before any AWS call and says which rule failed, on which field."""

from __future__ import annotations

import re

import pytest

from s3cred_tui.core.draft import request_problems, validate_request
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.validation import (
    DEFAULT_DURATION_SECONDS,
    MAX_JSON_DEPTH,
    default_user_name,
    loads_json,
    normalise_prefix,
    parse_duration,
    prefix_warnings,
    printable,
    role_session_name,
    validate_bucket_name,
    validate_endpoint_url,
    validate_policy_document,
    validate_role_name,
    validate_statement,
    validate_user_name,
)

# ---------------------------------------------------------------- bucket names


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "my-bucket",
        "my.bucket.example",
        "1bucket9",
        "bucket-01",
        "xn-not-punycode",  # only the exact "xn--" prefix is reserved
        "s3alias-at-start",
        "192.168.5.4x",  # not IP-shaped
    ],
)
def test_bucket_name_accepted(name):
    assert validate_bucket_name(name) == name


def test_bucket_name_surrounding_spaces_removed():
    assert validate_bucket_name("  my-bucket ") == "my-bucket"


@pytest.mark.parametrize(
    ("name", "message_part"),
    [
        ("", "Enter a bucket name"),
        ("ab", "is 2 characters long; S3 allows 3 to 63"),
        ("a" * 64, "is 64 characters long"),
        ("My-Bucket", "uppercase"),
        ("my_bucket", "'_'"),
        ("my bucket", "' '"),
        ("bucket/x", "'/'"),
        ("-bucket", "start and end"),
        ("bucket-", "start and end"),
        (".bucket", "start and end"),
        ("bucket.", "start and end"),
        ("my..bucket", "'..'"),
        ("192.168.5.4", "IP address"),
        ("999.1.1.1", "IP address"),
        ("xn--bucket", "'xn--'"),
        ("sthree-bucket", "'sthree-'"),
        ("sthree-configurator", "'sthree-'"),
        ("amzn-s3-demo-bucket", "'amzn-s3-demo-'"),
        ("bucket-s3alias", "'-s3alias'"),
        ("bucket--ol-s3", "'--ol-s3'"),
        ("bucket.mrap", "'.mrap'"),
        ("bucket--x-s3", "'--x-s3'"),
        ("bucket--table-s3", "'--table-s3'"),
    ],
)
def test_bucket_name_refused_with_the_rule(name, message_part):
    with pytest.raises(ValidationError) as info:
        validate_bucket_name(name)
    assert info.value.field == "buckets"
    assert message_part in info.value.message


# ---------------------------------------------------------------- prefixes


@pytest.mark.parametrize(
    ("prefix", "mode", "expected"),
    [
        ("", PrefixMode.PLAIN, ""),
        ("reports", PrefixMode.PLAIN, "reports/"),
        ("reports/", PrefixMode.PLAIN, "reports/"),
        ("reports/2024", PrefixMode.PLAIN, "reports/2024/"),
        ("a b/c", PrefixMode.PLAIN, "a b/c/"),
        ("price$", PrefixMode.PLAIN, "price$/"),
        ("${aws:username}", PrefixMode.LITERAL, "${aws:username}/"),
        ("we*ird?", PrefixMode.LITERAL, "we*ird?/"),
        ("logs/*", PrefixMode.PATTERN, "logs/*"),
        ("logs/*/2024", PrefixMode.PATTERN, "logs/*/2024/"),
        ("logs/20??", PrefixMode.PATTERN, "logs/20??/"),
        ("données", PrefixMode.PLAIN, "données/"),
    ],
)
def test_prefix_normalised(prefix, mode, expected):
    assert normalise_prefix(prefix, mode) == expected
    assert normalise_prefix(expected, mode) == expected  # idempotent


@pytest.mark.parametrize(
    ("prefix", "mode", "message_part"),
    [
        ("/reports", PrefixMode.PLAIN, "did you mean 'reports/'?"),
        ("//reports/", PrefixMode.PLAIN, "did you mean 'reports/'?"),
        ("/logs/*", PrefixMode.PATTERN, "did you mean 'logs/*'?"),
        ("/", PrefixMode.PLAIN, "S3 keys rarely start with /"),
        ("a\tb", PrefixMode.PLAIN, "control character"),
        ("a\nb", PrefixMode.LITERAL, "control character"),
        ("a\x7fb", PrefixMode.PATTERN, "control character"),
        ("logs/*", PrefixMode.PLAIN, "--literal-prefix"),
        ("logs/?", PrefixMode.PLAIN, "--prefix-pattern"),
        ("x" * 1024, PrefixMode.PLAIN, "at most 1,024"),
        ("é" * 512, PrefixMode.PLAIN, "bytes"),
    ],
)
def test_prefix_refused(prefix, mode, message_part):
    with pytest.raises(ValidationError) as info:
        normalise_prefix(prefix, mode)
    assert info.value.field == "prefix"
    assert message_part in info.value.message


def test_prefix_at_the_byte_limit_is_accepted():
    assert len(normalise_prefix("x" * 1023).encode()) == 1024


# ---------------------------------------------------------------- user and role names


@pytest.mark.parametrize("name", ["a", "A" * 64, "s3.read-only.bucket", "user+tag=x,y.z@example_com-1"])
def test_user_name_accepted(name):
    assert validate_user_name(name) == name
    assert validate_role_name(name) == name


@pytest.mark.parametrize(
    ("name", "message_part"),
    [("", "Enter a"), ("a" * 65, "65 characters"), ("has space", "' '"), ("slash/name", "'/'"), ("né", "'é'")],
)
def test_user_and_role_name_refused(name, message_part):
    with pytest.raises(ValidationError) as info:
        validate_user_name(name)
    assert info.value.field == "username"
    assert message_part in info.value.message
    with pytest.raises(ValidationError) as info:
        validate_role_name(name)
    assert info.value.field == "role"


# ---------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (900, 900),
        ("900", 900),
        ("900s", 900),
        ("15m", 900),
        ("2h", 7200),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("1H30M", 5400),
        ("12h", 43200),
        ("43200", 43200),
        ("1h0m30s", 3630),
    ],
)
def test_duration_parsed(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    ("value", "message_part"),
    [
        (899, "15 minutes to 12 hours"),
        ("14m", "15 minutes to 12 hours"),
        ("12h1s", "15 minutes to 12 hours"),
        (43201, "15 minutes to 12 hours"),
        (-900, "15 minutes to 12 hours"),
        ("", "Cannot read"),
        ("1d", "Cannot read"),
        ("30m1h", "Cannot read"),
        ("h", "Cannot read"),
        ("1.5h", "Cannot read"),
        (True, "Enter a duration"),
        (1.5, "not float"),
    ],
)
def test_duration_refused(value, message_part):
    with pytest.raises(ValidationError) as info:
        parse_duration(value)
    assert info.value.field == "duration"
    assert message_part in info.value.message


# ---------------------------------------------------------------- default names

IAM_NAME = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")
SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}", re.ASCII)


@pytest.mark.parametrize(
    ("buckets", "access", "expected"),
    [
        (["photos"], AccessLevel.READ_ONLY, "s3.read-only.photos"),
        (["photos"], "write-only", "s3.write-only.photos"),
        (["a-1", "b-2"], AccessLevel.READ_WRITE, "s3.read-write.a-1.b-2"),
    ],
)
def test_default_user_name_short(buckets, access, expected):
    assert default_user_name(buckets, access) == expected


@pytest.mark.parametrize(
    "buckets",
    [["a" * 63], [f"bucket-{i:02d}" for i in range(1, 21)], ["x" * 40, "y" * 40]],
)
def test_default_names_long_are_shortened_validly_and_stably(buckets):
    name = default_user_name(buckets, AccessLevel.READ_WRITE)
    assert IAM_NAME.fullmatch(name)
    assert len(name) == 64
    assert name.startswith("s3.read-write.")
    assert default_user_name(list(buckets), AccessLevel.READ_WRITE) == name
    session = role_session_name(buckets, AccessLevel.READ_WRITE)
    assert SESSION_NAME.fullmatch(session)
    token_name = role_session_name(buckets, AccessLevel.READ_WRITE, max_length=32)
    assert SESSION_NAME.fullmatch(token_name) and len(token_name) <= 32


def test_default_names_of_different_buckets_stay_distinct_after_shortening():
    first = default_user_name(["a" * 60 + "one"], AccessLevel.READ_ONLY)
    second = default_user_name(["a" * 60 + "two"], AccessLevel.READ_ONLY)
    assert first != second
    assert first[:50] == second[:50]


def test_role_session_name_replaces_unsafe_characters():
    name = role_session_name(["bücket"], AccessLevel.READ_ONLY)
    assert SESSION_NAME.fullmatch(name)
    assert name == "s3.read-only.b-cket"


# ---------------------------------------------------------------- whole requests


def problems_by_field(req):
    return [(p.field, p.message) for p in request_problems(req)]


def test_valid_permanent_request_normalised():
    req = CredentialRequest(buckets=(" photos ",), access=AccessLevel.READ_ONLY, prefix="reports")
    out = validate_request(req)
    assert out.buckets == ("photos",)
    assert out.prefix == "reports/"
    assert out.username == "s3.read-only.photos"
    assert out.duration_seconds is None
    assert req.prefix == "reports"  # the original is untouched


def test_valid_temporary_request_gets_default_duration():
    req = CredentialRequest(buckets=("photos",), kind=CredentialKind.ASSUME_ROLE)
    out = validate_request(req)
    assert out.duration_seconds == DEFAULT_DURATION_SECONDS == 3600
    assert out.username is None


def test_temporary_request_keeps_a_given_duration():
    req = CredentialRequest(buckets=("photos",), kind=CredentialKind.FEDERATION_TOKEN, duration_seconds=900)
    assert validate_request(req).duration_seconds == 900


def test_request_with_many_problems_lists_them_all():
    req = CredentialRequest(
        buckets=("Bad_Bucket", "ok-bucket", "ok-bucket"),
        prefix="/reports",
        kind=CredentialKind.ASSUME_ROLE,
        duration_seconds=60,
        username="someone",
        role_name="bad role",
        extra_statements=({"Effect": "Allow", "Action": "s3:GetObject"},),
    )
    fields = [field for field, _ in problems_by_field(req)]
    assert fields == ["buckets", "buckets", "prefix", "duration", "username", "role", "policy"]
    with pytest.raises(ValidationError) as info:
        validate_request(req)
    assert info.value.field == "buckets"


@pytest.mark.parametrize(
    ("changes", "field", "message_part"),
    [
        ({"buckets": ()}, "buckets", "at least one bucket"),
        ({"buckets": ("a-b", "a-b")}, "buckets", "listed twice"),
        ({"buckets": ("a-b", " a-b")}, "buckets", "listed twice"),
        ({"prefix": "x*"}, "prefix", "--literal-prefix"),
        ({"duration_seconds": 3600}, "duration", "Permanent keys do not expire"),
        ({"username": "bad name"}, "username", "' '"),
        ({"kind": CredentialKind.ASSUME_ROLE, "username": "x"}, "username", "only used for permanent"),
        ({"kind": CredentialKind.ASSUME_ROLE, "duration_seconds": 100}, "duration", "15 minutes"),
        ({"role_name": "my-role"}, "role", "only used for assume-role"),
        ({"access": AccessLevel.CUSTOM}, "policy", "needs a policy document"),
        ({"access": AccessLevel.CUSTOM, "custom_policy": {"Statement": []}}, "policy", "Version"),
        ({"access": AccessLevel.CUSTOM, "custom_policy": {"Version": "2012-10-17"}}, "policy", "Statement"),
        ({"access": AccessLevel.CUSTOM, "custom_policy": ["not", "a", "dict"]}, "policy", "JSON object"),
        (
            {"custom_policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}},
            "policy",
            "only used with custom access",
        ),
        ({"extra_statements": ({"Action": "s3:GetObject", "Resource": "*"},)}, "policy", "Effect"),
        ({"extra_statements": ({"Effect": "Allow", "Resource": "*"},)}, "policy", "Action"),
        ({"extra_statements": ({"Effect": "Allow", "Action": "s3:GetObject"},)}, "policy", "Resource"),
        ({"extra_statements": ("not a statement",)}, "policy", "JSON object"),
        ({"buckets": tuple(f"a-rather-long-bucket-name-{i:03d}" for i in range(60))}, "policy", "2,048"),
    ],
)
def test_request_problem(changes, field, message_part):
    req = CredentialRequest(**{"buckets": ("photos",), **changes})
    problems = request_problems(req)
    assert problems, "expected a problem"
    assert any(p.field == field and message_part in p.message for p in problems), problems_by_field(req)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"access": AccessLevel.READ_ONLY, "prefix": "reports"},
        {"access": AccessLevel.WRITE_ONLY, "prefix": "we*ird", "prefix_mode": PrefixMode.LITERAL},
        {"prefix": "logs/*", "prefix_mode": PrefixMode.PATTERN},
        {"kind": CredentialKind.ASSUME_ROLE, "duration_seconds": 43200, "role_name": "s3cred-tui"},
        {"kind": CredentialKind.FEDERATION_TOKEN},
        {"username": "alice"},
        {
            "access": AccessLevel.CUSTOM,
            "custom_policy": {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "NotAction": "s3:*", "NotResource": "*"}},
        },
        {"extra_statements": ({"Effect": "Allow", "Action": ["s3:GetObjectTagging"], "Resource": ["arn:aws:s3:::photos/*"]},)},
        {"buckets": tuple(f"bucket-{i:02d}" for i in range(1, 21)), "kind": CredentialKind.ASSUME_ROLE, "prefix": "reports"},
    ],
)
def test_request_without_problems(changes):
    req = CredentialRequest(**{"buckets": ("photos",), **changes})
    assert problems_by_field(req) == []
    assert validate_request(req).buckets


def test_validate_policy_document_accepts_single_statement_object():
    doc = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}}
    assert validate_policy_document(doc) is doc


@pytest.mark.parametrize(
    ("statement", "message_part"),
    [
        ({"Effect": "allow", "Action": "s3:*", "Resource": "*"}, "Effect"),
        ({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*", "Resource": "*"}, "exactly one of \"Action\""),
        ({"Effect": "Allow", "Action": [], "Resource": "*"}, "non-empty list"),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": ["*", 3]}, "list of strings"),
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": "yes"}, "Condition"),
    ],
)
def test_validate_policy_document_refuses_bad_statements(statement, message_part):
    with pytest.raises(ValidationError) as info:
        validate_policy_document({"Version": "2012-10-17", "Statement": [statement]})
    assert info.value.field == "policy"
    assert message_part in info.value.message


# ---------------------------------------------------------------- odd characters and bad input

# Every character class the issue names: C0 and C1 controls, line and paragraph separators,
# invisible characters, bidi embeddings, overrides and isolates, the byte order mark.
REFUSED = [
    "\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x80", "\x85", "\x9b", "\x9f",
    "\u2028", "\u2029",
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2060", "\u2061", "\u2062", "\u2063", "\u2064",
    "\u2066", "\u2067", "\u2068", "\u2069",
    "\ufeff",
]


@pytest.mark.parametrize("char", REFUSED, ids=lambda c: f"U+{ord(c):04X}")
@pytest.mark.parametrize("mode", list(PrefixMode))
def test_prefix_refuses_control_invisible_and_bidi_characters_naming_the_code_point(char, mode):
    with pytest.raises(ValidationError) as info:
        normalise_prefix(f"reports{char}2024/", mode)
    assert info.value.field == "prefix"
    assert info.value.message.startswith(f"prefix: U+{ord(char):04X}")
    assert "is not allowed" in info.value.message
    assert char not in info.value.message  # the message itself is safe to print on one line


def test_prefix_refusal_names_the_character():
    with pytest.raises(ValidationError) as info:
        normalise_prefix("reports/\u202etxt.exe")
    assert info.value.message.startswith("prefix: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed; ")


@pytest.mark.parametrize(
    ("validate", "field", "what"),
    [(validate_user_name, "username", "user name"), (validate_role_name, "role", "role name")],
)
@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2028", "\x85", "\x00"], ids=lambda c: f"U+{ord(c):04X}")
def test_names_refuse_odd_characters_naming_the_code_point(validate, field, what, char):
    with pytest.raises(ValidationError) as info:
        validate(f"alice{char}")
    assert info.value.field == field
    assert info.value.message.startswith(f"{what}: U+{ord(char):04X}")


@pytest.mark.parametrize("raw", [b"rep\xffort/", b"\xe9t\xe9/", b"\xc3("])
def test_prefix_from_undecodable_argv_bytes_is_refused_naming_the_field(raw):
    # Python decodes a command line's non-UTF-8 bytes to lone surrogates (surrogateescape).
    import os

    with pytest.raises(ValidationError) as info:
        normalise_prefix(os.fsdecode(raw))
    assert info.value.field == "prefix"
    assert "not UTF-8" in info.value.message
    info.value.message.encode("utf-8")  # printable as it is


def test_lone_surrogate_in_a_prefix_is_refused():
    with pytest.raises(ValidationError) as info:
        normalise_prefix("a\ud800b")
    assert info.value.field == "prefix"
    assert "U+D800" in info.value.message


@pytest.mark.parametrize("prefix", ["données/", "日本語/", "a b/", "\u00a0nbsp/", "emoji-\U0001f600/"])
def test_ordinary_unicode_prefixes_are_accepted(prefix):
    assert normalise_prefix(prefix) == prefix
    assert prefix_warnings(prefix) == []


def test_prefix_not_in_nfc_is_accepted_with_a_warning():
    decomposed = "cafe\u0301/"
    assert normalise_prefix(decomposed) == decomposed  # a real key may be decomposed: warn, never refuse
    (warning,) = prefix_warnings(decomposed)
    assert "NFC" in warning
    assert "U+0301 (COMBINING ACUTE ACCENT)" in warning
    assert prefix_warnings("caf\u00e9/") == []
    req = CredentialRequest(buckets=("photos",), prefix=decomposed)
    assert request_problems(req) == []


@pytest.mark.parametrize(
    "value",
    ["²", "9²", "³⁰⁰⁰", "١٢٠٠", "９００", "𝟗𝟎𝟎", "1h\u0663m", "15m²", "Ⅻ", "0x384", "+900", "1_000", "nan"],
)
def test_duration_in_other_digits_is_refused_not_crashed(value):
    with pytest.raises(ValidationError) as info:
        parse_duration(value)
    assert info.value.field == "duration"
    assert "Cannot read the duration" in info.value.message


@pytest.mark.parametrize("value", ["9" * 5000, "1" + "0" * 40, "1" + "0" * 20 + "h", "99999999999m"])
def test_huge_durations_are_refused_not_crashed(value):
    with pytest.raises(ValidationError) as info:
        parse_duration(value)
    assert info.value.field == "duration"
    assert "12 hours" in info.value.message
    assert len(info.value.message) < 200


def test_duration_with_leading_zeros_still_parses():
    assert parse_duration("0000000000000900") == 900
    assert parse_duration("01h") == 3600


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000, "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)],
    ids=["arrays-100000", "objects-100000", "one-level-too-deep"],
)
def test_deeply_nested_json_is_refused_in_one_line(text):
    with pytest.raises(ValidationError) as info:
        loads_json(text, "Policy file 'p.json'")
    assert info.value.field == "policy"
    assert info.value.message == (
        f"Policy file 'p.json' nests lists and objects more than {MAX_JSON_DEPTH} levels deep; no IAM policy needs that."
    )


def test_json_at_the_depth_limit_and_bad_json():
    assert loads_json("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, "x") is not None
    with pytest.raises(ValidationError, match=r"The custom policy is not valid JSON: Expecting value \(line 1, column 1\)"):
        loads_json("nope", "The custom policy")
    with pytest.raises(ValidationError, match="not valid JSON"):
        loads_json("1" * 5000, "x")  # more digits than int() converts


def _nested_list(depth: int) -> list:
    value: list = ["x"]
    for _ in range(depth):
        value = [value]
    return value


def test_policy_documents_built_in_memory_are_checked_for_depth_without_recursion():
    deep = _nested_list(100_000)  # deeper than any recursive walk (or json.dumps) survives
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringLike": {"s3:prefix": deep}}}
    for check in (lambda: validate_statement(statement), lambda: validate_policy_document({"Version": "2012-10-17", "Statement": [statement]})):
        with pytest.raises(ValidationError, match="levels deep"):
            check()


@pytest.mark.parametrize(
    "url", ["http://a b", "http://", "ftp://x", "not a url", "http://[::1", "http://host:99999", "http://\udcff", "http://h\x00"]
)
def test_unusable_endpoint_urls_are_refused(url):
    with pytest.raises(ValidationError) as info:
        validate_endpoint_url(url)
    assert info.value.field == "endpoint"


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000", "https://s3.example.com", "http://[::1]:5000/", "http://localhost"])
def test_usable_endpoint_urls_are_accepted(url):
    assert validate_endpoint_url(url) == url


def test_printable_escapes_what_would_break_a_line_or_a_terminal():
    assert printable("a\nb\u202ec\x1bd\udcff") == "a\\nb\\u202ec\\x1bd\\udcff"
    assert printable("x" * 500, limit=10) == "x" * 9 + "…"

