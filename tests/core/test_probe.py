"""The live probe, against the threaded moto server with IAM enforcement on."""

from __future__ import annotations


import pytest

from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.probe import (
    ProbeCase,
    ProbeReport,
    ProbeResult,
    ProbeTally,
    probe_cases,
    run_probe,
    wait_until_usable,
)
from s3cred_tui.core.request import AccessLevel

BUCKET = "probe-data"
OTHER = "probe-other"


@pytest.fixture
def seeded(server_account):
    s3 = server_account.client("s3")
    for bucket in (BUCKET, OTHER):
        s3.create_bucket(Bucket=bucket)
    for key in ("reports/q1.csv", "reports-outside/secret.csv", "root.txt"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    s3.put_object(Bucket=OTHER, Key="private.txt", Body=b"x")
    return server_account


def _keys(account) -> set[str]:
    listing = account.client("s3").list_objects_v2(Bucket=BUCKET)
    return {o["Key"] for o in listing.get("Contents", [])}


@pytest.mark.parametrize("level", [AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE])
def test_generated_policies_probe_green_except_what_moto_cannot_judge(seeded, level):
    creds = seeded.key_with_policy(policy_for([BUCKET], level, "reports/"))
    before = _keys(seeded)
    seeded.enforce()
    report = run_probe(seeded.context(), creds, [BUCKET], level, "reports/", other_bucket=OTHER)
    seeded.enforce(False)

    assert report.results, "the probe ran no request"
    for result in report.results:
        if result.case.decided_by_condition:
            # moto ignores the s3:prefix Condition, so it allows these listings; AWS refuses them.
            # The simulator tests prove the policy's condition; here we only check the probe saw it.
            assert result.observed_allowed is True
        else:
            assert result.agrees, result
    assert not report.cleanup_problems
    assert _keys(seeded) == before, "the probe must leave the bucket as it found it"


def test_over_broad_custom_policy_is_flagged(seeded):
    too_broad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]}],
    }
    creds = seeded.key_with_policy(too_broad)
    seeded.enforce()
    # The person asked for read-only under reports/; the policy gives far more.
    report = run_probe(seeded.context(), creds, [BUCKET], AccessLevel.READ_ONLY, "reports/", other_bucket=OTHER)
    seeded.enforce(False)

    red = {(r.case.check, r.case.where) for r in report.mismatches}
    assert {("write", "inside"), ("write", "outside"), ("read", "outside"), ("delete", "inside")} <= red
    assert ("list", "other-bucket") not in red
    assert not report.all_agree
    assert not report.cleanup_problems
    assert "reports/.s3cred-probe" not in " ".join(_keys(seeded))


def test_reads_are_heads_of_existing_keys(seeded):
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/"))
    seeded.enforce()
    report = run_probe(seeded.context(), creds, [BUCKET], AccessLevel.READ_ONLY, "reports/")
    seeded.enforce(False)
    read_inside = next(r for r in report.results if (r.case.check, r.case.where) == ("read", "inside"))
    assert "HEAD reports/q1.csv" in read_inside.detail
    read_outside = next(r for r in report.results if (r.case.check, r.case.where) == ("read", "outside"))
    assert "HEAD reports-outside/secret.csv" in read_outside.detail
    assert read_outside.observed_allowed is False


def test_matrix_without_prefix_has_no_outside_cases():
    cases = probe_cases(["b1", "b2"], AccessLevel.READ_WRITE, "", other_bucket="b3")
    assert {c.where for c in cases} == {"inside", "other-bucket"}
    assert {c.bucket for c in cases} == {"b1", "b2", "b3"}
    assert all(c.expected_allowed for c in cases if c.where == "inside")


def test_wait_until_usable_backs_off_and_gives_up(server_account):
    unknown = server_account.context().for_keys("AKIAUNKNOWNUNKNOWN00", "not-a-real-secret")
    server_account.enforce()
    slept: list[float] = []
    now = [0.0]

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    with pytest.raises(Exception) as caught:
        wait_until_usable(unknown, timeout=5, sleep=fake_sleep, clock=lambda: now[0])
    server_account.enforce(False)
    assert slept[:3] == [0.2, 0.4, 0.8]
    assert sum(slept) <= 5
    assert "not-a-real-secret" not in str(caught.value)


def test_read_outside_uses_a_real_sibling_key_when_there_is_one(seeded):
    seeded.client("s3").put_object(Bucket=BUCKET, Key="reports-private/salaries.csv", Body=b"x")
    seeded.client("s3").delete_object(Bucket=BUCKET, Key="reports-outside/secret.csv")
    creds = seeded.key_with_policy(policy_for([BUCKET], AccessLevel.READ_ONLY, "reports/"))
    seeded.enforce()
    report = run_probe(seeded.context(), creds, [BUCKET], AccessLevel.READ_ONLY, "reports/", other_bucket=None)
    seeded.enforce(False)
    read_outside = next(r for r in report.results if (r.case.check, r.case.where) == ("read", "outside"))
    # The classic mistake (a policy on `reports*`) would expose exactly this key.
    assert "HEAD reports-private/salaries.csv" in read_outside.detail
    assert read_outside.observed_allowed is False and read_outside.agrees


def test_tally_counts_agree_differ_unclear_and_the_rows_a_condition_decides():
    def result(expected, observed, by_condition=False):
        case = ProbeCase("list", "outside", BUCKET, "x/", expected, decided_by_condition=by_condition)
        return ProbeResult(case, observed, "detail")

    report = ProbeReport(
        results=[
            result(True, True),  # agrees
            result(False, True, by_condition=True),  # differs, decided by a Condition
            result(False, True),  # differs
            result(False, None, by_condition=True),  # unclear: not counted as differing
            result(False, False, by_condition=True),  # agrees
        ]
    )
    assert report.tally == ProbeTally(
        total=5, agree=2, differ=2, unclear=1, condition_decided=3, differ_by_condition=1
    )
    assert ProbeReport().tally == ProbeTally(0, 0, 0, 0, 0, 0)
