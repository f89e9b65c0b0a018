"""The command line, in-process (`cli.main([...])`), against the threaded moto server."""

from __future__ import annotations

import configparser
import csv
import datetime as dt
import io
import json
import sys

import boto3
import pytest

from s3cred_tui import cli
from s3cred_tui.core.errors import AccessDenied, translate
from s3cred_tui.core.session import SessionConfig
from s3cred_tui.demo.account import start_demo
from s3cred_tui.demo.seed import DEMO_BUCKETS, register_aws_managed_policies

BUCKET = "cli-data"
OBJECTS = ("reports/2024/q1/a.csv", "reports/2025/b.csv", "reports-private/secret.txt", "other/c.txt")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *fragments: str) -> None:
    assert err.startswith("error: "), err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err


@pytest.fixture
def account(server_account, monkeypatch):
    """A small account on the threaded server; the process acts as its administrator."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server_account.admin.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server_account.admin.secret_access_key)
    register_aws_managed_policies()  # AWS has them; moto loads them only on request
    s3 = server_account.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    for key in OBJECTS:
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"content of {key}".encode())
    s3.create_bucket(Bucket="cli-other", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    iam = server_account.client("iam")
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader",
        PolicyName="read-reports",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/reports/*"}],
            }
        ),
    )
    return server_account


def s3_as(account, creds: dict, region: str = "us-east-1"):
    return boto3.client(
        "s3",
        endpoint_url=account.endpoint_url,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds.get("SessionToken"),
    )


def denied(call, *args, **kwargs) -> bool:
    try:
        call(*args, **kwargs)
    except Exception as exc:
        if isinstance(translate(exc), AccessDenied):
            return True
        raise
    return False


def account_state(account) -> dict:
    iam = account.client("iam")
    return {
        "users": sorted(u["UserName"] for u in iam.list_users()["Users"]),
        "keys": sorted(
            k["AccessKeyId"]
            for u in iam.list_users()["Users"]
            for k in iam.list_access_keys(UserName=u["UserName"])["AccessKeyMetadata"]
        ),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "buckets": sorted(b["Name"] for b in account.client("s3").list_buckets()["Buckets"]),
    }


# ---------------------------------------------------------------------------
# Endpoint selection, for every command


COMMANDS = {
    "whoami": (["whoami"], "user/demo-admin"),
    "list-buckets": (["list-buckets"], '"cli-other"'),
    "list-bucket": (["list-bucket", BUCKET], "reports/2025/b.csv"),
    "list-users": (["list-users"], '"reader"'),
    "list-user-policies": (["list-user-policies", "reader"], "read-reports"),
    "create --dry-run": (["create", BUCKET, "--read-only", "--dry-run"], "iam:CreateUser"),
    "create": (["create", BUCKET, "--read-only"], '"SecretAccessKey"'),
}


@pytest.mark.parametrize(
    "command, how",
    [(command, how) for command in COMMANDS for how in ("flag-after", "environment")]
    + [("whoami", "flag-before"), ("list-bucket", "flag-before"), ("create", "flag-before")],
)
def test_every_command_reaches_the_chosen_endpoint(account, capsys, monkeypatch, command, how):
    argv, expected = COMMANDS[command]
    if how == "flag-after":
        argv = [*argv, "--endpoint-url", account.endpoint_url]
    elif how == "flag-before":
        argv = ["--endpoint-url", account.endpoint_url, *argv]
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL", account.endpoint_url)  # botocore's own variable
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert expected in out


def test_profile_option(account, capsys, tmp_path, monkeypatch):
    # conftest points AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE into tmp_path; the
    # environment keys are bogus there, so success proves the profile's keys were used.
    (tmp_path / "aws-credentials").write_text(
        f"[cli-test]\naws_access_key_id = {account.admin.access_key_id}\n"
        f"aws_secret_access_key = {account.admin.secret_access_key}\n"
    )
    (tmp_path / "aws-config").write_text("[profile cli-test]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    code, out, err = run(capsys, "whoami", "--profile", "cli-test", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert json.loads(out)["name"] == "demo-admin"

    code, out, err = run(capsys, "--profile", "no-such-profile", "whoami", "--endpoint-url", account.endpoint_url)
    assert code == 1
    assert_one_line_error(err, "no-such-profile")


# ---------------------------------------------------------------------------
# whoami and listings


def test_whoami(account, capsys):
    code, out, err = run(capsys, "whoami", "--endpoint-url", account.endpoint_url)
    assert code == 0 and err == ""
    identity = json.loads(out)
    assert identity["account"] == "123456789012"
    assert identity["principal_type"] == "user"
    assert identity["arn"].endswith(":user/demo-admin")


def test_list_buckets_default_and_details(account, capsys):
    code, out, _ = run(capsys, "list-buckets", "--endpoint-url", account.endpoint_url)
    assert code == 0
    buckets = {b["Name"]: b for b in json.loads(out)}
    assert set(buckets) == {BUCKET, "cli-other"}
    dt.datetime.fromisoformat(buckets[BUCKET]["CreationDate"])

    account.client("s3").put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    code, out, _ = run(capsys, "list-buckets", "--details", "--nl", "--endpoint-url", account.endpoint_url)
    assert code == 0
    details = {b["Name"]: b for b in map(json.loads, out.splitlines())}
    assert details["cli-other"]["Region"] == "eu-west-1"
    assert details[BUCKET]["Region"] == "us-east-1"
    assert details[BUCKET]["Versioning"] == "Enabled"
    assert details["cli-other"]["Versioning"] == "Never enabled"


def test_list_bucket_is_recursive_and_honours_prefix(account, capsys):
    code, out, _ = run(capsys, "list-bucket", BUCKET, "--endpoint-url", account.endpoint_url)
    assert code == 0
    assert [o["Key"] for o in json.loads(out)] == sorted(OBJECTS)

    code, out, _ = run(capsys, "list-bucket", BUCKET, "--prefix", "reports/", "--nl", "--endpoint-url", account.endpoint_url)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["Key"] for r in records] == ["reports/2024/q1/a.csv", "reports/2025/b.csv"]
    assert records[0]["Size"] == len(b"content of reports/2024/q1/a.csv")
    assert dt.datetime.fromisoformat(records[0]["LastModified"]).tzinfo is not None


def test_listing_streams_page_by_page(account, capsys, monkeypatch):
    """The first page is on stdout, as valid JSON items, before the second page is requested."""
    from s3cred_tui.core import inventory

    printed_before_page: list[str] = []
    real = inventory.iter_object_records

    def spy(*args, **kwargs):
        for page in real(*args, **kwargs):
            printed_before_page.append(sys.stdout.getvalue())
            yield page

    monkeypatch.setattr(inventory, "iter_object_records", spy)
    code, out, _ = run(capsys, "list-bucket", BUCKET, "--page-size", "1", "--endpoint-url", account.endpoint_url)
    assert code == 0
    assert len(printed_before_page) == len(OBJECTS)
    assert printed_before_page[0] == ""  # nothing printed before the first page answered
    assert printed_before_page[2].startswith("[")
    assert "reports-private/secret.txt" in printed_before_page[2]  # page 2 printed before page 3 was fetched
    assert [o["Key"] for o in json.loads(out)] == sorted(OBJECTS)


def test_empty_listings_are_valid(account, capsys):
    account.client("s3").create_bucket(Bucket="cli-empty")
    for fmt, expected in (([], "[]\n"), (["--nl"], ""), (["--csv"], "Key,LastModified,ETag,Size,StorageClass,extra\n")):
        code, out, _ = run(capsys, "list-bucket", "cli-empty", *fmt, "--endpoint-url", account.endpoint_url)
        assert code == 0
        assert out == expected


def test_csv_and_tsv_keep_every_field_and_a_late_new_field_goes_to_extra(account, capsys):
    """Objects written by an old client have no checksum; a field first seen on page 2 must not crash."""
    from moto.s3.models import s3_backends

    account.client("s3").create_bucket(Bucket="cli-mixed")
    backend = s3_backends["123456789012"]["aws"]
    for key in ("a-old-1.txt", "a-old-2.txt"):
        backend.put_object("cli-mixed", key, b"written before checksums existed")
    account.client("s3").put_object(Bucket="cli-mixed", Key="b-new.txt", Body=b"x", ChecksumAlgorithm="SHA256")

    code, out, err = run(capsys, "list-bucket", "cli-mixed", "--csv", "--page-size", "2", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["Key", "LastModified", "ETag", "Size", "StorageClass", "extra"]
    assert [r["Key"] for r in rows] == ["a-old-1.txt", "a-old-2.txt", "b-new.txt"]
    assert rows[0]["extra"] == ""
    assert json.loads(rows[2]["extra"])["ChecksumAlgorithm"] == ["SHA256"]
    assert rows[0]["ETag"].startswith('"')  # AWS's value, untouched

    # When the field is on the first page it gets its own column instead.
    code, out, _ = run(capsys, "list-bucket", BUCKET, "--tsv", "--endpoint-url", account.endpoint_url)
    rows = list(csv.DictReader(io.StringIO(out), delimiter="\t"))
    assert "ChecksumAlgorithm" in rows[0] and rows[0]["extra"] == ""
    assert json.loads(rows[0]["ChecksumAlgorithm"]) == ["CRC32"]


def test_record_writer_formats():
    pages = [[{"Name": "a", "When": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)}], [], [{"Name": "b, c", "New": {"x": 1}}]]
    outputs = {}
    for fmt in ("json", "nl", "csv", "tsv"):
        buffer = io.StringIO()
        writer = cli.RecordWriter(buffer, fmt, fields=["Name"])
        for page in pages:
            writer.write_page(page)
        writer.close()
        outputs[fmt] = buffer.getvalue()
    assert json.loads(outputs["json"]) == [{"Name": "a", "When": "2024-01-02T03:04:05+00:00"}, {"Name": "b, c", "New": {"x": 1}}]
    assert [json.loads(line)["Name"] for line in outputs["nl"].splitlines()] == ["a", "b, c"]
    rows = list(csv.reader(io.StringIO(outputs["csv"])))
    assert rows == [["Name", "When", "extra"], ["a", "2024-01-02T03:04:05+00:00", ""], ["b, c", "", '{"New": {"x": 1}}']]
    assert list(csv.reader(io.StringIO(outputs["tsv"]), delimiter="\t")) == rows


def test_list_users_and_user_policies(account, capsys):
    code, out, _ = run(capsys, "list-users", "--csv", "--endpoint-url", account.endpoint_url)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["UserName"] for r in rows} == {"demo-admin", "reader"}
    assert all(r["Arn"].startswith("arn:aws:iam::123456789012:user/") for r in rows)

    code, out, _ = run(capsys, "list-user-policies", "--endpoint-url", account.endpoint_url)
    assert code == 0
    policies = {r["UserName"]: r for r in json.loads(out)}
    assert set(policies) == {"demo-admin", "reader"}
    statement = policies["reader"]["InlinePolicies"]["read-reports"]["Statement"][0]
    assert statement["Resource"] == f"arn:aws:s3:::{BUCKET}/reports/*"

    code, _, err = run(capsys, "list-user-policies", "nobody", "--endpoint-url", account.endpoint_url)
    assert code == 1
    assert_one_line_error(err, "Not found")


# ---------------------------------------------------------------------------
# policy


def test_policy_prints_the_generated_policy(capsys):
    code, out, err = run(capsys, "policy", BUCKET, "--read-only", "--prefix", "reports")
    assert code == 0 and err == ""
    document = json.loads(out)
    resources = [r for s in document["Statement"] for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])]
    assert f"arn:aws:s3:::{BUCKET}/reports/*" in resources
    actions = {a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:GetObject" in actions and "s3:PutObject" not in actions

    code, out, _ = run(capsys, "policy", BUCKET, "--write-only")
    actions = {a for s in json.loads(out)["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert "s3:PutObject" in actions and "s3:GetObject" not in actions


def test_policy_prefix_modes_and_extra_statements(capsys, tmp_path):
    code, out, _ = run(capsys, "policy", BUCKET, "--prefix", "odd*name", "--literal-prefix")
    assert code == 0
    assert f"arn:aws:s3:::{BUCKET}/odd${{*}}name/*" in out
    code, out, _ = run(capsys, "policy", BUCKET, "--prefix", "logs/*/app", "--prefix-pattern")
    assert code == 0
    assert f"arn:aws:s3:::{BUCKET}/logs/*/app/*" in out

    extra = {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}
    path = tmp_path / "extra.json"
    path.write_text(json.dumps([extra]))
    statement = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    code, out, _ = run(capsys, "policy", BUCKET, "--extra-statements", str(path), "--statement", json.dumps(statement))
    assert code == 0
    assert json.loads(out)["Statement"][-2:] == [extra, statement]


# ---------------------------------------------------------------------------
# Bad arguments: exit 2, one line, nothing on stdout, no AWS call


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["frobnicate"], "invalid choice"),
        (["list-bucket"], "BUCKET"),
        (["policy", BUCKET, "--read-only", "--write-only"], "not allowed with"),
        (["policy", "Bad_Bucket"], "Bad_Bucket"),
        (["policy", BUCKET, "--prefix", "/reports"], "did you mean 'reports/'"),
        (["policy", BUCKET, "--prefix", "a*b"], "--literal-prefix"),
        (["policy", BUCKET, "--statement", "{not json"], "not valid JSON"),
        (["policy", BUCKET, "--statement", '{"Effect": "Allow"}'], "Action"),
        (["list-buckets", "--page-size", "0"], "at least 1"),
        (["create", BUCKET, "--duration", "forever"], "forever"),
        (["create", BUCKET, "--duration", "13h"], "12 hours"),
        (["create", BUCKET, "--duration", "1h", "--method", "permanent"], "--duration"),
        (["create", BUCKET, "--duration", "1h", "--username", "someone"], "--username"),
        (["create", BUCKET, "--method", "magic"], "invalid choice"),
        (["create", BUCKET, "--format", "yaml"], "invalid choice"),
        (["create", BUCKET, "--policy", "/no/such/policy.json"], "Cannot read policy file"),
        (["--demo", "--endpoint-url", "http://127.0.0.1:9", "whoami"], "--demo"),
        (["--read-only", "create", BUCKET], "create BUCKET --read-only"),
        (["create", BUCKET, "--json"], "--dry-run"),
        (["create", BUCKET, "--policy", "p.json", "--prefix", "reports"], "--prefix"),
        (["create", BUCKET, "--ini-profile", "x"], "--format ini"),
        (["create", BUCKET, "--format", "ini", "--ini-profile", "[bad]"], "brackets"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert_one_line_error(err, fragment)


# ---------------------------------------------------------------------------
# A key that may not do something


def test_access_denied_is_one_clear_line(account, capsys, monkeypatch):
    iam = account.client("iam")
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    account.enforce()
    for argv, operation in (
        (["list-users"], "iam:ListUsers"),
        (["list-bucket", BUCKET], "s3:ListBucket"),
        (["list-user-policies", "reader"], "iam:GetUser"),
    ):
        code, out, err = run(capsys, *argv, "--endpoint-url", account.endpoint_url)
        assert code == 1
        assert out == ""
        assert_one_line_error(err, "Access denied", operation)
        assert key["SecretAccessKey"] not in err

    code, _, err = run(capsys, "create", BUCKET, "--read-only", "--endpoint-url", account.endpoint_url)
    assert code == 1
    assert "Access denied" in err and "Traceback" not in err


# ---------------------------------------------------------------------------
# create


def test_create_read_only_prefix_key_works_inside_and_is_refused_outside(account, capsys):
    before = account_state(account)
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--prefix", "reports", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    creds = json.loads(out)
    assert set(creds) == {"AccessKeyId", "SecretAccessKey"}
    # Progress went to stderr, and the secret did not.
    assert "done" in err and "Create IAM user s3.read-only.cli-data" in err
    assert creds["SecretAccessKey"] not in err
    assert account_state(account)["users"] == sorted([*before["users"], "s3.read-only.cli-data"])

    account.enforce()
    s3 = s3_as(account, creds)
    assert s3.get_object(Bucket=BUCKET, Key="reports/2024/q1/a.csv")["Body"].read() == b"content of reports/2024/q1/a.csv"
    assert denied(s3.get_object, Bucket=BUCKET, Key="reports-private/secret.txt")
    assert denied(s3.get_object, Bucket=BUCKET, Key="other/c.txt")
    assert denied(s3.put_object, Bucket=BUCKET, Key="reports/new.csv", Body=b"x")
    assert denied(s3.list_objects_v2, Bucket="cli-other")


def test_create_read_write_can_write_only_inside_its_prefix(account, capsys):
    code, out, err = run(
        capsys, "create", BUCKET, "--prefix", "reports/2025", "--username", "writer-2025", "--endpoint-url", account.endpoint_url
    )
    assert code == 0, err
    creds = json.loads(out)
    account.enforce()
    s3 = s3_as(account, creds)
    s3.put_object(Bucket=BUCKET, Key="reports/2025/new.csv", Body=b"new")
    assert s3.get_object(Bucket=BUCKET, Key="reports/2025/new.csv")["Body"].read() == b"new"
    s3.delete_object(Bucket=BUCKET, Key="reports/2025/new.csv")
    assert denied(s3.put_object, Bucket=BUCKET, Key="reports/2024/q1/a.csv", Body=b"overwrite")
    assert denied(s3.delete_object, Bucket=BUCKET, Key="other/c.txt")


def test_create_with_custom_policy_and_extra_statement(account, capsys, tmp_path):
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/other/*"}],
    }
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy))
    code, out, err = run(capsys, "create", BUCKET, "--policy", str(path), "--username", "custom", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    custom = json.loads(out)

    extra = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::cli-other/*"}
    code, out, err = run(
        capsys, "create", BUCKET, "--read-only", "--prefix", "reports", "--statement", json.dumps(extra),
        "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    with_extra = json.loads(out)
    account.client("s3").put_object(Bucket="cli-other", Key="shared.txt", Body=b"shared")

    account.enforce()
    s3 = s3_as(account, custom)
    assert s3.get_object(Bucket=BUCKET, Key="other/c.txt")["Body"].read() == b"content of other/c.txt"
    assert denied(s3.get_object, Bucket=BUCKET, Key="reports/2025/b.csv")
    s3 = s3_as(account, with_extra)
    assert s3.get_object(Bucket="cli-other", Key="shared.txt")["Body"].read() == b"shared"
    assert s3.get_object(Bucket=BUCKET, Key="reports/2025/b.csv")["Body"].read() == b"content of reports/2025/b.csv"


def test_format_choices_are_the_core_formats_table(capsys):
    """One table of formats: a format the core adds is offered by `--format`, and no other is."""
    from s3cred_tui.core.credentials import FORMATS

    code, out, _ = run(capsys, "create", "--help")
    assert code == 0
    # The help lists the table's formats (the choices are read from the core when help is printed).
    assert "how to print the credentials: " + ", ".join(FORMATS) + " (default: json)" in " ".join(out.split())
    code, _, err = run(capsys, "create", "some-bucket", "--format", "xml")
    assert code != 0
    assert "invalid choice: 'xml' (choose from " + ", ".join(repr(name) for name in FORMATS) + ")" in err


@pytest.mark.parametrize("fmt", ["ini", "env", "credential-process"])
def test_create_output_formats(account, capsys, fmt):
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--format", fmt, "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    if fmt == "ini":
        parser = configparser.ConfigParser()
        parser.read_string(out)
        key_id, secret = parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"]
    elif fmt == "env":
        exports = dict(line[len("export "):].split("=", 1) for line in out.splitlines() if line.startswith("export "))
        key_id, secret = exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"]
    else:
        document = json.loads(out)
        assert document["Version"] == 1
        key_id, secret = document["AccessKeyId"], document["SecretAccessKey"]
    assert secret not in err
    assert s3_as(account, {"AccessKeyId": key_id, "SecretAccessKey": secret}).get_object(
        Bucket=BUCKET, Key="other/c.txt"
    )["Body"].read()


def test_create_ini_profile_name(account, capsys):
    code, out, _ = run(capsys, "create", BUCKET, "--format", "ini", "--ini-profile", "cli-data-rw", "--endpoint-url", account.endpoint_url)
    assert code == 0
    assert out.startswith("[cli-data-rw]\n")


def test_create_temporary_credentials(account, capsys):
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--duration", "15m", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    creds = json.loads(out)
    assert {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} <= set(creds)
    expires = dt.datetime.fromisoformat(creds["Expiration"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=10) < expires - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(minutes=16)
    assert "sts:AssumeRole" in err or "Assume role" in err
    assert creds["SecretAccessKey"] not in err and creds["SessionToken"] not in err


def test_dry_run_changes_nothing(account, capsys):
    before = account_state(account)
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--prefix", "reports", "--dry-run", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert "iam:CreateUser" in out and "reports/*" in out
    code, out, err = run(
        capsys, "create", "cli-brand-new", "--create-bucket", "--bucket-region", "eu-central-1", "--dry-run", "--json",
        "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    plan = json.loads(out)
    assert "s3:CreateBucket" in [step["action"] for step in plan["steps"]]
    code, out, err = run(capsys, "create", BUCKET, "--duration", "1h", "--dry-run", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    assert "iam:CreateRole" in out
    assert account_state(account) == before


def test_create_bucket_in_a_region(account, capsys):
    code, out, err = run(
        capsys, "create", "cli-brand-new", "--create-bucket", "--bucket-region", "eu-central-1",
        "--endpoint-url", account.endpoint_url,
    )
    assert code == 0, err
    location = account.client("s3").get_bucket_location(Bucket="cli-brand-new")["LocationConstraint"]
    assert location == "eu-central-1"


def test_existing_user_is_a_blocker_unless_reused(account, capsys):
    code, out, err = run(capsys, "create", BUCKET, "--username", "reader", "--endpoint-url", account.endpoint_url)
    assert code == 1
    assert out == ""
    assert_one_line_error(err, "reader")
    assert account.client("iam").list_access_keys(UserName="reader")["AccessKeyMetadata"] == []

    code, out, err = run(capsys, "create", BUCKET, "--username", "reader", "--reuse-user", "--endpoint-url", account.endpoint_url)
    assert code == 0, err
    keys = account.client("iam").list_access_keys(UserName="reader")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [json.loads(out)["AccessKeyId"]]


def test_failed_create_rolls_back_and_says_so(account, capsys, monkeypatch):
    """A failure after the user was created leaves nothing behind, and stderr shows the undo."""
    from s3cred_tui.core.errors import LimitExceeded

    before = account_state(account)
    real_client = cli.AwsContext.client

    def client(self, service, region=None):
        real = real_client(self, service, region)
        if service != "iam":
            return real

        class FailingKeys:
            def __getattr__(self, name):
                return getattr(real, name)

            def create_access_key(self, **kwargs):
                raise LimitExceeded("AWS limit reached (iam:CreateAccessKey): test", code="LimitExceeded")

        return FailingKeys()

    monkeypatch.setattr(cli.AwsContext, "client", client)
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--endpoint-url", account.endpoint_url)
    assert code == 1
    assert out == ""
    assert "undone" in err
    assert err.splitlines()[-1].startswith("error: AWS limit reached")
    assert account_state(account) == before


def test_ctrl_c_during_create_cancels_and_waits_for_the_rollback(account, capsys, monkeypatch):
    """Ctrl-C does not abandon a half-made credential: apply is told to cancel and its undo finishes."""
    import _thread
    import threading

    from s3cred_tui.core import apply
    from s3cred_tui.core.errors import Cancelled

    seen_cancel = threading.Event()

    def apply_plan(ctx, plan, on_event=None, is_cancelled=lambda: False, **kwargs):
        _thread.interrupt_main()  # what Ctrl-C does to the main thread
        for _ in range(500):
            if is_cancelled():
                seen_cancel.set()
                break
            threading.Event().wait(0.01)
        on_event(apply.ApplyEvent(0, "Delete IAM user", "undone"))
        return apply.ApplyResult(ok=False, undone=["Delete IAM user"], error=Cancelled("Cancelled."), cancelled=True)

    monkeypatch.setattr(apply, "apply_plan", apply_plan)
    code, out, err = run(capsys, "create", BUCKET, "--read-only", "--endpoint-url", account.endpoint_url)
    assert seen_cancel.is_set()
    assert code == 130
    assert out == ""
    assert "Cancelling" in err and "undone: Delete IAM user" in err


# ---------------------------------------------------------------------------
# --demo, in-process


def test_demo_whoami_and_listing(capsys):
    code, out, err = run(capsys, "--demo", "whoami")
    assert code == 0, err
    assert json.loads(out)["name"] == "demo-admin"
    assert "demo account" in err

    code, out, err = run(capsys, "list-buckets", "--demo", "--nl")
    assert code == 0, err
    assert len(out.splitlines()) == len(DEMO_BUCKETS)


def test_demo_created_credential_is_refused_outside_its_bucket_and_prefix(capsys, monkeypatch):
    """The issue's done-when: create in the demo, then the key works only where it should."""
    with start_demo() as demo:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", demo.config.access_key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", demo.config.secret_access_key)
        code, out, err = run(
            capsys, "create", "acme-data-lake", "--read-only", "--prefix", "reports/2024",
            "--endpoint-url", demo.endpoint_url,
        )
        assert code == 0, err
        creds = json.loads(out)
        s3 = boto3.client(
            "s3",
            endpoint_url=demo.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
        )
        assert s3.get_object(Bucket="acme-data-lake", Key="reports/2024/q1/revenue.csv")["Body"].read()
        assert denied(s3.get_object, Bucket="acme-data-lake", Key="reports/2025/q1/revenue.csv")
        assert denied(s3.get_object, Bucket="acme-data-lake", Key="reports-private/board/salaries.xlsx")
        assert denied(s3.get_object, Bucket="acme-logs-archive", Key="logs/app/2026/11/01/app-00.log.gz")
        assert denied(s3.put_object, Bucket="acme-data-lake", Key="reports/2024/q1/new.csv", Body=b"x")


