"""The fault proxy does what the suite relies on: each fault reaches the SDK as AWS's own
error, or as a broken connection, and changes upstream only when it says it forwards."""

from __future__ import annotations

import boto3
import botocore.config
import botocore.exceptions
import pytest

from tests.faults.proxy import Fault, describe

pytestmark = pytest.mark.e2e


def _client(server_account, proxy, service: str, region: str = "us-east-1"):
    return boto3.client(
        service,
        endpoint_url=proxy.endpoint_url,
        region_name=region,
        aws_access_key_id=server_account.admin.access_key_id,
        aws_secret_access_key=server_account.admin.secret_access_key,
        # One attempt, so each fault is seen raw.
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=1, connect_timeout=1),
    )


def test_requests_are_named_by_service_and_action():
    auth = {"authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/iam/aws4_request, SignedHeaders=host"}
    assert describe("POST", "/", auth, b"Action=CreateUser&UserName=a&Version=2010-05-08") == ("iam", "CreateUser")
    s3 = {"authorization": auth["authorization"].replace("/iam/", "/s3/")}
    assert describe("PUT", "/bucket", s3, b"") == ("s3", "CreateBucket")
    assert describe("PUT", "/bucket?tagging", s3, b"<Tagging/>") == ("s3", "PutBucketTagging")
    assert describe("DELETE", "/bucket", s3, b"") == ("s3", "DeleteBucket")
    assert describe("PUT", "/bucket/key?x-id=PutObject", s3, b"data") == ("s3", "PutObject")


@pytest.mark.parametrize(
    ("kind", "service", "code", "status"),
    [
        ("access-denied", "iam", "AccessDenied", 403),
        ("throttling", "iam", "Throttling", 400),
        ("server-error", "iam", "ServiceFailure", 500),
        ("limit-exceeded", "iam", "LimitExceeded", 409),
        ("access-denied", "sts", "AccessDenied", 403),
        ("server-error", "sts", "InternalFailure", 500),
        ("access-denied", "s3", "AccessDenied", 403),
        ("throttling", "s3", "SlowDown", 503),
        ("limit-exceeded", "s3", "TooManyBuckets", 400),
    ],
)
def test_error_faults_reach_the_sdk_as_aws_errors_and_change_nothing(server_account, fault_proxy, kind, service, code, status):
    action = {"iam": "CreateUser", "sts": "GetCallerIdentity", "s3": "CreateBucket"}[service]
    fault = fault_proxy.add(Fault(service, action, kind))
    client = _client(server_account, fault_proxy, service)
    call = {
        "iam": lambda: client.create_user(UserName="never-made"),
        "sts": lambda: client.get_caller_identity(),
        "s3": lambda: client.create_bucket(Bucket="never-made"),
    }[service]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    assert fault.fired
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert "injected" in caught.value.response["Error"]["Message"]
    iam, s3 = server_account.client("iam"), server_account.client("s3")
    assert "never-made" not in [u["UserName"] for u in iam.list_users()["Users"]]
    assert "never-made" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.parametrize(("kind", "reaches_upstream"), [("reset", False), ("lost-response", True), ("hang", True)])
def test_connection_faults_break_the_call_and_forward_only_when_they_say_so(server_account, fault_proxy, kind, reaches_upstream):
    fault = fault_proxy.add(Fault("iam", "CreateUser", kind, hang_seconds=5))
    with pytest.raises((botocore.exceptions.ConnectionClosedError, botocore.exceptions.ReadTimeoutError,
                        botocore.exceptions.EndpointConnectionError)):
        _client(server_account, fault_proxy, "iam").create_user(UserName="maybe-made")
    assert fault.fired
    users = [u["UserName"] for u in server_account.client("iam").list_users()["Users"]]
    assert ("maybe-made" in users) is reaches_upstream


def test_an_unmatched_request_passes_through_and_a_later_occurrence_is_counted(server_account, fault_proxy):
    second = fault_proxy.add(Fault("iam", "CreateUser", "access-denied", occurrence=2))
    iam = _client(server_account, fault_proxy, "iam")
    iam.create_user(UserName="first")
    with pytest.raises(botocore.exceptions.ClientError):
        iam.create_user(UserName="second")
    iam.create_user(UserName="third")
    assert second.fired
    assert [(c.action, c.status, c.fault) for c in fault_proxy.calls] == [
        ("CreateUser", 200, None), ("CreateUser", 403, "access-denied"), ("CreateUser", 200, None)]
