"""The apply journal: written ahead of every creation, never a secret, found after a crash,
and recovered newest first, touching only what its run made."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from moto import mock_aws

from s3cred_tui.core.errors import S3CredError
from s3cred_tui.core.journal import (
    ABSENT,
    REMOVED,
    RUN_TAG_KEY,
    STATE_DIR_ENV,
    RunInfo,
    UndoCall,
    new_run_id,
    open_journal,
    perform_undo,
    recover,
    run_tag,
    runs_dir,
    state_dir,
    unfinished_runs,
)
from s3cred_tui.core.session import AwsContext

ACCOUNT = "123456789012"  # moto's default account


def _info(run_id: str | None = None, account: str = ACCOUNT) -> RunInfo:
    return RunInfo(
        run_id=run_id or new_run_id(),
        started="2024-01-01T00:00:00+00:00",
        pid=os.getpid(),
        account=account,
        caller_arn=f"arn:aws:iam::{account}:user/admin",
        endpoint_url=None,
        profile=None,
        region="us-east-1",
    )


@pytest.fixture
def ctx():
    with mock_aws():
        yield AwsContext()


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_state_dir_is_the_override_or_the_platform_state_dir(monkeypatch, tmp_path):
    assert state_dir() == tmp_path / "state"  # tests/conftest.py points every test here
    monkeypatch.delenv(STATE_DIR_ENV)
    import platformdirs

    assert state_dir() == __import__("pathlib").Path(platformdirs.user_state_dir("s3cred-tui"))


def test_journal_lists_each_resource_before_and_after_creation_and_goes_on_close():
    journal = open_journal(_info())
    seq = journal.intend("user", "alice", f"arn:aws:iam::{ACCOUNT}:user/alice",
                         UndoCall("iam:DeleteUser", {"UserName": "alice"}, "Delete user alice"))
    journal.created(seq)
    assert journal.path.parent == runs_dir() and journal.path.exists()
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"
    records = _records(journal.path)
    assert [r["record"] for r in records] == ["run", "intent", "created"]
    assert records[0]["account"] == ACCOUNT and records[1]["undo"]["action"] == "iam:DeleteUser"
    journal.close()
    assert not journal.path.exists()
    assert unfinished_runs() == []


def test_journal_refuses_to_write_a_secret():
    journal = open_journal(_info())
    with pytest.raises(ValueError, match="SecretAccessKey"):
        journal.intend("access-key", "k", "arn", UndoCall("iam:DeleteAccessKey", {"SecretAccessKey": "x"}, "t"))
    assert "SecretAccessKey" not in journal.path.read_text()
    journal.close()


def test_a_live_run_is_in_progress_and_a_released_one_is_unfinished():
    journal = open_journal(_info())
    first = journal.intend("bucket", "b1", "arn:aws:s3:::b1", UndoCall("s3:DeleteBucket", {"Bucket": "b1"}, "Delete bucket b1"))
    journal.created(first)
    second = journal.intend("bucket", "b2", "arn:aws:s3:::b2", UndoCall("s3:DeleteBucket", {"Bucket": "b2"}, "Delete bucket b2"))
    journal.undone(second)
    third = journal.intend("user", "u", f"arn:aws:iam::{ACCOUNT}:user/u", UndoCall("iam:DeleteUser", {"UserName": "u"}, "Delete user u"))
    [live] = unfinished_runs()
    assert live.in_progress
    with pytest.raises(S3CredError, match="still running"):
        recover(live, ctx=None)
    journal.release()
    [run] = unfinished_runs()
    assert not run.in_progress and run.info.run_id == journal.info.run_id
    assert [(e.seq, e.name, e.created) for e in run.entries] == [(first, "b1", True), (third, "u", False)]
    assert "arn:aws:s3:::b1" in run.summary() and "arn:aws:s3:::b2" not in run.summary()


def test_a_line_cut_short_by_a_crash_is_ignored_and_a_garbled_file_is_reported(tmp_path):
    journal = open_journal(_info())
    seq = journal.intend("bucket", "b1", "arn:aws:s3:::b1", UndoCall("s3:DeleteBucket", {"Bucket": "b1"}, "Delete bucket b1"))
    journal.release()
    with open(journal.path, "a") as handle:
        handle.write('{"record": "undone", "se')
    [run] = unfinished_runs()
    assert [e.seq for e in run.entries] == [seq]
    (runs_dir() / "garbled.jsonl").write_text("not json\n{}\n")
    runs = {r.path.name: r for r in unfinished_runs()}
    assert runs["garbled.jsonl"].info is None and "line 1" in runs["garbled.jsonl"].summary()


def _journal_a_permanent_run(ctx, run_id: str):
    """What apply journals for bucket, user, inline policy and key (all really made)."""
    iam = ctx.iam
    ctx.s3.create_bucket(Bucket="made-by-run")
    iam.create_user(UserName="alice", Tags=[run_tag(run_id)])
    iam.put_user_policy(UserName="alice", PolicyName="scope", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    journal = open_journal(_info(run_id))
    user_arn = f"arn:aws:iam::{ACCOUNT}:user/alice"
    for kind, name, arn, undo in [
        ("bucket", "made-by-run", "arn:aws:s3:::made-by-run",
         UndoCall("s3:DeleteBucket", {"Bucket": "made-by-run", "Region": "us-east-1"}, "Delete bucket made-by-run")),
        ("user", "alice", user_arn, UndoCall("iam:DeleteUser", {"UserName": "alice"}, "Delete user alice")),
        ("inline-policy", "scope", user_arn,
         UndoCall("iam:DeleteUserPolicy", {"UserName": "alice", "PolicyName": "scope"}, "Delete inline policy scope of alice")),
    ]:
        journal.created(journal.intend(kind, name, arn, undo))
    seq = journal.intend("access-key", "alice", user_arn,
                         UndoCall("iam:DeleteAccessKey", {"UserName": "alice", "KnownKeyIds": []}, "Delete new access keys of alice"))
    journal.created(seq, undo=UndoCall("iam:DeleteAccessKey", {"UserName": "alice", "AccessKeyId": key},
                                       f"Delete access key {key} of alice"))
    journal.release()
    return key


def test_recover_undoes_newest_first_reports_by_arn_and_removes_the_journal(ctx):
    run_id = new_run_id()
    key = _journal_a_permanent_run(ctx, run_id)
    [run] = unfinished_runs()
    heard: list[tuple[str, str]] = []

    preview = recover(run, ctx, dry_run=True)
    assert ctx.iam.get_user(UserName="alice")  # a dry run changes nothing
    assert [text for text in preview.undone] == [
        f"Delete access key {key} of alice (arn:aws:iam::{ACCOUNT}:user/alice)",
        f"Delete inline policy scope of alice (arn:aws:iam::{ACCOUNT}:user/alice)",
        f"Delete user alice (arn:aws:iam::{ACCOUNT}:user/alice)",
        "Delete bucket made-by-run (arn:aws:s3:::made-by-run)",
    ]

    result = recover(run, ctx, on_event=lambda status, text: heard.append((status, text)))

    assert result.ok and result.undone == preview.undone and result.kept == []
    assert [status for status, _ in heard] == ["undone"] * 4
    assert ctx.iam.list_users()["Users"] == [] and ctx.s3.list_buckets()["Buckets"] == []
    assert not run.path.exists() and unfinished_runs() == []


def test_recover_keeps_a_same_named_user_somebody_else_made(ctx):
    ctx.iam.create_user(UserName="alice", Tags=[{"Key": RUN_TAG_KEY, "Value": "another-run"}])
    journal = open_journal(_info())
    journal.intend("user", "alice", f"arn:aws:iam::{ACCOUNT}:user/alice",
                   UndoCall("iam:DeleteUser", {"UserName": "alice"}, "Delete user alice"))
    journal.release()
    [run] = unfinished_runs()

    result = recover(run, ctx)

    assert result.ok and result.undone == []
    assert result.kept == [f"Delete user alice (arn:aws:iam::{ACCOUNT}:user/alice): it does not carry this run's marker, "
                           "so somebody else made it; it was kept"]
    assert ctx.iam.get_user(UserName="alice")["User"]["UserName"] == "alice"


def test_recover_deletes_a_key_whose_id_never_arrived_and_spares_the_keys_known_before(ctx):
    iam = ctx.iam
    iam.create_user(UserName="reused")
    known = iam.create_access_key(UserName="reused")["AccessKey"]["AccessKeyId"]
    journal = open_journal(_info())
    journal.intend("access-key", "reused", f"arn:aws:iam::{ACCOUNT}:user/reused",
                   UndoCall("iam:DeleteAccessKey", {"UserName": "reused", "KnownKeyIds": [known]}, "Delete new access keys of reused"))
    orphan = iam.create_access_key(UserName="reused")["AccessKey"]["AccessKeyId"]  # the response that never arrived
    journal.release()
    [run] = unfinished_runs()

    result = recover(run, ctx)

    assert result.ok
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="reused")["AccessKeyMetadata"]] == [known]
    assert orphan != known


def test_recover_keeps_a_bucket_that_is_no_longer_empty_and_says_why(ctx):
    ctx.s3.create_bucket(Bucket="filled")
    ctx.s3.put_object(Bucket="filled", Key="data", Body=b"x")
    journal = open_journal(_info())
    journal.created(journal.intend("bucket", "filled", "arn:aws:s3:::filled",
                                   UndoCall("s3:DeleteBucket", {"Bucket": "filled"}, "Delete bucket filled")))
    journal.release()
    [run] = unfinished_runs()
    result = recover(run, ctx)
    assert result.kept == ["Delete bucket filled (arn:aws:s3:::filled): the bucket is no longer empty, so it was kept"]
    assert unfinished_runs() == []


def test_recover_refuses_credentials_of_another_account(ctx):
    journal = open_journal(_info(account="999999999999"))
    journal.intend("user", "u", "arn:aws:iam::999999999999:user/u", UndoCall("iam:DeleteUser", {"UserName": "u"}, "Delete user u"))
    journal.release()
    [run] = unfinished_runs()
    with pytest.raises(S3CredError, match="account 999999999999.*account 123456789012"):
        recover(run, ctx)
    assert run.path.exists()


def test_a_failed_undo_keeps_the_journal_for_the_next_attempt(ctx, monkeypatch):
    ctx.iam.create_user(UserName="stuck", Tags=[run_tag("r1")])
    journal = open_journal(_info("r1"))
    journal.created(journal.intend("user", "stuck", f"arn:aws:iam::{ACCOUNT}:user/stuck",
                                   UndoCall("iam:DeleteUser", {"UserName": "stuck"}, "Delete user stuck")))
    journal.release()
    ctx.iam.put_user_policy(UserName="stuck", PolicyName="added-later", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))
    [run] = unfinished_runs()

    result = recover(run, ctx)

    assert not result.ok and result.not_undone[0].startswith(f"Delete user stuck (arn:aws:iam::{ACCOUNT}:user/stuck): ")
    assert [r.info.run_id for r in unfinished_runs()] == ["r1"]


def test_perform_undo_tells_removed_from_already_gone(ctx):
    assert perform_undo(ctx, UndoCall("iam:DeleteUser", {"UserName": "ghost"}, "Delete user ghost"), "r") == ABSENT
    assert perform_undo(ctx, UndoCall("s3:DeleteBucket", {"Bucket": "ghost-bucket"}, "Delete bucket")) == ABSENT
    ctx.s3.create_bucket(Bucket="real-bucket")
    assert perform_undo(ctx, UndoCall("s3:DeleteBucket", {"Bucket": "real-bucket"}, "Delete bucket")) == REMOVED


def test_a_killed_process_leaves_a_journal_that_is_no_longer_in_progress(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from s3cred_tui.core.journal import RunInfo, UndoCall, open_journal
        info = RunInfo("killed-run", "2024-01-01T00:00:00+00:00", 0, "123456789012", "arn", None, None, "us-east-1")
        journal = open_journal(info)
        journal.intend("user", "u", "arn:aws:iam::123456789012:user/u", UndoCall("iam:DeleteUser", {"UserName": "u"}, "Delete user u"))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        assert child.stdout.readline().strip() == "ready"
        [running] = unfinished_runs()
        assert running.in_progress
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        [left] = unfinished_runs()
        assert not left.in_progress and [e.name for e in left.entries] == ["u"]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
