"""What the access map holds of a big account: identical policy documents shared, raw pages let go."""

from __future__ import annotations

import json
import weakref

from moto import mock_aws

from s3cred_tui.core.inventory import (
    DocumentPool,
    iter_authorization_details,
    iter_role_details,
    role_detail,
    user_details,
)
from s3cred_tui.core.session import AwsContext, SessionConfig


def _doc(action, resource) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": resource}]}


def test_identical_documents_share_one_copy_equal_to_each():
    pool = DocumentPool()
    first = pool.share(_doc(["s3:GetObject"], "arn:aws:s3:::reports/*"))
    again = pool.share(_doc(["s3:GetObject"], "arn:aws:s3:::reports/*"))
    assert again is first
    assert first == _doc(["s3:GetObject"], "arn:aws:s3:::reports/*")
    assert json.dumps(first) == json.dumps(_doc(["s3:GetObject"], "arn:aws:s3:::reports/*")), "key order kept"


def test_documents_that_differ_in_anything_are_kept_apart():
    pool = DocumentPool()
    base = pool.share(_doc("s3:GetObject", "arn:aws:s3:::reports/*"))
    reordered = {"Statement": base["Statement"], "Version": "2012-10-17"}
    assert pool.share(reordered) is not base
    assert list(pool.share(reordered)) == ["Statement", "Version"], "a copy reads exactly as the document it stands for"
    assert pool.share(_doc("s3:GetObject", "arn:aws:s3:::website/*")) is not base
    assert pool.share(_doc(["s3:GetObject"], "arn:aws:s3:::reports/*")) is not base, "a list is not a string"


def test_documents_that_differ_share_their_strings():
    pool = DocumentPool()
    reports = pool.share(json.loads(json.dumps(_doc("s3:GetObject", "arn:aws:s3:::reports/*"))))
    website = pool.share(json.loads(json.dumps(_doc("s3:GetObject", "arn:aws:s3:::website/*"))))
    assert reports["Statement"][0]["Action"] is website["Statement"][0]["Action"]
    assert next(iter(reports["Statement"][0])) is next(iter(website["Statement"][0]))


def test_what_is_not_plain_json_is_kept_as_it_is():
    pool = DocumentPool()
    odd = {"Statement": object()}
    assert pool.share(odd) is odd


@mock_aws
def test_users_with_the_same_policy_share_it_and_read_as_before():
    iam = AwsContext(SessionConfig(region="us-east-1")).iam
    same = json.dumps(_doc(["s3:ListBucket"], "arn:aws:s3:::reports"))
    for name in ("ann", "bob"):
        iam.create_user(UserName=name, Tags=[{"Key": "team", "Value": "data"}])
        iam.put_user_policy(UserName=name, PolicyName="read-reports", PolicyDocument=same)
    iam.create_user(UserName="cat")
    iam.put_user_policy(UserName="cat", PolicyName="read-website", PolicyDocument=json.dumps(_doc("s3:*", "*")))
    ctx = AwsContext(SessionConfig(region="us-east-1"))

    details = {d.name: d for page in iter_authorization_details(ctx, page_size=1) for d in page}

    assert details["ann"].inline_policies["read-reports"] is details["bob"].inline_policies["read-reports"]
    for name in ("ann", "bob", "cat"):
        direct = user_details(ctx, name)
        assert details[name].inline_policies == direct.inline_policies
        assert details[name].tags == direct.tags
        assert details[name].summary == direct.summary
    assert details["ann"].tags is details["ann"].summary.tags


@mock_aws
def test_roles_with_the_same_trust_policy_share_it_and_read_as_before():
    iam = AwsContext(SessionConfig(region="us-east-1")).iam
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    for name in ("web", "batch"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.put_role_policy(RoleName=name, PolicyName="logs", PolicyDocument=json.dumps(_doc("logs:*", "*")))
    ctx = AwsContext(SessionConfig(region="us-east-1"))

    roles = {r.name: r for page in iter_role_details(ctx, page_size=1) for r in page}

    assert roles["web"].trust_policy is roles["batch"].trust_policy
    assert roles["web"].inline_policies["logs"] is roles["batch"].inline_policies["logs"]
    for name in ("web", "batch"):
        direct = role_detail(ctx, name)
        assert (roles[name].trust_policy, roles[name].inline_policies) == (direct.trust_policy, direct.inline_policies)


class _Tracked(dict):
    """A dict that can be watched through a weak reference (a plain dict cannot)."""


class _PagingIam:
    """get_account_authorization_details answering users two pages of one, and noting, when the
    second page is asked for, whether anything of the first is still alive."""

    def __init__(self) -> None:
        self.first_page: list[weakref.ref] = []
        self.alive_when_next_asked: list[bool] | None = None

    def get_account_authorization_details(self, Filter, MaxItems, Marker=None):
        if Filter != ["User"]:
            return {"GroupDetailList": [], "Policies": [], "IsTruncated": False}
        if Marker is None:
            user = _Tracked(UserName="ann", Arn="arn:aws:iam::123456789012:user/ann", UserPolicyList=[])
            response = _Tracked(UserDetailList=[user], IsTruncated=True, Marker="m1")
            self.first_page = [weakref.ref(response), weakref.ref(user)]
            return response
        self.alive_when_next_asked = [ref() is not None for ref in self.first_page]
        user = _Tracked(UserName="bob", Arn="arn:aws:iam::123456789012:user/bob", UserPolicyList=[])
        return {"UserDetailList": [user], "IsTruncated": False}


class _Context:
    def __init__(self, iam: _PagingIam) -> None:
        self.iam = iam


def test_a_page_of_users_is_let_go_before_the_next_is_read():
    iam = _PagingIam()
    names = []
    for page in iter_authorization_details(_Context(iam), page_size=1):  # type: ignore[arg-type]
        names += [d.name for d in page]
    assert names == ["ann", "bob"]
    assert iam.alive_when_next_asked == [False, False], "the first answer and its raw user are gone"
