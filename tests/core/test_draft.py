"""Drafts: one request is checked once, its policy built once and measured against one limit."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from moto import mock_aws

from s3cred_tui.core import policies
from s3cred_tui.core.draft import (
    Draft,
    draft_request,
    request_problems,
    validate_request,
)
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.session import AwsContext

ACCOUNT = "123456789012"
USER = Identity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE", "user", "alice")
MANY_BUCKETS = tuple(f"bucket-number-{i:03d}-with-a-long-name" for i in range(40))
CUSTOM = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def test_a_sound_request_drafts_its_normalised_form_and_its_policy():
    draft = draft_request(CredentialRequest(buckets=(" photos ",), access=AccessLevel.READ_ONLY, prefix="reports"))
    assert draft.ok and draft.problems == ()
    assert draft.request.buckets == ("photos",)
    assert draft.request.prefix == "reports/"
    assert draft.request.username == "s3.read-only.photos"
    assert draft.policy == policies.policy_for(("photos",), AccessLevel.READ_ONLY, "reports/")
    assert draft.size == policies.policy_size(draft.policy)
    assert json.loads(draft.policy_text) == draft.policy
    assert (draft.limit, draft.limit_name) == (2048, "inline user policy")


@pytest.mark.parametrize("kind", [CredentialKind.ASSUME_ROLE, CredentialKind.FEDERATION_TOKEN])
def test_temporary_credentials_are_measured_as_a_session_policy(kind):
    draft = draft_request(CredentialRequest(buckets=("photos",), kind=kind))
    assert (draft.limit, draft.limit_name) == (2048, "session policy")
    assert draft.request.duration_seconds == 3600


def test_a_custom_policy_is_the_policy_as_given():
    draft = draft_request(CredentialRequest(buckets=("photos",), access=AccessLevel.CUSTOM, custom_policy=CUSTOM))
    assert draft.ok and draft.policy == CUSTOM


@pytest.mark.parametrize(
    "changes",
    [
        {"buckets": ()},
        {"buckets": ("Bad_Bucket",)},
        {"buckets": ("photos", "photos")},
        {"prefix": "/reports"},
        {"access": AccessLevel.CUSTOM},
        {"access": AccessLevel.CUSTOM, "custom_policy": {"Statement": []}},
        {"extra_statements": ({"Effect": "Allow"},)},
    ],
    ids=["no-bucket", "bad-bucket", "twice", "bad-prefix", "no-custom", "bad-custom", "bad-extra"],
)
def test_without_sound_inputs_there_is_no_policy(changes):
    req = CredentialRequest(**{"buckets": ("photos",), **changes})
    draft = draft_request(req)
    assert not draft.ok and draft.problems
    assert draft.policy is None and draft.size == 0 and draft.policy_text == ""
    assert draft.request is req  # not normalised while it has problems


def test_problems_elsewhere_still_show_the_policy():
    """A person fixing the user name still sees the policy the credentials would get."""
    draft = draft_request(CredentialRequest(buckets=("photos",), username="bad name"))
    assert [p.field for p in draft.problems] == ["username"]
    assert draft.policy == policies.policy_for(("photos",), AccessLevel.READ_WRITE)
    assert not draft.ok


def test_a_policy_over_its_limit_is_kept_with_the_problem():
    draft = draft_request(CredentialRequest(buckets=MANY_BUCKETS))
    assert draft.policy is not None and draft.size > draft.limit
    [problem] = draft.problems
    assert problem.field == "policy"
    assert "inline user policy" in problem.message and f"{draft.size:,} characters" in problem.message
    assert "2,048" in problem.message


def test_the_wrappers_say_what_the_draft_says():
    bad = CredentialRequest(buckets=("Bad_Bucket",), prefix="/x")
    assert [p.message for p in request_problems(bad)] == [p.message for p in draft_request(bad).problems]
    with pytest.raises(ValidationError) as caught:
        validate_request(bad)
    assert caught.value.message == draft_request(bad).problems[0].message
    good = CredentialRequest(buckets=("photos",), prefix="logs/*", prefix_mode=PrefixMode.PATTERN)
    assert validate_request(good) == draft_request(good).request


def test_a_draft_is_frozen():
    draft = draft_request(CredentialRequest(buckets=("photos",)))
    assert isinstance(draft, Draft)
    with pytest.raises(AttributeError):
        draft.size = 0  # type: ignore[misc]


# ---------------------------------------------------------------- one source for each limit


def test_the_size_limit_has_one_source(monkeypatch, capsys):
    """Lower the limit in `policies` and the draft, the planner, the create form and the CLI's
    `policy` command all follow."""
    from s3cred_tui.ui.screens.create import FormState, evaluate_form
    from s3cred_tui.ui.widgets.policy_preview import size_line

    request = CredentialRequest(buckets=("data-lake",), access=AccessLevel.READ_ONLY)
    size = draft_request(request).size
    limit = size - 1
    monkeypatch.setattr(policies, "INLINE_USER_POLICY_LIMIT", limit)

    draft = draft_request(request)
    assert draft.limit == limit
    assert [p.field for p in draft.problems] == ["policy"] and f"{limit:,}" in draft.problems[0].message

    with pytest.raises(ValidationError) as caught:
        build_plan(object(), request, identity=USER)  # refused before any AWS call
    assert caught.value.field == "policy" and f"{limit:,}" in caught.value.message

    outcome = evaluate_form(FormState(buckets_text="data-lake"))
    assert (outcome.policy_limit, outcome.policy_size) == (limit, size)
    assert size_line(outcome.policy_size, outcome.policy_limit, outcome.policy_limit_label).startswith(
        f"{size:,} / {limit:,} characters (inline user policy"
    )
    assert not outcome.ok

    from s3cred_tui import cli

    assert cli.main(["policy", "data-lake", "--read-only"]) == 0
    assert f"policy ({limit:,}), it fits a role" in capsys.readouterr().err

    monkeypatch.setattr(policies, "SESSION_POLICY_LIMIT", 5000)
    temporary = draft_request(CredentialRequest(buckets=MANY_BUCKETS, kind=CredentialKind.ASSUME_ROLE))
    assert temporary.ok and temporary.limit == 5000


def test_the_planner_counts_a_reused_users_policies_against_the_same_limit(monkeypatch):
    with mock_aws():
        ctx = AwsContext()
        ctx.s3.create_bucket(Bucket="data-lake")
        ctx.iam.create_user(UserName="keeper")
        ctx.iam.put_user_policy(UserName="keeper", PolicyName="their-own", PolicyDocument=json.dumps(CUSTOM))
        request = CredentialRequest(buckets=("data-lake",), username="keeper", reuse_existing_user=True)
        fits_alone = draft_request(request).size
        monkeypatch.setattr(policies, "INLINE_USER_POLICY_LIMIT", fits_alone)

        plan = build_plan(ctx, request, identity=USER)

    assert plan.draft.limit == fits_alone
    assert not plan.ok
    [blocker] = plan.blockers
    assert f"AWS allows {fits_alone:,} of inline policy per user" in blocker


def test_the_plan_keeps_the_policy_once():
    with mock_aws():
        ctx = AwsContext()
        ctx.s3.create_bucket(Bucket="data-lake")
        plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), kind=CredentialKind.ASSUME_ROLE), identity=USER)
    assert plan.policy is plan.draft.policy
    senders = [step for step in plan.steps if step.kind.sends_access_policy]
    assert [step.action for step in senders] == ["sts:AssumeRole"]
    assert all(step.document is None and step.policy is plan.policy for step in senders)
    create_role = plan.steps[0]
    assert create_role.policy == policies.trust_policy_for(USER.arn)  # a document of its own


# ---------------------------------------------------------------- no import circle


def test_validation_imports_without_policies():
    """`policies` builds on `validation`; the other way round would be a circle."""
    code = (
        "import sys\n"
        "import s3cred_tui.core.validation\n"
        "print(sorted(m for m in sys.modules if m in ('s3cred_tui.core.policies', 's3cred_tui.core.draft')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
