"""A role another account assumes with an ExternalId: the plan and apply in moto (decorator mode),
the trust decision (ExternalId, other principals) with the offline evaluator (moto checks neither)."""

from __future__ import annotations

import json

import pytest
from moto import mock_aws
from parliament import analyze_policy_string

from s3cred_tui.core.apply import apply_plan
from s3cred_tui.core.errors import ValidationError
from s3cred_tui.core.policies import policy_json
from s3cred_tui.core.request import AccessLevel
from s3cred_tui.core.session import AwsContext
from s3cred_tui.core.simulate import RequestContext, evaluate
from s3cred_tui.core.third_party_role import (
    ThirdPartyRoleRequest,
    build_third_party_role_plan,
    external_id_trust_policy,
    validate_external_id,
)

OTHER = "111122223333"
SERVICE_ROLE = f"arn:aws:iam::{OTHER}:role/backup-service"
BUCKET = "tp-bucket"


@pytest.fixture
def ctx():
    with mock_aws():
        context = AwsContext()
        context.s3.create_bucket(Bucket=BUCKET)
        yield context


def _may_assume(plan, principal: str, external_id: str | None) -> bool:
    context = {} if external_id is None else {"sts:ExternalId": external_id}
    # A trust policy's resource is implicitly its role; the evaluator reads resource policies with one.
    trust = plan.steps[0].document
    trust = {**trust, "Statement": [{**s, "Resource": plan.role_arn} for s in trust["Statement"]]}
    return evaluate(
        RequestContext("sts:AssumeRole", plan.role_arn, context, principal_arn=principal),
        [("theirs", plan.other_account_policy)],
        resource_policy=("trust policy", trust),
        resource_account=plan.identity.account,
    ).allowed


def test_trust_needs_the_external_id_and_the_named_principal(ctx):
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), SERVICE_ROLE, AccessLevel.READ_ONLY))
    assert plan.ok, plan.blockers
    assert _may_assume(plan, SERVICE_ROLE, plan.external_id)
    assert not _may_assume(plan, SERVICE_ROLE, None)
    assert not _may_assume(plan, SERVICE_ROLE, "someone-elses-id")
    assert not _may_assume(plan, f"arn:aws:iam::{OTHER}:role/another-role", plan.external_id)
    assert not _may_assume(plan, "arn:aws:iam::999988887777:role/backup-service", plan.external_id)


def test_whole_account_trust_admits_its_principals_only_with_the_id(ctx):
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY, external_id="cust-42"))
    assert plan.external_id == "cust-42"
    assert _may_assume(plan, f"arn:aws:iam::{OTHER}:role/any", "cust-42")
    assert not _may_assume(plan, f"arn:aws:iam::{OTHER}:role/any", "cust-43")


def test_the_role_policy_is_the_scoped_policy(ctx):
    plan = build_third_party_role_plan(
        ctx, ThirdPartyRoleRequest((BUCKET,), OTHER, AccessLevel.WRITE_ONLY, prefixes=("in/",))
    )
    permissions = plan.steps[1].document
    put = lambda key: evaluate(RequestContext("s3:PutObject", f"arn:aws:s3:::{BUCKET}/{key}"), [permissions]).allowed
    assert put("in/x") and not put("in-other/x") and not put("x")
    assert analyze_policy_string(policy_json(permissions)).findings == []


def test_apply_creates_the_role_and_rollback_removes_it(ctx):
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), SERVICE_ROLE, AccessLevel.READ_ONLY))
    assert "external id" in plan.describe() and plan.role_arn in plan.describe()
    result = apply_plan(ctx, plan, journal=False)
    assert result.ok and result.credentials is None
    role = ctx.iam.get_role(RoleName=plan.role_name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": plan.external_id}}
    policy = ctx.iam.get_role_policy(RoleName=plan.role_name, PolicyName="s3cred-tui-access")["PolicyDocument"]
    assert (json.loads(policy) if isinstance(policy, str) else policy) == plan.permissions
    # A second plan for the same name is refused: an existing role is never rewritten.
    again = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), SERVICE_ROLE, AccessLevel.READ_ONLY))
    assert not again.ok and "already exists" in again.blockers[0]


def test_a_failed_policy_step_removes_the_new_role(ctx, monkeypatch):
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), SERVICE_ROLE, AccessLevel.READ_ONLY))
    plan.steps[1].params["RoleName"] = "no-such-role"  # PutRolePolicy fails: NoSuchEntity
    result = apply_plan(ctx, plan, journal=False)
    assert not result.ok and len(result.undone) == 1
    with pytest.raises(ctx.iam.exceptions.NoSuchEntityException):
        ctx.iam.get_role(RoleName=plan.role_name)


def test_a_kms_bucket_gives_the_role_the_key(ctx):
    key = ctx.client("kms").create_key()["KeyMetadata"]["Arn"]
    ctx.s3.put_bucket_encryption(
        Bucket=BUCKET,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]},
    )
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY))
    assert any(s["Resource"] == key for s in plan.permissions["Statement"])


def test_bad_inputs(ctx):
    with pytest.raises(ValidationError) as caught:
        validate_external_id("a b")
    assert caught.value.field == "external-id"
    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), "123456789012", AccessLevel.READ_ONLY))
    assert not plan.ok and "this account" in plan.blockers[0]
    assert external_id_trust_policy(SERVICE_ROLE, "x1")["Statement"][0]["Principal"] == {"AWS": SERVICE_ROLE}


def test_the_other_account_assumes_the_role_with_the_external_id(ctx):
    """The round trip in moto: account 111122223333 is reached by assuming a role whose ARN names it,
    and from there assumes the new role with the external id. (moto checks neither the trust policy nor
    the external id: those decisions are the evaluator tests above.)"""
    import boto3

    plan = build_third_party_role_plan(ctx, ThirdPartyRoleRequest((BUCKET,), OTHER, AccessLevel.READ_ONLY))
    assert apply_plan(ctx, plan, journal=False).ok
    ctx.s3.put_object(Bucket=BUCKET, Key="data.csv", Body=b"x")
    entry = ctx.sts.assume_role(RoleArn=f"arn:aws:iam::{OTHER}:role/operator", RoleSessionName="vendor")["Credentials"]
    vendor = boto3.client(
        "sts",
        region_name="us-east-1",
        aws_access_key_id=entry["AccessKeyId"],
        aws_secret_access_key=entry["SecretAccessKey"],
        aws_session_token=entry["SessionToken"],
    )
    assert vendor.get_caller_identity()["Account"] == OTHER
    session = vendor.assume_role(RoleArn=plan.role_arn, RoleSessionName="backup", ExternalId=plan.external_id)["Credentials"]
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
    )
    assert s3.get_object(Bucket=BUCKET, Key="data.csv")["Body"].read() == b"x"
