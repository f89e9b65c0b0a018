"""Several prefixes and exact keys in one credential, checked with the offline evaluator,
parliament and the size limits (moto ignores the ListBucket condition and reads `?` wrongly)."""

from __future__ import annotations

import pytest
from parliament import analyze_policy_string

from s3cred_tui.core.draft import draft_request
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.policies import (
    SESSION_POLICY_LIMIT,
    policy_for,
    policy_json,
    policy_size,
)
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.simulate import RequestContext, evaluate

BUCKET = "bkt-one"
OTHER_BUCKET = "bkt-other"
LEVELS = [AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE]


def _allowed(policy: dict, action: str, resource: str, context: dict | None = None) -> bool:
    return evaluate(RequestContext(action, resource, context or {}), [("scoped", policy)]).allowed


def _get(policy: dict, bucket: str, key: str) -> bool:
    return _allowed(policy, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}")


def _put(policy: dict, bucket: str, key: str) -> bool:
    return _allowed(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}")


def _list(policy: dict, bucket: str, prefix: str | None) -> bool:
    context = {} if prefix is None else {"s3:prefix": prefix}
    return _allowed(policy, "s3:ListBucket", f"arn:aws:s3:::{bucket}", context)


# ---------------------------------------------------------------- several prefixes


def test_several_prefixes_share_one_listing_condition_and_one_object_statement():
    policy = policy_for([BUCKET, OTHER_BUCKET], AccessLevel.READ_ONLY, prefixes=["reports", "exports/daily"])
    listing, location, reading = policy["Statement"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["reports/*", "exports/daily/*"]}}
    assert location["Action"] == "s3:GetBucketLocation"
    assert reading["Resource"] == [
        f"arn:aws:s3:::{BUCKET}/reports/*",
        f"arn:aws:s3:::{BUCKET}/exports/daily/*",
        f"arn:aws:s3:::{OTHER_BUCKET}/reports/*",
        f"arn:aws:s3:::{OTHER_BUCKET}/exports/daily/*",
    ]


@pytest.mark.parametrize("level", LEVELS)
def test_several_prefixes_grant_each_prefix_and_nothing_beside_them(level):
    policy = policy_for([BUCKET], level, "reports", prefixes=["exports/daily/"])
    for key in ("reports/a.csv", "reports/2024/b.csv", "exports/daily/c.csv"):
        assert _get(policy, BUCKET, key) is level.can_read, key
        assert _put(policy, BUCKET, key) is level.can_write, key
    # A sibling that shares the first characters, the parent, and the same key in another bucket.
    for key in ("reports-private/a.csv", "exports/weekly/c.csv", "exports/daily", "top.csv"):
        assert not _get(policy, BUCKET, key), key
        assert not _put(policy, BUCKET, key), key
    assert not _get(policy, OTHER_BUCKET, "reports/a.csv")
    assert not _put(policy, OTHER_BUCKET, "reports/a.csv")


def test_several_prefixes_list_each_prefix_and_nothing_wider():
    policy = policy_for([BUCKET], AccessLevel.READ_WRITE, prefixes=["reports/", "exports/daily/"])
    for prefix in ("reports/", "reports/2024/", "exports/daily/", "exports/daily/x"):
        assert _list(policy, BUCKET, prefix), prefix
    for prefix in ("", None, "reports", "reports-private/", "exports/", "exports/weekly/"):
        assert not _list(policy, BUCKET, prefix), prefix
    assert not _list(policy, OTHER_BUCKET, "reports/")


def test_a_prefix_inside_another_and_a_repeated_one_are_dropped():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/", prefixes=["reports/2024/", "reports", "b/"])
    assert policy["Statement"][0]["Condition"]["StringLike"]["s3:prefix"] == ["reports/*", "b/*"]


def test_pattern_prefixes_are_kept_as_given():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, prefixes=["logs/*/2024/", "logs/"], mode=PrefixMode.PATTERN)
    assert policy["Statement"][0]["Condition"]["StringLike"]["s3:prefix"] == ["logs/*/2024/*", "logs/*"]


def test_each_prefix_is_checked():
    with pytest.raises(ValidationError) as caught:
        policy_for([BUCKET], AccessLevel.READ_ONLY, prefixes=["ok/", "/bad"])
    assert caught.value.field == "prefix"


def test_draft_keeps_every_prefix_and_the_first_as_prefix():
    draft = draft_request(CredentialRequest(buckets=(BUCKET,), access=AccessLevel.READ_ONLY, prefixes=("a", "b")))
    assert draft.ok
    assert draft.request.prefix == "a/"
    assert draft.request.all_prefixes == ("a/", "b/")
    assert _get(draft.policy, BUCKET, "b/x") and not _get(draft.policy, BUCKET, "c/x")


def test_draft_names_a_bad_prefix_among_several():
    draft = draft_request(CredentialRequest(buckets=(BUCKET,), prefix="a", prefixes=("b*",)))
    assert [p.field for p in draft.problems] == ["prefix"]
    assert draft.policy is None


def test_one_prefix_keeps_its_old_request_shape():
    draft = draft_request(CredentialRequest(buckets=(BUCKET,), prefix="a"))
    assert (draft.request.prefix, draft.request.prefixes) == ("a/", ())


