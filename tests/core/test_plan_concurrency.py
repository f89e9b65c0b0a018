"""build_plan reads the account concurrently, and still lays the plan out in its own order."""

from __future__ import annotations

import threading

import pytest
from moto import mock_aws

from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext

ACCOUNT = "123456789012"
USER = Identity(ACCOUNT, f"arn:aws:iam::{ACCOUNT}:user/alice", "AIDAALICE", "user", "alice")
BUCKETS = ("concurrent-a", "concurrent-b")
# Long enough for any machine to start N threads; only reached when the reads do not overlap.
BARRIER_SECONDS = 10


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        for bucket in BUCKETS:
            context.s3.create_bucket(Bucket=bucket)
        yield context


def _hold_until_all_arrive(ctx: AwsContext, events: list[str], calls: int) -> list[str]:
    """Each call of `events` blocks until `calls` of them are in flight at once.
    Returns the calls that gave up waiting (none when they all overlapped)."""
    barrier = threading.Barrier(calls, timeout=BARRIER_SECONDS)
    gave_up: list[str] = []

    def wait(event_name: str, **_: object) -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            gave_up.append(event_name)

    for event in events:
        service = event.split(".")[1]
        ctx.client(service).meta.events.register(event, wait)
    return gave_up


def test_identity_buckets_and_user_are_read_at_the_same_time(ctx):
    # HeadBucket once per bucket: four calls in flight together.
    gave_up = _hold_until_all_arrive(
        ctx, ["before-call.sts.GetCallerIdentity", "before-call.s3.HeadBucket", "before-call.iam.GetUser"], calls=4
    )
    plan = build_plan(ctx, CredentialRequest(buckets=BUCKETS, access=AccessLevel.READ_ONLY))
    assert gave_up == [], f"these reads waited for one another instead of overlapping: {gave_up}"
    assert plan.ok, plan.blockers
    assert plan.identity is not None and plan.identity.account == ACCOUNT


def test_role_is_read_while_the_buckets_are(ctx):
    gave_up = _hold_until_all_arrive(ctx, ["before-call.s3.HeadBucket", "before-call.iam.GetRole"], calls=2)
    request = CredentialRequest(buckets=BUCKETS[:1], kind=CredentialKind.ASSUME_ROLE, duration_seconds=900)
    plan = build_plan(ctx, request, identity=USER)
    assert gave_up == [], f"these reads waited for one another instead of overlapping: {gave_up}"
    assert [s.action for s in plan.steps][:2] == ["iam:CreateRole", "iam:AttachRolePolicy"]


def test_facts_keep_the_buckets_order_whatever_answers_first(ctx):
    """The first bucket's answer is held until the second's has arrived: the facts still list
    the buckets in the order asked."""
    second_answered = threading.Event()
    held: list[bool] = []
    calling = threading.local()  # a call's after-call runs in its thread, and is not told the bucket

    def hold_first(params: dict, **_: object) -> None:
        calling.bucket = params.get("Bucket")
        if calling.bucket == BUCKETS[0]:
            held.append(second_answered.wait(BARRIER_SECONDS))

    def note_second(**_: object) -> None:
        if getattr(calling, "bucket", None) == BUCKETS[1]:
            second_answered.set()

    ctx.s3.meta.events.register("before-parameter-build.s3.HeadBucket", hold_first)
    ctx.s3.meta.events.register("after-call.s3.HeadBucket", note_second)
    plan = build_plan(ctx, CredentialRequest(buckets=BUCKETS, access=AccessLevel.READ_ONLY), identity=USER)
    assert held == [True], "the second bucket was not read while the first waited"
    assert [fact for fact in plan.facts if fact.startswith("bucket ")] == [
        f"bucket {BUCKETS[0]} exists in us-east-1",
        f"bucket {BUCKETS[1]} exists in us-east-1",
        f"bucket {BUCKETS[0]} has no default encryption",
        f"bucket {BUCKETS[1]} has no default encryption",
    ]
