"""`made`, `rotate-key`, `cleanup`, `delete-user`, `list-roles` and the reference CLI's short flags,
in-process (`cli.main([...])`) against the threaded moto server."""

from __future__ import annotations

import io
import json
import sys

import pytest

from s3cred_tui import cli
from s3cred_tui.core.made import HELPER_ROLE_NAME

BUCKET = "cli-life"
USER = f"s3.read-only.{BUCKET}"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def account(server_account, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server_account.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server_account.admin.secret_access_key)
    monkeypatch.setenv("AWS_ENDPOINT_URL", server_account.endpoint_url)
    server_account.client("s3").create_bucket(Bucket=BUCKET)
    return server_account


def keys_of(account, user: str) -> dict[str, str]:
    listed = account.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    return {k["AccessKeyId"]: k["Status"] for k in listed}


def users(account) -> set[str]:
    return {u["UserName"] for u in account.client("iam").list_users()["Users"]}


def test_short_flags_silent_and_made_json(account, capsys):
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "-f", "env", "--silent")
    assert code == 0, err
    assert out.startswith("export AWS_ACCESS_KEY_ID=")
    assert "[1/" not in err  # --silent: no step lines
    code, out, err = run(capsys, "create", BUCKET, "-d", "15m", "--dry-run", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert any(step["action"] == "sts:AssumeRole" for step in plan["steps"])
    assert any(step.get("params", {}).get("DurationSeconds") == 900 for step in plan["steps"])

    code, out, err = run(capsys, "made", "--json")
    assert code == 0, err
    made = json.loads(out)
    (user,) = made["users"]
    assert user["UserName"] == USER
    assert user["reach"] == [{"bucket": BUCKET, "prefix": "", "level": "read-only", "capabilities": ["list", "read"]}]
    assert user["access_keys"][0]["Status"] == "Active" and user["stale"] == []
    assert made["roles"] == [] and made["buckets"] == []


def test_policy_accepts_inline_json_and_still_a_file(account, capsys, tmp_path):
    inline = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
    code, out, err = run(capsys, "policy", BUCKET, "--policy", inline)
    assert code == 0, err
    assert json.loads(out)["Statement"][0]["Action"] == "s3:GetObject"
    path = tmp_path / "policy.json"
    path.write_text(inline)
    code, out, _ = run(capsys, "policy", BUCKET, "--policy", str(path))
    assert code == 0 and json.loads(out)["Statement"][0]["Action"] == "s3:GetObject"
    code, out, err = run(capsys, "policy", BUCKET, "--policy", "{not json")
    assert code == 2 and err.startswith("error: ") and "--policy" in err and "Traceback" not in err


def test_made_text_names_reach_keys_and_the_helper_role(account, capsys):
    assert run(capsys, "create", BUCKET, "--read-only", "--silent")[0] == 0
    assert run(capsys, "create", BUCKET, "--duration", "15m", "--silent")[0] == 0
    code, out, err = run(capsys, "made")
    assert code == 0, err
    assert f"  {USER}: {BUCKET}/ read-only" in out
    assert f"{HELPER_ROLE_NAME} (helper role): every bucket read-write" in out
    assert "user demo-admin can assume it" in out and "only you can assume it" in out


def test_rotate_key_all_the_way(account, capsys, monkeypatch):
    assert run(capsys, "create", BUCKET, "--read-only", "--silent")[0] == 0
    (old,) = keys_of(account, USER)
    code, out, err = run(capsys, "rotate-key", USER, "-f", "json", stdin="y\nyes\n", monkeypatch=monkeypatch)
    assert code == 0, err
    new = json.loads(out)["AccessKeyId"]
    assert new != old
    assert keys_of(account, USER) == {new: "Active"}
    for step in ("[create] done", "[show] done", "[probe] done", "[deactivate] done", "[delete] done"):
        assert step in err
    assert "finished" in err.splitlines()[-1]
    assert json.loads(out)["SecretAccessKey"] not in err


def test_rotate_key_stops_without_a_yes_and_says_both_keys_work(account, capsys, monkeypatch):
    assert run(capsys, "create", BUCKET, "--read-only", "--silent")[0] == 0
    (old,) = keys_of(account, USER)
    code, out, err = run(capsys, "rotate-key", USER, stdin="", monkeypatch=monkeypatch)
    assert code == 1
    new = json.loads(out)["AccessKeyId"]
    assert keys_of(account, USER) == {old: "Active", new: "Active"}
    assert "Both keys work" in err.splitlines()[-1]
    # Run again naming the old key: the newer key is taken as the replacement, and it finishes.
    code, out, err = run(capsys, "rotate-key", USER, "--key-id", old, stdin="y\nn\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert out == ""  # no new key this time
    assert keys_of(account, USER) == {old: "Inactive", new: "Active"}
    assert "left inactive" in err


def test_rotate_key_of_a_full_user_says_which_key_must_go(account, capsys, monkeypatch):
    iam = account.client("iam")
    iam.create_user(UserName="full")
    first = iam.create_access_key(UserName="full")["AccessKey"]["AccessKeyId"]
    second = iam.create_access_key(UserName="full")["AccessKey"]["AccessKeyId"]
    iam.update_access_key(UserName="full", AccessKeyId=second, Status="Inactive")
    code, out, err = run(capsys, "rotate-key", "full", "--key-id", first, stdin="y\ny\n", monkeypatch=monkeypatch)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and f"{second} must go first" in err
    assert keys_of(account, "full") == {first: "Active", second: "Inactive"}


def test_cleanup_dry_run_then_for_real(account, capsys, monkeypatch):
    assert run(capsys, "create", "cli-made-bucket", "--read-only", "-c", "--silent")[0] == 0
    code, out, err = run(capsys, "cleanup", "--dry-run")
    assert code == 0, err
    assert "Remove user s3.read-only.cli-made-bucket" in out and "Remove bucket cli-made-bucket" in out
    assert "s3.read-only.cli-made-bucket" in users(account)
    code, out, err = run(capsys, "cleanup", "--dry-run", "--json")
    assert [item["name"] for item in json.loads(out)["remove"]] == ["s3.read-only.cli-made-bucket", "cli-made-bucket"]
    # A no leaves everything.
    code, out, err = run(capsys, "cleanup", stdin="n\n", monkeypatch=monkeypatch)
    assert code == 1 and "Nothing was removed" in err
    code, out, err = run(capsys, "cleanup", stdin="y\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert "Removed 2 items" in err
    assert "s3.read-only.cli-made-bucket" not in users(account)
    assert "cli-made-bucket" not in {b["Name"] for b in account.client("s3").list_buckets()["Buckets"]}


def test_cleanup_of_a_name_it_did_not_make_is_refused(account, capsys):
    account.client("iam").create_user(UserName="not-ours")
    code, _, err = run(capsys, "cleanup", "not-ours", "--yes")
    assert code == 1 and "Not made by s3cred-tui" in err
    assert "not-ours" in users(account)


def test_delete_user_removes_what_blocks_it_and_refuses_you(account, capsys):
    iam = account.client("iam")
    iam.create_user(UserName="leaving")
    iam.put_user_policy(UserName="leaving", PolicyName="read", PolicyDocument=json.dumps(READ))
    iam.create_group(GroupName="team")
    iam.add_user_to_group(GroupName="team", UserName="leaving")
    iam.create_access_key(UserName="leaving")
    code, out, err = run(capsys, "delete-user", "leaving", "demo-admin")
    assert code == 1
    assert "User: leaving" in out and "  Delete inline policy read" in out and "  Delete user leaving" in out
    assert "Remove from group team" in out
    assert "is you" in err
    assert "leaving" not in users(account) and "demo-admin" in users(account)
    code, _, err = run(capsys, "delete-user", "nobody-at-all")
    assert code == 1 and "nobody-at-all" in err


def test_list_roles_with_details_in_the_reference_shape(account, capsys):
    iam = account.client("iam")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="reader", PolicyName="read", PolicyDocument=json.dumps(READ))
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(TRUST))
    code, out, err = run(capsys, "list-roles")
    assert code == 0, err
    assert sorted(r["RoleName"] for r in json.loads(out)) == ["other", "reader"]
    code, out, err = run(capsys, "list-roles", "reader", "--details")
    assert code == 0, err
    (role,) = json.loads(out)
    assert role["AssumeRolePolicyDocument"] == TRUST
    assert role["inline_policies"] == [{"RoleName": "reader", "PolicyName": "read", "PolicyDocument": READ}]
    (attached,) = role["attached_policies"]
    assert attached["PolicyName"] == "AmazonS3ReadOnlyAccess"
    assert attached["PolicyVersion"]["Document"]["Statement"]
    code, out, err = run(capsys, "list-roles", "--csv")
    assert code == 0 and out.splitlines()[0].startswith("Path,RoleName,RoleId,Arn")


def test_made_uses_the_stale_thresholds_of_the_settings(account, capsys, monkeypatch, tmp_path):
    from datetime import datetime, timedelta, timezone

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    assert run(capsys, "create", BUCKET, "--read-only", "--silent")[0] == 0
    key = iam_backends[DEFAULT_ACCOUNT_ID]["global"].users[USER].access_keys[0]
    key.create_date = datetime.now(timezone.utc) - timedelta(days=10)
    monkeypatch.setenv("S3CRED_TUI_CONFIG_DIR", str(tmp_path))
    _, out, _ = run(capsys, "made", "--json")
    assert json.loads(out)["users"][0]["stale"] == []  # 10 days: fine by the 90-day default
    (tmp_path / "config.toml").write_text("stale_key_days = 5\n")
    _, out, _ = run(capsys, "made", "--json")
    assert json.loads(out)["users"][0]["stale"] == ["old-key"]
    (tmp_path / "config.toml").write_text("stale_key_days = 'soon'\n")
    code, out, err = run(capsys, "made", "--json")
    assert code == 0 and "warning:" in err and "stale_key_days" in err
    assert json.loads(out)["users"][0]["stale"] == []