def test_several_prefixes_over_the_limit_are_a_policy_problem():
    prefixes = tuple(f"a-rather-long-folder-name-{n:03}/" for n in range(60))
    draft = draft_request(
        CredentialRequest(buckets=(BUCKET,), kind=CredentialKind.ASSUME_ROLE, prefixes=prefixes, access=AccessLevel.READ_ONLY)
    )
    assert draft.size > SESSION_POLICY_LIMIT
    assert [p.field for p in draft.problems] == ["policy"]


def test_twenty_buckets_with_two_prefixes_still_fit_a_session_policy():
    buckets = [f"b{n:02}-x" for n in range(20)]
    policy = policy_for(buckets, AccessLevel.READ_ONLY, prefixes=["in/", "out/"])
    assert policy_size(policy) <= SESSION_POLICY_LIMIT
    assert _get(policy, "b19-x", "out/k") and not _get(policy, "b19-x", "other/k")


# ---------------------------------------------------------------- exact keys


def test_exact_keys_grant_exactly_those_keys():
    policy = policy_for([BUCKET], AccessLevel.READ_WRITE, keys=["reports/2024.csv", "a*b?.txt"])
    assert _get(policy, BUCKET, "reports/2024.csv") and _put(policy, BUCKET, "reports/2024.csv")
    assert _get(policy, BUCKET, "a*b?.txt")
    # Nothing longer, nothing the wildcard characters would have matched, nothing in another bucket.
    for key in ("reports/2024.csv.bak", "reports/2024.csv/x", "reports/2025.csv", "aXXbY.txt", "a-b!.txt"):
        assert not _get(policy, BUCKET, key), key
        assert not _put(policy, BUCKET, key), key
    assert not _get(policy, OTHER_BUCKET, "reports/2024.csv")


def test_exact_keys_escape_wildcards_and_dollar():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, keys=["a*b?$c"])
    assert policy["Statement"][-1]["Resource"] == [f"arn:aws:s3:::{BUCKET}/a${{*}}b${{?}}${{$}}c"]


def test_exact_keys_give_no_listing_unless_asked():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, keys=["reports/2024.csv"])
    assert [s["Sid"] for s in policy["Statement"]] == ["GetBucketLocation", "ReadObjects"]
    for prefix in ("", None, "reports/", "reports/2024.csv"):
        assert not _list(policy, BUCKET, prefix), prefix


def test_listing_exact_keys_lists_only_those_keys():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, keys=["reports/2024.csv", "x*y"], list_keys=True)
    assert _list(policy, BUCKET, "reports/2024.csv")
    assert _list(policy, BUCKET, "x*y")
    for prefix in ("", None, "reports/", "reports/2024", "xzy", "x"):
        assert not _list(policy, BUCKET, prefix), prefix


def test_keys_and_prefixes_together():
    policy = policy_for([BUCKET], AccessLevel.READ_ONLY, "shared/", keys=["top.csv"])
    assert _get(policy, BUCKET, "shared/a") and _get(policy, BUCKET, "top.csv")
    assert not _get(policy, BUCKET, "top.csv2") and not _get(policy, BUCKET, "other/a")
    assert _list(policy, BUCKET, "shared/") and not _list(policy, BUCKET, "top.csv")


def test_write_only_keys_cannot_read_or_list():
    policy = policy_for([BUCKET], AccessLevel.WRITE_ONLY, keys=["drop/in.csv"])
    assert _put(policy, BUCKET, "drop/in.csv")
    assert not _get(policy, BUCKET, "drop/in.csv")
    assert not _list(policy, BUCKET, "drop/in.csv")
    assert not _put(policy, BUCKET, "drop/in.csv.tmp")


@pytest.mark.parametrize(
    ("request_fields", "message"),
    [
        ({"keys": ("",)}, "cannot be empty"),
        ({"keys": ("/abs",)}, "start with /"),
        ({"keys": ("a\u202eb",)}, "U+202E"),
        ({"list_keys": True}, "needs at least one key"),
        ({"keys": ("k",), "list_keys": True, "access": AccessLevel.WRITE_ONLY}, "only for levels that read"),
    ],
)
def test_bad_keys_are_one_problem_naming_the_field(request_fields, message):
    draft = draft_request(CredentialRequest(buckets=(BUCKET,), **request_fields))
    assert [p.field for p in draft.problems] == ["keys"]
    assert message in draft.problems[0].message
    assert draft.policy is None


def test_draft_with_keys():
    draft = draft_request(CredentialRequest(buckets=(BUCKET,), access=AccessLevel.READ_ONLY, keys=("k.csv", "k.csv")))
    assert draft.ok and draft.request.keys == ("k.csv",)
    assert _get(draft.policy, BUCKET, "k.csv") and not _get(draft.policy, BUCKET, "other")


# ---------------------------------------------------------------- parliament


SHAPES = [
    {"prefixes": ["reports/", "exports/"]},
    {"keys": ["reports/2024.csv", "we*ird?$"]},
    {"keys": ["reports/2024.csv"], "list_keys": True},
    {"prefix": "shared/", "keys": ["top.csv"], "list_keys": True},
]


@pytest.mark.parametrize("shape", SHAPES, ids=["prefixes", "keys", "listed-keys", "both"])
@pytest.mark.parametrize("level", LEVELS)
def test_parliament_finds_nothing(level, shape):
    if shape.get("list_keys") and not level.can_read:
        pytest.skip("listing keys is refused for write-only")
    doc = policy_for([BUCKET, OTHER_BUCKET], level, **shape)
    findings = analyze_policy_string(policy_json(doc)).findings
    assert findings == [], [str(f) for f in findings]
