"""Seed a moto account at benchmark scale, directly into moto's in-process backends.

Over HTTP the default scale is ~70,000 calls at ~3.5 ms each; written straight into the
backend objects of the server's own process it takes seconds. Everything is deterministic
(names and shapes depend only on the scale), so two runs see the same account.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

ACCOUNT_ID = "123456789012"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1")
BIG_BUCKET = "bench-big-objects"
ADMIN_USER = "bench-admin"
GROUP = "bench-readers"
SHARED_POLICY = "bench-shared-read"


@dataclass(frozen=True)
class Scale:
    name: str
    buckets: int  # besides the big bucket
    users: int  # besides the administrator
    objects: int  # in the big bucket

    @property
    def total_buckets(self) -> int:
        return self.buckets + 1

    @property
    def total_users(self) -> int:
        return self.users + 1


SCALES = {
    "small": Scale("small", buckets=50, users=200, objects=2_000),
    "default": Scale("default", buckets=1_000, users=5_000, objects=50_000),
}


def bucket_name(index: int) -> str:
    return f"bench-bucket-{index:05d}"


def user_name(index: int) -> str:
    return f"bench-user-{index:05d}"


def object_key(index: int) -> str:
    """Nested prefixes, 10 x 10 wide at the top, ~500 keys per leaf at the default scale."""
    return f"data/region-{index % 10:02d}/day-{(index // 10) % 10:02d}/part-{index:06d}.json"


def read_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
            ],
        }
    )


ADMIN_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass(frozen=True)
class Seeded:
    scale: str
    buckets: int
    users: int
    objects: int
    big_bucket: str
    access_key_id: str
    secret_access_key: str

    def public(self) -> dict:
        """Everything but the secret."""
        data = asdict(self)
        data.pop("secret_access_key")
        return data


def seed(scale: Scale, account_id: str = ACCOUNT_ID) -> Seeded:
    """Buckets across regions, one big bucket, users with an inline policy and a key each.

    Every 10th user is also in a group with an inline policy and has a customer-managed
    policy attached; every 7th has a second key, so list columns differ from row to row.
    """
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    from s3cred_tui.demo.seed import register_aws_managed_policies

    s3 = s3_backends[account_id]["aws"]
    iam = iam_backends[account_id]["aws"]
    # s3-credentials attaches AmazonS3FullAccess to its role; s3cred-tui uses both as boundaries.
    register_aws_managed_policies(account_id)

    for index in range(scale.buckets):
        s3.create_bucket(bucket_name(index), REGIONS[index % len(REGIONS)])
    s3.create_bucket(BIG_BUCKET, "us-east-1")
    for index in range(scale.objects):
        s3.put_object(BIG_BUCKET, object_key(index), b"{}")

    iam.create_user("us-east-1", ADMIN_USER)
    iam.put_user_policy(ADMIN_USER, "administrator", ADMIN_POLICY)
    admin_key = iam.create_access_key(ADMIN_USER)

    iam.create_group(GROUP)
    iam.put_group_policy(GROUP, "group-read", read_policy(BIG_BUCKET))
    shared = iam.create_policy(
        description="bench", path="/", policy_document=read_policy(BIG_BUCKET), policy_name=SHARED_POLICY, tags=[]
    )
    for index in range(scale.users):
        name = user_name(index)
        iam.create_user("us-east-1", name, tags=[{"Key": "team", "Value": f"team-{index % 20}"}])
        iam.put_user_policy(name, f"read-{bucket_name(index % max(1, scale.buckets))}", read_policy(bucket_name(index % max(1, scale.buckets))))
        iam.create_access_key(name)
        if index % 7 == 0:
            iam.create_access_key(name)
        if index % 10 == 0:
            iam.add_user_to_group(GROUP, name)
            iam.attach_user_policy(shared.arn, name)
    return Seeded(
        scale=scale.name,
        buckets=scale.total_buckets,
        users=scale.total_users,
        objects=scale.objects,
        big_bucket=BIG_BUCKET,
        access_key_id=admin_key.access_key_id,
        secret_access_key=admin_key.secret_access_key,
    )