# ---------------------------------------------------------------------------
# Bare `s3cred-tui`: the app


@pytest.fixture
def fake_app(monkeypatch):
    calls: list[dict] = []

    def run_app(config: SessionConfig, *, read_only: bool = False, demo_note: str | None = None) -> None:
        from s3cred_tui.core.inventory import whoami
        from s3cred_tui.core.session import AwsContext

        call = {"config": config, "read_only": read_only, "demo_note": demo_note}
        if demo_note:
            call["identity"] = whoami(AwsContext(config)).name  # the demo is up while the app runs
        calls.append(call)

    monkeypatch.setattr("s3cred_tui.ui.launch.run_app", run_app)
    return calls


def test_help_exits_0(capsys):
    code, out, _ = run(capsys, "create", "--help")
    assert code == 0
    assert "--dry-run" in out and "--endpoint-url" in out


def test_bare_command_runs_the_app_with_the_options(fake_app, capsys):
    assert cli.main([]) == 0
    assert cli.main(["--read-only", "--profile", "dev", "--region", "eu-west-1", "--endpoint-url", "http://localhost:4566"]) == 0
    first, second = fake_app
    assert first["config"] == SessionConfig() and first["read_only"] is False and first["demo_note"] is None
    assert second["config"] == SessionConfig(profile="dev", region="eu-west-1", endpoint_url="http://localhost:4566")
    assert second["read_only"] is True


def test_bare_demo_runs_the_app_against_the_running_demo(fake_app, capsys):
    assert cli.main(["--demo", "--read-only"]) == 0
    (call,) = fake_app
    assert call["identity"] == "demo-admin"
    assert call["read_only"] is True
    assert call["config"].endpoint_url in call["demo_note"]


def test_demo_without_moto_says_which_extra_to_install(monkeypatch, capsys):
    # An install without the `demo` extra has no moto: the demo must say so in one line.
    monkeypatch.setitem(sys.modules, "moto", None)
    monkeypatch.setitem(sys.modules, "moto.server", None)
    code = cli.main(["--demo", "whoami"])
    err = capsys.readouterr().err
    assert code == 1
    assert "pip install 's3cred-tui[demo]'" in err
    assert "Traceback" not in err
