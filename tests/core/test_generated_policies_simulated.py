"""Every generated policy, checked with the offline evaluator.

moto cannot check these: it ignores the ListBucket `s3:prefix` condition, session policies
and permissions boundaries, and reads `?` in resources wrongly. So for each access level,
prefix style and bucket set, the policy from `policies.policy_for` is evaluated as a user's
inline policy, as a user's inline policy under the AWS-managed permissions boundary chosen for
that level, and as the session policy of a role that itself has AmazonS3FullAccess.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from s3cred_tui.core.policies import BOUNDARY_FOR_LEVEL, S3_FULL_ACCESS_POLICY_ARN, S3_READ_ONLY_POLICY_ARN, policy_for
from s3cred_tui.core.request import AccessLevel, PrefixMode
from s3cred_tui.core.simulate import RequestContext, evaluate

# The documented statements of the two AWS-managed policies used as boundaries and role policy.
AWS_MANAGED = {
    S3_FULL_ACCESS_POLICY_ARN: {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
    },
    S3_READ_ONLY_POLICY_ARN: {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
                "Resource": "*",
            }
        ],
    },
}

OTHER_BUCKET = "bkt-other"
ABSENT = None  # a ListObjects request without a prefix parameter carries no s3:prefix key


@dataclass(frozen=True)
class PrefixCase:
    id: str
    prefix: str
    mode: PrefixMode
    inside: tuple[str, ...]  # object keys the grant covers
    outside: tuple[str, ...]  # object keys it must not cover
    list_allowed: tuple[str | None, ...]  # s3:prefix values a reader may list
    list_denied: tuple[str | None, ...]


PREFIX_CASES = [
    PrefixCase(
        "whole-bucket",
        "",
        PrefixMode.PLAIN,
        inside=("file.txt", "reports/2024/x.csv", "a*b/x", "deep/er/key"),
        outside=(),
        list_allowed=("", "reports/", "anything/at/all/", ABSENT),
        list_denied=(),
    ),
    PrefixCase(
        "reports",
        "reports/",
        PrefixMode.PLAIN,
        inside=("reports/file.txt", "reports/2024/deep/x.csv", "reports/"),
        outside=("reports-private/x", "other/x", "file.txt", "Reports/x", "reportsx", "reports"),
        list_allowed=("reports/", "reports/2024/"),
        list_denied=("", "reports", "reports-private/", "other/", "Reports/", ABSENT),
    ),
    PrefixCase(
        "reports-typed-without-slash",
        "reports",
        PrefixMode.PLAIN,
        inside=("reports/file.txt", "reports/2024/x.csv"),
        outside=("reports-private/x", "reportsx", "other/x", "file.txt"),
        list_allowed=("reports/", "reports/2024/"),
        list_denied=("", "reports", "reports-private/", "other/", ABSENT),
    ),
    PrefixCase(
        "literal-star",
        "a*b/",
        PrefixMode.LITERAL,
        inside=("a*b/x", "a*b/deep/x"),
        outside=("axb/x", "aXYZb/x", "ab/x", "a*b-private/x", "other/x", "x"),
        list_allowed=("a*b/", "a*b/deep/"),
        list_denied=("", "axb/", "ab/", "a*b", "a*b-private/", ABSENT),
    ),
    PrefixCase(
        "literal-question-mark",
        "v?/",
        PrefixMode.LITERAL,
        inside=("v?/x",),
        outside=("v1/x", "vv/x", "v/x"),
        list_allowed=("v?/",),
        list_denied=("v1/", "", ABSENT),
    ),
    PrefixCase(
        "dollar",
        "cost$/",
        PrefixMode.PLAIN,
        inside=("cost$/x",),
        outside=("cost/x", "costX/x", "cost$x"),
        list_allowed=("cost$/",),
        list_denied=("cost/", "", ABSENT),
    ),
    PrefixCase(
        "pattern",
        "logs/2024-*",
        PrefixMode.PATTERN,
        inside=("logs/2024-01/x", "logs/2024-12-31.gz"),
        outside=("logs/2023-01/x", "logs/x", "other/x"),
        list_allowed=("logs/2024-01/", "logs/2024-"),
        list_denied=("logs/", "logs/2023-01/", "", ABSENT),
    ),
]

BUCKET_SETS = {"one-bucket": ("bkt-one",), "merged-two-buckets": ("bkt-one", "bkt-two")}
LEVELS = [AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE]
HOW_USED = ["user-inline", "user-with-boundary", "role-session-policy"]


def _object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _expectations(level: AccessLevel, case: PrefixCase, buckets: tuple[str, ...]):
    """(what, request, should be allowed) for everything these credentials should and should not do."""
    for bucket in buckets:
        for key in case.inside:
            for action, allowed in (
                ("s3:GetObject", level.can_read),
                ("s3:GetObjectVersion", level.can_read),
                ("s3:PutObject", level.can_write),
                ("s3:AbortMultipartUpload", level.can_write),
                ("s3:DeleteObject", level.can_delete),
            ):
                yield f"{action} {bucket}/{key}", RequestContext(action, _object(bucket, key)), allowed
        for key in case.outside:
            for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
                yield f"{action} {bucket}/{key} (outside)", RequestContext(action, _object(bucket, key)), False
        for prefix in case.list_allowed:
            context = {} if prefix is None else {"s3:prefix": prefix}
            yield f"ListBucket {bucket} prefix={prefix!r}", RequestContext("s3:ListBucket", f"arn:aws:s3:::{bucket}", context), level.can_read
        for prefix in case.list_denied:
            context = {} if prefix is None else {"s3:prefix": prefix}
            yield f"ListBucket {bucket} prefix={prefix!r} (outside)", RequestContext("s3:ListBucket", f"arn:aws:s3:::{bucket}", context), False
        # Never granted at any level: history destruction, ACLs, bucket administration.
        for action in ("s3:DeleteObjectVersion", "s3:PutObjectAcl", "s3:GetObjectAcl"):
            for key in case.inside[:1]:
                yield f"{action} {bucket}/{key}", RequestContext(action, _object(bucket, key)), False
        for action in ("s3:PutBucketPolicy", "s3:DeleteBucket", "s3:PutBucketAcl"):
            yield f"{action} {bucket}", RequestContext(action, f"arn:aws:s3:::{bucket}"), False
        if not level.can_read:
            yield f"ListBucketMultipartUploads {bucket}", RequestContext("s3:ListBucketMultipartUploads", f"arn:aws:s3:::{bucket}"), False
    # Another bucket: nothing, not even with a key that would be inside the prefix.
    key = case.inside[0]
    for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"):
        yield f"{action} {OTHER_BUCKET}/{key} (other bucket)", RequestContext(action, _object(OTHER_BUCKET, key)), False
    yield f"ListBucket {OTHER_BUCKET}", RequestContext("s3:ListBucket", f"arn:aws:s3:::{OTHER_BUCKET}", {"s3:prefix": case.list_allowed[0] or ""}), False
    yield "ListAllMyBuckets", RequestContext("s3:ListAllMyBuckets", "*"), False
    yield "iam:CreateUser", RequestContext("iam:CreateUser", "arn:aws:iam::111122223333:user/x"), False


def _evaluate(how: str, level: AccessLevel, policy: dict, request: RequestContext):
    if how == "user-inline":
        return evaluate(request, [("generated", policy)])
    if how == "user-with-boundary":
        boundary_arn = BOUNDARY_FOR_LEVEL[level]
        return evaluate(request, [("generated", policy)], boundary=(boundary_arn, AWS_MANAGED[boundary_arn]))
    return evaluate(
        request,
        [("AmazonS3FullAccess", AWS_MANAGED[S3_FULL_ACCESS_POLICY_ARN])],
        session_policy=("generated", policy),
    )


@pytest.mark.parametrize("how", HOW_USED)
@pytest.mark.parametrize("buckets", list(BUCKET_SETS.values()), ids=list(BUCKET_SETS))
@pytest.mark.parametrize("case", PREFIX_CASES, ids=[c.id for c in PREFIX_CASES])
@pytest.mark.parametrize("level", LEVELS, ids=[lv.value for lv in LEVELS])
def test_generated_policy_grants_exactly_its_level(level, case, buckets, how):
    policy = policy_for(buckets, level, case.prefix, case.mode)
    wrong = []
    checked = 0
    for what, request, expected in _expectations(level, case, buckets):
        decision = _evaluate(how, level, policy, request)
        checked += 1
        if decision.allowed is not expected:
            wrong.append(f"{what}: expected {'allow' if expected else 'deny'}, got {decision.decision}: {decision.reason}")
        if not decision.allowed:
            # The generated policies contain no Deny: a refusal is always "nothing allows it".
            assert decision.decision == "ImplicitDeny", decision.reason
    assert checked > 20
    assert not wrong, "\n".join(wrong)


def test_write_only_can_neither_read_nor_list():
    policy = policy_for(["bkt-one"], AccessLevel.WRITE_ONLY, "reports/")
    for request in (
        RequestContext("s3:GetObject", _object("bkt-one", "reports/x")),
        RequestContext("s3:ListBucket", "arn:aws:s3:::bkt-one", {"s3:prefix": "reports/"}),
        RequestContext("s3:ListBucket", "arn:aws:s3:::bkt-one"),
    ):
        assert not evaluate(request, [policy]).allowed, request
    assert evaluate(RequestContext("s3:PutObject", _object("bkt-one", "reports/x")), [policy]).allowed


def test_extra_statements_are_evaluated_with_the_rest():
    guard = {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    policy = policy_for(["bkt-one"], AccessLevel.READ_WRITE, "reports/", extra_statements=[guard])
    inside = _object("bkt-one", "reports/x")
    assert evaluate(RequestContext("s3:PutObject", inside, {"aws:SecureTransport": True}), [policy]).allowed
    refused = evaluate(RequestContext("s3:PutObject", inside, {"aws:SecureTransport": False}), [policy])
    assert refused.decision == "ExplicitDeny"


def test_read_only_boundary_caps_writes_added_later():
    """The boundary chosen for a read-only user removes any write attached to it afterwards."""
    policy = policy_for(["bkt-one"], AccessLevel.READ_ONLY, "reports/")
    later = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    boundary = AWS_MANAGED[BOUNDARY_FOR_LEVEL[AccessLevel.READ_ONLY]]
    put = RequestContext("s3:PutObject", _object("bkt-one", "reports/x"))
    assert evaluate(put, [policy, later]).allowed
    capped = evaluate(put, [policy, later], boundary=boundary)
    assert capped.decision == "ImplicitDeny"
    assert "boundary" in capped.reason
    assert not evaluate(RequestContext("iam:CreateUser", "*"), [policy, later], boundary=boundary).allowed
