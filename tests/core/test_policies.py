"""Generated policies: least privilege per level, prefix safety, escaping, size, lint-clean."""

from __future__ import annotations

import json
import re

import boto3
import botocore.exceptions
import pytest
from moto import mock_aws
from moto.core import enable_iam_authentication
from parliament import analyze_policy_string

from s3cred_tui.core.errors import PolicyTooLarge, ValidationError
from s3cred_tui.core.policies import (
    BOUNDARY_FOR_LEVEL,
    INLINE_USER_POLICY_LIMIT,
    MANAGED_POLICY_LIMIT,
    ROLE_MANAGED_POLICY_ARN,
    ROLE_POLICY_LIMIT,
    SESSION_POLICY_LIMIT,
    check_policy_size,
    escape_iam,
    policy_for,
    policy_for_request,
    policy_json,
    policy_size,
    trust_policy_for,
)
from s3cred_tui.core.request import AccessLevel, CredentialRequest, PrefixMode

LEVELS = [AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE]
TWENTY_BUCKETS = [f"bucket-{i:02d}" for i in range(1, 21)]


# IAM wildcard semantics, written independently of the code under test: `*` any run of
# characters, `?` one character, `${*}` `${?}` `${$}` the literal characters.
def iam_pattern_matches(pattern: str, value: str) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        for literal in ("${*}", "${?}", "${$}"):
            if pattern.startswith(literal, i):
                regex.append(re.escape(literal[2]))
                i += len(literal)
                break
        else:
            char = pattern[i]
            regex.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
            i += 1
    return re.fullmatch("".join(regex), value, re.DOTALL) is not None


def allowed(doc: dict, action: str, resource: str, prefix_key: str | None = None) -> bool:
    """Whether an Allow statement of `doc` covers the request (no Deny or Not* in generated policies)."""
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if action not in actions or not any(iam_pattern_matches(r, resource) for r in resources):
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        assert list(condition) == ["StringLike"] and list(condition["StringLike"]) == ["s3:prefix"]
        if prefix_key is not None and any(iam_pattern_matches(p, prefix_key) for p in condition["StringLike"]["s3:prefix"]):
            return True
    return False


def test_iam_pattern_matcher_itself():
    assert iam_pattern_matches("a/*", "a/b/c")
    assert iam_pattern_matches("a/?", "a/b")
    assert not iam_pattern_matches("a/?", "a/bc")
    assert iam_pattern_matches("a${*}/*", "a*/x")
    assert not iam_pattern_matches("a${*}/*", "ab/x")


# ---------------------------------------------------------------- shape of each level


def statements_by_sid(doc):
    return {s["Sid"]: s for s in doc["Statement"]}


def test_read_only_without_prefix():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY)
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListObjectsInBucket",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": ["arn:aws:s3:::photos"],
            },
            {
                "Sid": "ReadObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": ["arn:aws:s3:::photos/*"],
            },
        ],
    }


