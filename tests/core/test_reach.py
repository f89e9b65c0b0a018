"""Reach read back through the evaluator, and who may assume a role (pure: no AWS)."""

from __future__ import annotations

from s3cred_tui.core import policies
from s3cred_tui.core.reach import (
    ANY_BUCKET,
    level_of,
    reach_of,
    reach_text,
    who_can_assume,
)
from s3cred_tui.core.request import AccessLevel

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/helper"
USER = f"arn:aws:iam::{ACCOUNT}:user/app"


def test_generated_policies_read_back_as_their_level_and_prefix():
    read_only = policies.policy_for(["data-lake"], AccessLevel.READ_ONLY, "reports/")
    (reach,) = reach_of([("inline", read_only)], principal_arn=USER)
    assert (reach.bucket, reach.prefix, reach.level, reach.capabilities) == ("data-lake", "reports/", "read-only", ("list", "read"))
    (reach,) = reach_of([("inline", policies.policy_for(["data-lake"], AccessLevel.WRITE_ONLY, "in/"))])
    assert (reach.prefix, reach.level) == ("in/", "write-only")
    both = reach_of([("inline", policies.policy_for(["data-lake", "archive"], AccessLevel.READ_WRITE))])
    assert [(r.bucket, r.prefix, r.level) for r in both] == [("data-lake", "", "read-write"), ("archive", "", "read-write")]


def test_reach_comes_from_the_policy_not_the_name():
    # Named like a read-only user, but the policy gives writes too.
    lying = policies.policy_for(["data-lake"], AccessLevel.READ_WRITE)
    (reach,) = reach_of([("inline s3.read-only.data-lake", lying)])
    assert reach.level == "read-write"


def test_a_boundary_caps_the_reach():
    read_write = policies.policy_for(["data-lake"], AccessLevel.READ_WRITE)
    boundary = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]}
    (reach,) = reach_of([("inline", read_write)], boundary=("boundary", boundary), principal_arn=USER)
    assert reach.level == "read-only"


def test_a_deny_removes_reach():
    read_write = policies.policy_for(["data-lake"], AccessLevel.READ_WRITE)
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}
    (reach,) = reach_of([("inline", read_write), ("deny", deny)])
    assert reach.level == "read-only" and "write" not in reach.capabilities


def test_a_resource_wildcard_is_every_bucket():
    full = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    (reach,) = reach_of([("managed AmazonS3FullAccess", full)])
    assert reach.bucket == ANY_BUCKET and reach.level == "read-write"
    assert reach_text(reach) == "every bucket read-write"


def test_a_bucket_policy_deny_counts():
    read_write = policies.policy_for(["data-lake"], AccessLevel.READ_WRITE)
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data-lake/*"}],
    }
    (reach,) = reach_of(
        [("inline", read_write)], principal_arn=USER,
        resource_policy_for=lambda bucket: ("bucket policy", bucket_policy) if bucket == "data-lake" else None,
    )
    assert "read" not in reach.capabilities


def test_an_unreadable_policy_is_an_error_not_a_guess():
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x-bucket/*",
                                                   "Condition": {"NoSuchOperator": {"a": "b"}}}]}
    (reach,) = reach_of([("inline", bad)])
    assert reach.error and reach.level == "none"
    assert "not evaluated" in reach_text(reach)


def test_levels():
    assert level_of(["list", "read", "write", "delete"]) == "read-write"
    assert level_of(["list"]) == "list-only"
    assert level_of([]) == "none"


def test_the_helper_role_trusting_one_user_admits_that_user_only():
    (entry,) = who_can_assume(policies.trust_policy_for(USER), ROLE)
    assert entry.principal == USER and entry.allowed and entry.who == "user app"
    assert "trust policy" in entry.reason


def test_trust_decisions_for_accounts_services_conditions_and_denies():
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "partner-42"}}},
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, "Action": "sts:AssumeRole"},
            {"Effect": "Deny", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ci"}, "Action": "sts:AssumeRole"},
        ],
    }
    entries = {e.principal: e for e in who_can_assume(trust, ROLE)}
    own_account = entries[f"arn:aws:iam::{ACCOUNT}:root"]
    assert own_account.allowed and "this account" in own_account.who
    partner = entries["arn:aws:iam::999999999999:root"]
    assert partner.allowed and partner.conditional == ("sts:ExternalId",) and "Condition" in partner.reason
    assert entries["ec2.amazonaws.com"].principal_type == "Service"
    ci = entries[f"arn:aws:iam::{ACCOUNT}:role/ci"]
    assert not ci.allowed and "denied explicitly" in ci.reason and ci.who == "sessions of role ci"


def test_anyone_is_read_as_anyone():
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}
    (entry,) = who_can_assume(trust, ROLE)
    assert entry.principal == "*" and entry.allowed and "anyone" in entry.who


def test_no_trust_document_admits_nobody():
    assert who_can_assume(None, ROLE) == ()
    assert who_can_assume({"Version": "2012-10-17", "Statement": []}, ROLE) == ()
