"""Role trust: an existing role is reusable only when exactly the caller can assume it."""

from __future__ import annotations

import pytest

from s3cred_tui.core import policies
from s3cred_tui.core.trust import assess_trust

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"
CALLER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ROLE_CALLER = f"arn:aws:iam::{ACCOUNT}:role/admin"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"


def trust(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal, action="sts:AssumeRole", **extra):
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def deny(principal, action="sts:AssumeRole", **extra):
    return {"Effect": "Deny", "Principal": principal, "Action": action, **extra}


# ---------------------------------------------------------------- reusable


@pytest.mark.parametrize("caller", [CALLER, ROLE_CALLER], ids=["user", "role"])
def test_the_policy_this_tool_writes_trusts_exactly_the_caller(caller):
    assessment = assess_trust(policies.trust_policy_for(caller), caller, ACCOUNT)
    assert assessment.ok
    assert assessment.reasons == ()
    assert assessment.extra_principals == ()


def test_a_single_statement_object_and_tag_session_are_fine():
    document = {"Version": "2012-10-17", "Statement": allow({"AWS": [CALLER]}, ["sts:AssumeRole", "sts:TagSession"])}
    assert assess_trust(document, CALLER, ACCOUNT).ok


def test_a_deny_for_someone_else_grants_nothing_and_does_not_disqualify():
    assessment = assess_trust(trust(deny({"AWS": BOB}), allow({"AWS": CALLER})), CALLER, ACCOUNT)
    assert assessment.ok, assessment.reasons
    assert assessment.extra_principals == ()


def test_a_conditional_deny_only_narrows_and_does_not_disqualify():
    hardening = deny("*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert assess_trust(trust(allow({"AWS": CALLER}), hardening), CALLER, ACCOUNT).ok


# ---------------------------------------------------------------- refused, with the reason


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [CALLER, "*"]}], ids=["star", "aws-star", "caller-and-star"])
def test_anyone(principal):
    assessment = assess_trust(trust(allow(principal)), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == ("*",)
    assert any('anyone (Principal "*")' in r for r in assessment.reasons)


@pytest.mark.parametrize(
    "principal",
    [f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT],
    ids=["account-root", "bare-account-id"],
)
def test_the_callers_whole_account(principal):
    assessment = assess_trust(trust(allow({"AWS": principal})), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == (principal,)
    (reason,) = assessment.reasons  # the caller *can* assume it (through the account); that is not the problem
    assert f"every principal in your account {ACCOUNT}" in reason and "whole account" in reason


def test_another_whole_account_and_the_caller_left_out():
    root = f"arn:aws:iam::{OTHER_ACCOUNT}:root"
    assessment = assess_trust(trust(allow({"AWS": root})), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == (root,)
    assert any(f"every principal in account {OTHER_ACCOUNT}" in r for r in assessment.reasons)
    assert any(f"does not let {CALLER} assume it" in r for r in assessment.reasons)


def test_the_caller_plus_another_principal():
    assessment = assess_trust(trust(allow({"AWS": [CALLER, BOB]})), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == (BOB,)
    assert assessment.reasons == (f"Trust statement [0] lets another principal, {BOB} assume it.",)


def test_someone_else_only():
    assessment = assess_trust(trust(allow({"AWS": BOB})), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == (BOB,)
    assert any(f"does not let {CALLER} assume it" in r for r in assessment.reasons)


def test_a_condition_on_the_allow_cannot_be_evaluated():
    statement = allow({"AWS": CALLER}, Sid="NeedsMfa", Condition={"Bool": {"aws:MultiFactorAuthPresent": "true"}})
    assessment = assess_trust(trust(statement), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == ()
    (reason,) = assessment.reasons
    assert "'NeedsMfa'" in reason and "Condition (aws:MultiFactorAuthPresent)" in reason and "cannot be checked" in reason


def test_an_external_id_condition_for_another_account_is_two_reasons():
    statement = allow({"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}, Condition={"StringEquals": {"sts:ExternalId": "x"}})
    reasons = assess_trust(trust(statement), CALLER, ACCOUNT).reasons
    assert any("whole account" in r for r in reasons)
    assert any("sts:ExternalId" in r for r in reasons)


def test_a_deny_that_stops_the_caller():
    assessment = assess_trust(trust(allow({"AWS": CALLER}), deny({"AWS": CALLER}, Sid="Nope")), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == ()
    (reason,) = assessment.reasons
    assert "Deny" in reason and "'Nope'" in reason and f"stops {CALLER}" in reason


def test_a_deny_does_not_make_an_open_policy_safe_for_others():
    """Denying one stranger leaves everyone else in: still refused."""
    assessment = assess_trust(trust(allow("*"), deny({"AWS": BOB})), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == ("*",)


@pytest.mark.parametrize(
    ("principal", "shown", "words"),
    [
        ({"Service": "ec2.amazonaws.com"}, "Service:ec2.amazonaws.com", "the AWS service ec2.amazonaws.com"),
        (
            {"Federated": f"arn:aws:iam::{ACCOUNT}:saml-provider/corp"},
            f"Federated:arn:aws:iam::{ACCOUNT}:saml-provider/corp",
            "users of the identity provider",
        ),
    ],
    ids=["service", "federated"],
)
def test_service_and_federated_principals(principal, shown, words):
    assessment = assess_trust(trust(allow({"AWS": CALLER}), allow(principal)), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.extra_principals == (shown,)
    assert any(words in r for r in assessment.reasons)


@pytest.mark.parametrize("effect", ["Allow", "Deny"])
def test_not_principal_disqualifies(effect):
    statement = {"Effect": effect, "NotPrincipal": {"AWS": BOB}, "Action": "sts:AssumeRole"}
    statements = [statement] if effect == "Allow" else [allow({"AWS": CALLER}), statement]
    assessment = assess_trust(trust(*statements), CALLER, ACCOUNT)
    assert not assessment.ok
    assert any("NotPrincipal" in r for r in assessment.reasons)
    assert assessment.extra_principals == (("*",) if effect == "Allow" else ())


@pytest.mark.parametrize(
    ("action", "shown"),
    [("sts:*", "sts:*"), ("*", "*"), (["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"], "sts:AssumeRoleWithWebIdentity")],
    ids=["sts-star", "star", "web-identity"],
)
def test_actions_beyond_assume_role(action, shown):
    assessment = assess_trust(trust(allow({"AWS": CALLER}, action)), CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.reasons == (f"Trust statement [0] allows {shown}, not just sts:AssumeRole.",)


def test_not_action_on_an_allow():
    statement = {"Effect": "Allow", "Principal": {"AWS": CALLER}, "NotAction": "sts:TagSession"}
    assessment = assess_trust(trust(statement), CALLER, ACCOUNT)
    assert not assessment.ok
    assert any("every action except sts:TagSession (NotAction)" in r for r in assessment.reasons)


@pytest.mark.parametrize(
    "document",
    ["not a policy", {"Version": "2012-10-17"}, trust({"Effect": "Allow", "Action": "sts:AssumeRole"}), trust("x")],
    ids=["string", "no-statement", "no-principal", "statement-not-object"],
)
def test_unreadable_trust_policies_are_refused_with_a_reason(document):
    assessment = assess_trust(document, CALLER, ACCOUNT)
    assert not assessment.ok
    assert assessment.reasons
