"""KMS-encrypted buckets: the planner reads the default encryption (moto, decorator mode) and the
policy gets exactly the key permissions S3 needs, checked with the offline evaluator (moto does
not evaluate the kms:ViaService / encryption-context conditions) and parliament."""

from __future__ import annotations

import pytest
from moto import mock_aws
from parliament import analyze_policy_string

from s3cred_tui.core.encryption import read_bucket_encryption
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.policies import policy_for, policy_json, policy_size
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    KmsKeyGrant,
)
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.simulate import RequestContext, evaluate

REGION = "us-east-1"
VIA_S3 = f"s3.{REGION}.amazonaws.com"


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        for bucket in ("kms-bucket", "sse-s3-bucket", "aws-key-bucket", "plain-bucket"):
            context.s3.create_bucket(Bucket=bucket)
        yield context


def _customer_key(ctx: AwsContext) -> str:
    return ctx.client("kms", REGION).create_key(Description="data key")["KeyMetadata"]["Arn"]


def _encrypt(ctx: AwsContext, bucket: str, algorithm: str, key: str | None = None, bucket_key: bool = False) -> None:
    default = {"SSEAlgorithm": algorithm}
    if key:
        default["KMSMasterKeyID"] = key
    ctx.s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bucket_key}]
        },
    )


def _kms(policy: dict, action: str, key_arn: str, s3_arn: str, via: str = VIA_S3) -> bool:
    context = {"kms:ViaService": via, "kms:EncryptionContext:aws:s3:arn": s3_arn}
    return evaluate(RequestContext(action, key_arn, context), [("plan", policy)]).allowed


def _kms_statements(policy: dict) -> list[dict]:
    return [s for s in policy["Statement"] if any(a.startswith("kms:") for a in s["Action"])]


def test_customer_managed_key_adds_decrypt_for_readers_limited_to_s3_and_the_prefix(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key.rsplit("/", 1)[-1])  # the bucket names the key by its id
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket",), access=AccessLevel.READ_ONLY, prefix="reports"))
    assert plan.ok, plan.blockers
    assert plan.request.kms_keys == (KmsKeyGrant("kms-bucket", key, REGION, False),)
    [statement] = _kms_statements(plan.policy)
    assert statement["Action"] == ["kms:Decrypt"] and statement["Resource"] == key
    inside = "arn:aws:s3:::kms-bucket/reports/2024.csv"
    assert _kms(plan.policy, "kms:Decrypt", key, inside)
    assert not _kms(plan.policy, "kms:GenerateDataKey", key, inside)
    # Not outside the prefix, not another bucket, not outside S3, not another key.
    assert not _kms(plan.policy, "kms:Decrypt", key, "arn:aws:s3:::kms-bucket/reports-private/x")
    assert not _kms(plan.policy, "kms:Decrypt", key, "arn:aws:s3:::other-bucket/reports/x")
    assert not _kms(plan.policy, "kms:Decrypt", key, inside, via=f"ec2.{REGION}.amazonaws.com")
    assert not _kms(plan.policy, "kms:Decrypt", key, inside, via="s3.eu-west-1.amazonaws.com")
    other_key = key.rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    assert not _kms(plan.policy, "kms:Decrypt", other_key, inside)
    assert "customer-managed KMS key" in plan.describe() and "kms:ViaService" in plan.describe()
    assert analyze_policy_string(policy_json(plan.policy)).findings == []


def test_writers_get_generate_data_key_and_decrypt_for_multipart(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key)
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket",), access=AccessLevel.WRITE_ONLY))
    [statement] = _kms_statements(plan.policy)
    assert statement["Action"] == ["kms:GenerateDataKey", "kms:Decrypt"]
    assert _kms(plan.policy, "kms:GenerateDataKey", key, "arn:aws:s3:::kms-bucket/any/key")
    assert not _kms(plan.policy, "kms:Encrypt", key, "arn:aws:s3:::kms-bucket/any/key")


def test_bucket_key_uses_the_bucket_arn_as_encryption_context(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key, bucket_key=True)
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket",), access=AccessLevel.READ_ONLY, prefix="p"))
    assert _kms(plan.policy, "kms:Decrypt", key, "arn:aws:s3:::kms-bucket")
    assert not _kms(plan.policy, "kms:Decrypt", key, "arn:aws:s3:::another-bucket")


@pytest.mark.parametrize(
    ("bucket", "algorithm", "key"),
    [("sse-s3-bucket", "AES256", None), ("aws-key-bucket", "aws:kms", None), ("aws-key-bucket", "aws:kms", "alias/aws/s3")],
    ids=["sse-s3", "aws-s3-default", "aws-s3-alias"],
)
def test_sse_s3_and_the_aws_managed_key_need_nothing(ctx, bucket, algorithm, key):
    _encrypt(ctx, bucket, algorithm, key)
    plan = build_plan(ctx, CredentialRequest(buckets=(bucket,), access=AccessLevel.READ_WRITE))
    assert plan.ok and plan.request.kms_keys == ()
    assert _kms_statements(plan.policy) == []
    assert any("no KMS permission needed" in fact for fact in plan.facts)


def test_only_the_encrypted_bucket_gets_the_key(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key)
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket", "plain-bucket"), access=AccessLevel.READ_ONLY))
    [statement] = _kms_statements(plan.policy)
    assert statement["Condition"]["StringLike"]["kms:EncryptionContext:aws:s3:arn"] == ["arn:aws:s3:::kms-bucket/*"]


def test_a_key_that_cannot_be_described_is_a_warning_not_a_grant(ctx):
    _encrypt(ctx, "kms-bucket", "aws:kms", "alias/missing")
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket",), access=AccessLevel.READ_ONLY))
    assert plan.ok and _kms_statements(plan.policy) == []
    assert any("alias/missing" in warning and "could not be described" in warning for warning in plan.warnings)


def test_a_key_of_another_account_named_by_arn_is_granted(ctx):
    foreign = "arn:aws:kms:us-east-1:111122223333:key/11111111-2222-3333-4444-555555555555"
    _encrypt(ctx, "kms-bucket", "aws:kms", foreign)
    encryption = read_bucket_encryption(ctx, "kms-bucket", REGION)
    assert encryption.needs_key_grant and encryption.key_arn == foreign


def test_custom_access_is_warned_not_rewritten(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key)
    custom = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::kms-bucket/*"}]}
    plan = build_plan(ctx, CredentialRequest(buckets=("kms-bucket",), access=AccessLevel.CUSTOM, custom_policy=custom))
    assert plan.policy == custom
    assert any(key in warning for warning in plan.warnings)


def test_the_kms_grant_counts_against_the_size_limit(ctx):
    key = _customer_key(ctx)
    _encrypt(ctx, "kms-bucket", "aws:kms", key)

    def prefixes(count: int) -> tuple[str, ...]:
        return tuple(f"folder-with-a-long-name-{n:02}/" for n in range(count))

    # The most prefixes whose policy fits a session policy without the key grant.
    count = max(n for n in range(1, 40) if policy_size(policy_for(["kms-bucket"], AccessLevel.READ_ONLY, prefixes=prefixes(n))) <= 2048)
    request = CredentialRequest(
        buckets=("kms-bucket",), access=AccessLevel.READ_ONLY, prefixes=prefixes(count), kind=CredentialKind.ASSUME_ROLE
    )
    plan = build_plan(ctx, request)
    assert not plan.ok
    assert any("session policy" in blocker for blocker in plan.blockers)
    assert plan.request.kms_keys  # the blocker is about the policy with the key grant
