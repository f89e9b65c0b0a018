"""Roles and groups, read-only (moto decorator mode)."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws

from s3cred_tui.core.inventory import (
    access_keys_of,
    group_details,
    iter_role_details,
    iter_role_records,
    role_detail,
    role_policy_records,
)
from s3cred_tui.core.session import AwsContext

TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/alice"}, "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::data-lake/*"}]}


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        iam = context.iam
        iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(TRUST), Description="reads",
                        Tags=[{"Key": "team", "Value": "data"}])
        iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(READ))
        arn = iam.create_policy(PolicyName="lister", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="reader", PolicyArn=arn)
        iam.create_role(RoleName="empty", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.create_group(GroupName="analysts")
        iam.put_group_policy(GroupName="analysts", PolicyName="read", PolicyDocument=json.dumps(READ))
        iam.attach_group_policy(GroupName="analysts", PolicyArn=arn)
        for user in ("bob", "alice"):
            iam.create_user(UserName=user)
            iam.add_user_to_group(GroupName="analysts", UserName=user)
        iam.create_group(GroupName="nobody")
        yield context


def test_role_details_in_one_pass(ctx):
    roles = {r.name: r for page in iter_role_details(ctx) for r in page}
    reader = roles["reader"]
    assert reader.trust_policy == TRUST
    assert reader.inline_policies == {"read": READ}
    assert [(p.name, p.document) for p in reader.attached_policies] == [("lister", READ)]
    assert reader.tags == {"team": "data"}
    assert [where for where, _ in reader.policy_documents()] == ["inline read", "managed lister"]
    assert list(roles["empty"].policy_documents()) == []


def test_one_role_read_directly_matches(ctx):
    reader = role_detail(ctx, "reader")
    assert reader.description == "reads" and reader.max_session_seconds == 3600
    assert reader.inline_policies == {"read": READ} and reader.tags == {"team": "data"}


def test_groups_with_policies_and_members(ctx):
    groups = {g.name: g for g in group_details(ctx)}
    assert groups["analysts"].members == ("alice", "bob")
    assert [where for where, _ in groups["analysts"].policy_documents()] == [
        "group analysts inline read", "group analysts managed lister"]
    assert groups["nobody"].members == ()


def test_role_records_and_reference_details(ctx):
    names = [r["RoleName"] for page in iter_role_records(ctx) for r in page]
    assert sorted(names) == ["empty", "reader"]
    details = role_policy_records(ctx, ["reader"])
    assert list(details) == ["reader"]
    (inline,) = details["reader"]["inline_policies"]
    assert inline == {"RoleName": "reader", "PolicyName": "read", "PolicyDocument": READ}
    (attached,) = details["reader"]["attached_policies"]
    assert attached["PolicyName"] == "lister" and attached["PolicyVersion"]["Document"] == READ
    assert attached["PolicyVersion"]["IsDefaultVersion"] is True


def test_access_keys_of_one_user_oldest_first(ctx):
    first = ctx.iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    second = ctx.iam.create_access_key(UserName="bob")["AccessKey"]["AccessKeyId"]
    keys = access_keys_of(ctx, "bob")
    assert [k.id for k in keys] == [first, second]
    assert keys[0].status == "Active" and keys[0].last_used is None
