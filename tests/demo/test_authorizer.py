"""The demo authorizer, end to end through real HTTP: the demo answers as AWS would.

Every test talks to the running demo server with boto3 (or the core's plan, apply and probe),
so what is checked is what a person meets in `--demo`. The evaluator's own rules are tested in
tests/core/test_simulate.py; here the point is that the demo really uses them, with every input
AWS would use, and that moto's partial check is not what answers.
"""

from __future__ import annotations

import json

import boto3
import botocore.exceptions
import pytest

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.credentials import Credentials
from s3cred_tui.core.deletion import delete_user, read_user_deletion
from s3cred_tui.core.inventory import user_details
from s3cred_tui.core.plan import build_plan
from s3cred_tui.core.policies import policy_for
from s3cred_tui.core.probe import run_probe
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    PrefixMode,
)
from s3cred_tui.core.session import AwsContext
from s3cred_tui.demo import authorizer, moto_hooks
from s3cred_tui.demo.account import start_demo
from s3cred_tui.demo.seed import S3_FULL_ACCESS_ARN, S3_READ_ONLY_ARN
from s3cred_tui.demo.server import MotoServer

LAKE, MODELS, CI = "acme-data-lake", "acme-ml-models", "acme-ci-artifacts"


@pytest.fixture(scope="module")
def demo():
    with start_demo() as account:
        yield account


@pytest.fixture(scope="module")
def admin_ctx(demo):
    return AwsContext(demo.config)


