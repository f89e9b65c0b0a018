"""Guided key rotation, step by step, against the threaded moto server."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.models import iam_backends

from s3cred_tui.core.errors import NotFound, S3CredError
from s3cred_tui.core.inventory import whoami
from s3cred_tui.core.rotation import Rotation, RotationStep, check_rotation

USER = "app-writer"


@pytest.fixture
def account(server_account):
    server_account.client("iam").create_user(UserName=USER)
    return server_account


def _keys(account) -> dict[str, str]:
    return {k["AccessKeyId"]: k["Status"] for k in account.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]}


def _age_keys(account, *days: int) -> None:
    """Pin the user's keys' creation dates (oldest first as given)."""
    user = iam_backends[DEFAULT_ACCOUNT_ID]["global"].users[USER]
    now = datetime.now(timezone.utc)
    for key, age in zip(user.access_keys, days):
        key.create_date = now - timedelta(days=age)


def test_a_full_rotation_reports_every_step_and_ends_with_one_new_key(account):
    iam = account.client("iam")
    old = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    ctx = account.context()
    events = []
    check = check_rotation(ctx, USER)
    assert check.ok and check.old_key.id == old
    rotation = Rotation(ctx, check, on_event=events.append)
    assert rotation.next_step is RotationStep.CREATE

    credentials = rotation.create_new_key()
    assert _keys(account) == {old: "Active", credentials.access_key_id: "Active"}
    assert "Both keys work" in rotation.summary()
    rotation.mark_shown()
    rotation.probe_new_key(sleep=lambda _s: None)
    assert rotation.probed and rotation.next_step is RotationStep.DEACTIVATE

    rotation.deactivate_old(confirmed=True)
    assert _keys(account) == {old: "Inactive", credentials.access_key_id: "Active"}
    assert "can be reactivated" in rotation.summary()
    rotation.finish(delete=True)
    assert _keys(account) == {credentials.access_key_id: "Active"}
    assert rotation.finished and rotation.next_step is None
    assert [(e.step, e.status) for e in events] == [
        (RotationStep.CHECK, "done"), (RotationStep.CREATE, "done"), (RotationStep.SHOW, "done"),
        (RotationStep.PROBE, "done"), (RotationStep.DEACTIVATE, "done"), (RotationStep.DELETE, "done"),
    ]
    # No secret in any event or in the summary.
    assert all(credentials.secret_access_key not in e.message for e in events)
    assert credentials.secret_access_key not in rotation.summary()
    assert rotation.summary().startswith(f"Rotation of {USER} finished.")


def test_leaving_the_old_key_inactive(account):
    account.client("iam").create_access_key(UserName=USER)
    ctx = account.context()
    rotation = Rotation(ctx, check_rotation(ctx, USER))
    new = rotation.create_new_key().access_key_id
    rotation.mark_shown()
    rotation.probe_new_key(sleep=lambda _s: None)
    rotation.deactivate_old(confirmed=True)
    rotation.finish(delete=False)
    assert _keys(account)[rotation.old_key_id] == "Inactive" and _keys(account)[new] == "Active"
    assert rotation.events[-1].status == "skipped" and rotation.finished


def test_without_confirmation_the_old_key_stays_active_and_the_state_is_said(account):
    old = account.client("iam").create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    ctx = account.context()
    rotation = Rotation(ctx, check_rotation(ctx, USER))
    new = rotation.create_new_key().access_key_id
    rotation.mark_shown()
    rotation.probe_new_key(sleep=lambda _s: None)
    rotation.deactivate_old(confirmed=False)
    assert rotation.stopped and rotation.next_step is None
    assert _keys(account) == {old: "Active", new: "Active"}
    summary = rotation.summary()
    assert "stopped" in summary and "Both keys work" in summary and old in summary


def test_stopping_can_discard_the_new_key(account):
    old = account.client("iam").create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    ctx = account.context()
    rotation = Rotation(ctx, check_rotation(ctx, USER))
    rotation.create_new_key()
    rotation.mark_shown()
    rotation.stop(discard_new=True)
    assert _keys(account) == {old: "Active"}
    assert "the new key" in rotation.events[-1].message and rotation.events[-1].status == "stopped"
    assert "Nothing was changed" in rotation.summary()


def test_steps_run_only_in_order(account):
    account.client("iam").create_access_key(UserName=USER)
    ctx = account.context()
    rotation = Rotation(ctx, check_rotation(ctx, USER))
    with pytest.raises(S3CredError, match="cannot deactivate"):
        rotation.deactivate_old(confirmed=True)
    rotation.create_new_key()
    with pytest.raises(S3CredError, match="next step is: show"):
        rotation.probe_new_key()


def test_a_full_user_says_which_key_must_go_first(account):
    iam = account.client("iam")
    older = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    newer = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    _age_keys(account, 400, 200)
    ctx = account.context()
    unnamed = check_rotation(ctx, USER)
    assert not unnamed.ok and "Name the one to replace" in unnamed.blocker
    # Replacing the newer one while the older is still there: the older must go first.
    blocked = check_rotation(ctx, USER, newer)
    assert not blocked.ok and f"{older} must go first" in blocked.blocker
    # An inactive other key must go first too.
    iam.update_access_key(UserName=USER, AccessKeyId=newer, Status="Inactive")
    blocked = check_rotation(ctx, USER, older)
    assert not blocked.ok and f"{newer} must go first (it is inactive" in blocked.blocker
    with pytest.raises(S3CredError):
        Rotation(ctx, blocked)
    assert _keys(account) == {older: "Active", newer: "Inactive"}


def test_a_full_user_whose_newer_key_is_the_replacement_resumes_at_deactivation(account):
    iam = account.client("iam")
    older = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    newer = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    _age_keys(account, 400, 1)
    ctx = account.context()
    check = check_rotation(ctx, USER, older)
    assert check.ok and check.replacement.id == newer
    assert "taken as the new key" in check.notes[0]
    rotation = Rotation(ctx, check)
    assert [e.status for e in rotation.events] == ["done", "skipped", "skipped", "skipped"]
    assert rotation.next_step is RotationStep.DEACTIVATE
    rotation.deactivate_old(confirmed=True)
    rotation.finish(delete=True)
    assert _keys(account) == {newer: "Active"}


def test_the_key_the_app_signs_with_is_never_deactivated(account):
    ctx = account.context()
    me = whoami(ctx)
    caller_key = ctx.caller_access_key_id()
    check = check_rotation(ctx, me.name, caller_key, identity=me, caller_key_id=caller_key)
    assert check.ok and "signed in with" in check.notes[0]
    rotation = Rotation(ctx, check, identity=me, caller_key_id=caller_key)
    new = rotation.create_new_key().access_key_id
    rotation.mark_shown()
    rotation.probe_new_key(sleep=lambda _s: None)
    rotation.deactivate_old(confirmed=True)
    assert rotation.stopped and "cut this session off" in rotation.events[-1].message
    keys = {k["AccessKeyId"]: k["Status"] for k in account.client("iam").list_access_keys(UserName=me.name)["AccessKeyMetadata"]}
    assert keys == {caller_key: "Active", new: "Active"}


def test_a_probe_that_does_not_sign_as_the_user_fails_and_changes_nothing(account):
    old = account.client("iam").create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    ctx = account.context()
    rotation = Rotation(ctx, check_rotation(ctx, USER))
    new = rotation.create_new_key().access_key_id
    rotation.mark_shown()
    account.client("iam").delete_access_key(UserName=USER, AccessKeyId=new)  # gone before it is probed
    account.enforce()
    try:
        with pytest.raises(S3CredError, match="did not accept"):
            rotation.probe_new_key(sleep=lambda _s: None, budget_seconds=0.5)
    finally:
        account.enforce(False)
    assert rotation.events[-1].status == "failed" and rotation.next_step is RotationStep.PROBE
    assert _keys(account) == {old: "Active"}


def test_unknown_user_and_key(account):
    ctx = account.context()
    with pytest.raises(NotFound):
        check_rotation(ctx, "nobody-here")
    assert "no access key to rotate" in check_rotation(ctx, USER).blocker
    assert "has no access key AKIADOESNOTEXIST" in check_rotation(ctx, USER, "AKIADOESNOTEXIST").blocker
