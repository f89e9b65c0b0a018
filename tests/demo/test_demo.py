"""The embedded demo account: what it contains, and that it really enforces IAM."""

from __future__ import annotations

import datetime as dt

import boto3
import botocore.config
import pytest

from s3cred_tui.core.errors import AccessDenied, CredentialsInvalid, translate
from s3cred_tui.core.inventory import user_details, whoami
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.tags import is_ours
from s3cred_tui.demo.account import start_demo
from s3cred_tui.demo.seed import DEMO_BUCKETS, DEMO_OBJECTS


@pytest.fixture(scope="module")
def demo():
    with start_demo() as account:
        yield account


def _client(demo, service: str, region: str = "us-east-1"):
    config = demo.config
    return boto3.client(
        service,
        endpoint_url=config.endpoint_url,
        region_name=region,
        aws_access_key_id=config.access_key_id,
        aws_secret_access_key=config.secret_access_key,
    )


def test_config_points_at_the_running_demo_as_its_administrator(demo):
    config = demo.config
    assert config.endpoint_url == demo.endpoint_url
    assert config.endpoint_url.startswith("http://127.0.0.1:")
    assert config.region == "us-east-1"
    assert config.secret_access_key not in repr(config)
    identity = whoami(AwsContext(config))
    assert identity.principal_type == "user"
    assert identity.name == "demo-admin"


def test_a_dozen_buckets_in_five_regions(demo):
    s3 = _client(demo, "s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert sorted(names) == sorted(DEMO_BUCKETS)
    assert len(names) == 13
    regions = {
        name: s3.get_bucket_location(Bucket=name).get("LocationConstraint") or "us-east-1" for name in names
    }
    assert set(regions.values()) == {"us-east-1", "eu-west-1", "eu-central-1", "us-west-2", "ap-southeast-2"}
    assert regions["acme-logs-archive"] == "eu-west-1"
    assert regions["acme-apac-reports"] == "ap-southeast-2"
    created = {b["Name"]: b["CreationDate"] for b in s3.list_buckets()["Buckets"]}
    assert min(created.values()) < dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=365)


def test_objects_under_nested_prefixes(demo):
    s3 = _client(demo, "s3")
    total = sum(len(keys) for keys in DEMO_OBJECTS.values())
    assert 200 <= total <= 500
    q1 = s3.list_objects_v2(Bucket="acme-data-lake", Prefix="reports/2024/q1/")["Contents"]
    assert {"reports/2024/q1/revenue.csv", "reports/2024/q1/summary (final).pdf"} <= {o["Key"] for o in q1}
    top = s3.list_objects_v2(Bucket="acme-data-lake", Delimiter="/")
    assert {p["Prefix"] for p in top["CommonPrefixes"]} >= {"reports/", "reports-private/", "raw/", "curated/"}
    logs = s3.list_objects_v2(Bucket="acme-logs-archive", Prefix="logs/app/2026/11/", MaxKeys=1000)
    assert logs["KeyCount"] == 120
    assert logs["Contents"][0]["StorageClass"] == "STANDARD_IA"
    body = s3.get_object(Bucket="acme-data-lake", Key="reports/2024/q1/revenue.csv")["Body"].read()
    assert body.startswith(b"date,region,amount")


def test_users_with_policies_and_keys_of_different_ages(demo):
    ctx = AwsContext(demo.config)
    iam = ctx.iam
    names = {u["UserName"] for u in iam.list_users()["Users"]}
    assert {"ci-deploy", "analytics-reader", "backup-bot", "alice", "bob", "legacy-root-key"} <= names

    now = dt.datetime.now(dt.timezone.utc)
    legacy = user_details(ctx, "legacy-root-key")
    assert [p.arn for p in legacy.attached_policies] == ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]
    assert legacy.attached_policies[0].document is not None  # the AWS-managed document is readable
    (legacy_key,) = legacy.access_keys
    assert legacy_key.created < now - dt.timedelta(days=5 * 365)
    assert legacy_key.last_used < now - dt.timedelta(days=365)

    backup = user_details(ctx, "backup-bot")
    assert sorted(k.status for k in backup.access_keys) == ["Active", "Inactive"]
    assert "write-backups" in backup.inline_policies

    alice = user_details(ctx, "alice")
    assert alice.access_keys == []
    assert [p.name for p in alice.attached_policies] == ["acme-data-lake-read-write"]
    assert [g.name for g in alice.groups] == ["data-analysts"]
    assert "read-curated-and-reports" in alice.groups[0].inline_policies

    bob = user_details(ctx, "bob")
    assert bob.access_keys[0].last_used is None  # a key that was never used

    ages = {
        name: (now - user_details(ctx, name).access_keys[0].created).days
        for name in ("ci-deploy", "analytics-reader", "bob", "legacy-root-key")
    }
    assert len(set(ages.values())) == 4
    assert ages["analytics-reader"] > 365 > ages["ci-deploy"]


def test_group_role_and_things_created_by_s3cred_tui(demo):
    iam = _client(demo, "iam")
    group = iam.get_group(GroupName="data-analysts")
    assert {u["UserName"] for u in group["Users"]} == {"alice", "analytics-reader"}
    role = iam.get_role(RoleName="acme-etl-role")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "glue.amazonaws.com"}
    assert iam.list_role_policies(RoleName="acme-etl-role")["PolicyNames"] == ["etl-s3"]

    ours = [
        u["UserName"]
        for u in iam.list_users()["Users"]
        if is_ours(iam.list_user_tags(UserName=u["UserName"])["Tags"])
    ]
    assert sorted(ours) == ["s3.read-only.acme-apac-reports", "s3.read-write.acme-media-uploads"]
    tags = _client(demo, "s3", "eu-central-1").get_bucket_tagging(Bucket="acme-analytics-staging")["TagSet"]
    assert is_ours(tags)


def test_demo_enforces_iam(demo):
    """Unknown keys are refused and a user's key can do only what its policies grant."""
    with pytest.raises(Exception) as unknown:
        boto3.client(
            "s3",
            endpoint_url=demo.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
            aws_secret_access_key="not-a-real-secret-key-just-for-this-test",
        ).list_buckets()
    assert isinstance(translate(unknown.value), CredentialsInvalid)

    iam = _client(demo, "iam")
    key = iam.create_access_key(UserName="bob")["AccessKey"]  # bob may publish web assets only
    try:
        bob = boto3.client(
            "s3",
            endpoint_url=demo.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key["AccessKeyId"],
            aws_secret_access_key=key["SecretAccessKey"],
        )
        bob.put_object(Bucket="acme-web-assets", Key="js/new.js", Body=b"console.log(1)")
        with pytest.raises(Exception) as denied:
            bob.get_object(Bucket="acme-data-lake", Key="reports/2024/q1/revenue.csv")
        assert isinstance(translate(denied.value), AccessDenied)
    finally:
        iam.delete_access_key(UserName="bob", AccessKeyId=key["AccessKeyId"])


def test_leaving_the_demo_stops_the_server_and_forgets_the_account():
    from moto.s3.models import s3_backends

    with start_demo() as account:
        endpoint = account.endpoint_url
        assert "acme-data-lake" in s3_backends["123456789012"]["aws"].buckets
    assert "acme-data-lake" not in s3_backends["123456789012"]["aws"].buckets
    with pytest.raises(Exception):
        boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=2),
        ).list_buckets()
