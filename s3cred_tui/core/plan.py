"""Plans: the exact AWS calls that will make the credentials, read from the account first.

`build_plan` validates the request before any AWS call, then makes read-only calls
(get_caller_identity, head_bucket, get_user, list_access_keys, get_role, ...) so the
plan can state facts ("bucket data-lake exists in eu-west-1"), warnings, and blockers
(reasons it cannot work). Nothing is changed until `apply.apply_plan` runs the plan.

Public API:
- `Step(action, title, params, policy=None, restore=None)`
- `Plan(request, identity, steps, facts, warnings, blockers)`: `.ok`, `.describe()`, `.to_dict()`
- `build_plan(ctx, request, identity=None) -> Plan`
- `user_policy_name(access) -> str`, `DEFAULT_ROLE_NAME`, `WAIT_FOR_KEY_ACTION`,
  `MAX_ACCESS_KEYS_PER_USER`, `ROLE_CHAINING_LIMIT_SECONDS`, `FEDERATION_ROOT_LIMIT_SECONDS`

Decisions:
- Role chaining (the caller is itself an assumed role) caps sessions at one hour; a longer
  duration is a blocker, not silently clamped, so nobody gets shorter credentials than asked.
- A reused user never has an existing inline policy overwritten: the new policy gets a
  name the user does not have yet.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import botocore.exceptions

from s3cred_tui.core import policies
from s3cred_tui.core.errors import (
    AccessDenied,
    CredentialsExpired,
    CredentialsInvalid,
    CredentialsMissing,
    NotFound,
    S3CredError,
    translate,
)
from s3cred_tui.core.inventory import Identity, region_from_location, whoami
from s3cred_tui.core.request import CredentialKind, CredentialRequest
from s3cred_tui.core.tags import CREATED_BY_TAG, is_ours
from s3cred_tui.core.validation import role_session_name, validate_request

DEFAULT_ROLE_NAME = "s3cred-tui.s3-access"
WAIT_FOR_KEY_ACTION = "sts:GetCallerIdentity"
WAIT_FOR_KEY_TITLE = "Wait until the new key works"
MAX_ACCESS_KEYS_PER_USER = 2
ROLE_CHAINING_LIMIT_SECONDS = 3600
FEDERATION_ROOT_LIMIT_SECONDS = 3600
FEDERATION_MIN_SECONDS = 900
FEDERATION_MAX_SECONDS = 129600
FEDERATION_NAME_LIMIT = 32
DEFAULT_MAX_SESSION_SECONDS = 3600
MAX_ROLE_SESSION_SECONDS = 43200

_CREDENTIAL_ERRORS = (CredentialsExpired, CredentialsInvalid, CredentialsMissing)


@dataclass
class Step:
    """One AWS call. `params` are its key parameters (JSON-serialisable, never a secret);
    `policy` is the policy document it sends, if any; `restore` is what undoing a change
    to an existing resource puts back (for repair steps)."""

    action: str
    title: str
    params: dict[str, Any]
    policy: dict[str, Any] | None = None
    restore: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "title": self.title, "params": _jsonable(self.params)}
        if self.policy is not None:
            out["policy"] = self.policy
        return out


@dataclass
class Plan:
    request: CredentialRequest
    identity: Identity | None
    steps: list[Step] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.blockers

    def describe(self) -> str:
        """The dry run, in plain words: facts, numbered calls with their policies, warnings, blockers."""
        req = self.request
        where = ", ".join(req.buckets)
        scope = f" under prefix {req.prefix!r}" if req.prefix else ""
        lines = [f"Plan: {req.kind.value} credentials, {req.access.value} access to {where}{scope}."]
        if self.identity is not None:
            lines.append(f"Acting as {self.identity.arn} (account {self.identity.account}).")
        if self.facts:
            lines.append("")
            lines.append("What the account looks like now:")
            lines.extend(f"  - {fact}" for fact in self.facts)
        lines.append("")
        if self.steps:
            lines.append("Steps:")
            for number, step in enumerate(self.steps, 1):
                lines.append(f"  {number}. {step.title}")
                lines.append(f"     {step.action}({_format_params(step.params)})")
                if step.policy is not None:
                    lines.append("     Policy:")
                    lines.extend("       " + text for text in policies.policy_json(step.policy).splitlines())
        else:
            lines.append("Steps: none.")
        if self.warnings:
            lines.append("")
            lines.append("Warnings:")
            lines.extend(f"  ! {warning}" for warning in self.warnings)
        if self.blockers:
            lines.append("")
            lines.append("Cannot proceed:")
            lines.extend(f"  x {blocker}" for blocker in self.blockers)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        req = self.request
        return {
            "request": {
                "buckets": list(req.buckets),
                "access": req.access.value,
                "prefix": req.prefix,
                "prefix_mode": req.prefix_mode.value,
                "kind": req.kind.value,
                "duration_seconds": req.duration_seconds,
                "username": req.username,
                "reuse_existing_user": req.reuse_existing_user,
                "create_buckets": req.create_buckets,
                "bucket_region": req.bucket_region,
                "permissions_boundary": req.permissions_boundary,
                "role_name": req.role_name,
            },
            "identity": self.identity.to_dict() if self.identity is not None else None,
            "ok": self.ok,
            "steps": [step.to_dict() for step in self.steps],
            "facts": list(self.facts),
            "warnings": list(self.warnings),
            "blockers": list(self.blockers),
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _format_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={json.dumps(_jsonable(value), ensure_ascii=False)}" for key, value in params.items())


def user_policy_name(access: Any) -> str:
    return f"s3cred-tui.{getattr(access, 'value', access)}"


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _partition(identity: Identity | None) -> str:
    if identity is not None and identity.arn.startswith("arn:"):
        return identity.arn.split(":")[1]
    return "aws"


def _in_partition(arn: str, partition: str) -> str:
    return arn.replace("arn:aws:", f"arn:{partition}:", 1) if partition != "aws" else arn


# ---------------------------------------------------------------------------
# Buckets


def _check_credentials(ctx: Any) -> None:
    """A HEAD answer carries no error code, so a 403 may hide dead credentials: ask STS."""
    try:
        ctx.sts.get_caller_identity()
    except Exception as exc:
        error = translate(exc, "sts:GetCallerIdentity")
        if isinstance(error, _CREDENTIAL_ERRORS):
            raise error from None


def _plan_buckets(ctx: Any, req: CredentialRequest, plan: Plan) -> None:
    create_region = req.bucket_region or ctx.region
    for bucket in req.buckets:
        try:
            response = ctx.s3.head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
            if code in {"404", "NoSuchBucket", "NotFound"} or (status == 404 and code not in {"NoSuchKey"}):
                _plan_missing_bucket(bucket, req, create_region, plan)
                continue
            error = translate(exc, "s3:HeadBucket")
            if isinstance(error, _CREDENTIAL_ERRORS):
                raise error from None
            if code in {"403", "AccessDenied"} or status == 403:
                _check_credentials(ctx)
                region = headers.get("x-amz-bucket-region")
                where = f" (in {region})" if region else ""
                plan.warnings.append(
                    f"Cannot confirm bucket {bucket} exists{where}: access denied to s3:HeadBucket. "
                    "It may belong to another account, or your identity may not read it."
                )
                continue
            if code == "301" or status == 301:
                region = headers.get("x-amz-bucket-region")
                plan.facts.append(f"bucket {bucket} exists in {region or 'another region'}")
                continue
            raise error from None
        except Exception as exc:
            raise translate(exc, "s3:HeadBucket") from None
        headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
        region = headers.get("x-amz-bucket-region") or response.get("BucketRegion")
        if not region:
            try:
                region = region_from_location(ctx.s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"))
            except Exception:  # the region is a detail for the reader; the bucket exists either way
                region = None
        plan.facts.append(f"bucket {bucket} exists" + (f" in {region}" if region else ""))


def _plan_missing_bucket(bucket: str, req: CredentialRequest, region: str, plan: Plan) -> None:
    if not req.create_buckets:
        plan.facts.append(f"bucket {bucket} does not exist")
        plan.blockers.append(
            f"Bucket {bucket} does not exist. Check the name, or choose to create missing buckets."
        )
        return
    plan.facts.append(f"bucket {bucket} does not exist; it will be created in {region}")
    params: dict[str, Any] = {"Bucket": bucket, "Region": region}
    if region != "us-east-1":
        params["CreateBucketConfiguration"] = {"LocationConstraint": region}
    plan.steps.append(Step("s3:CreateBucket", f"Create bucket {bucket} in {region}", params))
    plan.steps.append(
        Step(
            "s3:PutBucketTagging",
            f"Tag bucket {bucket} as created by s3cred-tui",
            {"Bucket": bucket, "Region": region, "Tagging": {"TagSet": [dict(CREATED_BY_TAG)]}},
        )
    )


# ---------------------------------------------------------------------------
# Permanent: user, inline policy, access key


def _plan_permanent(ctx: Any, req: CredentialRequest, identity: Identity | None, plan: Plan, document: dict) -> None:
    iam = ctx.iam
    user = req.username
    assert user is not None  # validate_request fills in the default name
    policy_name = user_policy_name(req.access)
    existing_inline: dict[str, dict] = {}
    reuse = False
    try:
        raw_user = iam.get_user(UserName=user)["User"]
    except Exception as exc:
        error = translate(exc, "iam:GetUser")
        if isinstance(error, NotFound):
            raw_user = None
        elif isinstance(error, AccessDenied):
            plan.blockers.append(f"Cannot read IAM user {user}: {error.message}. Creating users needs IAM permissions.")
            return
        else:
            raise error from None

    if raw_user is None:
        plan.facts.append(f"user {user} does not exist")
    elif not req.reuse_existing_user:
        plan.facts.append(f"user {user} exists")
        plan.blockers.append(f"User {user} exists; choose another name or reuse it.")
        return
    else:
        reuse = True
        ours = is_ours(raw_user.get("Tags"))
        try:
            keys = iam.list_access_keys(UserName=user).get("AccessKeyMetadata", [])
            names = iam.list_user_policies(UserName=user).get("PolicyNames", [])
            for name in names:
                existing_inline[name] = iam.get_user_policy(UserName=user, PolicyName=name)["PolicyDocument"]
        except Exception as exc:
            raise translate(exc, "iam:ListAccessKeys") from None
        plan.facts.append(
            f"user {user} exists ({len(keys)} access key{'s' if len(keys) != 1 else ''}"
            f"{', created by s3cred-tui' if ours else ''}); it will be reused and kept on rollback"
        )
        if len(keys) >= MAX_ACCESS_KEYS_PER_USER:
            plan.blockers.append(
                f"User {user} already has {len(keys)} access keys; AWS allows at most {MAX_ACCESS_KEYS_PER_USER}. "
                "Delete or rotate one of them first."
            )
        if not ours:
            plan.warnings.append(f"User {user} was not created by s3cred-tui; its other permissions stay as they are.")
        if existing_inline:
            plan.warnings.append(
                f"User {user} already has inline policies ({', '.join(sorted(existing_inline))}); "
                "the new key gets their rights too."
            )
        candidate, counter = policy_name, 2
        while candidate in existing_inline:
            candidate, counter = f"{policy_name}.{counter}", counter + 1
        policy_name = candidate

    total = policies.policy_size(document) + sum(policies.policy_size(doc) for doc in existing_inline.values())
    if total > policies.INLINE_USER_POLICY_LIMIT:
        others = f" together with the user's {len(existing_inline)} other inline policies" if existing_inline else ""
        plan.blockers.append(
            f"The user policy is {policies.policy_size(document):,} characters{others} "
            f"({total:,} in all); AWS allows {policies.INLINE_USER_POLICY_LIMIT:,} of inline policy per user. "
            "Use fewer buckets or a shorter prefix."
        )

    if not reuse:
        params: dict[str, Any] = {"UserName": user, "Tags": [dict(CREATED_BY_TAG)]}
        if req.permissions_boundary:
            boundary = _in_partition(policies.BOUNDARY_FOR_LEVEL[req.access], _partition(identity))
            params["PermissionsBoundary"] = boundary
            plan.facts.append(f"permissions boundary {boundary.rsplit('/', 1)[-1]} caps the user to S3")
        plan.steps.append(Step("iam:CreateUser", f"Create IAM user {user}", params))
    plan.steps.append(
        Step(
            "iam:PutUserPolicy",
            f"Give {user} the inline policy {policy_name}",
            {"UserName": user, "PolicyName": policy_name},
            policy=document,
        )
    )
    plan.steps.append(Step("iam:CreateAccessKey", f"Create an access key for {user}", {"UserName": user}))
    plan.steps.append(Step(WAIT_FOR_KEY_ACTION, WAIT_FOR_KEY_TITLE, {"UserName": user}))


# ---------------------------------------------------------------------------
# Assume role


def _statement_trusts(statement: dict, principal_arn: str, account: str) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    actions = statement.get("Action", [])
    actions = actions if isinstance(actions, list) else [actions]
    if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
        return False
    principal = statement.get("Principal", {})
    if principal == "*":
        return True
    aws = principal.get("AWS", []) if isinstance(principal, dict) else []
    aws = aws if isinstance(aws, list) else [aws]
    partition = principal_arn.split(":")[1] if principal_arn.startswith("arn:") else "aws"
    accepted = {principal_arn, "*", account, f"arn:{partition}:iam::{account}:root"}
    return any(p in accepted for p in aws)


def trust_allows(document: dict, principal_arn: str, account: str) -> bool:
    statements = document.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return any(isinstance(s, dict) and _statement_trusts(s, principal_arn, account) for s in statements)


def _decode(document: Any) -> dict:
    if isinstance(document, dict):
        return document
    return json.loads(urllib.parse.unquote(document))


def _plan_assume_role(ctx: Any, req: CredentialRequest, identity: Identity, plan: Plan, document: dict) -> None:
    duration = int(req.duration_seconds or DEFAULT_MAX_SESSION_SECONDS)
    if identity.principal_type == "root":
        plan.blockers.append(
            "The root user cannot assume a role. Use a federation token (root may, for up to 1 hour), "
            "or make permanent credentials for a new IAM user."
        )
        return
    if identity.principal_type in ("federated", "other"):
        plan.blockers.append(
            f"This identity ({identity.arn}) cannot create or assume a role. "
            "Sign in as an IAM user or role, or choose permanent credentials."
        )
        return
    if identity.principal_type == "assumed-role" and duration > ROLE_CHAINING_LIMIT_SECONDS:
        plan.blockers.append(
            "You are signed in with an assumed role; AWS caps role chaining at 1 hour, so "
            f"{duration // 60} minutes cannot be granted. Choose 1 hour or less."
        )

    role_name = req.role_name or DEFAULT_ROLE_NAME
    partition = _partition(identity)
    managed_arn = _in_partition(policies.ROLE_MANAGED_POLICY_ARN, partition)
    trust = policies.trust_policy_for(identity.principal_arn)
    iam = ctx.iam
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except Exception as exc:
        error = translate(exc, "iam:GetRole")
        if isinstance(error, NotFound):
            role = None
        elif isinstance(error, AccessDenied):
            plan.blockers.append(f"Cannot read role {role_name}: {error.message}")
            return
        else:
            raise error from None

    if role is None:
        role_arn = f"arn:{partition}:iam::{identity.account}:role/{role_name}"
        max_session = min(MAX_ROLE_SESSION_SECONDS, max(DEFAULT_MAX_SESSION_SECONDS, duration))
        plan.facts.append(f"role {role_name} does not exist; it will be created")
        plan.steps.append(
            Step(
                "iam:CreateRole",
                f"Create role {role_name}, trusted by {identity.principal_arn}",
                {
                    "RoleName": role_name,
                    "MaxSessionDuration": max_session,
                    "Description": "Temporary S3 credentials made by s3cred-tui",
                    "Tags": [dict(CREATED_BY_TAG)],
                },
                policy=trust,
            )
        )
        plan.steps.append(
            Step(
                "iam:AttachRolePolicy",
                f"Attach {managed_arn.rsplit('/', 1)[-1]} to role {role_name} (the session policy narrows it)",
                {"RoleName": role_name, "PolicyArn": managed_arn},
            )
        )
    else:
        role_arn = role["Arn"]
        ours = is_ours(role.get("Tags"))
        if not ours:
            try:
                ours = is_ours(iam.list_role_tags(RoleName=role_name).get("Tags"))
            except Exception as exc:
                raise translate(exc, "iam:ListRoleTags") from None
        try:
            attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name).get("AttachedPolicies", [])]
            inline = iam.list_role_policies(RoleName=role_name).get("PolicyNames", [])
        except Exception as exc:
            raise translate(exc, "iam:ListAttachedRolePolicies") from None
        current_trust = _decode(role.get("AssumeRolePolicyDocument") or {})
        trusted = trust_allows(current_trust, identity.principal_arn, identity.account)
        has_policy = managed_arn in attached
        max_session = int(role.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_SECONDS)
        long_enough = max_session >= duration
        extras = [a for a in attached if a != managed_arn] + [f"inline {n}" for n in inline]
        problems = []
        if not trusted:
            problems.append(f"its trust policy does not name {identity.principal_arn}")
        if not has_policy:
            problems.append(f"{managed_arn.rsplit('/', 1)[-1]} is not attached")
        if not long_enough:
            problems.append(f"its maximum session is {max_session} s, less than {duration} s")
        owner = "created by s3cred-tui" if ours else "not created by s3cred-tui"
        if not problems:
            plan.facts.append(f"role {role_name} exists ({owner}) and is ready")
        elif ours:
            plan.facts.append(f"role {role_name} exists ({owner}) and will be repaired: {'; '.join(problems)}")
            if not trusted:
                plan.steps.append(
                    Step(
                        "iam:UpdateAssumeRolePolicy",
                        f"Let {identity.principal_arn} assume role {role_name}",
                        {"RoleName": role_name},
                        policy=trust,
                        restore={"PolicyDocument": current_trust},
                    )
                )
            if not has_policy:
                plan.steps.append(
                    Step(
                        "iam:AttachRolePolicy",
                        f"Attach {managed_arn.rsplit('/', 1)[-1]} to role {role_name}",
                        {"RoleName": role_name, "PolicyArn": managed_arn},
                    )
                )
            if not long_enough:
                new_max = min(MAX_ROLE_SESSION_SECONDS, duration)
                plan.steps.append(
                    Step(
                        "iam:UpdateRole",
                        f"Allow sessions of {new_max} s on role {role_name}",
                        {"RoleName": role_name, "MaxSessionDuration": new_max},
                        restore={"MaxSessionDuration": max_session},
                    )
                )
        else:
            plan.facts.append(f"role {role_name} exists ({owner}): {'; '.join(problems)}")
            plan.blockers.append(
                f"Role {role_name} was not created by s3cred-tui and {'; '.join(problems)}. "
                "It will not be changed; choose another role name."
            )
        if extras:
            plan.warnings.append(
                f"Role {role_name} also has {', '.join(extras)}; the session policy still limits these credentials."
            )

    size = policies.policy_size(document)
    if size > policies.SESSION_POLICY_LIMIT:
        plan.blockers.append(_session_too_large(document))
    plan.steps.append(
        Step(
            "sts:AssumeRole",
            f"Assume role {role_name} with the session policy for {duration // 60} minutes",
            {
                "RoleArn": role_arn,
                "RoleSessionName": role_session_name(req.buckets, req.access),
                "DurationSeconds": duration,
            },
            policy=document,
        )
    )


def _session_too_large(document: dict) -> str:
    try:
        policies.check_policy_size(document, policies.SESSION_POLICY_LIMIT, "session policy")
    except S3CredError as exc:
        return exc.message
    return "The session policy is too large."


# ---------------------------------------------------------------------------
# Federation token


def _plan_federation(req: CredentialRequest, identity: Identity, plan: Plan, document: dict) -> None:
    duration = int(req.duration_seconds or DEFAULT_MAX_SESSION_SECONDS)
    if identity.principal_type not in ("user", "root"):
        plan.blockers.append(
            f"Only an IAM user may call sts:GetFederationToken; you are signed in as {identity.arn}. "
            "Choose assume-role or permanent credentials."
        )
    elif identity.principal_type == "root" and duration > FEDERATION_ROOT_LIMIT_SECONDS:
        plan.blockers.append("A federation token made by the root user lasts at most 1 hour; choose 1 hour or less.")
    elif not FEDERATION_MIN_SECONDS <= duration <= FEDERATION_MAX_SECONDS:
        plan.blockers.append("A federation token lasts from 15 minutes to 36 hours.")
    if identity.principal_type == "user":
        plan.warnings.append(
            f"A federation token can do only what both {identity.name} and the policy allow, "
            "and cannot call IAM. Your user needs these S3 permissions itself."
        )
    size = policies.policy_size(document)
    if size > policies.SESSION_POLICY_LIMIT:
        plan.blockers.append(_session_too_large(document))
    name = role_session_name(req.buckets, req.access, max_length=FEDERATION_NAME_LIMIT)
    plan.steps.append(
        Step(
            "sts:GetFederationToken",
            f"Get a federation token {name} for {duration // 60} minutes",
            {"Name": name, "DurationSeconds": duration},
            policy=document,
        )
    )


# ---------------------------------------------------------------------------


def build_plan(ctx: Any, request: CredentialRequest, identity: Identity | None = None) -> Plan:
    """Validate (no AWS call before this passes), then read the account and lay out the steps."""
    req = validate_request(request)
    document = policies.policy_for_request(req)
    if identity is None:
        identity = whoami(ctx)
    plan = Plan(request=req, identity=identity)
    _plan_buckets(ctx, req, plan)
    kind = CredentialKind(req.kind)
    if kind is CredentialKind.PERMANENT:
        _plan_permanent(ctx, req, identity, plan, document)
    elif kind is CredentialKind.ASSUME_ROLE:
        _plan_assume_role(ctx, req, identity, plan, document)
    else:
        _plan_federation(req, identity, plan, document)
    return plan
