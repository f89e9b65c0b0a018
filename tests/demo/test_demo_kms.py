"""The demo's KMS-encrypted bucket: the create flow's plan adds exactly the KMS statements its
customer-managed key needs, and a bucket-policy grant warns that the key policy decides too."""

from __future__ import annotations

import pytest

from s3cred_tui.core.bucket_grant import BucketGrantRequest, build_grant_plan
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest
from s3cred_tui.core.session import AwsContext
from s3cred_tui.demo.account import start_demo
from s3cred_tui.demo.seed import KMS_BUCKET, KMS_KEY_ALIAS


@pytest.fixture(scope="module")
def ctx():
    with start_demo() as demo:
        yield AwsContext(demo.config)


def test_the_kms_bucket_uses_a_customer_managed_key(ctx):
    rule = ctx.s3.get_bucket_encryption(Bucket=KMS_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    key_arn = rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    metadata = ctx.client("kms", "us-east-1").describe_key(KeyId=KMS_KEY_ALIAS)["KeyMetadata"]
    assert metadata["Arn"] == key_arn
    assert metadata["KeyManager"] == "CUSTOMER"


def test_credentials_for_it_get_exactly_the_keys_statements(ctx):
    request = CredentialRequest(
        buckets=(KMS_BUCKET,), access=AccessLevel.READ_WRITE, prefix="ledger/", kind=CredentialKind.PERMANENT
    )
    plan = build_plan(ctx, request)
    key_arn = ctx.client("kms", "us-east-1").describe_key(KeyId=KMS_KEY_ALIAS)["KeyMetadata"]["Arn"]
    kms = [s for s in plan.policy["Statement"] if any(str(a).startswith("kms:") for a in _actions(s))]
    assert kms, "the plan's policy has KMS statements"
    assert {a for s in kms for a in _actions(s)} == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert all(s["Resource"] in (key_arn, [key_arn]) for s in kms)
    assert all(s["Condition"]["StringEquals"]["kms:ViaService"] == "s3.us-east-1.amazonaws.com" for s in kms)
    assert any(KMS_BUCKET in fact and "customer-managed" in fact for fact in plan.facts)


def test_a_grant_to_another_account_warns_about_the_key_policy(ctx):
    plan = build_grant_plan(ctx, BucketGrantRequest((KMS_BUCKET,), "111122223333", AccessLevel.READ_ONLY))
    assert any("customer-managed KMS key" in warning for warning in plan.warnings)


def _actions(statement: dict) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)
