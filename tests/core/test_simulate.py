"""The offline policy evaluator, case by case from AWS's documentation of policy evaluation.

Many of these cases are ones moto answers differently (it ignores Condition blocks, session
policies, boundaries and NotResource, and reads `?`/`.` in resources wrongly), which is why
they are checked here and not against the emulator.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from s3cred_tui.core.errors import S3CredError, ValidationError
from s3cred_tui.core.simulate import (
    S3_PROBE_KEY,
    Decision,
    MatchedStatement,
    PolicyError,
    RequestContext,
    evaluate,
    s3_capabilities,
)

ACCOUNT = "111122223333"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/uploader"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/uploader/job-42"
FEDERATED = f"arn:aws:sts::{ACCOUNT}:federated-user/partner"
BUCKET = "arn:aws:s3:::bkt"


def obj(key: str, bucket: str = "bkt") -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def stmt(effect, action, resource, condition=None, sid=None, *, not_action=False, not_resource=False, principal=None, not_principal=None):
    statement = {"Effect": effect, ("NotAction" if not_action else "Action"): action}
    statement["NotResource" if not_resource else "Resource"] = resource
    if condition is not None:
        statement["Condition"] = condition
    if sid is not None:
        statement["Sid"] = sid
    if principal is not None:
        statement["Principal"] = principal
    if not_principal is not None:
        statement["NotPrincipal"] = not_principal
    return statement


def allow(action, resource, condition=None, **kw):
    return stmt("Allow", action, resource, condition, **kw)


def deny(action, resource, condition=None, **kw):
    return stmt("Deny", action, resource, condition, **kw)


def doc(*statements, version="2012-10-17"):
    policy = {"Statement": list(statements)}
    if version is not None:
        policy["Version"] = version
    return policy


def req(action, resource, principal=None, **context):
    return RequestContext(action, resource, context, principal)


def ctx(action, resource, context, principal=None):
    """For context keys that are not Python identifiers (s3:prefix, aws:SourceIp, ...)."""
    return RequestContext(action, resource, context, principal)


GET = "s3:GetObject"
PUT = "s3:PutObject"
LIST = "s3:ListBucket"
ALLOW_ALL_S3 = doc(allow("s3:*", "*"))


def case(case_id, request, identity, expected, **policies):
    return pytest.param(request, identity, policies, expected, id=case_id)


# ---------------------------------------------------------------------------------------------
# The decision table
# ---------------------------------------------------------------------------------------------

BASICS = [
    case("no-policy-is-implicit-deny", req(GET, obj("x")), [], "ImplicitDeny"),
    case("exact-allow", req(GET, obj("x")), [doc(allow(GET, obj("x")))], "Allow"),
    case("allow-for-other-action-is-implicit-deny", req(PUT, obj("x")), [doc(allow(GET, obj("x")))], "ImplicitDeny"),
    case("deny-beats-allow-in-same-policy", req(GET, obj("x")), [doc(allow(GET, "*"), deny(GET, obj("x")))], "ExplicitDeny"),
    case("deny-in-another-policy-beats-allow", req(GET, obj("x")), [doc(allow("s3:*", "*")), doc(deny("s3:Get*", "*"))], "ExplicitDeny"),
    case("deny-that-does-not-match-changes-nothing", req(GET, obj("x")), [doc(allow(GET, "*"), deny(PUT, "*"))], "Allow"),
    case("allow-in-any-of-several-policies", req(GET, obj("x")), [doc(allow(PUT, "*")), doc(allow(GET, "*"))], "Allow"),
]

ACTIONS = [
    case("action-case-insensitive-in-policy", req(GET, obj("x")), [doc(allow("S3:GETOBJECT", obj("x")))], "Allow"),
    case("action-case-insensitive-in-request", req("s3:getobject", obj("x")), [doc(allow(GET, obj("x")))], "Allow"),
    case("action-star-suffix", req("s3:GetObjectVersion", obj("x")), [doc(allow("s3:Get*", "*"))], "Allow"),
    case("action-star-suffix-other-verb", req(PUT, obj("x")), [doc(allow("s3:Get*", "*"))], "ImplicitDeny"),
    case("action-question-mark-one-char", req(GET, obj("x")), [doc(allow("s3:?etObject", "*"))], "Allow"),
    case("action-question-mark-not-two-chars", req(GET, obj("x")), [doc(allow("s3:?Object", "*"))], "ImplicitDeny"),
    case("action-star-everything", req("iam:CreateUser", "*"), [doc(allow("*", "*"))], "Allow"),
    case("action-other-service", req("iam:CreateUser", "*"), [doc(allow("s3:*", "*"))], "ImplicitDeny"),
    case("notaction-allows-the-rest", req(GET, obj("x")), [doc(allow("s3:DeleteObject", "*", not_action=True))], "Allow"),
    case("notaction-excludes-listed", req("s3:DeleteObject", obj("x")), [doc(allow("s3:DeleteObject", "*", not_action=True))], "ImplicitDeny"),
    case("notaction-case-insensitive", req("s3:DeleteObject", obj("x")), [doc(allow("s3:deleteobject", "*", not_action=True))], "ImplicitDeny"),
    case("deny-notaction-denies-the-rest", req(PUT, obj("x")), [doc(allow("s3:*", "*"), deny(GET, "*", not_action=True))], "ExplicitDeny"),
    case("deny-notaction-spares-listed", req(GET, obj("x")), [doc(allow("s3:*", "*"), deny(GET, "*", not_action=True))], "Allow"),
]

RESOURCES = [
    case("resource-star-covers-nested-keys", req(GET, obj("a/b/c.txt")), [doc(allow(GET, obj("*")))], "Allow"),
    case("resource-question-one-char", req(GET, obj("file1.txt")), [doc(allow(GET, obj("file?.txt")))], "Allow"),
    case("resource-question-not-two-chars", req(GET, obj("file12.txt")), [doc(allow(GET, obj("file?.txt")))], "ImplicitDeny"),
    case("resource-dot-is-literal", req(GET, obj("aXtxt")), [doc(allow(GET, obj("a.txt")))], "ImplicitDeny"),
    case("resource-regex-metachars-literal", req(GET, obj("(x)+[y]")), [doc(allow(GET, obj("(x)+[y]")))], "Allow"),
    case("resource-regex-metachars-not-regex", req(GET, obj("xx[y]")), [doc(allow(GET, obj("(x)+[y]")))], "ImplicitDeny"),
    case("resource-case-sensitive", req(GET, obj("reports/x")), [doc(allow(GET, obj("Reports/*")))], "ImplicitDeny"),
    case("resource-prefix-slash-excludes-sibling", req(GET, obj("reports-private/x")), [doc(allow(GET, obj("reports/*")))], "ImplicitDeny"),
    case("resource-bucket-arn-is-not-its-objects", req(GET, obj("x")), [doc(allow(GET, BUCKET))], "ImplicitDeny"),
    case("resource-objects-arn-is-not-the-bucket", req(LIST, BUCKET), [doc(allow(LIST, obj("*")))], "ImplicitDeny"),
    case("resource-other-bucket", req(GET, obj("x", "other")), [doc(allow(GET, obj("*")))], "ImplicitDeny"),
    case("resource-bucket-name-prefix-star", req(GET, obj("x", "bkt-2")), [doc(allow(GET, "arn:aws:s3:::bkt*"))], "Allow"),
    case("resource-trailing-star-spans-segments", req(GET, obj("x")), [doc(allow(GET, "arn:aws:s3:*"))], "Allow"),
    case("resource-star-inside-a-segment", req(GET, obj("x")), [doc(allow(GET, "arn:*:s3:::bkt/x"))], "Allow"),
    case("resource-other-service-arn", req(GET, obj("x")), [doc(allow(GET, "arn:aws:iam::*:user/*"))], "ImplicitDeny"),
    case("notresource-excludes-listed", req(GET, obj("x", "secret")), [doc(allow("s3:*", "arn:aws:s3:::secret/*", not_resource=True))], "ImplicitDeny"),
    case("notresource-allows-the-rest", req(GET, obj("x")), [doc(allow("s3:*", "arn:aws:s3:::secret/*", not_resource=True))], "Allow"),
    case("deny-notresource-denies-outside", req(GET, obj("private/x")), [doc(allow("s3:*", "*"), deny("s3:*", obj("public/*"), not_resource=True))], "ExplicitDeny"),
    case("deny-notresource-spares-inside", req(GET, obj("public/x")), [doc(allow("s3:*", "*"), deny("s3:*", obj("public/*"), not_resource=True))], "Allow"),
]

VARIABLES = [
    case("variable-username-own-folder", req(GET, obj("home/alice/x"), ALICE), [doc(allow(GET, obj("home/${aws:username}/*")))], "Allow"),
    case("variable-username-other-folder", req(GET, obj("home/bob/x"), ALICE), [doc(allow(GET, obj("home/${aws:username}/*")))], "ImplicitDeny"),
    case("variable-name-case-insensitive", req(GET, obj("home/alice/x"), ALICE), [doc(allow(GET, obj("home/${AWS:UserName}/*")))], "Allow"),
    case("variable-unresolved-matches-nothing", req(GET, obj("home/alice/x")), [doc(allow(GET, obj("home/${aws:username}/*")))], "ImplicitDeny"),
    case("variable-userid-from-context", ctx(GET, obj("home/AIDAEXAMPLE/x"), {"aws:userid": "AIDAEXAMPLE"}), [doc(allow(GET, obj("home/${aws:userid}/*")))], "Allow"),
    case("variable-default-value", req(GET, obj("home/shared/x")), [doc(allow(GET, obj("home/${aws:username, 'shared'}/*")))], "Allow"),
    case("variable-value-is-literal", ctx(GET, obj("home/a/x"), {"aws:userid": "*"}), [doc(allow(GET, obj("home/${aws:userid}/x")))], "ImplicitDeny"),
    case("escape-star-is-literal", req(GET, obj("a*b/x")), [doc(allow(GET, obj("a${*}b/*")))], "Allow"),
    case("escape-star-not-wildcard", req(GET, obj("axyb/x")), [doc(allow(GET, obj("a${*}b/*")))], "ImplicitDeny"),
    case("escape-question-is-literal", req(GET, obj("what?/x")), [doc(allow(GET, obj("what${?}/*")))], "Allow"),
    case("escape-question-not-wildcard", req(GET, obj("whatX/x")), [doc(allow(GET, obj("what${?}/*")))], "ImplicitDeny"),
    case("escape-dollar", req(GET, obj("$HOME/x")), [doc(allow(GET, obj("${$}HOME/*")))], "Allow"),
    case("version-2008-has-no-variables", req(GET, obj("home/alice/x"), ALICE), [doc(allow(GET, obj("home/${aws:username}/*")), version="2008-10-17")], "ImplicitDeny"),
    case("missing-version-means-2008", req(GET, obj("home/${aws:username}/x"), ALICE), [doc(allow(GET, obj("home/${aws:username}/*")), version=None)], "Allow"),
    case(
        "variable-in-condition-value",
        ctx(LIST, BUCKET, {"s3:prefix": "home/alice/"}, ALICE),
        [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}))],
        "Allow",
    ),
    case(
        "unresolved-variable-negated-condition-is-true",
        ctx(LIST, BUCKET, {"s3:prefix": "home/alice/"}),
        [doc(allow(LIST, BUCKET), deny(LIST, BUCKET, {"StringNotLike": {"s3:prefix": "home/${aws:username}/*"}}))],
        "ExplicitDeny",
    ),
]

SOURCE_IP = {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}

CONDITIONS = [
    case("string-equals-match", ctx(LIST, BUCKET, {"s3:prefix": "a/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/"}}))], "Allow"),
    case("string-equals-mismatch", ctx(LIST, BUCKET, {"s3:prefix": "b/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/"}}))], "ImplicitDeny"),
    case("string-equals-case-sensitive", ctx(LIST, BUCKET, {"s3:prefix": "A/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/"}}))], "ImplicitDeny"),
    case("string-equals-star-is-literal", ctx(LIST, BUCKET, {"s3:prefix": "abc"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a*"}}))], "ImplicitDeny"),
    case("string-equals-ignore-case", ctx(LIST, BUCKET, {"s3:prefix": "A/"}), [doc(allow(LIST, BUCKET, {"StringEqualsIgnoreCase": {"s3:prefix": "a/"}}))], "Allow"),
    case("string-not-equals-ignore-case", ctx(LIST, BUCKET, {"s3:prefix": "A/"}), [doc(allow(LIST, BUCKET, {"StringNotEqualsIgnoreCase": {"s3:prefix": "a/"}}))], "ImplicitDeny"),
    case("string-not-equals-other-value", ctx(LIST, BUCKET, {"s3:prefix": "b/"}), [doc(allow(LIST, BUCKET, {"StringNotEquals": {"s3:prefix": "a/"}}))], "Allow"),
    case("string-not-equals-several-values-nor", ctx(LIST, BUCKET, {"s3:prefix": "b/"}), [doc(allow(LIST, BUCKET, {"StringNotEquals": {"s3:prefix": ["a/", "b/"]}}))], "ImplicitDeny"),
    case("string-not-equals-missing-key-is-true", req(GET, obj("x")), [doc(allow(GET, "*"), deny(GET, "*", {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}))], "ExplicitDeny"),
    case("string-like-star", ctx(LIST, BUCKET, {"s3:prefix": "reports/2024/"}), [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "reports/*"}}))], "Allow"),
    case("string-like-no-sibling", ctx(LIST, BUCKET, {"s3:prefix": "reports-private/"}), [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "reports/*"}}))], "ImplicitDeny"),
    case("string-like-question", ctx(LIST, BUCKET, {"s3:prefix": "v1/"}), [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "v?/"}}))], "Allow"),
    case("string-like-dot-literal", ctx(LIST, BUCKET, {"s3:prefix": "aXb/"}), [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "a.b/*"}}))], "ImplicitDeny"),
    case("string-like-missing-key-is-false", req(LIST, BUCKET), [doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "*"}}))], "ImplicitDeny"),
    case("string-not-like", ctx(LIST, BUCKET, {"s3:prefix": "private/"}), [doc(allow(LIST, BUCKET), deny(LIST, BUCKET, {"StringNotLike": {"s3:prefix": "public/*"}}))], "ExplicitDeny"),
    case("condition-key-case-insensitive", ctx(LIST, BUCKET, {"s3:prefix": "a/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"S3:PREFIX": "a/"}}))], "Allow"),
    case("context-key-case-insensitive", ctx(LIST, BUCKET, {"S3:Prefix": "a/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/"}}))], "Allow"),
    case("several-values-are-or", ctx(LIST, BUCKET, {"s3:prefix": "b/"}), [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": ["a/", "b/"]}}))], "Allow"),
    case(
        "several-keys-are-and",
        ctx(LIST, BUCKET, {"s3:prefix": "a/", "s3:delimiter": ","}),
        [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/", "s3:delimiter": "/"}}))],
        "ImplicitDeny",
    ),
    case(
        "several-operators-are-and",
        ctx(LIST, BUCKET, {"s3:prefix": "a/", "s3:max-keys": "5000"}),
        [doc(allow(LIST, BUCKET, {"StringEquals": {"s3:prefix": "a/"}, "NumericLessThanEquals": {"s3:max-keys": "1000"}}))],
        "ImplicitDeny",
    ),
    case("numeric-less-than", ctx(LIST, BUCKET, {"s3:max-keys": 10}), [doc(allow(LIST, BUCKET, {"NumericLessThan": {"s3:max-keys": "100"}}))], "Allow"),
    case("numeric-less-than-equal-boundary", ctx(LIST, BUCKET, {"s3:max-keys": 100}), [doc(allow(LIST, BUCKET, {"NumericLessThan": {"s3:max-keys": "100"}}))], "ImplicitDeny"),
    case("numeric-less-than-equals", ctx(LIST, BUCKET, {"s3:max-keys": 100}), [doc(allow(LIST, BUCKET, {"NumericLessThanEquals": {"s3:max-keys": "100"}}))], "Allow"),
    case("numeric-equals-by-value", ctx(LIST, BUCKET, {"s3:max-keys": "10.0"}), [doc(allow(LIST, BUCKET, {"NumericEquals": {"s3:max-keys": 10}}))], "Allow"),
    case("numeric-not-equals", ctx(LIST, BUCKET, {"s3:max-keys": "10"}), [doc(allow(LIST, BUCKET, {"NumericNotEquals": {"s3:max-keys": "10"}}))], "ImplicitDeny"),
    case("numeric-greater-than", ctx(LIST, BUCKET, {"s3:max-keys": 5}), [doc(allow(LIST, BUCKET, {"NumericGreaterThan": {"s3:max-keys": "5"}}))], "ImplicitDeny"),
    case("numeric-greater-than-equals", ctx(LIST, BUCKET, {"s3:max-keys": 5}), [doc(allow(LIST, BUCKET, {"NumericGreaterThanEquals": {"s3:max-keys": "5"}}))], "Allow"),
    case("numeric-non-number-context", ctx(LIST, BUCKET, {"s3:max-keys": "lots"}), [doc(allow(LIST, BUCKET, {"NumericLessThan": {"s3:max-keys": "5"}}))], "ImplicitDeny"),
    case(
        "date-less-than-iso",
        ctx(GET, obj("x"), {"aws:CurrentTime": "2024-06-01T12:00:00Z"}),
        [doc(allow(GET, "*", {"DateLessThan": {"aws:CurrentTime": "2024-12-31T23:59:59Z"}}))],
        "Allow",
    ),
    case(
        "date-less-than-expired",
        ctx(GET, obj("x"), {"aws:CurrentTime": "2025-01-01T00:00:00Z"}),
        [doc(allow(GET, "*", {"DateLessThan": {"aws:CurrentTime": "2024-12-31T23:59:59Z"}}))],
        "ImplicitDeny",
    ),
    case(
        "date-epoch-context-vs-iso-policy",
        ctx(GET, obj("x"), {"aws:EpochTime": 1717243200}),  # 2024-06-01T12:00:00Z
        [doc(allow(GET, "*", {"DateGreaterThan": {"aws:EpochTime": "2024-06-01T00:00:00Z"}}))],
        "Allow",
    ),
    case(
        "date-epoch-policy-value",
        ctx(GET, obj("x"), {"aws:CurrentTime": "2024-06-01T12:00:00Z"}),
        [doc(allow(GET, "*", {"DateGreaterThanEquals": {"aws:CurrentTime": "1717243200"}}))],
        "Allow",
    ),
    case(
        "date-equals-across-time-zones",
        ctx(GET, obj("x"), {"aws:CurrentTime": "2024-06-01T14:00:00+02:00"}),
        [doc(allow(GET, "*", {"DateEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}))],
        "Allow",
    ),
    case(
        "date-not-equals",
        ctx(GET, obj("x"), {"aws:CurrentTime": datetime(2024, 6, 1, 12, tzinfo=timezone.utc)}),
        [doc(allow(GET, "*", {"DateNotEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}))],
        "ImplicitDeny",
    ),
    case(
        "date-less-than-equals",
        ctx(GET, obj("x"), {"aws:CurrentTime": "2024-06-01T12:00:00Z"}),
        [doc(allow(GET, "*", {"DateLessThanEquals": {"aws:CurrentTime": "2024-06-01T12:00:00Z"}}))],
        "Allow",
    ),
    case("bool-deny-insecure-transport", ctx(GET, obj("x"), {"aws:SecureTransport": False}), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}}))], "ExplicitDeny"),
    case("bool-secure-transport-passes", ctx(GET, obj("x"), {"aws:SecureTransport": True}), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}}))], "Allow"),
    case("bool-json-true-value", ctx(GET, obj("x"), {"aws:SecureTransport": "TRUE"}), [doc(allow(GET, "*", {"Bool": {"aws:SecureTransport": True}}))], "Allow"),
    case("bool-missing-key-does-not-match", req(GET, obj("x")), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}}))], "Allow"),
    case("binary-equals", ctx(GET, obj("x"), {"test:blob": b"hello"}), [doc(allow(GET, "*", {"BinaryEquals": {"test:blob": "aGVsbG8="}}))], "Allow"),
    case("binary-not-equal", ctx(GET, obj("x"), {"test:blob": b"bye"}), [doc(allow(GET, "*", {"BinaryEquals": {"test:blob": "aGVsbG8="}}))], "ImplicitDeny"),
    case("ip-address-v4-inside", ctx(GET, obj("x"), {"aws:SourceIp": "203.0.113.7"}), [doc(allow(GET, "*", SOURCE_IP))], "Allow"),
    case("ip-address-v4-outside", ctx(GET, obj("x"), {"aws:SourceIp": "198.51.100.7"}), [doc(allow(GET, "*", SOURCE_IP))], "ImplicitDeny"),
    case("ip-address-v6-inside", ctx(GET, obj("x"), {"aws:SourceIp": "2001:db8:1::5"}), [doc(allow(GET, "*", SOURCE_IP))], "Allow"),
    case("ip-address-single-host", ctx(GET, obj("x"), {"aws:SourceIp": "192.0.2.1"}), [doc(allow(GET, "*", {"IpAddress": {"aws:SourceIp": "192.0.2.1"}}))], "Allow"),
    case("ip-address-v4-not-in-v6-block", ctx(GET, obj("x"), {"aws:SourceIp": "10.0.0.1"}), [doc(allow(GET, "*", {"IpAddress": {"aws:SourceIp": "::/0"}}))], "ImplicitDeny"),
    case("not-ip-address-denies-outside", ctx(GET, obj("x"), {"aws:SourceIp": "198.51.100.7"}), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))], "ExplicitDeny"),
    case("not-ip-address-spares-inside", ctx(GET, obj("x"), {"aws:SourceIp": "203.0.113.9"}), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))], "Allow"),
    case("not-ip-address-missing-key-is-true", req(GET, obj("x")), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}))], "ExplicitDeny"),
    case("arn-like-wildcard", req(GET, obj("x"), ALICE), [doc(allow(GET, "*", {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/a*"}}))], "Allow"),
    case("arn-equals-exact", req(GET, obj("x"), BOB), [doc(allow(GET, "*", {"ArnEquals": {"aws:PrincipalArn": ALICE}}))], "ImplicitDeny"),
    case("arn-like-account-segment-wildcard", req(GET, obj("x"), ALICE), [doc(allow(GET, "*", {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/alice"}}))], "Allow"),
    case("arn-not-like", req(GET, obj("x"), ALICE), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:user/admin-*"}}))], "ExplicitDeny"),
    case("arn-not-equals-missing-key-is-true", req(GET, obj("x")), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"ArnNotEquals": {"aws:SourceArn": "arn:aws:sns:us-east-1:1:t"}}))], "ExplicitDeny"),
    case("null-true-when-key-absent", req(GET, obj("x")), [doc(allow(GET, "*", {"Null": {"aws:TokenIssueTime": "true"}}))], "Allow"),
    case("null-true-when-key-present", ctx(GET, obj("x"), {"aws:TokenIssueTime": "2024-06-01T00:00:00Z"}), [doc(allow(GET, "*", {"Null": {"aws:TokenIssueTime": "true"}}))], "ImplicitDeny"),
    case("null-false-when-key-present", ctx(GET, obj("x"), {"aws:TokenIssueTime": "2024-06-01T00:00:00Z"}), [doc(allow(GET, "*", {"Null": {"aws:TokenIssueTime": "false"}}))], "Allow"),
    case("if-exists-missing-key-is-true", req(LIST, BUCKET), [doc(allow(LIST, BUCKET, {"StringLikeIfExists": {"s3:prefix": "a/*"}}))], "Allow"),
    case("if-exists-present-key-is-checked", ctx(LIST, BUCKET, {"s3:prefix": "b/"}), [doc(allow(LIST, BUCKET, {"StringLikeIfExists": {"s3:prefix": "a/*"}}))], "ImplicitDeny"),
    case("if-exists-negated-missing-key", req(GET, obj("x")), [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"NotIpAddressIfExists": {"aws:SourceIp": "203.0.113.0/24"}}))], "ExplicitDeny"),
    case(
        "for-any-value-one-matches",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "cost"]}),
        [doc(allow(GET, "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}))],
        "Allow",
    ),
    case(
        "for-any-value-none-matches",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "owner"]}),
        [doc(allow(GET, "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}))],
        "ImplicitDeny",
    ),
    case("for-any-value-missing-key-is-false", req(GET, obj("x")), [doc(allow(GET, "*", {"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}))], "ImplicitDeny"),
    case(
        "for-all-values-subset",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "cost"]}),
        [doc(allow(GET, "*", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost", "owner"]}}))],
        "Allow",
    ),
    case(
        "for-all-values-one-outside",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "secret"]}),
        [doc(allow(GET, "*", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost"]}}))],
        "ImplicitDeny",
    ),
    case("for-all-values-missing-key-is-true", req(GET, obj("x")), [doc(allow(GET, "*", {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}))], "Allow"),
    case(
        "for-all-values-like",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team-a", "team-b"]}),
        [doc(allow(GET, "*", {"ForAllValues:StringLike": {"aws:TagKeys": ["team-*"]}}))],
        "Allow",
    ),
    case(
        "for-any-value-negated",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "secret"]}),
        [ALLOW_ALL_S3, doc(deny("s3:*", "*", {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team", "cost"]}}))],
        "ExplicitDeny",
    ),
    case(
        "multi-valued-key-without-set-operator-any",
        ctx(GET, obj("x"), {"aws:TagKeys": ["team", "cost"]}),
        [doc(allow(GET, "*", {"StringEquals": {"aws:TagKeys": "cost"}}))],
        "Allow",
    ),
]

BOUNDARY_ALLOWS_S3 = doc(allow("s3:*", "*"))
BOUNDARY_READ_ONLY = doc(allow(["s3:Get*", "s3:List*"], "*"))

BOUNDARIES = [
    case("boundary-and-identity-allow", req(GET, obj("x")), [ALLOW_ALL_S3], "Allow", boundary=BOUNDARY_READ_ONLY),
    case("boundary-caps-identity", req(PUT, obj("x")), [ALLOW_ALL_S3], "ImplicitDeny", boundary=BOUNDARY_READ_ONLY),
    case("boundary-alone-grants-nothing", req(GET, obj("x")), [], "ImplicitDeny", boundary=BOUNDARY_ALLOWS_S3),
    case("boundary-caps-other-services", req("iam:CreateUser", "*"), [doc(allow("*", "*"))], "ImplicitDeny", boundary=BOUNDARY_ALLOWS_S3),
    case("boundary-explicit-deny", req(GET, obj("x")), [ALLOW_ALL_S3], "ExplicitDeny", boundary=doc(allow("s3:*", "*"), deny(GET, obj("x")))),
    case(
        "boundary-condition-not-met",
        ctx(GET, obj("x"), {"aws:SourceIp": "198.51.100.1"}),
        [ALLOW_ALL_S3],
        "ImplicitDeny",
        boundary=doc(allow("s3:*", "*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})),
    ),
]

SESSIONS = [
    case("session-policy-intersection", req(GET, obj("reports/x")), [ALLOW_ALL_S3], "Allow", session_policy=doc(allow(GET, obj("reports/*")))),
    case("session-policy-narrows", req(GET, obj("other/x")), [ALLOW_ALL_S3], "ImplicitDeny", session_policy=doc(allow(GET, obj("reports/*")))),
    case("session-policy-grants-nothing-alone", req(GET, obj("reports/x")), [doc(allow(PUT, "*"))], "ImplicitDeny", session_policy=doc(allow(GET, "*"))),
    case("session-policy-explicit-deny", req(GET, obj("x")), [ALLOW_ALL_S3], "ExplicitDeny", session_policy=doc(allow("s3:*", "*"), deny(GET, "*"))),
    case(
        "session-and-boundary-both-needed",
        req(PUT, obj("x")),
        [ALLOW_ALL_S3],
        "ImplicitDeny",
        session_policy=doc(allow("s3:*", "*")),
        boundary=BOUNDARY_READ_ONLY,
    ),
]


def bucket_policy(*statements):
    return doc(*statements)


GRANT_ALICE = bucket_policy(allow(GET, obj("*"), principal={"AWS": ALICE}))
GRANT_ROLE = bucket_policy(allow(GET, obj("*"), principal={"AWS": ROLE}))
GRANT_SESSION = bucket_policy(allow(GET, obj("*"), principal={"AWS": SESSION}))
GRANT_ACCOUNT = bucket_policy(allow(GET, obj("*"), principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))

RESOURCE_POLICIES = [
    case("resource-policy-grants-named-user", req(GET, obj("x"), ALICE), [], "Allow", resource_policy=GRANT_ALICE),
    case("resource-policy-other-user-not-granted", req(GET, obj("x"), BOB), [], "ImplicitDeny", resource_policy=GRANT_ALICE),
    case("resource-policy-no-caller-arn", req(GET, obj("x")), [], "ImplicitDeny", resource_policy=GRANT_ALICE),
    case("resource-policy-user-grant-not-limited-by-boundary", req(GET, obj("x"), ALICE), [], "Allow", resource_policy=GRANT_ALICE, boundary=doc(allow("ec2:*", "*"))),
    case("resource-policy-role-grant-for-session", req(GET, obj("x"), SESSION), [], "Allow", resource_policy=GRANT_ROLE),
    case("resource-policy-role-grant-limited-by-boundary", req(GET, obj("x"), SESSION), [], "ImplicitDeny", resource_policy=GRANT_ROLE, boundary=doc(allow("ec2:*", "*"))),
    case("resource-policy-role-grant-limited-by-session-policy", req(GET, obj("x"), SESSION), [], "ImplicitDeny", resource_policy=GRANT_ROLE, session_policy=doc(allow(PUT, "*"))),
    case(
        "resource-policy-session-grant-not-limited",
        req(GET, obj("x"), SESSION),
        [],
        "Allow",
        resource_policy=GRANT_SESSION,
        session_policy=doc(allow(PUT, "*")),
        boundary=doc(allow("ec2:*", "*")),
    ),
    case(
        "resource-policy-federated-session-grant",
        req(GET, obj("x"), FEDERATED),
        [],
        "Allow",
        resource_policy=bucket_policy(allow(GET, obj("*"), principal={"AWS": [FEDERATED]})),
        session_policy=doc(allow(PUT, "*")),
    ),
    case("resource-policy-account-principal-delegates", req(GET, obj("x"), ALICE), [], "ImplicitDeny", resource_policy=GRANT_ACCOUNT),
    case("resource-policy-account-id-principal-delegates", req(GET, obj("x"), ALICE), [], "ImplicitDeny", resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": ACCOUNT}))),
    case("resource-policy-account-principal-with-identity", req(GET, obj("x"), ALICE), [doc(allow(GET, "*"))], "Allow", resource_policy=GRANT_ACCOUNT),
    case("resource-policy-wildcard-principal", req(GET, obj("x"), BOB), [], "Allow", resource_policy=bucket_policy(allow(GET, obj("*"), principal="*"))),
    case("resource-policy-service-principal-not-a-user", req(GET, obj("x"), ALICE), [], "ImplicitDeny", resource_policy=bucket_policy(allow(GET, obj("*"), principal={"Service": "logging.s3.amazonaws.com"}))),
    case("resource-policy-deny-beats-identity", req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], "ExplicitDeny", resource_policy=bucket_policy(deny(GET, obj("*"), principal={"AWS": ALICE}))),
    case("resource-policy-deny-to-account-covers-users", req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], "ExplicitDeny", resource_policy=bucket_policy(deny(GET, "*", principal={"AWS": ACCOUNT}))),
    case("resource-policy-deny-other-principal", req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], "Allow", resource_policy=bucket_policy(deny(GET, "*", principal={"AWS": BOB}))),
    case("resource-policy-deny-notprincipal-spares-listed", req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], "Allow", resource_policy=bucket_policy(deny(GET, "*", not_principal={"AWS": [ALICE]}))),
    case("resource-policy-deny-notprincipal-hits-others", req(GET, obj("x"), BOB), [ALLOW_ALL_S3], "ExplicitDeny", resource_policy=bucket_policy(deny(GET, "*", not_principal={"AWS": [ALICE]}))),
    case(
        "resource-policy-deny-notprincipal-with-boundary",
        req(GET, obj("x"), ALICE),
        [ALLOW_ALL_S3],
        "ExplicitDeny",
        resource_policy=bucket_policy(deny(GET, "*", not_principal={"AWS": [ALICE]})),
        boundary=BOUNDARY_ALLOWS_S3,
    ),
    case(
        "resource-policy-condition-checked",
        ctx(GET, obj("x"), {"aws:SecureTransport": False}, ALICE),
        [],
        "ImplicitDeny",
        resource_policy=bucket_policy(allow(GET, obj("*"), {"Bool": {"aws:SecureTransport": "true"}}, principal={"AWS": ALICE})),
    ),
]

ALL_CASES = BASICS + ACTIONS + RESOURCES + VARIABLES + CONDITIONS + BOUNDARIES + SESSIONS + RESOURCE_POLICIES


def test_the_table_is_large_enough():
    assert len(ALL_CASES) >= 60
    ids = [c.id for c in ALL_CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("request_", "identity", "policies", "expected"), ALL_CASES)
def test_decision(request_, identity, policies, expected):
    decision = evaluate(request_, identity, **policies)
    assert decision.decision == expected, decision.reason
    assert decision.allowed is (expected == "Allow")
    if expected == "ImplicitDeny":
        assert decision.deciding == []
    else:
        assert decision.deciding, "an allow or explicit deny names what decided"
        wanted_effect = "Allow" if expected == "Allow" else "Deny"
        assert {s.effect for s in decision.deciding} == {wanted_effect}


# ---------------------------------------------------------------------------------------------
# What a decision says
# ---------------------------------------------------------------------------------------------


def test_named_policies_and_sids_in_deciding_and_reason():
    policies = [
        ("read-reports", doc(allow(LIST, BUCKET, sid="List"), allow(GET, obj("reports/*"), sid="Read"))),
        ("guard", doc(deny(GET, obj("reports/secret/*"), sid="NoSecrets"))),
    ]
    allowed = evaluate(req(GET, obj("reports/a")), policies)
    assert allowed.deciding == [MatchedStatement("read-reports", "Read", "Allow", 1)]
    assert "'Read'" in allowed.reason and "read-reports" in allowed.reason

    denied = evaluate(req(GET, obj("reports/secret/a")), policies)
    assert denied.deciding == [MatchedStatement("guard", "NoSecrets", "Deny", 0)]
    assert "denied explicitly" in denied.reason and "guard" in denied.reason


def test_unnamed_policies_are_numbered_and_statements_without_sid_by_position():
    decision = evaluate(req(GET, obj("x")), [doc(allow(PUT, "*")), doc(allow(LIST, "*"), allow(GET, "*"))])
    assert decision.deciding == [MatchedStatement("identity policy 2", None, "Allow", 1)]
    assert "statement [1] of identity policy 2" in decision.reason


def test_all_matching_denies_are_listed():
    decision = evaluate(req(GET, obj("x")), [doc(deny(GET, "*", sid="A"), deny("s3:*", "*", sid="B"))])
    assert [s.sid for s in decision.deciding] == ["A", "B"]


def test_allow_lists_boundary_and_session_statements_that_also_allow():
    decision = evaluate(
        req(GET, obj("x")),
        [("inline", ALLOW_ALL_S3)],
        boundary=("S3ReadOnly", BOUNDARY_READ_ONLY),
        session_policy=doc(allow(GET, "*")),
    )
    assert [s.policy_name for s in decision.deciding] == ["inline", "S3ReadOnly", "session policy"]


def test_implicit_deny_reason_names_the_missing_boundary():
    decision = evaluate(req(PUT, obj("x")), [("inline", ALLOW_ALL_S3)], boundary=BOUNDARY_READ_ONLY)
    assert "permissions boundary does not" in decision.reason


def test_implicit_deny_reason_names_the_missing_session_policy():
    decision = evaluate(req(PUT, obj("x")), [ALLOW_ALL_S3], session_policy=doc(allow(GET, "*")))
    assert "session policy does not" in decision.reason


def test_implicit_deny_reason_names_the_unmet_condition():
    policy = doc(allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "reports/*"}}, sid="ListReports"))
    decision = evaluate(ctx(LIST, BUCKET, {"s3:prefix": "other/"}), [policy])
    assert "'ListReports'" in decision.reason and "s3:prefix" in decision.reason and "'other/'" in decision.reason


def test_caller_arn_supplies_principal_keys():
    policy = doc(allow(GET, "*", {"StringEquals": {"aws:PrincipalAccount": ACCOUNT, "aws:username": "alice"}}))
    assert evaluate(req(GET, obj("x"), ALICE), [policy]).allowed
    assert not evaluate(req(GET, obj("x"), SESSION), [policy]).allowed  # a role session has no aws:username


def test_explicit_context_wins_over_derived_keys():
    policy = doc(allow(GET, obj("home/${aws:username}/*")))
    assert evaluate(ctx(GET, obj("home/carol/x"), {"aws:username": "carol"}, ALICE), [policy]).allowed


def test_policies_are_not_modified():
    policy = doc(allow(GET, obj("home/${aws:username}/*"), {"StringLike": {"s3:prefix": ["a*"]}}))
    before = repr(policy)
    evaluate(req(GET, obj("home/alice/x"), ALICE), [policy])
    assert repr(policy) == before


def test_decision_is_a_plain_value():
    decision = evaluate(req(GET, obj("x")), [])
    assert decision == Decision(False, "ImplicitDeny", decision.reason, [])


# ---------------------------------------------------------------------------------------------
# Malformed policies are reported, never matched
# ---------------------------------------------------------------------------------------------

GOOD = allow(GET, "*")

MALFORMED = [
    pytest.param({"Version": "2012-10-17", "Statement": [{"Action": GET, "Resource": "*"}]}, "MalformedPolicy", id="missing-effect"),
    pytest.param(doc({**GOOD, "Effect": "allow"}), "MalformedPolicy", id="effect-wrong-case"),
    pytest.param(doc({**GOOD, "Effect": "Permit"}), "MalformedPolicy", id="effect-unknown"),
    pytest.param(doc({**GOOD, "NotAction": PUT}), "MalformedPolicy", id="action-and-notaction"),
    pytest.param(doc({"Effect": "Allow", "Resource": "*"}), "MalformedPolicy", id="no-action"),
    pytest.param(doc({**GOOD, "NotResource": "*"}), "MalformedPolicy", id="resource-and-notresource"),
    pytest.param(doc({"Effect": "Allow", "Action": GET}), "MalformedPolicy", id="no-resource"),
    pytest.param(doc({**GOOD, "Action": []}), "MalformedPolicy", id="empty-action-list"),
    pytest.param(doc({**GOOD, "Action": "GetObject"}), "MalformedPolicy", id="action-without-service"),
    pytest.param(doc({**GOOD, "Resource": "bkt/*"}), "MalformedPolicy", id="resource-not-an-arn"),
    pytest.param(doc({**GOOD, "Resource": obj("${aws:username")}), "MalformedPolicy", id="unterminated-variable"),
    pytest.param(doc({**GOOD, "Resource": obj("${aws:username, default}")}), "MalformedPolicy", id="unquoted-default"),
    pytest.param({"Version": "2012-10-17", "Statement": "Allow everything"}, "MalformedPolicy", id="statement-not-object"),
    pytest.param({"Version": "2012-10-17"}, "MalformedPolicy", id="no-statement"),
    pytest.param(["not", "a", "policy"], "MalformedPolicy", id="policy-not-object"),
    pytest.param(doc(GOOD, version="2012-10-18"), "InvalidVersion", id="bad-version"),
    pytest.param(doc(GOOD, version="2024-01-01"), "InvalidVersion", id="future-version"),
    pytest.param(doc({**GOOD, "Actions": PUT}), "UnknownElement", id="unknown-statement-element"),
    pytest.param({**doc(GOOD), "Statements": []}, "UnknownElement", id="unknown-policy-element"),
    pytest.param(doc({**GOOD, "Principal": "*"}), "MalformedPolicy", id="principal-in-identity-policy"),
    pytest.param(doc({**GOOD, "Condition": {"StringEqualz": {"s3:prefix": "a"}}}), "UnknownOperator", id="unknown-operator"),
    pytest.param(doc({**GOOD, "Condition": {"stringequals": {"s3:prefix": "a"}}}), "UnknownOperator", id="operator-wrong-case"),
    pytest.param(doc({**GOOD, "Condition": {"NullIfExists": {"s3:prefix": "true"}}}), "UnknownOperator", id="null-if-exists"),
    pytest.param(doc({**GOOD, "Condition": {"ForSomeValues:StringEquals": {"k": "a"}}}), "UnknownOperator", id="unknown-set-operator"),
    pytest.param(doc({**GOOD, "Condition": {"StringEquals": "s3:prefix=a"}}), "MalformedPolicy", id="condition-block-not-object"),
    pytest.param(doc({**GOOD, "Condition": {"StringEquals": {"s3:prefix": []}}}), "MalformedPolicy", id="condition-no-values"),
    pytest.param(doc({**GOOD, "Condition": {"StringEquals": {"s3:prefix": {"a": 1}}}}), "MalformedPolicy", id="condition-value-object"),
    pytest.param(doc({**GOOD, "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}), "InvalidConditionValue", id="numeric-not-a-number"),
    pytest.param(doc({**GOOD, "Condition": {"DateLessThan": {"aws:CurrentTime": "next tuesday"}}}), "InvalidConditionValue", id="date-unparseable"),
    pytest.param(doc({**GOOD, "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.300/8"}}}), "InvalidConditionValue", id="ip-invalid"),
    pytest.param(doc({**GOOD, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}}), "InvalidConditionValue", id="bool-invalid"),
    pytest.param(doc({**GOOD, "Condition": {"BinaryEquals": {"k": "not base64!"}}}), "InvalidConditionValue", id="binary-invalid"),
    pytest.param(doc({**GOOD, "Condition": {"Null": {"k": "maybe"}}}), "InvalidConditionValue", id="null-invalid"),
]


@pytest.mark.parametrize(("policy", "code"), MALFORMED)
def test_malformed_identity_policy_is_reported(policy, code):
    with pytest.raises(PolicyError) as caught:
        evaluate(req(GET, obj("x")), [("bad", policy)])
    assert caught.value.code == code
    assert caught.value.policy_name == "bad"
    assert isinstance(caught.value, S3CredError)
    assert str(caught.value).startswith("bad")


def test_malformed_statement_is_reported_even_when_another_one_decides():
    policy = doc(deny("s3:*", "*"), allow(GET, "*", {"StringEqualz": {"k": "v"}}))
    with pytest.raises(PolicyError) as caught:
        evaluate(req(GET, obj("x")), [policy])
    assert caught.value.statement_index == 1
    assert "StringEqualz" in str(caught.value)


def test_malformed_statement_is_reported_even_for_another_action():
    with pytest.raises(PolicyError):
        evaluate(req(GET, obj("x")), [doc(GOOD, allow(PUT, "*", {"Bogus": {"k": "v"}}))])


@pytest.mark.parametrize("where", ["boundary", "session_policy"])
def test_malformed_boundary_or_session_policy_is_reported(where):
    with pytest.raises(PolicyError) as caught:
        evaluate(req(GET, obj("x")), [ALLOW_ALL_S3], **{where: doc({"Effect": "Allow", "Action": GET})})
    assert caught.value.code == "MalformedPolicy"


def test_resource_policy_needs_a_principal():
    with pytest.raises(PolicyError) as caught:
        evaluate(req(GET, obj("x"), ALICE), [], resource_policy=doc(allow(GET, "*")))
    assert "Principal" in str(caught.value)


def test_resource_policy_unknown_principal_type_is_reported():
    with pytest.raises(PolicyError) as caught:
        evaluate(req(GET, obj("x"), ALICE), [], resource_policy=doc(allow(GET, "*", principal={"User": ALICE})))
    assert caught.value.code == "UnknownElement"


def test_request_must_name_an_action_and_a_resource():
    with pytest.raises(ValidationError):
        evaluate(req("GetObject", obj("x")), [])
    with pytest.raises(ValidationError):
        evaluate(req(GET, ""), [])
    with pytest.raises(ValidationError):
        evaluate(req(GET, obj("x"), "alice"), [])


# ---------------------------------------------------------------------------------------------
# s3_capabilities
# ---------------------------------------------------------------------------------------------

PREFIX_RW = doc(
    allow(LIST, BUCKET, {"StringLike": {"s3:prefix": "reports/*"}}),
    allow([GET, PUT, "s3:DeleteObject"], obj("reports/*")),
)


def test_capabilities_inside_the_prefix():
    caps = s3_capabilities([PREFIX_RW], "bkt", "reports/")
    assert set(caps) == {"list", "read", "write", "delete"}
    assert all(d.allowed for d in caps.values()), {k: d.reason for k, d in caps.items()}
    assert S3_PROBE_KEY in caps["read"].reason


def test_capabilities_outside_the_prefix_and_at_the_root():
    for prefix in ("other/", "", "reports-private/"):
        caps = s3_capabilities([PREFIX_RW], "bkt", prefix)
        assert not any(d.allowed for d in caps.values()), prefix


def test_capabilities_with_a_read_only_boundary():
    caps = s3_capabilities([PREFIX_RW], "bkt", "reports/", boundary=BOUNDARY_READ_ONLY)
    assert {k: d.allowed for k, d in caps.items()} == {"list": True, "read": True, "write": False, "delete": False}


def test_capabilities_with_session_policy_resource_policy_and_context():
    caps = s3_capabilities(
        [],
        "bkt",
        "reports/",
        resource_policy=bucket_policy(allow([GET, LIST], ["arn:aws:s3:::bkt", obj("*")], principal={"AWS": ALICE})),
        principal_arn=ALICE,
        context={"aws:SecureTransport": True},
    )
    assert {k: d.allowed for k, d in caps.items()} == {"list": True, "read": True, "write": False, "delete": False}

    secure_only = doc(allow("s3:*", "*"), deny("s3:*", "*", {"Bool": {"aws:SecureTransport": "false"}}))
    insecure = s3_capabilities([secure_only], "bkt", "", context={"aws:SecureTransport": False})
    assert {d.decision for d in insecure.values()} == {"ExplicitDeny"}
    narrowed = s3_capabilities([secure_only], "bkt", "", session_policy=doc(allow(GET, "*")))
    assert {k: d.allowed for k, d in narrowed.items()} == {"list": False, "read": True, "write": False, "delete": False}


# ---------------------------------------------------------------------------------------------
# Exactness where the evaluator is load-bearing (the demo authorizer decides with it).
# Every case names the AWS documentation page it comes from; the pages:
# ---------------------------------------------------------------------------------------------

DOC_NOTPRINCIPAL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notprincipal.html"
DOC_CONDITION_KEYS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
DOC_DENY_ALLOW = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html"
DOC_CROSS_ACCOUNT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html"
DOC_SINGLE_ACCOUNT = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html"
DOC_NOTRESOURCE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html"
DOC_VARIABLES = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html"
DOC_ROLE_TERMS = "https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_terms-and-concepts.html"

OTHER_ACCOUNT = "444455556666"
OTHER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/uploader/job-43"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
OTHER_ROOT = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
STRANGER = f"arn:aws:iam::{OTHER_ACCOUNT}:user/stranger"
OTHER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/other"
ASSUME = "sts:AssumeRole"


def cited(case_id, source, request, identity, expected, **kwargs):
    """A case whose id carries the page it comes from (its last path element)."""
    page = source.rsplit("/", 1)[1].removesuffix(".html")
    return pytest.param(request, identity, kwargs, expected, id=f"{case_id}[{page}]")


def deny_all_except(*principals):
    return bucket_policy(deny(GET, "*", not_principal={"AWS": list(principals)}))


def trust(*principals):
    return bucket_policy(allow(ASSUME, OTHER_ROLE, principal={"AWS": list(principals)}))


EXACTNESS = [
    # NotPrincipal with Deny exempts only the principals it names exactly.
    cited("notprincipal-exact-user-is-exempt", DOC_NOTPRINCIPAL, req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], "Allow",
          resource_policy=deny_all_except(ROOT, ALICE)),
    cited("notprincipal-account-arn-does-not-exempt-its-users", DOC_NOTPRINCIPAL, req(GET, obj("x"), ALICE), [ALLOW_ALL_S3],
          "ExplicitDeny", resource_policy=deny_all_except(ROOT)),
    cited("notprincipal-account-id-does-not-exempt-its-users", DOC_NOTPRINCIPAL, req(GET, obj("x"), ALICE), [ALLOW_ALL_S3],
          "ExplicitDeny", resource_policy=deny_all_except(ACCOUNT)),
    cited("notprincipal-role-does-not-exempt-its-sessions", DOC_NOTPRINCIPAL, req(GET, obj("x"), SESSION), [ALLOW_ALL_S3],
          "ExplicitDeny", resource_policy=deny_all_except(ROOT, ROLE)),
    cited("notprincipal-one-session-does-not-exempt-another", DOC_NOTPRINCIPAL, req(GET, obj("x"), OTHER_SESSION),
          [ALLOW_ALL_S3], "ExplicitDeny", resource_policy=deny_all_except(ROOT, ROLE, SESSION)),
    cited("notprincipal-exact-session-is-exempt", DOC_NOTPRINCIPAL, req(GET, obj("x"), SESSION), [ALLOW_ALL_S3], "Allow",
          resource_policy=deny_all_except(ROOT, ROLE, SESSION)),
    cited("notprincipal-other-user-is-denied", DOC_NOTPRINCIPAL, req(GET, obj("x"), BOB), [ALLOW_ALL_S3], "ExplicitDeny",
          resource_policy=deny_all_except(ROOT, ALICE)),
    # aws:PrincipalArn of an assumed-role session is the role's ARN.
    cited("principalarn-of-a-session-is-the-role", DOC_CONDITION_KEYS, req(GET, obj("x"), SESSION),
          [doc(allow(GET, "*", {"ArnEquals": {"aws:PrincipalArn": ROLE}}))], "Allow"),
    cited("principalarn-of-a-session-is-not-the-session", DOC_CONDITION_KEYS, req(GET, obj("x"), SESSION),
          [doc(allow(GET, "*", {"ArnEquals": {"aws:PrincipalArn": SESSION}}))], "ImplicitDeny"),
    cited("principalarn-deny-sparing-the-role-spares-its-sessions", DOC_CONDITION_KEYS, req(GET, obj("x"), SESSION),
          [ALLOW_ALL_S3], "Allow",
          resource_policy=bucket_policy(deny(GET, "*", {"ArnNotEquals": {"aws:PrincipalArn": ROLE}}, principal="*"))),
    cited("principalarn-of-a-user-is-the-user", DOC_CONDITION_KEYS, req(GET, obj("x"), ALICE),
          [doc(allow(GET, "*", {"ArnEquals": {"aws:PrincipalArn": ALICE}}))], "Allow"),
    cited("principaltype-of-a-session", DOC_CONDITION_KEYS, req(GET, obj("x"), SESSION),
          [doc(allow(GET, "*", {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}))], "Allow"),
    cited("principaltype-of-a-user", DOC_CONDITION_KEYS, req(GET, obj("x"), ALICE),
          [doc(allow(GET, "*", {"StringEquals": {"aws:PrincipalType": "AssumedRole"}}))], "ImplicitDeny"),
    # The root user is allowed unless an explicit deny applies.
    cited("root-allowed-without-any-policy", DOC_DENY_ALLOW, req(GET, obj("x"), ROOT), [], "Allow"),
    cited("root-explicit-deny-applies", DOC_DENY_ALLOW, req(GET, obj("x"), ROOT), [], "ExplicitDeny",
          resource_policy=bucket_policy(deny(GET, "*", principal="*"))),
    cited("root-of-another-account-needs-the-resource-side", DOC_CROSS_ACCOUNT, req(GET, obj("x"), OTHER_ROOT), [],
          "ImplicitDeny", resource_account=ACCOUNT),
    cited("root-of-another-account-with-a-grant-to-its-account", DOC_CROSS_ACCOUNT, req(GET, obj("x"), OTHER_ROOT), [],
          "Allow", resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": OTHER_ACCOUNT}))),
    # Cross-account requests need both sides; same-account rules are never applied across accounts.
    cited("cross-account-identity-alone-is-not-enough", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER), [ALLOW_ALL_S3],
          "ImplicitDeny", resource_account=ACCOUNT),
    cited("cross-account-resource-grant-alone-is-not-enough", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER), [],
          "ImplicitDeny", resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": STRANGER}))),
    cited("same-account-resource-grant-alone-is-enough", DOC_SINGLE_ACCOUNT, req(GET, obj("x"), ALICE), [], "Allow",
          resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": ALICE}))),
    cited("cross-account-both-sides-allow", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER), [ALLOW_ALL_S3], "Allow",
          resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": STRANGER}))),
    cited("cross-account-grant-to-the-account-counts", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER), [ALLOW_ALL_S3],
          "Allow", resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": OTHER_ROOT}))),
    cited("cross-account-grant-to-another-account-does-not", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER),
          [ALLOW_ALL_S3], "ImplicitDeny", resource_account=ACCOUNT,
          resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": ROOT}))),
    cited("cross-account-boundary-still-caps", DOC_CROSS_ACCOUNT, req(PUT, obj("x"), STRANGER), [ALLOW_ALL_S3],
          "ImplicitDeny", resource_account=ACCOUNT, boundary=BOUNDARY_READ_ONLY,
          resource_policy=bucket_policy(allow("s3:*", "*", principal={"AWS": STRANGER}))),
    cited("cross-account-resource-deny-wins", DOC_CROSS_ACCOUNT, req(GET, obj("x"), STRANGER), [ALLOW_ALL_S3],
          "ExplicitDeny", resource_account=ACCOUNT,
          resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": STRANGER}), deny(GET, "*", principal="*"))),
    cited("cross-account-resource-account-key", DOC_CONDITION_KEYS, req(GET, obj("x"), STRANGER),
          [doc(allow(GET, "*", {"StringEquals": {"aws:ResourceAccount": OTHER_ACCOUNT}}))], "ImplicitDeny",
          resource_account=ACCOUNT, resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": OTHER_ROOT}))),
    # An Allow with NotResource holding a variable that has no value matches nothing.
    cited("notresource-unresolved-variable-allow-matches-nothing", DOC_NOTRESOURCE, req(GET, obj("home/alice/x")),
          [doc(allow("s3:*", obj("home/${aws:username}/*"), not_resource=True))], "ImplicitDeny"),
    cited("notresource-unresolved-variable-deny-still-denies", DOC_VARIABLES, req(GET, obj("home/alice/x")),
          [ALLOW_ALL_S3, doc(deny("s3:*", obj("home/${aws:username}/*"), not_resource=True))], "ExplicitDeny"),
    cited("notresource-resolved-variable-excludes-own-folder", DOC_NOTRESOURCE, req(GET, obj("home/alice/x"), ALICE),
          [doc(allow("s3:*", obj("home/${aws:username}/*"), not_resource=True))], "ImplicitDeny"),
    cited("notresource-resolved-variable-allows-elsewhere", DOC_NOTRESOURCE, req(GET, obj("shared/x"), ALICE),
          [doc(allow("s3:*", obj("home/${aws:username}/*"), not_resource=True))], "Allow"),
    # A role's trust policy must trust the caller, whatever the caller's own policies allow.
    cited("assume-role-needs-the-trust-policy", DOC_ROLE_TERMS, req(ASSUME, OTHER_ROLE, ALICE),
          [doc(allow(ASSUME, "*"))], "ImplicitDeny", resource_policy=trust(BOB)),
    cited("assume-role-trust-naming-the-user-is-enough", DOC_SINGLE_ACCOUNT, req(ASSUME, OTHER_ROLE, ALICE), [], "Allow",
          resource_policy=trust(ALICE)),
    cited("assume-role-trust-naming-the-account-delegates", DOC_ROLE_TERMS, req(ASSUME, OTHER_ROLE, ALICE),
          [doc(allow(ASSUME, "*"))], "Allow", resource_policy=trust(ROOT)),
    cited("assume-role-trust-naming-the-account-alone", DOC_ROLE_TERMS, req(ASSUME, OTHER_ROLE, ALICE), [], "ImplicitDeny",
          resource_policy=trust(ROOT)),
    cited("assume-role-across-accounts-needs-both", DOC_CROSS_ACCOUNT, req(ASSUME, OTHER_ROLE, STRANGER), [],
          "ImplicitDeny", resource_account=ACCOUNT, resource_policy=trust(STRANGER)),
]


def test_every_exactness_rule_has_cited_cases():
    pages = {c.id.rsplit("[", 1)[1].rstrip("]") for c in EXACTNESS}
    for source in (DOC_NOTPRINCIPAL, DOC_CONDITION_KEYS, DOC_DENY_ALLOW, DOC_CROSS_ACCOUNT, DOC_NOTRESOURCE, DOC_ROLE_TERMS):
        assert source.rsplit("/", 1)[1].removesuffix(".html") in pages
    assert len({c.id for c in EXACTNESS}) == len(EXACTNESS)


@pytest.mark.parametrize(("request_", "identity", "policies", "expected"), EXACTNESS)
def test_exact_decision(request_, identity, policies, expected):
    decision = evaluate(request_, identity, **policies)
    assert decision.decision == expected, decision.reason
    assert decision.allowed is (expected == "Allow")
    if expected == "ExplicitDeny":
        assert decision.deciding and {s.effect for s in decision.deciding} == {"Deny"}


def test_root_allow_says_why():
    decision = evaluate(req(GET, obj("x"), ROOT), [])
    assert "root user" in decision.reason and decision.deciding == []


def test_cross_account_reasons_name_the_missing_side():
    no_resource = evaluate(req(GET, obj("x"), STRANGER), [ALLOW_ALL_S3], resource_account=ACCOUNT)
    assert "cross-account" in no_resource.reason and "no resource policy" in no_resource.reason
    no_identity = evaluate(
        req(GET, obj("x"), STRANGER), [], resource_account=ACCOUNT,
        resource_policy=bucket_policy(allow(GET, "*", principal={"AWS": STRANGER})),
    )
    assert "caller's own account" in no_identity.reason
    both = evaluate(
        req(GET, obj("x"), STRANGER), [("theirs", ALLOW_ALL_S3)], resource_account=ACCOUNT,
        resource_policy=("bucket policy", bucket_policy(allow(GET, "*", principal={"AWS": STRANGER}))),
    )
    assert [s.policy_name for s in both.deciding] == ["theirs", "bucket policy"]


def test_resource_account_must_be_an_account_id():
    with pytest.raises(ValidationError) as refused:
        evaluate(req(GET, obj("x"), ALICE), [ALLOW_ALL_S3], resource_account="acme")
    assert refused.value.field == "resource_account"


def test_capabilities_across_accounts():
    caps = s3_capabilities([PREFIX_RW], "bkt", "reports/", principal_arn=STRANGER, resource_account=ACCOUNT)
    assert not any(d.allowed for d in caps.values())
    granted = s3_capabilities(
        [PREFIX_RW], "bkt", "reports/", principal_arn=STRANGER, resource_account=ACCOUNT,
        resource_policy=bucket_policy(allow("s3:*", ["arn:aws:s3:::bkt", obj("*")], principal={"AWS": OTHER_ACCOUNT})),
    )
    assert all(d.allowed for d in granted.values())
