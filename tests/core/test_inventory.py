"""Read-only account exploration: identities, buckets, regions, prefixes, users, paging."""

from __future__ import annotations

import json
from urllib.parse import unquote
import threading
from datetime import datetime, timezone

import boto3
import botocore.exceptions
import botocore.utils
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from s3cred_tui.core import inventory
from s3cred_tui.core.errors import (
    AccessDenied,
    CredentialsExpired,
    NotFound,
    S3CredError,
)
from s3cred_tui.core.inventory import (
    AttachedPolicy,
    GroupDetail,
    UserDetail,
    UserSummary,
    bucket_details,
    bucket_details_of,
    bucket_regions,
    classify_arn,
    decode_policy_document,
    iter_authorization_details,
    iter_bucket_pages,
    iter_object_records,
    iter_prefix_pages,
    iter_user_pages,
    iter_user_records,
    managed_policy_document,
    principal_arn_from,
    region_from_location,
    user_counts,
    user_details,
    user_details_of,
    users_referencing_bucket,
    whoami,
)
from s3cred_tui.core.session import AwsContext

ACCOUNT = "123456789012"
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def ctx():
    with mock_aws():
        yield AwsContext()


def _doc(action, resource, effect="Allow") -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": effect, "Action": action, "Resource": resource}]}


# ---------------------------------------------------------------- identity


@pytest.mark.parametrize(
    ("arn", "kind", "name", "principal"),
    [
        (f"arn:aws:iam::{ACCOUNT}:user/team/alice", "user", "alice", f"arn:aws:iam::{ACCOUNT}:user/team/alice"),
        (f"arn:aws:iam::{ACCOUNT}:root", "root", "root", f"arn:aws:iam::{ACCOUNT}:root"),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/bob@example.com",
            "assumed-role",
            "Admin",
            f"arn:aws:iam::{ACCOUNT}:role/Admin",
        ),
        (
            f"arn:aws-cn:sts::{ACCOUNT}:assumed-role/Admin/s",
            "assumed-role",
            "Admin",
            f"arn:aws-cn:iam::{ACCOUNT}:role/Admin",
        ),
        (f"arn:aws:sts::{ACCOUNT}:federated-user/carol", "federated", "carol", f"arn:aws:sts::{ACCOUNT}:federated-user/carol"),
        ("not-an-arn", "other", "not-an-arn", "not-an-arn"),
    ],
)
def test_classify_caller_arns(arn, kind, name, principal):
    assert classify_arn(arn)[:2] == (kind, name)
    assert principal_arn_from(arn) == principal


