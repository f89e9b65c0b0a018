"""Deleting a user: read everything first, then remove; a stop says exactly what was removed and what remains."""

from __future__ import annotations

import json

import botocore.exceptions
import pytest
from botocore.parsers import ResponseParserError
from moto import mock_aws

from s3cred_tui.core.deletion import (
    PartialDeletion,
    delete_user,
    read_user_deletion,
    run_user_deletion,
    self_deletion_refusal,
)
from s3cred_tui.core.errors import AccessDenied, NotFound
from s3cred_tui.core.inventory import Identity
from s3cred_tui.core.session import AwsContext

POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]})


@pytest.fixture
def ctx():
    with mock_aws():
        yield AwsContext()


def _user_with_things(ctx: AwsContext, name: str = "departing") -> str:
    iam = ctx.iam
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="inline", PolicyDocument=POLICY)
    arn = iam.create_policy(PolicyName="readers", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_user_policy(UserName=name, PolicyArn=arn)
    iam.create_group(GroupName="staff")
    iam.add_user_to_group(GroupName="staff", UserName=name)
    iam.create_access_key(UserName=name)
    return name


def _client_error(code: str, operation: str) -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)


def _what_is_left(ctx: AwsContext, name: str) -> dict[str, int]:
    iam = ctx.iam
    return {
        "inline": len(iam.list_user_policies(UserName=name)["PolicyNames"]),
        "attached": len(iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]),
        "groups": len(iam.list_groups_for_user(UserName=name)["Groups"]),
        "keys": len(iam.list_access_keys(UserName=name)["AccessKeyMetadata"]),
    }


def test_reading_changes_nothing_and_lists_every_removal_with_the_user_last(ctx):
    name = _user_with_things(ctx)
    deletion = read_user_deletion(ctx, name)
    titles = deletion.describe()
    assert titles[-1] == f"Delete user {name}"
    assert any(t.startswith("Detach policy readers") for t in titles)
    assert "Delete inline policy inline" in titles
    assert "Remove from group staff" in titles
    assert sum(t.startswith("Delete access key") for t in titles) == 1
    assert _what_is_left(ctx, name) == {"inline": 1, "attached": 1, "groups": 1, "keys": 1}


def test_delete_user_removes_everything_then_the_user(ctx):
    name = _user_with_things(ctx)
    removed = delete_user(ctx, name)
    assert removed[-1] == f"Delete user {name}"
    with pytest.raises(botocore.exceptions.ClientError):
        ctx.iam.get_user(UserName=name)


def test_a_listing_the_endpoint_does_not_support_counts_as_nothing_to_remove(ctx, monkeypatch):
    name = _user_with_things(ctx)

    def html_page(**kwargs):  # what moto answers for ListServiceSpecificCredentials: an HTML 500 page
        raise ResponseParserError("Unable to parse response: <!doctype html>")

    monkeypatch.setattr(ctx.iam, "list_service_specific_credentials", html_page)
    deletion = read_user_deletion(ctx, name)
    assert deletion.unsupported == ("iam:ListServiceSpecificCredentials",)
    result = run_user_deletion(ctx, deletion)
    assert result.ok, result.summary()
    with pytest.raises(botocore.exceptions.ClientError):
        ctx.iam.get_user(UserName=name)


def test_a_denied_listing_stops_before_anything_is_removed(ctx, monkeypatch):
    name = _user_with_things(ctx)

    def denied(**kwargs):
        raise _client_error("AccessDenied", "ListSSHPublicKeys")

    monkeypatch.setattr(ctx.iam, "list_ssh_public_keys", denied)
    with pytest.raises(AccessDenied):
        delete_user(ctx, name)
    assert _what_is_left(ctx, name) == {"inline": 1, "attached": 1, "groups": 1, "keys": 1}


def test_a_failure_half_way_reports_removed_and_remaining_exactly(ctx, monkeypatch):
    name = _user_with_things(ctx)

    def fail(**kwargs):
        raise _client_error("ServiceFailure", "RemoveUserFromGroup")

    monkeypatch.setattr(ctx.iam, "remove_user_from_group", fail)
    with pytest.raises(PartialDeletion) as raised:
        delete_user(ctx, name)
    result = raised.value.result
    assert result.removed == ["Detach policy readers", "Delete inline policy inline"]
    assert result.remaining[0] == "Remove from group staff"
    assert result.remaining[-1] == f"Delete user {name}"
    # The report matches the account.
    assert _what_is_left(ctx, name) == {"inline": 0, "attached": 0, "groups": 1, "keys": 1}
    assert "Still there: Remove from group staff" in str(raised.value)


def test_a_cancel_between_steps_stops_and_reports(ctx):
    name = _user_with_things(ctx)
    deletion = read_user_deletion(ctx, name)
    calls = iter([False, False, True])
    result = run_user_deletion(ctx, deletion, is_cancelled=lambda: next(calls, True))
    assert result.cancelled and not result.ok
    assert len(result.removed) == 2
    assert result.remaining == deletion.describe()[2:]


def test_missing_user_is_not_found_and_nothing_runs(ctx):
    with pytest.raises(NotFound):
        delete_user(ctx, "nobody")


def _identity(kind: str, name: str) -> Identity:
    return Identity(account="123456789012", arn=f"arn:aws:iam::123456789012:user/{name}", user_id="AIDA",
                    principal_type=kind, name=name)


def test_deleting_yourself_or_the_key_you_are_signed_in_with_is_refused():
    me = _identity("user", "alice")
    assert "is you" in self_deletion_refusal(me, "alice", "AKIAME")
    assert "signed in with" in self_deletion_refusal(me, "alice", "AKIAME", key_id="AKIAME")
    assert self_deletion_refusal(me, "alice", "AKIAME", key_id="AKIAOTHER") is None
    assert self_deletion_refusal(me, "bob", "AKIAME") is None
    assert self_deletion_refusal(_identity("assumed-role", "alice"), "alice", None) is None
