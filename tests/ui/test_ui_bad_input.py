"""The create form turns odd input into problems beside the field, never an exception."""

from __future__ import annotations

import pytest

from s3cred_tui.core.request import AccessLevel, CredentialKind
from s3cred_tui.ui.screens.create import FormState, evaluate_form


@pytest.mark.parametrize("depth", [40, 100_000])
def test_deeply_nested_custom_policy_is_a_problem_not_a_crash(depth):
    outcome = evaluate_form(
        FormState(buckets_text="ok-bucket", access=AccessLevel.CUSTOM, custom_policy_text="[" * depth + "]" * depth)
    )
    messages = [p.message for p in outcome.problems if p.field == "policy"]
    assert any("levels deep" in m for m in messages), outcome.problems


@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\u2028", "\x85", "\ufeff"])
def test_prefix_with_invisible_or_bidi_characters_is_a_prefix_problem(char):
    outcome = evaluate_form(FormState(buckets_text="ok-bucket", prefix=f"reports{char}x"))
    (problem,) = [p for p in outcome.problems if p.field == "prefix"]
    assert problem.message.startswith(f"prefix: U+{ord(char):04X}")


def test_duration_in_other_digits_is_a_duration_problem():
    outcome = evaluate_form(FormState(buckets_text="ok-bucket", kind=CredentialKind.ASSUME_ROLE, duration_text="²"))
    assert [p.field for p in outcome.problems] == ["duration"]
