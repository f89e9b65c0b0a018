"""Custom policies are checked before use: parliament findings, broad grants, an honest headline."""

from __future__ import annotations

import builtins

import pytest

from s3cred_tui.core import policy_checks
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.policy_checks import OTHER_BUCKET, check_custom_policy
from s3cred_tui.core.request import AccessLevel


def policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra):
    key = "NotResource" if extra.pop("not_resource", False) else "Resource"
    return {"Effect": "Allow", "Action": action, key: resource, **extra}


TIGHT = policy(
    {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::a",
     "Condition": {"StringLike": {"s3:prefix": ["reports/*"]}}},
    {"Sid": "ReadWrite", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::a/reports/*"},
)


# ---------------------------------------------------------------- tight policies pass


def test_a_tight_custom_policy_passes_with_no_broad_reasons():
    review = check_custom_policy(TIGHT, ["a"])
    assert review.broad == ()
    assert not review.acknowledgement_needed
    assert review.findings == ()
    assert review.headline == "Custom policy: list, read and write on s3://a/reports/"


@pytest.mark.parametrize(
    ("level", "verbs"),
    [(AccessLevel.READ_ONLY, "list and read"), (AccessLevel.WRITE_ONLY, "write"), (AccessLevel.READ_WRITE, "list, read, write and delete")],
)
def test_every_generated_policy_would_pass_as_a_custom_one(level, verbs):
    review = check_custom_policy(policy_for(["photos", "music"], level, "reports/"), ["photos", "music"], "reports/")
    assert review.broad == ()
    assert review.findings == ()
    assert review.headline == f"Custom policy: {verbs} on s3://photos/reports/ and s3://music/reports/"


def test_a_deny_that_narrows_keeps_a_policy_tight():
    narrowed = policy(allow("s3:GetObject", "arn:aws:s3:::a/*"), {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::a/secret/*"})
    assert check_custom_policy(narrowed, ["a"]).broad == ()


# ---------------------------------------------------------------- broad grants need acknowledging


def test_administrator_policy():
    review = check_custom_policy(policy(allow("*")), ["a"])
    assert review.headline == "Custom policy: full administrator (every action on every resource)"
    assert review.broad == ("Statement 1 allows every action on every resource (* on *): a full administrator.",)
    assert review.acknowledgement_needed


def test_s3_star_on_star():
    review = check_custom_policy(policy(allow("s3:*")), ["a"])
    assert review.broad == ("Statement 1 allows s3:* on *: every S3 action on every bucket in the account.",)
    assert review.headline == "Custom policy: list, read, write and delete on s3://a/, plus s3:* on *"
    assert any(f.issue == "RESOURCE_STAR" for f in review.findings)


def test_iam_pass_role():
    review = check_custom_policy(policy(allow(["s3:GetObject"], "arn:aws:s3:::a/*"), allow("iam:PassRole")), ["a"])
    assert review.broad == (
        "Statement 2 allows IAM/STS actions (iam:PassRole), which can change permissions or obtain other credentials.",
    )
    assert review.headline == "Custom policy: read on s3://a/, plus iam:PassRole on *"


@pytest.mark.parametrize("action", ["iam:*", "sts:AssumeRole", "STS:GetFederationToken", "*am:Pass*"])
def test_any_iam_or_sts_action(action):
    (reason,) = check_custom_policy(policy(allow(action)), ["a"]).broad
    assert "IAM/STS actions" in reason and action in reason


def test_actions_outside_s3():
    (reason,) = check_custom_policy(policy(allow("ec2:RunInstances")), ["a"]).broad
    assert reason == "Statement 1 allows actions outside S3 (ec2:RunInstances)."


def test_read_write_plus_iam_headline():
    rw = policy(allow(["s3:GetObject", "s3:PutObject"], "arn:aws:s3:::a/reports/*"), allow("iam:*"))
    review = check_custom_policy(rw, ["a"], "reports/")
    assert review.headline == "Custom policy: read and write on s3://a/reports/, plus iam:* on *"


def test_not_action_allow():
    review = check_custom_policy(policy({"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}), ["a"])
    assert "Statement 1 ('AllButIam') allows every action except iam:* (Allow with NotAction)." in review.broad
    assert review.headline.endswith("plus every action except iam:* on *")


def test_not_resource_allow():
    review = check_custom_policy(policy(allow("s3:GetObject", "arn:aws:s3:::a/*", not_resource=True)), ["a"])
    assert "Statement 1 allows s3:GetObject on every resource except arn:aws:s3:::a/* (Allow with NotResource)." in review.broad
    # The evaluator confirms it: the grant reaches every other bucket.
    assert any("reaches buckets that are not named (s3:GetObject" in r for r in review.broad)


def test_principal_element():
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::a/*"}
    review = check_custom_policy(policy(statement), ["a"])
    assert review.broad == ("Statement 1 has a Principal element: this is a resource policy's element, not a user's or session's.",)
    assert review.headline == "Custom policy: read on s3://a/"


@pytest.mark.parametrize(
    ("resource", "example"),
    [("*", OTHER_BUCKET), ("arn:aws:s3:::*/*", OTHER_BUCKET), ("arn:aws:s3:::a*/*", "ax"), ("arn:aws:s3:::?a/*", "xa")],
    ids=["star", "any-bucket", "name-prefix", "name-suffix"],
)
def test_the_evaluator_finds_grants_on_buckets_not_named(resource, example):
    (reason,) = check_custom_policy(policy(allow("s3:GetObject", resource)), ["a"]).broad
    assert reason == f"Statement 1 reaches buckets that are not named (s3:GetObject on a bucket such as {example})."


def test_a_statements_own_wildcard_actions_are_probed():
    (reason,) = check_custom_policy(policy(allow("s3:*Acl", "arn:aws:s3:::*")), ["a"]).broad
    assert "s3:*Acl" in reason and "not named" in reason


def test_a_conditional_allow_is_read_at_its_widest():
    conditional = allow("s3:GetObject", "*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})
    review = check_custom_policy(policy(conditional), ["a"])
    assert any("reaches buckets that are not named" in r for r in review.broad)


def test_a_conditional_deny_does_not_hide_a_broad_grant():
    deny = {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::a/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    review = check_custom_policy(policy(allow("s3:GetObject"), deny), ["a"])
    assert any("reaches buckets that are not named" in r for r in review.broad)


def test_s3_resources_the_probe_cannot_reach_are_still_named():
    access_point = "arn:aws:s3:us-east-1:123456789012:accesspoint/x/object/*"
    (reason,) = check_custom_policy(policy(allow("s3:GetObject", access_point)), ["a"]).broad
    assert reason == f"Statement 1 grants S3 actions on resources outside the named buckets ({access_point})."


def test_a_policy_the_evaluator_cannot_read_is_broad():
    odd = allow("s3:GetObject", "arn:aws:s3:::a/*", Condition={"NoSuchOperator": {"aws:SourceIp": "1.2.3.4"}})
    review = check_custom_policy(policy(odd), ["a"])
    assert any("cannot read the policy" in r and "NoSuchOperator" in r for r in review.broad)
    assert review.headline == "Custom policy: unreadable by the policy evaluator"


# ---------------------------------------------------------------- parliament


def test_findings_carry_parliament_severity_title_and_the_line_of_the_shown_json():
    review = check_custom_policy(policy(allow("s3:GetObjekt", "arn:aws:s3:::a/*")), ["a"])
    (finding,) = review.findings
    assert (finding.issue, finding.severity, finding.title) == ("UNKNOWN_ACTION", "LOW", "Unknown action")
    assert finding.line == 6  # `"Action": "s3:GetObjekt"` in policies.policy_json(...)
    assert finding.text == "LOW UNKNOWN_ACTION (line 6): Unknown action: Unknown action s3:GetObjekt"
    assert review.broad == ()  # a typo is a finding, not a broad grant


def test_without_parliament_the_review_says_so(monkeypatch):
    real_import = builtins.__import__

    def no_parliament(name, *args, **kwargs):
        if name == "parliament" or name.startswith("parliament."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_parliament)
    review = check_custom_policy(policy(allow("s3:*")), ["a"])
    assert review.findings == ()
    assert review.notes and "parliament is not installed" in review.notes[0]
    assert review.broad  # the broad checks do not depend on parliament


def test_a_parliament_failure_is_a_note_not_a_crash(monkeypatch):
    import parliament

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(parliament, "analyze_policy_string", explode)
    review = check_custom_policy(TIGHT, ["a"])
    assert review.findings == ()
    assert review.notes == ("parliament could not lint the policy (RuntimeError).",)


def test_module_imports_parliament_lazily():
    assert "parliament" not in policy_checks.__dict__