def test_read_only_with_prefix():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY, "reports")
    sids = statements_by_sid(doc)
    assert sids["ListObjectsInBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["reports/*"]}}
    assert sids["ReadObjects"]["Resource"] == ["arn:aws:s3:::photos/reports/*"]
    # The s3:prefix condition would deny GetBucketLocation, so it stands on its own, unconditioned.
    assert sids["GetBucketLocation"] == {
        "Sid": "GetBucketLocation",
        "Effect": "Allow",
        "Action": "s3:GetBucketLocation",
        "Resource": ["arn:aws:s3:::photos"],
    }


def test_write_only_grants_nothing_that_reads():
    doc = policy_for(["photos"], AccessLevel.WRITE_ONLY, "in/")
    assert [s["Sid"] for s in doc["Statement"]] == ["WriteObjects"]
    (statement,) = doc["Statement"]
    assert statement["Action"] == ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    assert statement["Resource"] == ["arn:aws:s3:::photos/in/*"]
    text = json.dumps(doc)
    for reading in ("GetObject", "ListBucket", "s3:*"):
        assert reading not in text


def test_read_write_adds_delete_but_not_version_delete():
    doc = policy_for(["photos"], AccessLevel.READ_WRITE, "shared/")
    sids = statements_by_sid(doc)
    assert set(sids) == {"ListObjectsInBucket", "GetBucketLocation", "ReadWriteObjects"}
    assert sids["ReadWriteObjects"]["Action"] == [
        "s3:GetObject",
        "s3:GetObjectVersion",
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:DeleteObject",
    ]
    assert "DeleteObjectVersion" not in json.dumps(doc)


@pytest.mark.parametrize("level", LEVELS)
def test_no_level_grants_wildcards_or_bucket_administration(level):
    for prefix in ("", "a/"):
        doc = policy_for(["photos", "music"], level, prefix)
        for statement in doc["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all("*" not in a for a in actions)
            assert all(r.startswith(("arn:aws:s3:::photos", "arn:aws:s3:::music")) for r in statement["Resource"])


def test_custom_access_has_nothing_to_generate():
    with pytest.raises(ValidationError) as info:
        policy_for(["photos"], AccessLevel.CUSTOM)
    assert info.value.field == "policy"


@pytest.mark.parametrize(
    ("buckets", "prefix", "field"),
    [([], "", "buckets"), (["Bad"], "", "buckets"), (["ok-1", "*"], "", "buckets"), (["ok-1"], "/x", "prefix")],
)
def test_policy_for_refuses_unvalidated_input(buckets, prefix, field):
    with pytest.raises(ValidationError) as info:
        policy_for(buckets, AccessLevel.READ_ONLY, prefix)
    assert info.value.field == field


# ---------------------------------------------------------------- the reports vs reports-private pitfall


@pytest.mark.parametrize("typed_prefix", ["reports", "reports/"])
@pytest.mark.parametrize("level", LEVELS)
def test_prefix_never_reaches_sibling_prefixes(level, typed_prefix):
    doc = policy_for(["photos"], level, typed_prefix)
    object_action = "s3:PutObject" if level is AccessLevel.WRITE_ONLY else "s3:GetObject"
    assert allowed(doc, object_action, "arn:aws:s3:::photos/reports/q1.csv")
    assert allowed(doc, object_action, "arn:aws:s3:::photos/reports/2024/q1.csv")
    for outside in ("reports-private/salaries.csv", "reports", "reportsX/a", "other/reports/a", "q1.csv"):
        for action in ("s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion"):
            assert not allowed(doc, action, f"arn:aws:s3:::photos/{outside}"), (action, outside)
    assert not allowed(doc, object_action, "arn:aws:s3:::photos-backup/reports/q1.csv")


@pytest.mark.parametrize("level", [AccessLevel.READ_ONLY, AccessLevel.READ_WRITE])
def test_listing_limited_to_the_prefix_and_below(level):
    doc = policy_for(["photos"], level, "reports")
    bucket = "arn:aws:s3:::photos"
    for ok in ("reports/", "reports/2024/", "reports/2024/q1"):
        assert allowed(doc, "s3:ListBucket", bucket, prefix_key=ok), ok
    # "" and "reports" would answer with sibling keys such as reports-private/...
    for refused in ("", "reports", "reports-private/", "rep", None):
        assert not allowed(doc, "s3:ListBucket", bucket, prefix_key=refused), refused


def test_listing_without_prefix_is_the_whole_bucket_only():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY)
    assert allowed(doc, "s3:ListBucket", "arn:aws:s3:::photos")
    assert not allowed(doc, "s3:ListBucket", "arn:aws:s3:::photos2")


@pytest.mark.parametrize("level", LEVELS)
def test_every_grant_in_every_bucket_and_nowhere_else(level):
    buckets = ["alpha", "beta", "gamma"]
    doc = policy_for(buckets, level, "team/")
    action = "s3:PutObject" if level is AccessLevel.WRITE_ONLY else "s3:GetObject"
    for bucket in buckets:
        assert allowed(doc, action, f"arn:aws:s3:::{bucket}/team/x")
    assert not allowed(doc, action, "arn:aws:s3:::delta/team/x")
    assert not allowed(doc, action, "arn:aws:s3:::alphabet/team/x")


# ---------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("text", "mode", "expected"),
    [
        ("plain/", PrefixMode.PLAIN, "plain/"),
        ("a*b?c$d/", PrefixMode.LITERAL, "a${*}b${?}c${$}d/"),
        ("a*b?c$d/", PrefixMode.PLAIN, "a${*}b${?}c${$}d/"),
        ("a*b?c$d/", PrefixMode.PATTERN, "a*b?c${$}d/"),
        ("${aws:username}/", PrefixMode.LITERAL, "${$}{aws:username}/"),
        ("${aws:username}/", PrefixMode.PATTERN, "${$}{aws:username}/"),
        ("$$", PrefixMode.LITERAL, "${$}${$}"),
    ],
)
def test_escape_iam(text, mode, expected):
    assert escape_iam(text, mode) == expected


def test_literal_prefix_escaped_in_resource_and_condition():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY, "we*ird?$", PrefixMode.LITERAL)
    sids = statements_by_sid(doc)
    assert sids["ReadObjects"]["Resource"] == ["arn:aws:s3:::photos/we${*}ird${?}${$}/*"]
    assert sids["ListObjectsInBucket"]["Condition"]["StringLike"]["s3:prefix"] == ["we${*}ird${?}${$}/*"]
    assert allowed(doc, "s3:GetObject", "arn:aws:s3:::photos/we*ird?$/file")
    # Unescaped, `*` and `?` would have matched these too.
    assert not allowed(doc, "s3:GetObject", "arn:aws:s3:::photos/weXXird!$/file")
    assert not allowed(doc, "s3:ListBucket", "arn:aws:s3:::photos", prefix_key="weXird!$/")


def test_policy_variable_in_literal_prefix_stays_literal():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY, "${aws:username}", PrefixMode.LITERAL)
    assert statements_by_sid(doc)["ReadObjects"]["Resource"] == ["arn:aws:s3:::photos/${$}{aws:username}/*"]


def test_pattern_prefix_keeps_wildcards():
    doc = policy_for(["logs"], AccessLevel.READ_ONLY, "app-?/*", PrefixMode.PATTERN)
    sids = statements_by_sid(doc)
    assert sids["ReadObjects"]["Resource"] == ["arn:aws:s3:::logs/app-?/*"]
    assert sids["ListObjectsInBucket"]["Condition"]["StringLike"]["s3:prefix"] == ["app-?/*"]
    assert allowed(doc, "s3:GetObject", "arn:aws:s3:::logs/app-1/2024/x.log")
    assert not allowed(doc, "s3:GetObject", "arn:aws:s3:::logs/app-10/x.log")


def test_plain_prefix_refuses_wildcards():
    with pytest.raises(ValidationError) as info:
        policy_for(["logs"], AccessLevel.READ_ONLY, "app-*")
    assert info.value.field == "prefix"


# ---------------------------------------------------------------- merging and size


@pytest.mark.parametrize("level", LEVELS)
def test_buckets_merged_into_one_statement_per_grant(level):
    one = policy_for(["bucket-01"], level, "reports/")
    many = policy_for(TWENTY_BUCKETS, level, "reports/")
    assert [s["Sid"] for s in one["Statement"]] == [s["Sid"] for s in many["Statement"]]
    for statement in many["Statement"]:
        if statement["Sid"] == "GetBucketLocation":
            continue
        assert len(statement["Resource"]) == 20


def test_bucket_location_widens_only_when_the_bucket_list_would_not_fit():
    few = statements_by_sid(policy_for(["photos", "music"], AccessLevel.READ_WRITE, "reports/"))
    assert few["GetBucketLocation"]["Resource"] == ["arn:aws:s3:::photos", "arn:aws:s3:::music"]
    many = statements_by_sid(policy_for(TWENTY_BUCKETS, AccessLevel.READ_WRITE, "reports/"))
    assert many["GetBucketLocation"]["Resource"] == "arn:aws:s3:::*"
    assert many["GetBucketLocation"]["Action"] == "s3:GetBucketLocation"
    assert "Condition" in many["ListObjectsInBucket"]


PREFIX_CASES = [
    ("", PrefixMode.PLAIN),
    ("reports/", PrefixMode.PLAIN),
    ("exports/2024/q1/", PrefixMode.PLAIN),
    ("we*ird?$/", PrefixMode.LITERAL),
]


@pytest.mark.parametrize(("prefix", "mode"), PREFIX_CASES)
@pytest.mark.parametrize("level", LEVELS)
def test_twenty_short_buckets_fit_a_session_policy(level, prefix, mode):
    doc = policy_for(TWENTY_BUCKETS, level, prefix, mode)
    assert policy_size(doc) <= SESSION_POLICY_LIMIT
    check_policy_size(doc, SESSION_POLICY_LIMIT, "session policy")
    # AssumeRole receives the compact form; it must be within the limit character for character.
    assert len(policy_json(doc, pretty=False)) <= SESSION_POLICY_LIMIT


def test_policy_size_ignores_whitespace():
    doc = policy_for(["photos"], AccessLevel.READ_WRITE, "a b/")
    compact = policy_json(doc, pretty=False)
    pretty = policy_json(doc, pretty=True)
    assert "\n" in pretty and "\n" not in compact
    # The prefix's own space (in the condition and the resource) is not counted either.
    assert compact.count(" ") == 2
    assert policy_size(doc) == policy_size(pretty) == policy_size(compact) == len(compact) - 2
    assert json.loads(pretty) == json.loads(compact) == doc


def test_policy_json_keeps_non_ascii_characters_as_typed():
    doc = policy_for(["photos"], AccessLevel.READ_ONLY, "données")
    assert "données/*" in policy_json(doc, pretty=False)
    assert policy_size(doc) == len(policy_json(doc, pretty=False))


def test_check_policy_size_says_how_big_the_limit_and_what_to_do():
    buckets = [f"a-rather-long-bucket-name-{i:03d}" for i in range(60)]
    doc = policy_for(buckets, AccessLevel.READ_WRITE, "reports/")
    size = policy_size(doc)
    assert size > INLINE_USER_POLICY_LIMIT
    with pytest.raises(PolicyTooLarge) as info:
        check_policy_size(doc, INLINE_USER_POLICY_LIMIT, "user policy")
    message = str(info.value)
    assert f"{size:,}" in message
    assert "2,048" in message
    assert "user policy" in message
    assert "fewer buckets" in message
    check_policy_size(doc, ROLE_POLICY_LIMIT, "role policy")


def test_limits():
    assert (INLINE_USER_POLICY_LIMIT, ROLE_POLICY_LIMIT, SESSION_POLICY_LIMIT, MANAGED_POLICY_LIMIT) == (
        2048,
        10240,
        2048,
        6144,
    )


# ---------------------------------------------------------------- parliament


PARLIAMENT_PREFIXES = [("", PrefixMode.PLAIN), ("reports/", PrefixMode.PLAIN), ("we*ird?$/", PrefixMode.LITERAL)]


@pytest.mark.parametrize("buckets", [["photos"], ["photos", "music.example.com", "bucket-03"]], ids=["1-bucket", "3-buckets"])
@pytest.mark.parametrize(("prefix", "mode"), PARLIAMENT_PREFIXES, ids=["no-prefix", "prefix", "escaped-prefix"])
@pytest.mark.parametrize("level", LEVELS)
def test_parliament_finds_nothing(level, prefix, mode, buckets):
    doc = policy_for(buckets, level, prefix, mode)
    findings = analyze_policy_string(policy_json(doc)).findings
    assert findings == [], [str(f) for f in findings]


def test_parliament_does_find_problems_in_a_bad_policy():
    """Guards the test above against a parliament that silently reports nothing."""
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::photos"}]}
    assert analyze_policy_string(json.dumps(bad)).findings


# ---------------------------------------------------------------- requests


def test_policy_for_request_generates_with_extras_appended():
    extra = {"Sid": "Tags", "Effect": "Allow", "Action": "s3:GetObjectTagging", "Resource": "arn:aws:s3:::photos/*"}
    req = CredentialRequest(buckets=("photos",), access=AccessLevel.READ_ONLY, prefix="reports", extra_statements=(extra,))
    doc = policy_for_request(req)
    assert doc["Statement"][-1] == extra
    assert statements_by_sid(doc)["ReadObjects"]["Resource"] == ["arn:aws:s3:::photos/reports/*"]


def test_policy_for_request_uses_custom_policy_as_is():
    custom = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}]}
    req = CredentialRequest(buckets=("photos",), access=AccessLevel.CUSTOM, custom_policy=custom)
    assert policy_for_request(req) == custom


def test_policy_for_request_refuses_a_broken_custom_policy():
    req = CredentialRequest(buckets=("photos",), access=AccessLevel.CUSTOM, custom_policy={"Statement": []})
    with pytest.raises(ValidationError):
        policy_for_request(req)


# ---------------------------------------------------------------- roles


def test_trust_policy_names_only_the_principal():
    arn = "arn:aws:iam::123456789012:role/ci-runner"
    doc = trust_policy_for(arn)
    (statement,) = doc["Statement"]
    assert statement["Principal"] == {"AWS": arn}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Effect"] == "Allow"
    assert ":root" not in json.dumps(doc)


@pytest.mark.parametrize("bad", ["arn:aws:iam::123456789012:root", "123456789012", "", None])
def test_trust_policy_refuses_accounts_and_non_arns(bad):
    with pytest.raises(ValidationError) as info:
        trust_policy_for(bad)
    assert info.value.field == "role"


def test_role_and_boundary_policies():
    assert ROLE_MANAGED_POLICY_ARN == "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    assert BOUNDARY_FOR_LEVEL[AccessLevel.READ_ONLY] == "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    for level in (AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE, AccessLevel.CUSTOM):
        assert BOUNDARY_FOR_LEVEL[level] == "arn:aws:iam::aws:policy/AmazonS3FullAccess"


# ---------------------------------------------------------------- against moto's IAM enforcement
# moto enforces identity policies on object operations (not the ListBucket condition, so
# listing is checked structurally above and never here).


def _can(call) -> bool:
    try:
        call()
    except botocore.exceptions.ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDenied", exc.response["Error"]
        return False
    return True


@pytest.mark.parametrize("level", LEVELS)
@mock_aws
def test_a_real_user_with_the_policy_is_held_to_its_prefix(level):
    admin_s3 = boto3.client("s3", region_name="us-east-1")
    iam = boto3.client("iam", region_name="us-east-1")
    admin_s3.create_bucket(Bucket="photos")
    for key in ("reports/q1.csv", "reports-private/salaries.csv"):
        admin_s3.put_object(Bucket="photos", Key=key, Body=b"data")
    iam.create_user(UserName="scoped")
    iam.put_user_policy(
        UserName="scoped", PolicyName="s3", PolicyDocument=policy_json(policy_for(["photos"], level, "reports"), pretty=False)
    )
    key = iam.create_access_key(UserName="scoped")["AccessKey"]
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    with enable_iam_authentication():
        assert _can(lambda: s3.get_object(Bucket="photos", Key="reports/q1.csv")) is level.can_read
        assert _can(lambda: s3.put_object(Bucket="photos", Key="reports/new.csv", Body=b"x")) is level.can_write
        assert _can(lambda: s3.delete_object(Bucket="photos", Key="reports/q1.csv")) is level.can_delete
        assert not _can(lambda: s3.get_object(Bucket="photos", Key="reports-private/salaries.csv"))
        assert not _can(lambda: s3.put_object(Bucket="photos", Key="reports-private/x.csv", Body=b"x"))
        assert not _can(lambda: s3.delete_object(Bucket="photos", Key="reports-private/salaries.csv"))
        assert not _can(lambda: s3.put_bucket_policy(Bucket="photos", Policy="{}"))