def client(demo, service: str, creds: Credentials | None = None, endpoint: str | None = None):
    config = demo.config
    key_id, secret, token = (
        (creds.access_key_id, creds.secret_access_key, creds.session_token)
        if creds
        else (config.access_key_id, config.secret_access_key, None)
    )
    return boto3.client(
        service,
        endpoint_url=endpoint or demo.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


def error_code(call) -> str | None:
    """None when the call succeeds, else the AWS error code it answered."""
    try:
        call()
    except botocore.exceptions.ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


def user_key(demo, name: str, policy: dict, boundary: str | None = None) -> Credentials:
    iam = client(demo, "iam")
    iam.create_user(UserName=name, **({"PermissionsBoundary": boundary} if boundary else {}))
    iam.put_user_policy(UserName=name, PolicyName="scope", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credentials(key["AccessKeyId"], key["SecretAccessKey"], user_name=name)


def create_and_probe(ctx: AwsContext, request: CredentialRequest):
    plan = build_plan(ctx, request)
    assert plan.ok, plan.blockers
    result = apply_plan(ctx, plan, journal=False)
    assert result.ok, result.error
    report = run_probe(ctx, result.credentials, plan.request.buckets, plan.request.access, plan.request.prefix)
    return result, report


def disagreements(report) -> list[str]:
    return [f"{r.case.label} in {r.case.bucket}: {r.detail}" for r in report.results if not r.agrees]


# ------------------------------------------------------------------------------ the hero flows

HERO_FLOWS = {
    # Before the authorizer: 8 of 20 rows agreed (moto ignored the session policy and s3:prefix).
    "temporary-read-write-two-buckets-assume-role": CredentialRequest(
        (LAKE, MODELS), AccessLevel.READ_WRITE, "reports/", kind=CredentialKind.ASSUME_ROLE, duration_seconds=3600
    ),
    # Before: moto's fixed example key, refused with InvalidClientTokenId after ~30 s of backoff.
    "temporary-read-write-two-buckets-federation-token": CredentialRequest(
        (LAKE, MODELS), AccessLevel.READ_WRITE, "reports/", kind=CredentialKind.FEDERATION_TOKEN, duration_seconds=3600
    ),
    # Before: 9 of 11 (listing outside the prefix "allowed").
    "permanent-read-only-with-a-prefix": CredentialRequest((LAKE,), AccessLevel.READ_ONLY, "reports/", username="hero-reader"),
}


@pytest.mark.parametrize("request_", HERO_FLOWS.values(), ids=HERO_FLOWS.keys())
def test_hero_flows_every_probe_row_agrees(admin_ctx, request_):
    _, report = create_and_probe(admin_ctx, request_)
    assert report.results and disagreements(report) == []
    assert report.all_agree
    assert {r.case.where for r in report.results} >= {"inside", "other-bucket"}
    if request_.prefix:
        assert {r.case.where for r in report.results} >= {"outside", "root"}
    # The key is accepted at once: no eventual-consistency backoff in the demo.
    assert report.attempts == 1


def test_a_federation_token_is_a_working_scoped_session(demo):
    policy = policy_for([LAKE], AccessLevel.READ_ONLY, "reports/")
    token = client(demo, "sts").get_federation_token(Name="partner", Policy=json.dumps(policy), DurationSeconds=900)
    assert token["Credentials"]["AccessKeyId"] != "AKIAIOSFODNN7EXAMPLE"
    creds = Credentials(token["Credentials"]["AccessKeyId"], token["Credentials"]["SecretAccessKey"], token["Credentials"]["SessionToken"])
    identity = client(demo, "sts", creds).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:federated-user/partner" == token["FederatedUser"]["Arn"]

    s3 = client(demo, "s3", creds)
    assert error_code(lambda: s3.get_object(Bucket=LAKE, Key="reports/2024/q1/revenue.csv")) is None
    assert error_code(lambda: s3.get_object(Bucket=LAKE, Key="raw/events/2026/11/01/events-0001.json.gz")) == "AccessDenied"
    assert error_code(lambda: s3.put_object(Bucket=LAKE, Key="reports/new.csv", Body=b"x")) == "AccessDenied"
    # "You cannot call any IAM API operations", nor STS except GetCallerIdentity.
    assert error_code(lambda: client(demo, "iam", creds).list_users()) == "AccessDenied"
    assert error_code(lambda: client(demo, "sts", creds).get_federation_token(Name="again", Policy=json.dumps(policy))) == "AccessDenied"
    # Without a session policy, the federated user "has no permissions".
    bare = client(demo, "sts").get_federation_token(Name="bare", DurationSeconds=900)["Credentials"]
    bare_s3 = client(demo, "s3", Credentials(bare["AccessKeyId"], bare["SecretAccessKey"], bare["SessionToken"]))
    assert error_code(lambda: bare_s3.get_object(Bucket=LAKE, Key="reports/2024/q1/revenue.csv")) == "AccessDenied"


def test_a_federation_token_is_refused_to_session_credentials_and_bad_input(demo):
    role = client(demo, "sts").assume_role(
        RoleArn=_etl_role_trusting_admin(demo), RoleSessionName="etl", DurationSeconds=900
    )["Credentials"]
    session_sts = client(demo, "sts", Credentials(role["AccessKeyId"], role["SecretAccessKey"], role["SessionToken"]))
    assert error_code(lambda: session_sts.get_federation_token(Name="nested")) == "AccessDenied"
    sts = client(demo, "sts")
    assert error_code(lambda: sts.get_federation_token(Name="has space")) == "ValidationError"
    assert error_code(lambda: sts.get_federation_token(Name="ok-name", Policy='{"Statement": "nope"}')) == "MalformedPolicyDocument"


def _etl_role_trusting_admin(demo) -> str:
    """A role the demo administrator may assume (the seeded one trusts only Glue)."""
    iam = client(demo, "iam")
    name = "etl-for-tests"
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except botocore.exceptions.ClientError:
        pass
    admin_arn = client(demo, "sts").get_caller_identity()["Arn"]
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=name,
        PolicyName="read-logs",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-logs-archive/*"}]}),
    )
    return arn


# ------------------------------------------------------------------- the authorizer is not bypassed


def test_the_evaluator_answers_where_moto_would_not(demo):
    """The same key, the same emulated account, two doors: moto's own check lets a listing outside
    the prefix through (it ignores Condition blocks); the demo refuses it, and says the evaluator did."""
    creds = user_key(demo, "bypass-probe", policy_for([LAKE], AccessLevel.READ_ONLY, "reports/"))
    demo_s3 = client(demo, "s3", creds)

    def list_outside(s3):
        return lambda: s3.list_objects_v2(Bucket=LAKE, Prefix="reports-private/", Delimiter="/")

    assert error_code(list_outside(demo_s3)) == "AccessDenied"
    assert error_code(lambda: demo_s3.list_objects_v2(Bucket=LAKE, Prefix="reports/", Delimiter="/")) is None
    (decision,) = [
        d for d in authorizer.recent_decisions()
        if d.principal_arn.endswith(":user/bypass-probe") and d.action == "s3:ListBucket" and not d.decision.allowed
    ]
    assert "s3:prefix" in decision.decision.reason

    with MotoServer() as plain:  # not a demo server: moto's partial check answers there
        assert error_code(list_outside(client(demo, "s3", creds, endpoint=plain.endpoint_url))) is None


def test_a_bucket_policy_grant_works_as_in_aws(demo):
    """moto ignores bucket-policy Allows; AWS lets a same-account bucket policy naming a user grant
    by itself ("Policy evaluation logic": identity-based and resource-based policies)."""
    creds = user_key(demo, "granted-by-bucket", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}]})
    user_arn = "arn:aws:iam::123456789012:user/granted-by-bucket"
    admin_s3 = client(demo, "s3")
    admin_s3.put_bucket_policy(Bucket="acme-web-assets", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-web-assets/css/*"}]}))
    try:
        s3 = client(demo, "s3", creds)
        assert error_code(lambda: s3.get_object(Bucket="acme-web-assets", Key="css/site.css")) is None
        assert error_code(lambda: s3.get_object(Bucket="acme-web-assets", Key="js/app.js")) == "AccessDenied"
    finally:
        admin_s3.delete_bucket_policy(Bucket="acme-web-assets")


def test_a_bucket_policy_denying_a_prefix(demo, admin_ctx):
    """A read-write key for builds/ probes as asked for, while the bucket policy's Deny on one
    folder beats the key's own Allow there (and the administrator's)."""
    admin_s3 = client(demo, "s3")
    denied = {"Version": "2012-10-17", "Statement": [{
        "Sid": "FreezeReleaseBuilds", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": f"arn:aws:s3:::{CI}/builds/main/*"}]}
    admin_s3.put_bucket_policy(Bucket=CI, Policy=json.dumps(denied))
    try:
        result, report = create_and_probe(
            admin_ctx, CredentialRequest((CI,), AccessLevel.READ_WRITE, "builds/", username="builds-writer")
        )
        assert disagreements(report) == []
        s3 = client(demo, "s3", result.credentials)
        assert error_code(lambda: s3.get_object(Bucket=CI, Key="builds/feature-login/1/app.tar.gz")) is None
        assert error_code(lambda: s3.get_object(Bucket=CI, Key="builds/main/101/app.tar.gz")) == "AccessDenied"
        assert error_code(lambda: s3.put_object(Bucket=CI, Key="builds/main/999/app.tar.gz", Body=b"x")) == "AccessDenied"
        assert error_code(lambda: admin_s3.get_object(Bucket=CI, Key="builds/main/101/app.tar.gz")) == "AccessDenied"
    finally:
        admin_s3.delete_bucket_policy(Bucket=CI)


def test_a_boundary_narrower_than_the_policy(demo, admin_ctx):
    """A read-write policy under a read-only boundary probes as read-only: the boundary caps it."""
    creds = user_key(demo, "capped-writer", policy_for([LAKE], AccessLevel.READ_WRITE, "reports/"), boundary=S3_READ_ONLY_ARN)
    as_read_only = run_probe(admin_ctx, creds, [LAKE], AccessLevel.READ_ONLY, "reports/")
    assert disagreements(as_read_only) == []
    as_read_write = run_probe(admin_ctx, creds, [LAKE], AccessLevel.READ_WRITE, "reports/")
    refused = {r.case.label for r in as_read_write.results if not r.agrees}
    assert refused == {"write inside the prefix", "delete inside the prefix"}


# ------------------------------------------------------------------------ IAM as AWS answers it


def test_a_boundary_is_kept_and_shown(demo, admin_ctx):
    iam = client(demo, "iam")
    iam.create_user(UserName="bounded", PermissionsBoundary=S3_READ_ONLY_ARN)
    assert iam.get_user(UserName="bounded")["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "PermissionsBoundaryPolicy",
        "PermissionsBoundaryArn": S3_READ_ONLY_ARN,
    }
    assert user_details(admin_ctx, "bounded").boundary_arn == S3_READ_ONLY_ARN
    # "ListUsers ... does not return PermissionsBoundary" (IAM API reference).
    listed = next(u for u in iam.list_users()["Users"] if u["UserName"] == "bounded")
    assert "PermissionsBoundary" not in listed

    iam.put_user_permissions_boundary(UserName="bounded", PermissionsBoundary=S3_FULL_ACCESS_ARN)
    assert user_details(admin_ctx, "bounded").boundary_arn == S3_FULL_ACCESS_ARN
    iam.delete_user_permissions_boundary(UserName="bounded")
    assert user_details(admin_ctx, "bounded").boundary_arn is None


def test_a_boundary_that_does_not_exist_is_refused_before_the_user_is_made(demo):
    iam = client(demo, "iam")
    missing = "arn:aws:iam::123456789012:policy/no-such-boundary"
    assert error_code(lambda: iam.create_user(UserName="never-made", PermissionsBoundary=missing)) == "NoSuchEntity"
    assert error_code(lambda: iam.get_user(UserName="never-made")) == "NoSuchEntity"


def test_calls_moto_lacks_answer_aws_errors_and_delete_user_works(demo, admin_ctx):
    iam = client(demo, "iam")
    creds = user_key(demo, "to-delete", policy_for([LAKE], AccessLevel.READ_ONLY), boundary=S3_READ_ONLY_ARN)
    assert iam.list_service_specific_credentials(UserName="to-delete")["ServiceSpecificCredentials"] == []
    assert error_code(lambda: iam.delete_service_specific_credential(UserName="to-delete", ServiceSpecificCredentialId="ACCAEXAMPLE123456789")) == "NoSuchEntity"

    deletion = read_user_deletion(admin_ctx, "to-delete")
    assert deletion.unsupported == ()
    delete_user(admin_ctx, "to-delete")
    assert error_code(lambda: iam.get_user(UserName="to-delete")) == "NoSuchEntity"
    # Its key died with it.
    assert error_code(lambda: client(demo, "s3", creds).list_objects_v2(Bucket=LAKE)) in {"InvalidAccessKeyId", "InvalidClientTokenId"}


def test_key_rotation_an_inactive_key_is_refused(demo):
    iam = client(demo, "iam")
    old = user_key(demo, "rotating", policy_for([LAKE], AccessLevel.READ_ONLY))
    new_key = iam.create_access_key(UserName="rotating")["AccessKey"]
    new = Credentials(new_key["AccessKeyId"], new_key["SecretAccessKey"])
    assert client(demo, "sts", new).get_caller_identity()["Arn"].endswith(":user/rotating")
    iam.update_access_key(UserName="rotating", AccessKeyId=old.access_key_id, Status="Inactive")
    assert error_code(lambda: client(demo, "s3", old).list_objects_v2(Bucket=LAKE)) == "InvalidAccessKeyId"
    assert error_code(lambda: client(demo, "s3", new).list_objects_v2(Bucket=LAKE)) is None
    iam.delete_access_key(UserName="rotating", AccessKeyId=old.access_key_id)
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="rotating")["AccessKeyMetadata"]] == [new.access_key_id]


def test_assume_role_needs_the_trust_policy(demo):
    """The identity side alone is not enough: the role's trust policy must trust the caller."""
    creds = user_key(demo, "would-be-etl", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]})
    sts = client(demo, "sts", creds)
    glue_only = "arn:aws:iam::123456789012:role/acme-etl-role"  # trusts glue.amazonaws.com only
    assert error_code(lambda: sts.assume_role(RoleArn=glue_only, RoleSessionName="xx")) == "AccessDenied"
    assert error_code(lambda: sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/no-such-role", RoleSessionName="xx")) == "AccessDenied"


# --------------------------------------------------------------------------------- the hook points


def test_an_untested_moto_version_refuses_to_start(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(moto_hooks.DemoUnavailable) as refused:
        moto_hooks._check()
    assert "moto 5.3.0" in str(refused.value) and moto_hooks.TESTED_MOTO_TEXT in str(refused.value)


def test_a_moved_hook_point_refuses_to_start(monkeypatch):
    from moto.iam import access_control

    monkeypatch.delattr(access_control, "S3IAMRequest")
    with pytest.raises(moto_hooks.DemoUnavailable) as refused:
        moto_hooks._check()
    assert "S3IAMRequest" in str(refused.value)


# --------------------------------------------------------------------------------- the full matrix

PREFIXES = {"no-prefix": ("", PrefixMode.PLAIN), "plain": ("reports/", PrefixMode.PLAIN), "literal-star": ("we*ird/", PrefixMode.LITERAL)}
LEVELS = (AccessLevel.READ_ONLY, AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE)
KINDS = (CredentialKind.PERMANENT, CredentialKind.ASSUME_ROLE, CredentialKind.FEDERATION_TOKEN)
MATRIX = [
    pytest.param(level, prefix, kind, id=f"{level.value}-{prefix_id}-{kind.value}")
    for level in LEVELS
    for prefix_id, prefix in PREFIXES.items()
    for kind in KINDS
]


@pytest.mark.slow
@pytest.mark.parametrize(("level", "prefix", "kind"), MATRIX)
def test_every_level_prefix_and_method_probes_as_asked(demo, admin_ctx, level, prefix, kind):
    text, mode = prefix
    if text:
        # Something to read inside the prefix (a missing key answers 403 without s3:ListBucket).
        client(demo, "s3").put_object(Bucket=MODELS, Key=f"{text}seed.txt", Body=b"seed")
    request = CredentialRequest(
        (MODELS,),
        level,
        text,
        prefix_mode=mode,
        kind=kind,
        duration_seconds=None if kind is CredentialKind.PERMANENT else 3600,
        username=f"matrix-{level.value}-{len(text)}-{mode.value}" if kind is CredentialKind.PERMANENT else None,
    )
    _, report = create_and_probe(admin_ctx, request)
    assert report.results and disagreements(report) == []


def test_iam_requests_are_authorized_on_their_resource_and_context(demo):
    """IAM calls are decided on the entity they act on (a user's own ARN for self-service) and the
    request's condition keys (iam:PermissionsBoundary), as the IAM service authorization reference says."""
    account = "123456789012"
    self_service = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:ListAccessKeys", "iam:CreateAccessKey"],
         "Resource": f"arn:aws:iam::{account}:user/${{aws:username}}"},
        {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*",
         "Condition": {"StringEquals": {"iam:PermissionsBoundary": S3_READ_ONLY_ARN}}},
    ]}
    creds = user_key(demo, "self-service", self_service)
    iam = client(demo, "iam", creds)
    assert error_code(lambda: iam.list_access_keys()) is None  # no UserName: the caller's own user
    assert error_code(lambda: iam.list_access_keys(UserName="self-service")) is None
    assert error_code(lambda: iam.list_access_keys(UserName="alice")) == "AccessDenied"
    assert error_code(lambda: iam.create_user(UserName="unbounded-by-self-service")) == "AccessDenied"
    assert error_code(lambda: iam.create_user(UserName="bounded-by-self-service", PermissionsBoundary=S3_READ_ONLY_ARN)) is None
