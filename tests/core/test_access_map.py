"""access_map(): what each IAM user can do in a bucket, from their policies and boundary."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from s3cred_tui.core.access_map import UserAccess, access_map, fetch_boundary_documents
from s3cred_tui.core.errors import AccessDenied, NotFound
from s3cred_tui.core.inventory import AttachedPolicy, GroupDetail, UserDetail, UserSummary, iter_authorization_details
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext, SessionConfig
from s3cred_tui.demo.seed import register_aws_managed_policies

BUCKET = "reports"
ACCOUNT = "123456789012"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}]}
S3_READ_ONLY_BOUNDARY_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
S3_READ_ONLY_BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}],
}


def user(name: str, *, inline=None, attached=(), groups=(), boundary_arn=None) -> UserDetail:
    return UserDetail(
        summary=UserSummary(name, f"arn:aws:iam::{ACCOUNT}:user/{name}", f"AID{name.upper()}", None, "/"),
        inline_policies=dict(inline or {}),
        attached_policies=list(attached),
        groups=list(groups),
        boundary_arn=boundary_arn,
        access_keys=[],
    )


def row(rows: list[UserAccess], name: str) -> UserAccess:
    return next(r for r in rows if r.user == name)


def test_inline_read_only_user_can_list_and_read_inside_the_prefix_only():
    reader = user("reader", inline={"scope": policy_for([BUCKET], AccessLevel.READ_ONLY, "2024/")})
    inside = row(access_map([reader], BUCKET, "2024/", {}), "reader")
    assert inside.allowed == ("list", "read")
    assert inside.read is not None and inside.read.deciding[0].policy_name == "inline scope"
    elsewhere = row(access_map([reader], BUCKET, "2023/", {}), "reader")
    assert elsewhere.allowed == ()
    assert not elsewhere.has_any_access
    other_bucket = row(access_map([reader], "website", "2024/", {}), "reader")
    assert other_bucket.allowed == ()


def test_admin_through_a_group_managed_policy_can_do_everything():
    admins = GroupDetail("admins", {}, [AttachedPolicy("AdministratorAccess", "arn:aws:iam::aws:policy/AdministratorAccess", ADMIN)])
    result = row(access_map([user("root-ish", groups=[admins])], BUCKET, "", {}), "root-ish")
    assert result.allowed == ("list", "read", "write", "delete")
    assert result.write is not None
    assert result.write.deciding[0].policy_name == "group admins managed AdministratorAccess"
    assert result.write.deciding[0].sid == "Everything"


def test_s3_read_only_boundary_caps_an_admin_policy():
    capped = user("capped", inline={"admin": ADMIN}, boundary_arn=S3_READ_ONLY_BOUNDARY_ARN)
    result = row(access_map([capped], BUCKET, "", {S3_READ_ONLY_BOUNDARY_ARN: S3_READ_ONLY_BOUNDARY}), "capped")
    assert result.allowed == ("list", "read")
    assert result.write is not None and result.write.decision == "ImplicitDeny"
    assert "permissions boundary does not" in result.write.reason
    assert result.boundary_arn == S3_READ_ONLY_BOUNDARY_ARN


def test_explicit_deny_in_a_second_policy_wins():
    deny_delete = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "NeverDelete", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}],
    }
    careful = user("careful", inline={"admin": ADMIN, "no-delete": deny_delete})
    result = row(access_map([careful], BUCKET, "x/", {}), "careful")
    assert result.allowed == ("list", "read", "write")
    assert result.delete is not None and result.delete.decision == "ExplicitDeny"
    assert result.delete.deciding[0].sid == "NeverDelete"


def test_username_variable_resolves_from_the_users_arn():
    home = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/home/${aws:username}/*"}],
    }
    rows = access_map([user("dana", inline={"home": home}), user("eve", inline={"home": home})], BUCKET, "home/dana/", {})
    assert row(rows, "dana").allowed == ("read",)
    assert row(rows, "eve").allowed == ()


def test_unparseable_policy_gives_an_error_entry_and_the_others_still_map():
    broken = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Acton": "s3:*", "Resource": "*"}]}
    rows = access_map([user("broken", inline={"typo": broken}), user("admin", inline={"admin": ADMIN})], BUCKET, "", {})
    bad = row(rows, "broken")
    assert bad.error and "typo" in bad.error
    assert bad.list is None and bad.allowed == () and not bad.has_any_access
    assert row(rows, "admin").allowed == ("list", "read", "write", "delete")


def test_boundary_that_could_not_be_read_is_an_error_not_a_guess():
    arn = f"arn:aws:iam::{ACCOUNT}:policy/secret-boundary"
    bounded = user("bounded", inline={"admin": ADMIN}, boundary_arn=arn)
    rows = access_map([bounded], BUCKET, "", {arn: AccessDenied("Access denied (iam:GetPolicy): no")})
    assert "could not be read" in (rows[0].error or "") and "Access denied" in (rows[0].error or "")
    missing = access_map([bounded], BUCKET, "", {})
    assert missing[0].error and missing[0].allowed == ()


def test_unreadable_managed_policy_is_noted():
    gone = AttachedPolicy("deleted-meanwhile", f"arn:aws:iam::{ACCOUNT}:policy/deleted-meanwhile", None)
    result = access_map([user("noted", inline={"admin": ADMIN}, attached=[gone])], BUCKET, "", {})[0]
    assert result.allowed == ("list", "read", "write", "delete")
    assert result.notes and "deleted-meanwhile" in result.notes[0]


def test_user_without_policies_has_no_access():
    result = access_map([user("nobody")], BUCKET, "", {})[0]
    assert result.error is None and not result.has_any_access
    assert result.read is not None and result.read.decision == "ImplicitDeny"


@mock_aws
def test_fetch_boundary_documents_reads_aws_and_customer_managed_once_each():
    register_aws_managed_policies()
    iam = boto3.client("iam", region_name="us-east-1")
    custom = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(S3_READ_ONLY_BOUNDARY))["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=custom, PolicyDocument=json.dumps(ADMIN), SetAsDefault=True)
    missing = f"arn:aws:iam::{ACCOUNT}:policy/never-created"
    ctx = AwsContext(SessionConfig(region="us-east-1"))
    calls: list[str] = []
    ctx.iam.meta.events.register("provide-client-params.iam.GetPolicy", lambda params, **kw: calls.append(params["PolicyArn"]))

    documents = fetch_boundary_documents(ctx, [S3_READ_ONLY_BOUNDARY_ARN, custom, None, custom, missing])

    assert "s3:Get*" in documents[S3_READ_ONLY_BOUNDARY_ARN]["Statement"][0]["Action"]
    assert documents[custom] == ADMIN, "the default version, not the first one"
    assert isinstance(documents[missing], NotFound)
    assert sorted(calls) == sorted([S3_READ_ONLY_BOUNDARY_ARN, custom, missing])


@mock_aws
def test_map_from_authorization_details_of_a_real_account():
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_user(UserName="reader")
    iam.put_user_policy(UserName="reader", PolicyName="scope", PolicyDocument=json.dumps(policy_for([BUCKET], AccessLevel.READ_ONLY, "")))
    iam.create_user(UserName="writer")
    admin_arn = iam.create_policy(PolicyName="admin", PolicyDocument=json.dumps(ADMIN))["Policy"]["Arn"]
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=admin_arn)
    iam.add_user_to_group(GroupName="admins", UserName="writer")
    iam.create_user(UserName="nobody")
    ctx = AwsContext(SessionConfig(region="us-east-1"))

    details = [d for page in iter_authorization_details(ctx) for d in page]
    rows = access_map(details, BUCKET, "", fetch_boundary_documents(ctx, [d.boundary_arn for d in details]))

    assert {r.user: r.allowed for r in rows} == {
        "reader": ("list", "read"),
        "writer": ("list", "read", "write", "delete"),
        "nobody": (),
    }


def test_users_who_decide_alike_share_one_decision_each_and_read_as_if_mapped_alone():
    scope = {"scope": policy_for([BUCKET], AccessLevel.READ_ONLY, "")}
    users = [user("ann", inline=scope), user("bob", inline=scope), user("cat")]
    ann, bob, cat = access_map(users, BUCKET, "", {})
    assert ann.read is bob.read and ann.write is bob.write
    assert cat.read is not ann.read and cat.write is ann.write, "a deny alike is shared too"
    for shared, alone in zip((ann, bob, cat), (access_map([u], BUCKET, "", {})[0] for u in users)):
        assert shared == alone


def test_unknown_capability_is_refused():
    with pytest.raises(KeyError):
        access_map([user("x")], BUCKET, "", {})[0].decision("admin")
