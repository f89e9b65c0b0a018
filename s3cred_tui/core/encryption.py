"""A bucket's default encryption, and whether credentials for it need a KMS key too.

A bucket whose default encryption is a customer-managed KMS key refuses reads and writes from
credentials holding S3 permissions only: S3 asks KMS for the object's data key on the caller's
behalf. SSE-S3 (`AES256`) and the AWS-managed `aws/s3` key need nothing extra. Read-only calls.

Public API:
- `BucketEncryption(bucket, algorithm, configured_key, key_arn, customer_managed, bucket_key_enabled,
  problem)`: `.needs_key_grant`, `.describe()`
- `read_bucket_encryption(ctx, bucket, region=None) -> BucketEncryption`
- `kms_grants_for(ctx, buckets) -> (list[KmsKeyGrant], facts, warnings)`
- `AWS_MANAGED_S3_KEY_ALIAS`
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui.core.request import KmsKeyGrant

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

AWS_MANAGED_S3_KEY_ALIAS = "alias/aws/s3"
_NO_ENCRYPTION_CODES = {"ServerSideEncryptionConfigurationNotFoundError"}
_KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}


@dataclass(frozen=True)
class BucketEncryption:
    bucket: str
    algorithm: str | None  # "AES256", "aws:kms", "aws:kms:dsse"; None without default encryption
    configured_key: str | None  # KMSMasterKeyID as the bucket names it (id, ARN or alias); None for aws/s3
    key_arn: str | None  # the key's ARN once resolved
    customer_managed: bool
    bucket_key_enabled: bool
    problem: str | None = None  # why the encryption or the key could not be read

    @property
    def needs_key_grant(self) -> bool:
        """Credentials need kms:Decrypt / kms:GenerateDataKey on `key_arn`."""
        return self.customer_managed and self.key_arn is not None

    def describe(self) -> str:
        if self.problem is not None:
            return f"bucket {self.bucket}: {self.problem}"
        if self.algorithm is None:
            return f"bucket {self.bucket} has no default encryption"
        if self.algorithm == "AES256":
            return f"bucket {self.bucket} encrypts new objects with S3-managed keys (SSE-S3): no KMS permission needed"
        if not self.customer_managed:
            return f"bucket {self.bucket} encrypts new objects with the AWS-managed aws/s3 KMS key: no KMS permission needed"
        bucket_key = ", with an S3 Bucket Key" if self.bucket_key_enabled else ""
        return f"bucket {self.bucket} encrypts new objects with customer-managed KMS key {self.key_arn}{bucket_key}"


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def read_bucket_encryption(ctx: AwsContext, bucket: str, region: str | None = None) -> BucketEncryption:
    """The bucket's default encryption and, for KMS, whether its key is customer-managed.

    Never raises for AWS's sake: a refusal or a key that cannot be described is `problem`
    (a key named by its ARN is still used as customer-managed: that is how a key of another
    account, which this account may not describe, is named).
    """

    def failed(problem: str, **known: Any) -> BucketEncryption:
        values: dict[str, Any] = {
            "algorithm": None,
            "configured_key": None,
            "key_arn": None,
            "customer_managed": False,
            "bucket_key_enabled": False,
        }
        values.update(known)
        return BucketEncryption(bucket, problem=problem, **values)

    try:
        answer = ctx.s3.get_bucket_encryption(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in _NO_ENCRYPTION_CODES:
            return BucketEncryption(bucket, None, None, None, False, False)
        return failed(f"could not read its default encryption ({_code(exc) or 'error'})")
    except botocore.exceptions.BotoCoreError as exc:
        return failed(f"could not read its default encryption ({type(exc).__name__})")
    rules = answer.get("ServerSideEncryptionConfiguration", {}).get("Rules", []) or []
    rule = rules[0] if rules else {}
    default = rule.get("ApplyServerSideEncryptionByDefault", {}) or {}
    algorithm = default.get("SSEAlgorithm")
    configured = default.get("KMSMasterKeyID") or None
    bucket_key = bool(rule.get("BucketKeyEnabled", False))
    if algorithm not in _KMS_ALGORITHMS:
        return BucketEncryption(bucket, algorithm, None, None, False, bucket_key)
    if configured is None or configured.endswith(AWS_MANAGED_S3_KEY_ALIAS):
        return BucketEncryption(bucket, algorithm, configured, None, False, bucket_key)
    key_region = configured.split(":")[3] if configured.startswith("arn:") else region
    try:
        metadata = ctx.client("kms", key_region).describe_key(KeyId=configured)["KeyMetadata"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        code = _code(exc) if isinstance(exc, botocore.exceptions.ClientError) else type(exc).__name__
        if configured.startswith("arn:") and ":key/" in configured:
            return BucketEncryption(bucket, algorithm, configured, configured, True, bucket_key)
        return failed(
            f"uses KMS key {configured!r}, which could not be described ({code}); the credentials get no "
            "KMS permission, so reading and writing may be refused",
            algorithm=algorithm,
            configured_key=configured,
            bucket_key_enabled=bucket_key,
        )
    customer_managed = metadata.get("KeyManager") != "AWS"
    return BucketEncryption(bucket, algorithm, configured, metadata.get("Arn"), customer_managed, bucket_key)


def kms_grants_for(ctx: AwsContext, buckets: Iterable[str]) -> tuple[list[KmsKeyGrant], list[str], list[str]]:
    """The KMS key grants these buckets' default encryption needs, with the facts and warnings to show."""
    grants: list[KmsKeyGrant] = []
    facts: list[str] = []
    warnings: list[str] = []
    for bucket in buckets:
        encryption = read_bucket_encryption(ctx, bucket)
        if encryption.problem is not None:
            warnings.append(encryption.describe())
            continue
        facts.append(encryption.describe())
        if encryption.needs_key_grant:
            assert encryption.key_arn is not None
            region = encryption.key_arn.split(":")[3] or ctx.region
            grants.append(KmsKeyGrant(bucket, encryption.key_arn, region, encryption.bucket_key_enabled))
    return grants, facts, warnings
