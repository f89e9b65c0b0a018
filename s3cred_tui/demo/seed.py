"""Seed the demo account: buckets across regions (one encrypted with a customer-managed KMS
key), objects under nested prefixes, IAM users with keys of different ages, a group, a role
and a couple of things s3cred-tui made earlier.

Everything goes through the real AWS API of the in-process moto server, as the demo
administrator, except three things done on moto's in-process backend objects:
AWS-managed policies (moto only loads its ~1,300 of them when
MOTO_IAM_LOAD_MANAGED_POLICIES is set, which costs seconds, so the few the demo attaches
are registered one by one), creation and last-used dates (the API always says "now",
which would make every key look brand new), and the few hundred small objects
(see `_put_objects`).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from dataclasses import dataclass, field

from s3cred_tui.core.tags import CREATED_BY_TAG
from s3cred_tui.demo.server import AdminKey, MotoServer

DEMO_ACCOUNT_ID = "123456789012"

AWS_MANAGED_POLICIES = ("AmazonS3ReadOnlyAccess", "AmazonS3FullAccess")
S3_READ_ONLY_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
S3_FULL_ACCESS_ARN = "arn:aws:iam::aws:policy/AmazonS3FullAccess"

DEMO_BUCKETS: dict[str, str] = {
    "acme-data-lake": "us-east-1",
    "acme-web-assets": "us-east-1",
    "acme-ci-artifacts": "us-east-1",
    "acme-logs-archive": "eu-west-1",
    "acme-eu-customer-exports": "eu-west-1",
    "acme-backups-eu": "eu-central-1",
    "acme-analytics-staging": "eu-central-1",
    "acme-ml-models": "us-west-2",
    "acme-terraform-state": "us-west-2",
    "acme-media-uploads": "us-west-2",
    "acme-apac-reports": "ap-southeast-2",
    "acme-sydney-cdn-origin": "ap-southeast-2",
    "acme-finance-kms": "us-east-1",
}

# Buckets s3cred-tui "created earlier" (via --create-bucket), so the created-by listing has something.
OUR_BUCKETS = ("acme-analytics-staging",)
ARCHIVE_BUCKETS = ("acme-logs-archive", "acme-backups-eu")
# Default encryption with a customer-managed KMS key: credentials for it need kms:Decrypt and
# kms:GenerateDataKey on that key too, so the create flow shows its KMS statements.
KMS_BUCKET = "acme-finance-kms"
KMS_KEY_ALIAS = "alias/acme-finance"


def _demo_objects() -> dict[str, list[str]]:
    objects: dict[str, list[str]] = {name: [] for name in DEMO_BUCKETS}
    lake = objects["acme-data-lake"]
    for year in (2024, 2025):
        for quarter in ("q1", "q2", "q3", "q4"):
            for report in ("revenue.csv", "churn.csv", "usage.csv"):
                lake.append(f"reports/{year}/{quarter}/{report}")
    lake.append("reports/2024/q1/summary (final).pdf")
    # A sibling that only shares the text "reports": a prefix of `reports` must never reach it.
    lake += ["reports-private/board/2024-strategy.pdf", "reports-private/board/salaries.xlsx"]
    for day in range(1, 21):
        for part in range(1, 4):
            lake.append(f"raw/events/2026/11/{day:02d}/events-{part:04d}.json.gz")
    lake += [f"curated/customers/part-{n:04d}.parquet" for n in range(5)]
    lake.append("README.md")

    logs = objects["acme-logs-archive"]
    for day in range(1, 31):
        for hour in (0, 6, 12, 18):
            logs.append(f"logs/app/2026/11/{day:02d}/app-{hour:02d}.log.gz")
    logs += [f"logs/nginx/2026/11/{day:02d}/access.log.gz" for day in range(1, 11)]

    objects["acme-web-assets"] += [
        "index.html",
        "css/site.css",
        "js/app.js",
        "js/vendor.js",
        "img/logo.png",
        *(f"img/hero-{n}.jpg" for n in range(1, 6)),
    ]
    objects["acme-ci-artifacts"] += [f"builds/main/{n}/app.tar.gz" for n in range(101, 111)]
    objects["acme-ci-artifacts"] += [f"builds/feature-login/{n}/app.tar.gz" for n in range(1, 4)]
    objects["acme-eu-customer-exports"] += [f"exports/2026-11-{d:02d}/customers.csv" for d in range(1, 6)]
    objects["acme-eu-customer-exports"].append("exports/2026-11-01/customers, emea.csv")
    objects["acme-backups-eu"] += [f"db/postgres/2026-11-{d:02d}/dump.sql.gz" for d in range(1, 15)]
    for version in (1, 2, 3):
        objects["acme-ml-models"] += [f"models/churn/v{version}/model.pkl", f"models/churn/v{version}/metrics.json"]
    # A reports/ folder here too, so the demo's first multi-bucket example (data lake and models,
    # prefix reports/) has something to read in both buckets.
    objects["acme-ml-models"] += [f"reports/2026/q{q}/model-card.md" for q in (1, 2, 3)]
    objects["acme-terraform-state"] += [f"env/{env}/terraform.tfstate" for env in ("prod", "staging", "dev")]
    objects["acme-media-uploads"] += [f"uploads/user-{n}/avatar.png" for n in range(1, 21)]
    objects["acme-apac-reports"] += [f"reports/2026/{m:02d}/summary.pdf" for m in range(1, 12)]
    objects[KMS_BUCKET] += [f"ledger/2026/{m:02d}/ledger.csv" for m in range(1, 12)]
    objects[KMS_BUCKET] += ["payroll/2026/11/payroll.csv", "invoices/2026/11/invoice-0001.pdf"]
    objects["acme-sydney-cdn-origin"] += ["static/index.html", "static/app.js", "static/app.css", "static/img/logo.svg", "robots.txt"]
    return objects


DEMO_OBJECTS = _demo_objects()


def _policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(actions: list[str], resources: list[str], sid: str | None = None) -> dict:
    statement: dict = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if sid:
        statement = {"Sid": sid, **statement}
    return statement


@dataclass(frozen=True)
class DemoKey:
    """An access key to create for a demo user; ages in days before now."""

    age_days: int
    active: bool = True
    last_used_days_ago: int | None = None
    last_used_service: str = "s3"


@dataclass(frozen=True)
class DemoUser:
    name: str
    age_days: int
    inline_policies: dict[str, str] = field(default_factory=dict)
    attached: tuple[str, ...] = ()
    keys: tuple[DemoKey, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    ours: bool = False


CUSTOMER_POLICIES = {
    "acme-data-lake-read-write": _policy(
        _allow(["s3:ListBucket", "s3:GetBucketLocation"], ["arn:aws:s3:::acme-data-lake"]),
        _allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], ["arn:aws:s3:::acme-data-lake/*"]),
    ),
    "acme-web-assets-publish": _policy(
        _allow(["s3:ListBucket"], ["arn:aws:s3:::acme-web-assets"]),
        _allow(["s3:PutObject", "s3:GetObject"], ["arn:aws:s3:::acme-web-assets/*"]),
    ),
}

DEMO_USERS = (
    DemoUser(
        "ci-deploy",
        age_days=420,
        inline_policies={
            "deploy-web-assets": _policy(
                _allow(["s3:ListBucket"], ["arn:aws:s3:::acme-web-assets", "arn:aws:s3:::acme-ci-artifacts"]),
                _allow(
                    ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                    ["arn:aws:s3:::acme-web-assets/*", "arn:aws:s3:::acme-ci-artifacts/builds/*"],
                ),
            )
        },
        keys=(DemoKey(age_days=88, last_used_days_ago=0),),
        tags=(("team", "platform"),),
    ),
    DemoUser(
        "analytics-reader",
        age_days=700,
        attached=(S3_READ_ONLY_ARN,),
        keys=(DemoKey(age_days=412, last_used_days_ago=3),),
        tags=(("team", "analytics"),),
    ),
    DemoUser(
        "backup-bot",
        age_days=300,
        inline_policies={
            "write-backups": _policy(
                _allow(["s3:PutObject", "s3:AbortMultipartUpload"], ["arn:aws:s3:::acme-backups-eu/db/*"]),
                _allow(["s3:ListBucket"], ["arn:aws:s3:::acme-backups-eu"]),
            )
        },
        # Two keys (the maximum): a rotation that was never finished.
        keys=(DemoKey(age_days=31, last_used_days_ago=1), DemoKey(age_days=210, active=False, last_used_days_ago=45)),
        tags=(("team", "sre"),),
    ),
    DemoUser(
        "alice",
        age_days=900,
        attached=("acme-data-lake-read-write",),
        tags=(("email", "alice@acme.example"),),
    ),
    DemoUser(
        "bob",
        age_days=150,
        attached=("acme-web-assets-publish",),
        keys=(DemoKey(age_days=20),),
        tags=(("email", "bob@acme.example"),),
    ),
    DemoUser(
        "legacy-root-key",
        age_days=2300,
        attached=(S3_FULL_ACCESS_ARN,),
        keys=(DemoKey(age_days=2290, last_used_days_ago=610),),
        tags=(("note", "pre-IAM-cleanup; do not use"),),
    ),
    # Named like s3cred-tui's defaults, but not for acme-data-lake: the first thing to try in
    # the demo (`create acme-data-lake --read-only`) should work, not meet an existing user.
    DemoUser(
        "s3.read-only.acme-apac-reports",
        age_days=12,
        inline_policies={
            "s3.read-only.acme-apac-reports": _policy(
                _allow(["s3:ListBucket", "s3:GetBucketLocation"], ["arn:aws:s3:::acme-apac-reports"], "ListObjectsInBucket"),
                _allow(["s3:GetObject", "s3:GetObjectVersion"], ["arn:aws:s3:::acme-apac-reports/reports/*"], "ReadObjects"),
            )
        },
        keys=(DemoKey(age_days=12, last_used_days_ago=2),),
        ours=True,
    ),
    DemoUser(
        "s3.read-write.acme-media-uploads",
        age_days=5,
        inline_policies={
            "s3.read-write.acme-media-uploads": _policy(
                _allow(["s3:ListBucket", "s3:GetBucketLocation"], ["arn:aws:s3:::acme-media-uploads"], "ListObjectsInBucket"),
                _allow(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], ["arn:aws:s3:::acme-media-uploads/*"], "AllObjectActions"),
            )
        },
        keys=(DemoKey(age_days=5),),
        ours=True,
    ),
)

DEMO_GROUP = "data-analysts"
DEMO_GROUP_MEMBERS = ("alice", "analytics-reader")
DEMO_GROUP_POLICY = _policy(
    _allow(["s3:ListBucket"], ["arn:aws:s3:::acme-data-lake"]),
    _allow(["s3:GetObject"], ["arn:aws:s3:::acme-data-lake/curated/*", "arn:aws:s3:::acme-data-lake/reports/*"]),
)

DEMO_ROLE = "acme-etl-role"
DEMO_ROLE_TRUST = _policy(
    {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}
)
DEMO_ROLE_POLICY = _policy(
    _allow(["s3:ListBucket"], ["arn:aws:s3:::acme-data-lake", "arn:aws:s3:::acme-logs-archive"]),
    _allow(["s3:GetObject"], ["arn:aws:s3:::acme-logs-archive/logs/*", "arn:aws:s3:::acme-data-lake/raw/*"]),
    _allow(["s3:PutObject"], ["arn:aws:s3:::acme-data-lake/curated/*"]),
)


def _iam_backend(account_id: str):
    from moto.iam.models import iam_backends

    return iam_backends[account_id]["aws"]


@functools.lru_cache(maxsize=1)
def _aws_managed_policy_data() -> dict[str, dict]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    everything = json.loads(aws_managed_policies_data)  # ~1,300 policies: parse once per process
    return {name: everything[name] for name in AWS_MANAGED_POLICIES}


def register_aws_managed_policies(account_id: str = DEMO_ACCOUNT_ID) -> None:
    """Make the AWS-managed policies s3cred-tui attaches exist in the in-process moto, as in AWS."""
    from moto.iam.models import AWSManagedPolicy

    backend = _iam_backend(account_id)
    for name, data in _aws_managed_policy_data().items():
        policy = AWSManagedPolicy.from_data(name, account_id, backend.region_name, data)
        if policy.arn not in backend.managed_policies:
            backend.managed_policies[policy.arn] = policy
            backend.aws_managed_policies.append(policy)


def _backdate(account_id: str, now: dt.datetime) -> None:
    """Give users, keys and buckets believable ages (moto dates everything "now")."""
    from moto.iam.models import AccessKeyLastUsed
    from moto.s3.models import s3_backends

    backend = _iam_backend(account_id)
    naive_now = now.replace(tzinfo=None)  # moto's IAM keeps naive UTC datetimes
    for spec in DEMO_USERS:
        user = backend.users[spec.name]
        user.create_date = naive_now - dt.timedelta(days=spec.age_days)
        for key, key_spec in zip(user.access_keys, spec.keys):
            key.create_date = naive_now - dt.timedelta(days=key_spec.age_days, hours=3)
            if key_spec.last_used_days_ago is not None:
                key.last_used = AccessKeyLastUsed(
                    timestamp=naive_now - dt.timedelta(days=key_spec.last_used_days_ago, hours=1),
                    service=key_spec.last_used_service,
                    region="us-east-1",
                )
    s3 = s3_backends[account_id]["aws"]
    for index, name in enumerate(DEMO_BUCKETS):
        bucket = s3.buckets.get(name)
        if bucket is not None:
            bucket.creation_date = now - dt.timedelta(days=1500 - 97 * index)


def _object_body(key: str) -> bytes:
    if key.endswith(".csv"):
        return b"date,region,amount\n2024-01-01,us-east-1,100\n2024-01-02,eu-west-1,250\n"
    if key.endswith(".json"):
        return b'{"auc": 0.91, "precision": 0.84}\n'
    return f"demo content of {key}\n".encode()


def _seed_buckets(server: MotoServer, admin: AdminKey, account_id: str) -> None:
    clients = {region: server.client("s3", admin, region) for region in set(DEMO_BUCKETS.values())}
    for name, region in DEMO_BUCKETS.items():
        if region == "us-east-1":
            clients[region].create_bucket(Bucket=name)
        else:
            clients[region].create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    for name in OUR_BUCKETS:
        clients[DEMO_BUCKETS[name]].put_bucket_tagging(Bucket=name, Tagging={"TagSet": [CREATED_BY_TAG]})
    clients["us-east-1"].put_bucket_versioning(Bucket="acme-terraform-state", VersioningConfiguration={"Status": "Enabled"})
    _encrypt_with_customer_key(server, admin, clients[DEMO_BUCKETS[KMS_BUCKET]], KMS_BUCKET)

    _put_objects(account_id, dt.datetime.now(dt.timezone.utc))


def _encrypt_with_customer_key(server: MotoServer, admin: AdminKey, s3, bucket: str) -> None:
    """A customer-managed KMS key (with an alias) as the bucket's default encryption (SSE-KMS)."""
    region = DEMO_BUCKETS[bucket]
    kms = server.client("kms", admin, region)
    key_arn = kms.create_key(
        Description="Finance data (customer-managed)", Tags=[{"TagKey": "team", "TagValue": "finance"}]
    )["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=KMS_KEY_ALIAS, TargetKeyId=key_arn)
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )


