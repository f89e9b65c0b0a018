"""Creates that are safe to retry, and the journal apply keeps while it runs (moto decorator mode).

A lost answer is simulated at the client: the real call is made, then the error the SDK's own
retry would meet is raised, with `RetryAttempts` as botocore reports it.
"""

from __future__ import annotations

import botocore.exceptions
import pytest
from moto import mock_aws

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.inventory import whoami
from s3cred_tui.core.journal import RUN_TAG_KEY, recover, unfinished_runs
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import CredentialRequest
from s3cred_tui.core.session import AwsContext

USER = "idempotent-user"


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket="data-lake")
        yield context


def _plan(ctx, **kwargs):
    plan = build_plan(ctx, CredentialRequest(buckets=("data-lake",), username=USER, **kwargs), identity=whoami(ctx))
    assert plan.ok, plan.blockers
    return plan


def _error(code: str, operation: str, status: int, retried: int) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": f"simulated {code}"},
         "ResponseMetadata": {"HTTPStatusCode": status, "RetryAttempts": retried}},
        operation,
    )


def _run_tag(ctx, user: str) -> str | None:
    tags = ctx.iam.list_user_tags(UserName=user)["Tags"]
    return next((t["Value"] for t in tags if t["Key"] == RUN_TAG_KEY), None)


def test_a_user_whose_creation_answer_was_lost_is_recognised_by_its_run_tag(ctx, monkeypatch):
    real = ctx.iam.create_user

    def created_then_retried(**kwargs):
        real(**kwargs)  # the first attempt reached IAM; its answer was lost
        raise _error("EntityAlreadyExists", "CreateUser", 409, retried=1)

    monkeypatch.setattr(ctx.iam, "create_user", created_then_retried)
    result = apply_plan(ctx, _plan(ctx))

    assert result.ok, result.error
    assert [u["UserName"] for u in ctx.iam.list_users()["Users"]] == [USER]
    assert _run_tag(ctx, USER)  # every user a run makes carries its marker
    assert result.notes == [f"user {USER}: its creation was retried after a lost answer; the user is this run's"]


def test_a_retried_create_access_key_leaves_exactly_one_key_and_says_which_it_deleted(ctx, monkeypatch):
    real = ctx.iam.create_access_key
    lost: list[str] = []

    def twice(**kwargs):
        lost.append(real(**kwargs)["AccessKey"]["AccessKeyId"])  # made, answer lost
        response = real(**kwargs)
        response["ResponseMetadata"]["RetryAttempts"] = 1
        return response

    monkeypatch.setattr(ctx.iam, "create_access_key", twice)
    result = apply_plan(ctx, _plan(ctx))

    assert result.ok, result.error
    keys = [k["AccessKeyId"] for k in ctx.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]
    assert keys == [result.credentials.access_key_id] and lost[0] not in keys
    assert result.notes == [
        f"access key {lost[0]} of {USER} was deleted: a retried call made it as well; its secret was never shown"
    ]


def test_a_create_access_key_without_an_answer_deletes_the_key_it_may_have_made_and_rolls_back(ctx, monkeypatch):
    ctx.iam.create_user(UserName=USER)
    ctx.iam.create_access_key(UserName=USER)
    existing = [k["AccessKeyId"] for k in ctx.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]
    real = ctx.iam.create_access_key
    made: list[str] = []

    def timed_out(**kwargs):
        made.append(real(**kwargs)["AccessKey"]["AccessKeyId"])
        raise botocore.exceptions.ReadTimeoutError(endpoint_url="https://iam.amazonaws.com/")

    monkeypatch.setattr(ctx.iam, "create_access_key", timed_out)
    result = apply_plan(ctx, _plan(ctx, reuse_existing_user=True))

    assert not result.ok
    keys = [k["AccessKeyId"] for k in ctx.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]
    assert keys == existing  # the reused user's own key is untouched
    assert f"access key {made[0]} of {USER} was deleted" in result.notes[0]
    assert unfinished_runs() == []


def test_a_user_that_may_be_ours_but_cannot_be_checked_is_reported_and_journaled_for_recover(ctx, monkeypatch):
    real = ctx.iam.create_user
    real_tags = ctx.iam.list_user_tags

    def created_then_retried(**kwargs):
        real(**kwargs)
        raise _error("EntityAlreadyExists", "CreateUser", 409, retried=1)

    monkeypatch.setattr(ctx.iam, "create_user", created_then_retried)
    monkeypatch.setattr(ctx.iam, "list_user_tags", lambda **kw: (_ for _ in ()).throw(
        _error("AccessDenied", "ListUserTags", 403, retried=0)))
    result = apply_plan(ctx, _plan(ctx))

    assert not result.ok
    assert "its tags could not be read" in result.error.message
    assert [line.split(":")[0] for line in result.not_undone] == [f"Delete user {USER}"]
    assert result.journal_path and [u["UserName"] for u in ctx.iam.list_users()["Users"]] == [USER]

    monkeypatch.setattr(ctx.iam, "list_user_tags", real_tags)  # the permission is back
    [run] = unfinished_runs()
    assert recover(run, ctx).undone[0].startswith(f"Delete user {USER} (arn:aws:iam::")
    assert ctx.iam.list_users()["Users"] == [] and unfinished_runs() == []


def test_the_journal_lists_a_creation_before_its_call_and_goes_when_the_run_ends(ctx, monkeypatch):
    real = ctx.iam.create_user
    seen = []

    def create_user(**kwargs):
        [running] = unfinished_runs()
        seen.append((running.in_progress, [(e.kind, e.name, e.created) for e in running.entries]))
        return real(**kwargs)

    monkeypatch.setattr(ctx.iam, "create_user", create_user)
    result = apply_plan(ctx, _plan(ctx))
    assert result.ok and result.journal_path is None
    assert seen == [(True, [("user", USER, False)])]
    assert unfinished_runs() == []


def test_apply_goes_on_without_a_journal_it_cannot_write_and_says_so(ctx, monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("S3CRED_TUI_STATE_DIR", str(blocker))
    result = apply_plan(ctx, _plan(ctx))
    assert result.ok
    assert result.notes[0].startswith("the apply journal could not be written")
