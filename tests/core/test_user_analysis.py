"""What a user's policies are about (`core.user_analysis`): pure functions over policy documents."""

from __future__ import annotations

import subprocess
import sys

from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.user_analysis import ProbeExpectation, expected_access, probe_expectation, suggested_target


def allow(actions, resources) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}]}


EVERYTHING_IN_S3 = allow("s3:*", "*")


def test_the_first_literal_bucket_and_its_folder_are_suggested():
    assert suggested_target([policy_for(["reports"], AccessLevel.READ_ONLY, "2024/q1/")]) == ("reports", "2024/q1/")
    # A single resource string (not a list) counts too; the folder stops before a wildcard.
    assert suggested_target([allow("s3:GetObject", "arn:aws:s3:::logs/app/*/2024.gz")]) == ("logs", "app/")


def test_a_bucket_level_grant_suggests_the_whole_bucket():
    assert suggested_target([allow("s3:ListBucket", "arn:aws:s3:::reports")]) == ("reports", "")


def test_deny_statements_and_wildcard_buckets_point_nowhere():
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::secret/*"}]}
    wildcard_bucket = allow("s3:GetObject", "arn:aws:s3:::team-*/data/*")
    assert suggested_target([deny, wildcard_bucket]) == ("", "")


def test_policies_that_only_use_wildcards_fall_back_to_the_first_known_bucket_they_reach():
    assert suggested_target([EVERYTHING_IN_S3], ["logs", "reports"]) == ("logs", "")
    only_reports = allow("s3:GetObject", "arn:aws:s3:::rep*/*")
    assert suggested_target([only_reports], ["logs", "reports"]) == ("reports", "")
    assert suggested_target([EVERYTHING_IN_S3]) == ("", ""), "no known buckets: nothing to suggest"


def test_expected_access_is_what_the_policies_allow_at_the_prefix():
    read_write = policy_for(["reports"], AccessLevel.READ_WRITE, "2024/")
    assert expected_access([("p", read_write)], "reports", "2024/") is AccessLevel.READ_WRITE
    assert expected_access([("p", read_write)], "reports", "2023/") is AccessLevel.READ_ONLY, "nothing there: expect the least"
    write_only = policy_for(["drop"], AccessLevel.WRITE_ONLY, "in/")
    assert expected_access([("p", write_only)], "drop", "in/") is AccessLevel.WRITE_ONLY


def test_a_boundary_caps_the_expected_access():
    read_only_boundary = ("boundary", allow(["s3:Get*", "s3:List*"], "*"))
    assert expected_access([("admin", EVERYTHING_IN_S3)], "reports", "", boundary=read_only_boundary) is AccessLevel.READ_ONLY
    assert expected_access([("admin", EVERYTHING_IN_S3)], "reports", "") is AccessLevel.READ_WRITE


def test_no_bucket_or_an_unreadable_policy_expects_read_only():
    assert expected_access([("admin", EVERYTHING_IN_S3)], "", "") is AccessLevel.READ_ONLY
    # Would grant everything, but the simulator refuses to evaluate an unknown condition operator.
    unreadable = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"NoSuchOperator": {"a": "b"}}}],
    }
    assert expected_access([("unreadable", unreadable)], "reports", "") is AccessLevel.READ_ONLY


def test_probe_expectation_combines_target_and_access():
    policies = [("scoped", policy_for(["reports"], AccessLevel.WRITE_ONLY, "drop/in/"))]
    expectation = probe_expectation(policies)
    assert expectation == ProbeExpectation("reports", "drop/in/", AccessLevel.WRITE_ONLY)
    assert expectation.buckets == ["reports"]
    nothing = probe_expectation([])
    assert nothing == ProbeExpectation("", "", AccessLevel.READ_ONLY) and nothing.buckets == []


def test_the_analysis_never_imports_textual():
    code = (
        "import sys, s3cred_tui.core.user_analysis\n"
        "print(','.join(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