_DATE_IN_KEY = re.compile(r"(20\d\d)[/-](\d\d)(?:[/-](\d\d))?")
_QUARTER_IN_KEY = re.compile(r"(20\d\d)/q([1-4])/")


def _object_date(key: str, now: dt.datetime) -> dt.datetime:
    """When the object was "written": the date in its key when it has one (logs/2026/11/03/...)."""
    if match := _DATE_IN_KEY.search(key):
        year, month, day = int(match[1]), int(match[2]), int(match[3] or 1)
        moment = dt.datetime(year, month, day, 2, 15)
    elif match := _QUARTER_IN_KEY.search(key):
        moment = dt.datetime(int(match[1]), 3 * int(match[2]), 28, 9, 0)
    else:
        moment = now - dt.timedelta(days=sum(key.encode()) % 300, minutes=len(key))
    return min(moment, now - dt.timedelta(hours=1))


def _put_objects(account_id: str, now: dt.datetime) -> None:
    """A few hundred objects straight into moto's in-process S3 backend, dated believably.

    Over HTTP each put costs ~4 ms of (GIL-bound) server time, which alone would take the
    demo's start-up past a second; the objects are the same either way.
    """
    from moto.s3.models import s3_backends

    s3 = s3_backends[account_id]["aws"]
    naive_now = now.replace(tzinfo=None)  # moto's S3 keeps naive UTC datetimes
    for bucket, keys in DEMO_OBJECTS.items():
        storage = "STANDARD_IA" if bucket in ARCHIVE_BUCKETS else "STANDARD"
        for key in keys:
            stored = s3.put_object(bucket, key, _object_body(key), storage=storage, disable_notification=True)
            stored.last_modified = _object_date(key, naive_now)


