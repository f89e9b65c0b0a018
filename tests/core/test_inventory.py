"""Read-only account exploration: identities, buckets, regions, prefixes, users, paging."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import botocore.exceptions
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from s3cred_tui.core import inventory
from s3cred_tui.core.errors import CredentialsExpired, NotFound
from s3cred_tui.core.inventory import (
    AttachedPolicy,
    GroupDetail,
    UserDetail,
    UserSummary,
    bucket_regions,
    classify_arn,
    iter_authorization_details,
    iter_bucket_pages,
    iter_prefix_pages,
    iter_user_pages,
    principal_arn_from,
    region_from_location,
    user_counts,
    user_details,
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