def test_whoami_for_a_user_and_for_an_assumed_role_with_a_path(ctx):
    ctx.iam.create_user(UserName="alice")
    ctx.iam.put_user_policy(UserName="alice", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    key = ctx.iam.create_access_key(UserName="alice")["AccessKey"]
    alice = ctx.for_keys(key["AccessKeyId"], key["SecretAccessKey"])
    me = whoami(alice)
    assert (me.principal_type, me.name, me.account) == ("user", "alice", ACCOUNT)
    assert me.principal_arn == me.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"

    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": me.arn}, "Action": "sts:AssumeRole"}],
    }
    ctx.iam.create_role(RoleName="Ops", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust))
    ctx.iam.put_role_policy(RoleName="Ops", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
    creds = alice.sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/team/Ops", RoleSessionName="s1")["Credentials"]
    session = ctx.for_keys(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    role = whoami(session)
    assert (role.principal_type, role.name, role.session_name) == ("assumed-role", "Ops", "s1")
    assert role.principal_arn == f"arn:aws:iam::{ACCOUNT}:role/team/Ops"
    assert whoami(session, resolve_role_path=False).principal_arn == f"arn:aws:iam::{ACCOUNT}:role/Ops"


def test_whoami_with_expired_credentials_is_a_typed_error(ctx):
    with Stubber(ctx.sts) as stub:
        stub.add_client_error("get_caller_identity", service_error_code="ExpiredToken", http_status_code=403)
        with pytest.raises(CredentialsExpired):
            whoami(ctx)


# ---------------------------------------------------------------- buckets


def test_bucket_pages_cover_every_bucket_once_even_when_the_endpoint_drops_the_token(ctx):
    names = [f"bucket-{i:02d}" for i in range(7)]
    for name in names:
        ctx.s3.create_bucket(Bucket=name)
    # moto honours MaxBuckets but returns no ContinuationToken.
    pages = list(iter_bucket_pages(ctx, page_size=3))
    assert all(len(page) <= 3 for page in pages)
    assert sorted(b.name for page in pages for b in page) == names


class FakeS3:
    def __init__(self, names, honour_max=True, reject_max=False):
        self.names = names
        self.honour_max = honour_max
        self.reject_max = reject_max
        self.calls: list[dict] = []

    def list_buckets(self, **kwargs):
        self.calls.append(kwargs)
        if self.reject_max and "MaxBuckets" in kwargs:
            raise botocore.exceptions.ClientError({"Error": {"Code": "InvalidArgument", "Message": "no"}}, "ListBuckets")
        start = int(kwargs.get("ContinuationToken") or 0)
        size = kwargs.get("MaxBuckets") if self.honour_max and "MaxBuckets" in kwargs else len(self.names)
        chunk = self.names[start : start + size]
        response = {"Buckets": [{"Name": n, "CreationDate": datetime(2024, 1, 1, tzinfo=timezone.utc), "BucketRegion": "eu-west-1"} for n in chunk]}
        if self.honour_max and "MaxBuckets" in kwargs and start + size < len(self.names):
            response["ContinuationToken"] = str(start + size)
        return response


class FakeContext:
    region = "us-east-1"

    def __init__(self, s3=None, iam=None):
        self.s3 = s3
        self.iam = iam

    def client(self, service, region=None):
        return getattr(self, service)


def test_bucket_pages_follow_tokens_and_stop_when_the_consumer_stops():
    s3 = FakeS3([f"b{i:03d}" for i in range(250)])
    pages = iter_bucket_pages(FakeContext(s3), page_size=100)
    first = next(pages)
    assert [b.name for b in first][:2] == ["b000", "b001"] and len(first) == 100
    assert first[0].region == "eu-west-1"
    assert len(s3.calls) == 1
    rest = list(pages)
    assert [len(p) for p in rest] == [100, 50]
    assert s3.calls[1]["ContinuationToken"] == "100"


def test_bucket_pages_when_max_buckets_is_ignored_or_refused():
    names = [f"b{i:03d}" for i in range(25)]
    ignored = list(iter_bucket_pages(FakeContext(FakeS3(names, honour_max=False)), page_size=10))
    assert [len(p) for p in ignored] == [10, 10, 5]
    refused = FakeS3(names, reject_max=True)
    pages = list(iter_bucket_pages(FakeContext(refused), page_size=10))
    assert [b.name for p in pages for b in p] == names
    assert refused.calls[-1] == {}


@pytest.mark.parametrize(
    ("constraint", "region"), [(None, "us-east-1"), ("", "us-east-1"), ("EU", "eu-west-1"), ("ap-south-1", "ap-south-1")]
)
def test_region_from_location(constraint, region):
    assert region_from_location(constraint) == region


def test_bucket_regions_from_moto_with_errors_returned(ctx):
    ctx.s3.create_bucket(Bucket="virginia")
    ctx.client("s3", "eu-central-1").create_bucket(
        Bucket="frankfurt", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    regions = bucket_regions(ctx, ["virginia", "frankfurt", "missing-bucket"])
    assert regions["virginia"] == "us-east-1"
    assert regions["frankfurt"] == "eu-central-1"
    assert isinstance(regions["missing-bucket"], NotFound)


def test_bucket_regions_run_concurrently():
    # Every lookup waits for the other two: sequential lookups would break the barrier.
    barrier = threading.Barrier(3, timeout=10)

    class BlockingS3:
        def get_bucket_location(self, Bucket):
            barrier.wait()
            return {"LocationConstraint": {"a": None, "b": "EU", "c": "us-west-2"}[Bucket]}

    regions = bucket_regions(FakeContext(BlockingS3()), ["a", "b", "c"], max_workers=3)
    assert regions == {"a": "us-east-1", "b": "eu-west-1", "c": "us-west-2"}


def _denied(operation):
    return botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, operation)


def test_bucket_details_read_versioning_and_public_access_block(ctx):
    ctx.s3.create_bucket(Bucket="plain")
    ctx.client("s3", "eu-central-1").create_bucket(
        Bucket="guarded", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    guarded = ctx.client("s3", "eu-central-1")
    guarded.put_bucket_versioning(Bucket="guarded", VersioningConfiguration={"Status": "Enabled"})
    block = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    guarded.put_public_access_block(Bucket="guarded", PublicAccessBlockConfiguration=block)

    plain = bucket_details(ctx, "plain")
    assert (plain.region, plain.versioning, plain.public_access_block, plain.error) == (
        "us-east-1", "Never enabled", None, None
    )
    details = bucket_details_of(ctx, ["guarded", "missing-bucket"])
    assert details["guarded"].region == "eu-central-1"
    assert details["guarded"].versioning == "Enabled"
    assert details["guarded"].public_access_block == block
    assert details["guarded"].error is None
    # One unreadable bucket is an answer, not an exception.
    assert isinstance(details["missing-bucket"].error, NotFound)
    assert details["missing-bucket"].region is None


def test_bucket_details_keep_what_was_read_before_a_refusal():
    class VersioningDenied:
        def get_bucket_location(self, Bucket):
            return {"LocationConstraint": "EU"}

        def get_bucket_versioning(self, Bucket):
            raise _denied("GetBucketVersioning")

    details = bucket_details(FakeContext(VersioningDenied()), "b")
    assert details.region == "eu-west-1"
    assert details.versioning is None
    assert isinstance(details.error, AccessDenied)
    assert "s3:GetBucketVersioning" in details.error.message


# ---------------------------------------------------------------- prefixes


def test_prefix_pages_list_one_level(ctx):
    ctx.s3.create_bucket(Bucket="data")
    keys = ["top.txt", "a/1", "b/2", "c/3", "reports/x.csv", "reports/y.csv", "reports/deep/z.csv", "reports/2024/q1.csv"]
    for key in keys:
        ctx.s3.put_object(Bucket="data", Key=key, Body=b"12345")
    pages = list(iter_prefix_pages(ctx, "data", page_size=2))
    assert len(pages) > 1
    assert [p.is_last for p in pages] == [False] * (len(pages) - 1) + [True]
    assert sorted(p for page in pages for p in page.prefixes) == ["a/", "b/", "c/", "reports/"]
    assert [o.key for page in pages for o in page.objects] == ["top.txt"]

    inside = list(iter_prefix_pages(ctx, "data", prefix="reports/"))
    assert inside[0].prefixes == ["reports/2024/", "reports/deep/"]
    objects = inside[0].objects
    assert [o.key for o in objects] == ["reports/x.csv", "reports/y.csv"]
    assert objects[0].size == 5 and objects[0].etag and '"' not in objects[0].etag


def test_object_records_list_every_key_under_a_prefix_as_aws_describes_them(ctx):
    ctx.s3.create_bucket(Bucket="data")
    keys = ["top.txt", "reports/x.csv", "reports/deep/z.csv", "reports-private/secret.txt"]
    for key in keys:
        ctx.s3.put_object(Bucket="data", Key=key, Body=b"12345")
    pages = list(iter_object_records(ctx, "data", page_size=3))
    assert [len(p) for p in pages] == [3, 1]
    assert [r["Key"] for page in pages for r in page] == sorted(keys)
    record = pages[0][0]
    assert record["Size"] == 5 and record["ETag"].startswith('"')  # AWS's own record, quotes and all
    assert record["LastModified"].tzinfo is not None

    inside = [r["Key"] for page in iter_object_records(ctx, "data", "reports/") for r in page]
    assert inside == ["reports/deep/z.csv", "reports/x.csv"]  # recursive: no delimiter
    assert list(iter_object_records(ctx, "data", "nothing-here/")) == [[]]


def test_object_records_ask_for_a_page_only_when_the_consumer_takes_it(ctx):
    ctx.s3.create_bucket(Bucket="data")
    for key in ("a", "b", "c"):
        ctx.s3.put_object(Bucket="data", Key=key, Body=b"x")
    calls: list[str] = []
    ctx.s3.meta.events.register("before-call.s3.ListObjectsV2", lambda **_: calls.append("list"))
    pages = iter_object_records(ctx, "data", page_size=1)
    assert [r["Key"] for r in next(pages)] == ["a"]
    assert len(calls) == 1
    pages.close()


def test_object_records_failure_is_typed(ctx):
    with pytest.raises(NotFound):
        next(iter_object_records(ctx, "no-such-bucket"))


# ---------------------------------------------------------------- users


def _users_page(names, truncated, marker=None):
    page = {
        "Users": [
            {
                "UserName": n,
                "UserId": f"AIDA{n.upper()}XXXXXXXXXX",
                "Arn": f"arn:aws:iam::{ACCOUNT}:user/{n}",
                "Path": "/",
                "CreateDate": datetime(2024, 1, 1, tzinfo=timezone.utc),
            }
            for n in names
        ],
        "IsTruncated": truncated,
    }
    if marker:
        page["Marker"] = marker
    return page


def test_user_pages_follow_markers_and_stop_early(ctx):
    iam = ctx.iam
    with Stubber(iam) as stub:
        stub.add_response("list_users", _users_page(["ann", "ben"], True, "m1"), {"MaxItems": 2})
        stub.add_response("list_users", _users_page(["cid", "dee"], True, "m2"), {"MaxItems": 2, "Marker": "m1"})
        stub.add_response("list_users", _users_page(["eve"], False), {"MaxItems": 2, "Marker": "m2"})
        pages = iter_user_pages(ctx, page_size=2)
        assert [u.name for u in next(pages)] == ["ann", "ben"]
        assert [u.name for u in next(pages)] == ["cid", "dee"]
        pages.close()
        # The consumer stopped: the third page was never requested.
        with pytest.raises(AssertionError):
            stub.assert_no_pending_responses()

    with Stubber(iam) as stub:
        stub.add_response("list_users", _users_page(["ann", "ben"], True, "m1"), {"MaxItems": 2})
        stub.add_response("list_users", _users_page(["eve"], False), {"MaxItems": 2, "Marker": "m1"})
        assert [[u.name for u in p] for p in iter_user_pages(ctx, page_size=2)] == [["ann", "ben"], ["eve"]]
        stub.assert_no_pending_responses()


def test_user_pages_split_an_answer_that_ignored_max_items(ctx):
    for i in range(5):
        ctx.iam.create_user(UserName=f"user-{i}")
    pages = list(iter_user_pages(ctx, page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(u.name for p in pages for u in p) == [f"user-{i}" for i in range(5)]


def test_user_records_are_aws_own_records_page_by_page(ctx):
    iam = ctx.iam
    with Stubber(iam) as stub:
        stub.add_response("list_users", _users_page(["ann", "ben"], True, "m1"), {"MaxItems": 2})
        stub.add_response("list_users", _users_page(["eve"], False), {"MaxItems": 2, "Marker": "m1"})
        pages = list(iter_user_records(ctx, page_size=2))
        stub.assert_no_pending_responses()
    assert [[u["UserName"] for u in p] for p in pages] == [["ann", "ben"], ["eve"]]
    assert pages[0][0] == _users_page(["ann"], False)["Users"][0]


@pytest.fixture
def populated(ctx):
    iam = ctx.iam
    iam.create_user(UserName="reader", Tags=[{"Key": "team", "Value": "data"}])
    iam.put_user_policy(UserName="reader", PolicyName="own", PolicyDocument=json.dumps(_doc("s3:GetObject", "arn:aws:s3:::data-lake/*")))
    managed = iam.create_policy(PolicyName="lister", PolicyDocument=json.dumps(_doc("s3:ListBucket", "arn:aws:s3:::archive")))
    arn = managed["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(_doc("s3:ListBucket", "arn:aws:s3:::archive-v2")), SetAsDefault=True)
    iam.attach_user_policy(UserName="reader", PolicyArn=arn)
    iam.create_group(GroupName="analysts")
    iam.put_group_policy(GroupName="analysts", PolicyName="group-own", PolicyDocument=json.dumps(_doc("s3:*", "arn:aws:s3:::scratch-*")))
    iam.attach_group_policy(GroupName="analysts", PolicyArn=arn)
    iam.add_user_to_group(GroupName="analysts", UserName="reader")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    iam.create_user(UserName="nobody")
    return ctx, arn, key["AccessKeyId"]


def test_user_details_resolve_every_policy(populated):
    ctx, arn, key_id = populated
    detail = user_details(ctx, "reader")
    assert detail.name == "reader"
    assert detail.tags == {"team": "data"}
    assert detail.inline_policies == {"own": _doc("s3:GetObject", "arn:aws:s3:::data-lake/*")}
    assert detail.attached_policies == [AttachedPolicy("lister", arn, _doc("s3:ListBucket", "arn:aws:s3:::archive-v2"))]
    (group,) = detail.groups
    assert group.name == "analysts"
    assert group.inline_policies == {"group-own": _doc("s3:*", "arn:aws:s3:::scratch-*")}
    assert [p.arn for p in group.attached_policies] == [arn]
    assert [(k.id, k.status) for k in detail.access_keys] == [(key_id, "Active")]
    assert detail.access_keys[0].created is not None
    assert detail.boundary_arn is None
    with pytest.raises(NotFound):
        user_details(ctx, "ghost")


def test_user_details_of_keep_the_order_given_and_raise_a_failure(populated):
    ctx, _arn, _key = populated
    assert [d.name for d in user_details_of(ctx, ["nobody", "reader"])] == ["nobody", "reader"]
    assert user_details_of(ctx, []) == []
    with pytest.raises(NotFound):
        user_details_of(ctx, ["reader", "ghost"])


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ({"Version": "2012-10-17"}, {"Version": "2012-10-17"}),
        ("%7B%22Version%22%3A%20%222012-10-17%22%7D", {"Version": "2012-10-17"}),  # a raw IAM answer
        ('{"Sid": "100%"}', {"Sid": "100%"}),  # plain JSON text is not unquoted
        (None, {}),
    ],
)
def test_decode_policy_document(raw, decoded):
    assert decode_policy_document(raw) == decoded


def test_decode_policy_document_refuses_text_that_is_not_json():
    with pytest.raises(ValueError):
        decode_policy_document("%7Bnot json")


def test_managed_policy_document_is_the_default_version(populated):
    ctx, arn, _key = populated
    assert managed_policy_document(ctx, arn) == _doc("s3:ListBucket", "arn:aws:s3:::archive-v2")
    with pytest.raises(NotFound):
        managed_policy_document(ctx, f"arn:aws:iam::{ACCOUNT}:policy/ghost")


def test_managed_policy_document_that_is_not_json_is_a_typed_error():
    class RawIam:
        def get_policy(self, PolicyArn):
            return {"Policy": {"DefaultVersionId": "v1"}}

        def get_policy_version(self, PolicyArn, VersionId):
            return {"PolicyVersion": {"Document": "%7Bbroken"}}

    with pytest.raises(S3CredError) as raised:
        managed_policy_document(FakeContext(iam=RawIam()), "arn:aws:iam::aws:policy/Broken")
    assert raised.value.code == "MalformedPolicy"
    assert "arn:aws:iam::aws:policy/Broken" in raised.value.message


def test_user_counts_concurrently_with_errors_returned(populated):
    ctx, _arn, _key = populated
    counts = user_counts(ctx, ["reader", "nobody", "ghost"])
    assert counts["reader"] == inventory.UserCounts(access_keys=1, inline_policies=1, attached_policies=1, groups=1)
    assert counts["nobody"] == inventory.UserCounts(0, 0, 0, 0)
    assert isinstance(counts["ghost"], NotFound)


def test_policy_counts_come_from_one_paginated_call_and_save_per_user_calls(populated):
    ctx, _arn, _key = populated
    counts = inventory.user_policy_counts(ctx)
    assert counts["reader"] == inventory.PolicyCounts(inline_policies=1, attached_policies=1, groups=1)
    assert counts["nobody"] == inventory.PolicyCounts(0, 0, 0)

    calls: list[str] = []
    ctx.iam.meta.events.register("before-call.iam.*", lambda model, **_: calls.append(model.name))
    both = user_counts(ctx, ["reader", "nobody"], policy_counts=counts)
    assert both["reader"] == inventory.UserCounts(access_keys=1, inline_policies=1, attached_policies=1, groups=1)
    assert both["nobody"] == inventory.UserCounts(0, 0, 0, 0)
    # With the policy counts known, each user costs one call: its access keys.
    assert sorted(calls) == ["ListAccessKeys", "ListAccessKeys"]


def test_policy_counts_are_read_by_a_client_that_leaves_documents_undecoded(populated):
    ctx, _arn, _key = populated
    calls: list[str] = []
    ctx.iam_counting.meta.events.register("before-call.iam.*", lambda model, **_: calls.append(model.name))
    assert inventory.user_policy_counts(ctx)["reader"] == inventory.PolicyCounts(1, 1, 1)
    assert calls == ["GetAccountAuthorizationDetails"]

    def reader_document(client) -> object:
        details = client.get_account_authorization_details(Filter=["User"])["UserDetailList"]
        return next(user for user in details if user["UserName"] == "reader")["UserPolicyList"][0]["PolicyDocument"]

    expected = _doc("s3:GetObject", "arn:aws:s3:::data-lake/*")
    # Counting never reads a document, so it is left as AWS sends it (URL-encoded JSON text) ...
    as_sent = reader_document(ctx.iam_counting)
    assert isinstance(as_sent, str) and json.loads(unquote(as_sent)) == expected
    # ... while the context's own client, which readers of policies use, still decodes it.
    assert reader_document(ctx.iam) == expected
    assert ctx.iam_counting is ctx.iam_counting and ctx.iam_counting is not ctx.iam


def test_first_bucket_page_is_small_so_a_screen_shows_something_at_once():
    s3 = FakeS3([f"b{i:04d}" for i in range(1200)])
    pages = iter_bucket_pages(FakeContext(s3), page_size=1000, first_page_size=100)
    assert [len(p) for p in pages] == [100, 1000, 100]
    assert [c.get("MaxBuckets") for c in s3.calls] == [100, 1000, 1000]


def test_authorization_details_resolve_groups_and_managed_documents(populated):
    ctx, arn, _key = populated
    pages = list(iter_authorization_details(ctx, page_size=1))
    assert [len(p) for p in pages] == [1, 1]
    by_name = {d.name: d for p in pages for d in p}
    reader = by_name["reader"]
    assert reader.inline_policies == user_details(ctx, "reader").inline_policies
    assert reader.attached_policies[0].document == _doc("s3:ListBucket", "arn:aws:s3:::archive-v2")
    assert reader.groups[0].inline_policies == {"group-own": _doc("s3:*", "arn:aws:s3:::scratch-*")}
    assert reader.groups[0].attached_policies[0].arn == arn
    assert reader.access_keys == []
    assert users_referencing_bucket(by_name.values(), "scratch-1") == ["reader"]
    assert users_referencing_bucket(by_name.values(), "data-lake") == ["reader"]
    assert users_referencing_bucket(by_name.values(), "elsewhere") == []


def _detail(name, *documents, groups=()) -> UserDetail:
    return UserDetail(
        summary=UserSummary(name, f"arn:aws:iam::{ACCOUNT}:user/{name}", "AIDA", None, "/"),
        inline_policies={f"p{i}": doc for i, doc in enumerate(documents)},
        attached_policies=[],
        groups=list(groups),
        boundary_arn=None,
        access_keys=[],
    )


@pytest.mark.parametrize(
    ("document", "refers"),
    [
        (_doc("s3:GetObject", "arn:aws:s3:::data-lake/reports/*"), True),
        (_doc("s3:ListBucket", "arn:aws:s3:::data-lake"), True),
        (_doc("s3:*", "arn:aws:s3:::data-*"), True),
        (_doc("*", "*"), True),
        (_doc("s3:GetObject", "arn:aws:s3:::*/reports/*"), True),
        (_doc("s3:GetObject", "arn:aws:s3:::data-lake-archive/*"), False),
        (_doc("s3:GetObject", "arn:aws:s3:::data/*"), False),
        (_doc("ec2:*", "*"), False),
        (_doc("s3:GetObject", "arn:aws:s3:::data-lake/*", effect="Deny"), False),
        ({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}}, True),
    ],
)
def test_which_policies_reference_a_bucket(document, refers):
    assert (users_referencing_bucket([_detail("u", document)], "data-lake") == ["u"]) is refers


def test_group_policies_count_for_their_members():
    group = GroupDetail("g", {"p": _doc("s3:GetObject", "arn:aws:s3:::data-lake/*")}, [])
    assert users_referencing_bucket([_detail("member", groups=[group]), _detail("loner")], "data-lake") == ["member"]


# ---------------------------------------------------------------- paging like AWS, whole-account reads


@pytest.fixture
def aws_paging(ctx):
    """moto answering ListUsers, GetAccountAuthorizationDetails and ListBuckets in pages, as AWS does."""
    from bench.aws_like import aws_like_paging

    with aws_like_paging():
        yield ctx


def _calls(client) -> list[tuple[str, dict]]:
    seen: list[tuple[str, dict]] = []
    client.meta.events.register("provide-client-params.*.*", lambda params, model, **_: seen.append((model.name, dict(params))))
    return seen


def test_users_are_listed_a_thousand_per_request_from_an_endpoint_that_pages(aws_paging):
    ctx = aws_paging
    for i in range(2100):
        ctx.iam.create_user(UserName=f"user-{i:04d}")
    seen = _calls(ctx.iam)
    pages = list(iter_user_pages(ctx))
    assert [len(p) for p in pages] == [1000, 1000, 100]
    assert [name for name, _ in seen] == ["ListUsers"] * 3, "3 round trips, not 21 at AWS's default of 100"
    assert all(params["MaxItems"] == 1000 for _, params in seen)
    assert "Marker" not in seen[0][1] and seen[1][1]["Marker"] and seen[2][1]["Marker"] != seen[1][1]["Marker"]
    assert len({u.name for p in pages for u in p}) == 2100


def test_policy_counts_come_a_page_of_users_per_request(aws_paging):
    ctx = aws_paging
    ctx.iam.create_group(GroupName="readers")
    for i in range(1500):
        ctx.iam.create_user(UserName=f"user-{i:04d}")
    ctx.iam.add_user_to_group(GroupName="readers", UserName="user-1499")
    ctx.iam.put_user_policy(UserName="user-0000", PolicyName="p", PolicyDocument=json.dumps(ALLOW_ALL))
    seen = _calls(ctx.iam_counting)
    pages = list(inventory.iter_user_policy_counts(ctx))
    assert [len(p) for p in pages] == [1000, 500]
    assert [name for name, _ in seen] == ["GetAccountAuthorizationDetails"] * 2
    assert pages[0]["user-0000"] == inventory.PolicyCounts(inline_policies=1, attached_policies=0, groups=0)
    assert pages[1]["user-1499"] == inventory.PolicyCounts(inline_policies=0, attached_policies=0, groups=1)


def test_policy_counts_can_come_first_for_a_small_page_of_users(aws_paging):
    ctx = aws_paging
    for i in range(1200):
        ctx.iam.create_user(UserName=f"user-{i:04d}")
    seen = _calls(ctx.iam_counting)
    pages = list(inventory.iter_user_policy_counts(ctx, first_page_size=inventory.FIRST_USER_PAGE))
    assert [len(p) for p in pages] == [100, 1000, 100]
    assert [params["MaxItems"] for _, params in seen] == [100, 1000, 1000]
    assert len({name for page in pages for name in page}) == 1200


def test_bucket_regions_come_with_the_listing_in_one_request(aws_paging):
    ctx = aws_paging
    for i in range(150):
        region = ("us-east-1", "eu-west-1")[i % 2]
        config = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        ctx.client("s3", region).create_bucket(Bucket=f"bucket-{i:03d}", **config)
    seen = _calls(ctx.s3)
    pages = list(iter_bucket_pages(ctx, first_page_size=100))
    assert [len(p) for p in pages] == [100, 50]
    assert [name for name, _ in seen] == ["ListBuckets", "ListBuckets"], "no GetBucketLocation"
    assert seen[1][1]["MaxBuckets"] == inventory.MAX_BUCKET_PAGE and seen[1][1]["ContinuationToken"]
    regions = {b.name: b.region for p in pages for b in p}
    assert regions["bucket-000"] == "us-east-1" and regions["bucket-001"] == "eu-west-1"
    assert None not in regions.values()


def test_bucket_details_with_a_known_region_skip_the_location_lookup(ctx):
    ctx.s3.create_bucket(Bucket="known-region")
    seen = _calls(ctx.s3)
    details = bucket_details_of(ctx, ["known-region"], regions={"known-region": "us-east-1"})
    assert details["known-region"].region == "us-east-1" and details["known-region"].versioning == "Never enabled"
    assert "GetBucketLocation" not in [name for name, _ in seen]


def test_user_counts_ask_only_for_what_is_not_known(populated):
    ctx, _arn, _key = populated
    seen = _calls(ctx.iam)
    counts = user_counts(ctx, ["reader"], key_counts={"reader": 1})
    assert counts["reader"] == inventory.UserCounts(access_keys=1, inline_policies=1, attached_policies=1, groups=1)
    assert sorted(name for name, _ in seen) == ["ListAttachedUserPolicies", "ListGroupsForUser", "ListUserPolicies"]


# ---------------------------------------------------------------- the credential report

REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,"
    "mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,"
    "access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,"
    "access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
)
REPORT = REPORT_HEADER + (
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T00:00:00+00:00,"
    "not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    f"no-keys,arn:aws:iam::{ACCOUNT}:user/no-keys,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
    "false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    f"two-keys,arn:aws:iam::{ACCOUNT}:user/two-keys,2024-01-01T00:00:00+00:00,true,2024-05-01T00:00:00+00:00,"
    "2024-01-02T00:00:00+00:00,N/A,true,"
    "true,2024-01-03T00:00:00+00:00,2024-05-02T10:00:00+00:00,eu-west-1,s3,"
    "false,2024-02-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A\n"
    f"used-once,arn:aws:iam::{ACCOUNT}:user/used-once,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,"
    "true,2024-03-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
)


def test_credential_report_parsing_counts_key_slots_and_skips_the_root_row():
    report = inventory.parse_credential_report(REPORT.encode())
    assert set(report.users) == {"no-keys", "two-keys", "used-once"}
    assert report.users["no-keys"].access_keys == 0 and report.users["no-keys"].keys_last_used is None
    two = report.users["two-keys"]
    assert two.access_keys == 2, "an inactive key still counts: it exists"
    assert [k.active for k in two.keys] == [True, False]
    assert two.keys[0].last_rotated == datetime(2024, 1, 3, tzinfo=timezone.utc)
    assert two.keys[0].last_used == datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
    assert (two.keys[0].last_used_service, two.keys[0].last_used_region) == ("s3", "eu-west-1")
    assert two.keys[1].last_used is None and two.keys[1].last_used_service is None
    assert two.keys_last_used == datetime(2024, 5, 2, 10, tzinfo=timezone.utc)
    assert two.password_enabled and two.mfa_active
    assert report.users["used-once"].access_keys == 1 and report.users["used-once"].keys_last_used is None


def test_credential_report_rows_short_of_columns_or_blank_read_as_missing_cells():
    lines = REPORT.splitlines()
    short = f"cut-short,arn:aws:iam::{ACCOUNT}:user/cut-short,2024-01-01T00:00:00+00:00,false"
    report = inventory.parse_credential_report("\n".join([*lines, "", short]) + "\n")
    assert report.users["cut-short"].access_keys == 0 and not report.users["cut-short"].mfa_active
    assert report.users["two-keys"].access_keys == 2


def test_credential_report_parsing_is_paced_row_by_row_and_reads_the_same():
    paced: list[int] = []
    report = inventory.parse_credential_report(REPORT.encode(), pace=paced.append)
    assert paced == [0, 1, 2, 3], "before every row, the root row too"
    assert report == inventory.parse_credential_report(REPORT.encode())


def test_credential_report_that_is_not_one_is_a_typed_error():
    with pytest.raises(S3CredError) as raised:
        inventory.parse_credential_report(b"<html>oops</html>")
    assert raised.value.code == "MalformedReport"


def _report_error(stub, code, status=410):
    stub.add_client_error("get_credential_report", service_error_code=code, http_status_code=status)


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_credential_report_is_generated_when_missing_and_polled_while_in_progress(ctx):
    clock = FakeClock()
    with Stubber(ctx.iam) as stub:
        _report_error(stub, "ReportNotPresent")
        stub.add_response("generate_credential_report", {"State": "STARTED", "Description": "started"})
        _report_error(stub, "ReportInProgress", 404)
        _report_error(stub, "ReportInProgress", 404)
        generated = datetime(2024, 6, 1, tzinfo=timezone.utc)
        stub.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv", "GeneratedTime": generated})
        report = inventory.credential_report(ctx, sleep=clock.sleep, clock=clock)
        stub.assert_no_pending_responses()
    assert report.generated == generated
    assert report.users["two-keys"].access_keys == 2
    assert clock.sleeps == [0.25, 0.5], "bounded backoff between polls"


def test_an_existing_report_is_read_in_one_call(ctx):
    with Stubber(ctx.iam) as stub:
        stub.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv"})
        assert set(inventory.credential_report(ctx).users) == {"no-keys", "two-keys", "used-once"}
        stub.assert_no_pending_responses()


def test_being_generated_is_said_once_and_an_existing_report_never_says_it(ctx):
    clock = FakeClock()
    said: list[str] = []
    with Stubber(ctx.iam) as stub:
        _report_error(stub, "ReportNotPresent")
        stub.add_response("generate_credential_report", {"State": "STARTED", "Description": "started"})
        _report_error(stub, "ReportInProgress", 404)
        stub.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv"})
        inventory.credential_report(ctx, sleep=clock.sleep, clock=clock, on_generating=lambda: said.append("generating"))
        stub.assert_no_pending_responses()
    assert said == ["generating"]
    with Stubber(ctx.iam) as stub:
        stub.add_response("get_credential_report", {"Content": REPORT.encode(), "ReportFormat": "text/csv"})
        inventory.credential_report(ctx, on_generating=lambda: said.append("again"))
    assert said == ["generating"]


def test_a_report_still_generating_gives_up_after_the_wait(ctx):
    clock = FakeClock()
    with Stubber(ctx.iam) as stub:
        _report_error(stub, "ReportExpired")
        stub.add_response("generate_credential_report", {"State": "STARTED"})
        for _ in range(10):
            _report_error(stub, "ReportInProgress", 404)
        with pytest.raises(S3CredError) as raised:
            inventory.credential_report(ctx, wait_seconds=3, sleep=clock.sleep, clock=clock)
    assert raised.value.code == "ReportInProgress"
    assert clock.now <= 3


def test_a_refused_report_is_access_denied(ctx):
    with Stubber(ctx.iam) as stub:
        stub.add_client_error("get_credential_report", service_error_code="AccessDenied", http_status_code=403)
        with pytest.raises(AccessDenied):
            inventory.credential_report(ctx)


def test_credential_report_from_moto_matches_listed_keys(populated):
    ctx, _arn, _key = populated
    report = inventory.credential_report(ctx, sleep=lambda s: None)
    assert report.users["reader"].access_keys == 1
    assert report.users["nobody"].access_keys == 0


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    "value",
    ["2024-01-01T00:00:00.000Z", "2024-01-01T10:11:12.123456Z", "2024-01-01T00:00:00+02:00", "Wed, 21 Oct 2015 07:28:00 GMT", 1700000000],
)
def test_iso_timestamps_equal_botocores_own(value):
    ours, theirs = inventory.iso_timestamp(value), botocore.utils.parse_timestamp(value)
    assert ours == theirs and ours.isoformat() == theirs.isoformat()


def test_object_records_are_read_without_dateutil(ctx):
    """Clients of an AwsContext parse ISO 8601 timestamps with the standard library: the same
    datetimes, printed the same, as botocore's dateutil parser gives a plain boto3 client."""
    ctx.s3.create_bucket(Bucket="stamps")
    ctx.s3.put_object(Bucket="stamps", Key="a", Body=b"x")
    plain = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket="stamps")["Contents"][0]["LastModified"]
    stamps = [r["LastModified"] for p in iter_object_records(ctx, "stamps") for r in p]
    assert stamps == [plain]
    assert stamps[0].isoformat() == plain.isoformat()
    # Which parser made them: the standard library's UTC, not one of dateutil's time zones.
    assert type(plain.tzinfo).__module__.startswith("dateutil.")
    assert stamps[0].tzinfo is timezone.utc
