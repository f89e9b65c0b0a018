"""What one HTTP request to the demo asks AWS to authorize: actions, resources, request context.

moto names the operation and (for S3) the resource; this turns that into what AWS's
authorization sees ("Actions, resources, and condition keys" of the Service Authorization
Reference; "AWS global condition context keys"): the IAM action a call needs (HeadBucket needs
s3:ListBucket, CopyObject also needs s3:GetObject on its source, DeleteObjects s3:DeleteObject
on each key), the resource ARN, the resource's policy and owner, and the request-context keys
(s3:prefix, s3:delimiter and s3:max-keys of a listing, s3:x-amz-* headers,
aws:SecureTransport, aws:SourceIp, aws:CurrentTime, aws:RequestedRegion, iam:PermissionsBoundary,
aws:RequestTag/*, sts:ExternalId, ...).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree

from moto.iam.models import iam_backends
from moto.s3.models import s3_backends

from s3cred_tui.demo.principals import NamedPolicy, Principal

log = logging.getLogger(__name__)

# The demo listens on the loopback interface only, over plain HTTP.
DEMO_SOURCE_IP = "127.0.0.1"

# moto's S3 operation names that are not the IAM action AWS checks.
_S3_ACTIONS = {
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListBuckets": "ListAllMyBuckets",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "SelectObject": "GetObject",
    "DeleteBucketCORS": "PutBucketCORS",
}
_LISTING_ACTIONS = {"s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"}
# Request headers that S3 offers as condition keys (s3:x-amz-acl, ...).
_S3_HEADER_KEYS = (
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-storage-class",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-content-sha256",
    "x-amz-grant-read",
    "x-amz-grant-write",
    "x-amz-grant-read-acp",
    "x-amz-grant-write-acp",
    "x-amz-grant-full-control",
    "x-amz-object-lock-mode",
    "x-amz-object-lock-retain-until-date",
    "x-amz-object-lock-legal-hold",
)

# IAM actions that act on the caller's own user when UserName is left out.
_SELF_USER_ACTIONS = {
    "GetUser",
    "CreateAccessKey",
    "ListAccessKeys",
    "UpdateAccessKey",
    "DeleteAccessKey",
    "ListUserPolicies",
    "ListAttachedUserPolicies",
    "ListGroupsForUser",
    "ListMFADevices",
    "ListSigningCertificates",
    "ListSSHPublicKeys",
    "ListServiceSpecificCredentials",
    "ChangePassword",
    "ListUserTags",
}


@dataclass(frozen=True)
class Check:
    """One authorization question a request asks."""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    resource_policy: NamedPolicy | None = None
    resource_account: str | None = None


def _param(data: Any, name: str) -> str | None:
    if not isinstance(data, dict):
        return None
    value = data.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _query(path: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(path).query, keep_blank_values=True)


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and hasattr(headers, "items"):
        for key, item in headers.items():
            if key.lower() == name:
                return item
    return value


def common_context(region: str, principal: Principal) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    context: dict[str, Any] = {
        "aws:CurrentTime": now,
        "aws:EpochTime": int(now.timestamp()),
        "aws:SecureTransport": False,
        "aws:SourceIp": DEMO_SOURCE_IP,
        "aws:RequestedRegion": region,
        "aws:ViaAWSService": False,
    }
    context.update(principal.context)
    return context


# ---------------------------------------------------------------------------------------------- S3


def _bucket_of(resource: str) -> str | None:
    if not resource.startswith("arn:") or ":::" not in resource:
        return None
    name = resource.split(":::", 1)[1].split("/", 1)[0]
    return None if name in ("", "*") else name


def bucket_owner_and_policy(name: str | None) -> tuple[str | None, NamedPolicy | None, Any]:
    """(owner account, bucket policy, moto bucket) of an existing bucket, else (None, None, None)."""
    if not name:
        return None, None, None
    owner = s3_backends.bucket_accounts.get(name)
    if not owner:
        return None, None, None
    partition, account = owner
    bucket = s3_backends[account][partition].buckets.get(name)
    if bucket is None:
        return None, None, None
    policy = None
    raw = getattr(bucket, "policy", None)
    if raw:
        try:
            policy = (f"bucket policy of {name}", json.loads(raw))
        except ValueError:
            log.warning("demo authorizer: the bucket policy of %s is not JSON; ignoring it", name)
    return account, policy, bucket


def _s3_context(iam_request: Any, action: str, base: dict[str, Any]) -> dict[str, Any]:
    context = dict(base)
    headers = iam_request._headers
    query = _query(iam_request._path)
    if action in _LISTING_ACTIONS:
        for key in ("prefix", "delimiter", "max-keys"):
            if key in query:
                context[f"s3:{key}"] = query[key][0]
    for name in _S3_HEADER_KEYS:
        value = _header(headers, name)
        if value is not None:
            context[f"s3:{name}"] = value
    context["s3:authType"] = "REST-HEADER" if _header(headers, "authorization") else "REST-QUERY-STRING"
    context["s3:signatureversion"] = "AWS4-HMAC-SHA256"
    return context


def _copy_source(value: str) -> tuple[str, str] | None:
    source = unquote(value.split("?", 1)[0]).lstrip("/")
    if "/" not in source:
        return None
    bucket, key = source.split("/", 1)
    return bucket, key


def _deleted_keys(body: Any) -> list[str]:
    """The keys of a DeleteObjects request body."""
    if isinstance(body, str):
        body = body.encode()
    try:
        root = ElementTree.fromstring(body or b"")
    except ElementTree.ParseError:
        return []
    return [element.text or "" for element in root.iter() if element.tag.split("}")[-1] == "Key"]


def s3_checks(iam_request: Any, moto_resource: str, principal: Principal) -> list[Check]:
    name = iam_request._action.split(":", 1)[1]
    action = "s3:" + _S3_ACTIONS.get(name, name)
    base = common_context(iam_request._region, principal)
    context = _s3_context(iam_request, action, base)
    owner, policy, _ = bucket_owner_and_policy(_bucket_of(moto_resource))
    if owner:
        context["s3:ResourceAccount"] = owner
    query = _query(iam_request._path)

    if action == "s3:DeleteObject" and "/" not in moto_resource.split(":::", 1)[-1] and "delete" in query:
        # DeleteObjects: "you must have s3:DeleteObject permission" for each key it names.
        return [Check(action, f"{moto_resource}/{key}", context, policy, owner) for key in _deleted_keys(iam_request._body)]

    checks = [Check(action, moto_resource, context, policy, owner)]
    copy_source = _header(iam_request._headers, "x-amz-copy-source")
    if action == "s3:PutObject" and copy_source and _copy_source(copy_source):
        source_bucket, source_key = _copy_source(copy_source)  # type: ignore[misc]
        source_owner, source_policy, _ = bucket_owner_and_policy(source_bucket)
        source_context = dict(context)
        if source_owner:
            source_context["s3:ResourceAccount"] = source_owner
        checks.append(
            Check("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key}", source_context, source_policy, source_owner)
        )
    return checks


def missing_object_check(check: Check, method: str) -> Check | None:
    """A read of a key that does not exist answers 404 only to a caller allowed s3:ListBucket,
    403 otherwise ("GetObject", Amazon S3 API reference: Permissions). The ListBucket question to
    ask, or None when the key exists or the request is no read."""
    if check.action not in ("s3:GetObject", "s3:GetObjectVersion") or method not in ("GET", "HEAD"):
        return None
    path = check.resource.split(":::", 1)[-1]
    if "/" not in path:
        return None
    bucket_name, key = path.split("/", 1)
    _, _, bucket = bucket_owner_and_policy(bucket_name)
    if bucket is None or key in bucket.keys:
        return None
    context = {k: v for k, v in check.context.items() if not k.startswith("s3:")}
    return Check("s3:ListBucket", f"arn:aws:s3:::{bucket_name}", context, check.resource_policy, check.resource_account)


# ----------------------------------------------------------------------------------------- IAM, STS


_TAG_PARAM = re.compile(r"^Tags\.member\.(\d+)\.(Key|Value)$")


def _request_tags(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        return {}
    found: dict[str, dict[str, str]] = {}
    for name in data:
        match = _TAG_PARAM.match(name)
        if match:
            found.setdefault(match[1], {})[match[2]] = _param(data, name) or ""
    tags = {pair["Key"]: pair.get("Value", "") for pair in found.values() if "Key" in pair}
    context: dict[str, Any] = {f"aws:RequestTag/{key}": value for key, value in tags.items()}
    if tags:
        context["aws:TagKeys"] = sorted(tags)
    return context


def _entity_arn(backend: Any, account: str, kind: str, name: str) -> str:
    store = {"user": backend.users, "group": backend.groups, "role": backend.roles}[kind]
    entity = store.get(name) if kind != "role" else next((r for r in store.values() if r.name == name), None)
    path = getattr(entity, "path", "/") or "/"
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def _iam_resource(action: str, data: Any, account: str, partition: str, principal: Principal) -> str:
    backend = iam_backends[account][partition]
    for param, kind in (("UserName", "user"), ("RoleName", "role"), ("GroupName", "group")):
        name = _param(data, param)
        if name:
            return _entity_arn(backend, account, kind, name)
    policy_arn = _param(data, "PolicyArn")
    if policy_arn:
        return policy_arn
    if action == "CreatePolicy" and _param(data, "PolicyName"):
        path = _param(data, "Path") or "/"
        return f"arn:aws:iam::{account}:policy{path}{_param(data, 'PolicyName')}"
    if action in _SELF_USER_ACTIONS and principal.kind == "user":
        return principal.arn
    return "*"


def trust_as_resource_policy(document: Any, role_arn: str) -> dict:
    """A role's trust policy as a resource-based policy: its statements name no Resource, since
    the role it is attached to is the resource (IAM JSON policy elements: Resource)."""
    policy = json.loads(document) if isinstance(document, str) else dict(document)
    raw = policy.get("Statement", [])
    statements = raw if isinstance(raw, list) else [raw]
    completed = []
    for statement in statements:
        if isinstance(statement, dict) and "Resource" not in statement and "NotResource" not in statement:
            statement = {**statement, "Resource": role_arn}
        completed.append(statement)
    return {**policy, "Statement": completed}


def _partition(region: str) -> str:
    from moto.utilities.utils import get_partition

    return get_partition(region)


def iam_sts_checks(iam_request: Any, moto_resource: str, principal: Principal) -> list[Check]:
    service, name = iam_request._action.split(":", 1)
    data = iam_request._data
    account = iam_request.account_id
    partition = _partition(iam_request._region)
    context = common_context(iam_request._region, principal)
    context.update(_request_tags(data))

    if service == "iam":
        boundary = _param(data, "PermissionsBoundary")
        if boundary:
            context["iam:PermissionsBoundary"] = boundary
        if name.startswith(("Attach", "Detach")) and _param(data, "PolicyArn"):
            context["iam:PolicyARN"] = _param(data, "PolicyArn")
        return [Check(f"iam:{name}", _iam_resource(name, data, account, partition, principal), context)]

    if service == "sts" and name.startswith("AssumeRole"):
        role_arn = _param(data, "RoleArn") or moto_resource
        for param, key in (("ExternalId", "sts:ExternalId"), ("RoleSessionName", "sts:RoleSessionName"), ("SourceIdentity", "sts:SourceIdentity")):
            if _param(data, param):
                context[key] = _param(data, param)
        role_account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else account
        trust: NamedPolicy | None = None
        try:
            role = iam_backends[role_account][partition].get_role_by_arn(role_arn)
            trust = (f"trust policy of role {role.name}", trust_as_resource_policy(role.assume_role_policy_document, role_arn))
        except Exception:  # noqa: BLE001 - no such role: nothing trusts the caller
            trust = None
        return [Check(f"sts:{name}", role_arn, context, trust, role_account)]

    if service == "sts" and name == "GetFederationToken":
        federated = _param(data, "Name") or "*"
        return [Check("sts:GetFederationToken", f"arn:aws:sts::{account}:federated-user/{federated}", context)]

    return [Check(f"{service}:{name}", moto_resource, context)]
