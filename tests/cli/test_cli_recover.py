"""`recover` and the unfinished-run notice, in-process (the subprocess kill tests are in tests/faults)."""

from __future__ import annotations

import os

import pytest

from s3cred_tui import cli
from s3cred_tui.core.journal import (
    RunInfo,
    UndoCall,
    new_run_id,
    open_journal,
    run_tag,
    unfinished_runs,
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _dead_run(account: str, endpoint_url: str, user: str = "half-made", run_id: str | None = None) -> str:
    run_id = run_id or new_run_id()
    info = RunInfo(run_id, "2024-01-01T00:00:00+00:00", os.getpid(), account, f"arn:aws:iam::{account}:user/admin",
                   endpoint_url, None, "us-east-1")
    journal = open_journal(info)
    journal.created(journal.intend("user", user, f"arn:aws:iam::{account}:user/{user}",
                                   UndoCall("iam:DeleteUser", {"UserName": user}, f"Delete user {user}")))
    journal.release()  # as if the process had died here
    return run_id


@pytest.fixture
def admin_env(server_account, monkeypatch):
    for name, value in server_account.env().items():
        monkeypatch.setenv(name, value)
    return server_account


def test_nothing_to_recover(capsys):
    code, out, err = run(capsys, "recover")
    assert (code, out) == (0, "")
    assert err == "No unfinished runs: nothing to recover.\n"


def test_every_command_notes_an_unfinished_run_in_one_line_and_recover_finishes_it(admin_env, capsys):
    iam = admin_env.client("iam")
    run_id = _dead_run("123456789012", admin_env.endpoint_url)
    iam.create_user(UserName="half-made", Tags=[run_tag(run_id)])

    code, out, err = run(capsys, "policy", "some-bucket")
    assert code == 0 and out.startswith("{")
    [note] = err.splitlines()
    assert note == ("note: a run of s3cred-tui stopped before finishing and may have left 1 change in AWS; "
                    "`s3cred-tui recover --dry-run` lists them, `s3cred-tui recover` undoes them.")

    code, out, err = run(capsys, "recover", "--dry-run")
    assert code == 0
    assert out == "would-undo: Delete user half-made (arn:aws:iam::123456789012:user/half-made)\n"
    assert iam.get_user(UserName="half-made")

    code, out, err = run(capsys, "recover")
    assert code == 0, err
    assert out == "undone: Delete user half-made (arn:aws:iam::123456789012:user/half-made)\n"
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["demo-admin"]
    assert unfinished_runs() == []
    code, out, err = run(capsys, "policy", "some-bucket")
    assert err == ""


def test_recover_refuses_another_accounts_run_and_keeps_its_journal(admin_env, capsys):
    _dead_run("999999999999", admin_env.endpoint_url)
    code, out, err = run(capsys, "recover")
    assert code == 1 and out == ""
    assert "error: Run " in err and "account 999999999999" in err and "account 123456789012" in err
    assert len(unfinished_runs()) == 1


def test_recover_uses_the_endpoint_given_on_the_command_line(admin_env, capsys):
    iam = admin_env.client("iam")
    run_id = _dead_run("123456789012", "http://127.0.0.1:9")  # where the run went is gone now
    iam.create_user(UserName="half-made", Tags=[run_tag(run_id)])
    code, out, err = run(capsys, "recover", "--endpoint-url", admin_env.endpoint_url)
    assert code == 0, err
    assert out.startswith("undone: Delete user half-made")