def _seed_iam(server: MotoServer, admin: AdminKey, account_id: str) -> None:
    iam = server.client("iam", admin)
    policy_arns = {}
    for name, document in CUSTOMER_POLICIES.items():
        created = iam.create_policy(PolicyName=name, PolicyDocument=document, Description=f"Demo policy {name}")
        policy_arns[name] = created["Policy"]["Arn"]

    for spec in DEMO_USERS:
        tags = [{"Key": k, "Value": v} for k, v in spec.tags]
        if spec.ours:
            tags.append(dict(CREATED_BY_TAG))
        iam.create_user(UserName=spec.name, Tags=tags)
        for policy_name, document in spec.inline_policies.items():
            iam.put_user_policy(UserName=spec.name, PolicyName=policy_name, PolicyDocument=document)
        for policy in spec.attached:
            iam.attach_user_policy(UserName=spec.name, PolicyArn=policy_arns.get(policy, policy))
        for key_spec in spec.keys:
            key = iam.create_access_key(UserName=spec.name)["AccessKey"]
            if not key_spec.active:
                iam.update_access_key(UserName=spec.name, AccessKeyId=key["AccessKeyId"], Status="Inactive")

    iam.create_group(GroupName=DEMO_GROUP)
    iam.put_group_policy(GroupName=DEMO_GROUP, PolicyName="read-curated-and-reports", PolicyDocument=DEMO_GROUP_POLICY)
    for member in DEMO_GROUP_MEMBERS:
        iam.add_user_to_group(GroupName=DEMO_GROUP, UserName=member)

    iam.create_role(
        RoleName=DEMO_ROLE,
        AssumeRolePolicyDocument=DEMO_ROLE_TRUST,
        Description="Nightly ETL from the log archive into the data lake",
        Tags=[{"Key": "team", "Value": "data-platform"}],
    )
    iam.put_role_policy(RoleName=DEMO_ROLE, PolicyName="etl-s3", PolicyDocument=DEMO_ROLE_POLICY)


def seed_demo_account(server: MotoServer) -> AdminKey:
    """Fill a freshly reset server with the demo account; returns the administrator's key."""
    admin = server.create_admin()
    account_id = server.client("sts", admin).get_caller_identity()["Account"]
    register_aws_managed_policies(account_id)
    _seed_iam(server, admin, account_id)
    _seed_buckets(server, admin, account_id)
    _backdate(account_id, dt.datetime.now(dt.timezone.utc))
    return admin
