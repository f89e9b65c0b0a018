"""The access map beyond users: roles, groups through their members, and the bucket policy,
read from the threaded moto server and evaluated offline."""

from __future__ import annotations

import json

import pytest

from s3cred_tui.core import policies
from s3cred_tui.core.access_map import (
    access_map,
    fetch_boundary_documents,
    fetch_bucket_policy,
    group_access_map,
    role_access_map,
)
from s3cred_tui.core.inventory import iter_authorization_details, iter_role_details
from s3cred_tui.core.reach import bucket_policy_access
from s3cred_tui.core.request import AccessLevel

BUCKET = "map-bucket"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "PublicReports", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/public/*"},
        {"Sid": "PartnerLists", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
         "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
         "Resource": f"arn:aws:s3:::{BUCKET}/*"},
        {"Sid": "UploaderDirect", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/uploader"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/incoming/*"},
    ],
}


@pytest.fixture
def mapped(server_account):
    iam, s3 = server_account.client("iam"), server_account.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(BUCKET_POLICY))
    iam.create_role(RoleName="etl", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="etl", PolicyName="rw", PolicyDocument=json.dumps(
        policies.policy_for([BUCKET], AccessLevel.READ_WRITE)))
    iam.create_role(RoleName="unrelated", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_group(GroupName="analysts")
    iam.put_group_policy(GroupName="analysts", PolicyName="read", PolicyDocument=json.dumps(
        policies.policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/")))
    for user in ("ann", "ben"):
        iam.create_user(UserName=user)
        iam.add_user_to_group(GroupName="analysts", UserName=user)
    iam.create_user(UserName="uploader")  # no policy of its own: only the bucket policy names it
    ctx = server_account.context()
    details = [d for page in iter_authorization_details(ctx) for d in page]
    roles = [r for page in iter_role_details(ctx) for r in page]
    return ctx, details, roles


def test_a_role_with_the_bucket_policys_deny(mapped):
    ctx, _details, roles = mapped
    bucket_policy = fetch_bucket_policy(ctx, BUCKET)
    assert bucket_policy == BUCKET_POLICY
    rows = {r.user: r for r in role_access_map(roles, BUCKET, "", fetch_boundary_documents(ctx, []), bucket_policy)}
    assert rows["etl"].kind == "role" and rows["etl"].allowed == ("list", "read", "write")
    assert "NoDeletes" in rows["etl"].delete.reason
    assert not rows["unrelated"].has_any_access
    # Without the bucket policy the same role could delete: the policy is what stops it.
    (alone,) = role_access_map([r for r in roles if r.name == "etl"], BUCKET, "", {}, None)
    assert alone.allowed == ("list", "read", "write", "delete")


def test_a_user_granted_only_by_the_bucket_policy(mapped):
    ctx, details, _roles = mapped
    bucket_policy = fetch_bucket_policy(ctx, BUCKET)
    rows = {r.user: r for r in access_map(details, BUCKET, "incoming/", {}, bucket_policy)}
    assert rows["uploader"].allowed == ("write",)
    assert "UploaderDirect" in rows["uploader"].write.reason
    assert not {r.user: r for r in access_map(details, BUCKET, "incoming/", {})}["uploader"].has_any_access


def test_groups_through_their_members(mapped):
    _ctx, details, _roles = mapped
    (analysts,) = group_access_map(details, BUCKET, "reports/")
    assert analysts.kind == "group" and analysts.via == "2 members: ann, ben"
    assert analysts.allowed == ("list", "read")
    members = {r.user: r for r in access_map(details, BUCKET, "reports/", {})}
    assert members["ann"].allowed == members["ben"].allowed == ("list", "read")


def test_principals_only_the_bucket_policy_names(mapped):
    ctx, details, roles = mapped
    bucket_policy = fetch_bucket_policy(ctx, BUCKET)
    known = [d.summary.arn for d in details] + [r.arn for r in roles]
    public = {r.user: r for r in bucket_policy_access(bucket_policy, BUCKET, "public/", "123456789012", known)}
    assert set(public) == {"anyone (*)", "account 999999999999"}
    assert public["anyone (*)"].allowed == ("read",) and public["anyone (*)"].kind == "bucket policy"
    assert public["account 999999999999"].allowed == ("list", "read")
    assert "own account" in public["account 999999999999"].via
    elsewhere = {r.user: r for r in bucket_policy_access(bucket_policy, BUCKET, "private/", "123456789012", known)}
    assert elsewhere["anyone (*)"].allowed == () and elsewhere["account 999999999999"].allowed == ("list",)


def test_a_bucket_without_a_policy(server_account):
    server_account.client("s3").create_bucket(Bucket="no-policy-bucket")
    assert fetch_bucket_policy(server_account.context(), "no-policy-bucket") is None
    assert bucket_policy_access(None, "no-policy-bucket", "", "123456789012") == []
