"""Plans: the exact AWS calls that will make the credentials, read from the account first.

`build_plan` drafts the request (`core.draft`: checked, normalised, its policy built and
measured) before any AWS call, then makes read-only calls
(get_caller_identity, head_bucket, get_user, list_access_keys, get_role, ...) so the
plan can state facts ("bucket data-lake exists in eu-west-1"), warnings, and blockers
(reasons it cannot work). Nothing is changed until `apply.apply_plan` runs the plan.

Public API:
- `Plan(draft, identity, steps, facts, warnings, blockers, policy_review=None)`: `.request` and
  `.policy` (from the draft, kept once), `.ok`, `.needs_broad_acknowledgement`,
  `.ok_once_acknowledged`, `.acknowledge_broad_policy()`, `.add(kind, title, params, document=None, restore=None) -> Step`,
  `.describe()`, `.to_dict()`
- `Step(kind, title, params, plan, document=None, restore=None)`: `.action` (the kind's API call),
  `.policy` (the document the call sends); made only by `Plan.add`. Kinds are `apply.StepKind`s.
- `build_plan(ctx, request, identity=None) -> Plan`
- `policy_review_for(draft) -> PolicyReview | None`, `acknowledgement_required(request, review) -> bool`
  (pure: the command line refuses a broad custom policy before any AWS call)
- `user_policy_name(access) -> str`, `DEFAULT_ROLE_NAME`, `WAIT_FOR_KEY_ACTION`,
  `MAX_ACCESS_KEYS_PER_USER` (the duration limits: `validation.duration_range`)

Decisions:
- Role chaining (the caller is itself an assumed role) caps sessions at one hour; a longer
  duration is a blocker, not silently clamped, so nobody gets shorter credentials than asked.
- A reused user never has an existing inline policy overwritten: the new policy gets a
  name the user does not have yet.
- Each existing bucket's default encryption is read (`core.encryption`); a customer-managed KMS
  key becomes `request.kms_keys`, and the request is drafted again so the key grant is in the
  policy and measured against the limit (over it: a blocker). A custom policy is only warned about.
- An existing role is reused only when its trust policy lets exactly the caller assume it
  (`core.trust.assess_trust`); otherwise the plan refuses, says why and suggests a free name.
  A trust policy is never rewritten: a `created-by` tag can be set by anyone with
  `iam:TagRole`, so it authorises nothing. Our own role whose trust is exactly the caller may
  get the managed policy re-attached or a longer maximum session.
- What the person wrote into the policy (a custom policy, extra statements) is reviewed by
  `core.policy_checks`; a custom policy broader than the named buckets is a blocker until
  acknowledged (`request.allow_broad`, or `Plan.acknowledge_broad_policy()` after a confirm step).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import botocore.exceptions

from s3cred_tui.core import policies
from s3cred_tui.core.apply import (
    ASSUME_ROLE,
    ATTACH_ROLE_POLICY,
    CREATE_ACCESS_KEY,
    CREATE_BUCKET,
    CREATE_ROLE,
    CREATE_USER,
    GET_FEDERATION_TOKEN,
    MAX_ACCESS_KEYS_PER_USER,
    PUT_USER_POLICY,
    TAG_BUCKET,
    UPDATE_ROLE,
    WAIT_FOR_NEW_KEY,
    StepKind,
)
from s3cred_tui.core.describe import outcome_lines, policy_lines
from s3cred_tui.core.draft import Draft, draft_request
from s3cred_tui.core.errors import (
    AccessDenied,
    CredentialsExpired,
    CredentialsInvalid,
    CredentialsMissing,
    NotFound,
    translate,
)
from s3cred_tui.core.inventory import Identity, decode_policy_document, region_from_location, whoami
from s3cred_tui.core.policy_checks import PolicyReview, check_custom_policy
from s3cred_tui.core.encryption import read_bucket_encryption
from s3cred_tui.core.request import AccessLevel, CredentialKind, CredentialRequest, KmsKeyGrant
from s3cred_tui.core.tags import CREATED_BY_TAG, is_ours
from s3cred_tui.core.trust import assess_trust
from s3cred_tui.core.validation import duration_range, role_session_name  # the duration limits live there

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext

DEFAULT_ROLE_NAME = "s3cred-tui.s3-access"
WAIT_FOR_KEY_ACTION = WAIT_FOR_NEW_KEY.action
WAIT_FOR_KEY_TITLE = "Wait until the new key works"
FEDERATION_NAME_LIMIT = 32
DEFAULT_MAX_SESSION_SECONDS = 3600
MAX_ROLE_SESSION_SECONDS = 43200

_CREDENTIAL_ERRORS = (CredentialsExpired, CredentialsInvalid, CredentialsMissing)


@dataclass
class Step:
    """One AWS call of a plan. `params` are its key parameters (JSON-serialisable, never a secret);
    `document` is a policy document of its own (a role's trust policy); `restore` is what undoing a
    change to an existing resource puts back (for repair steps). A call that gives the credentials
    their policy reads it from its plan, which keeps it once."""

    kind: StepKind
    title: str
    params: dict[str, Any]
    plan: Plan = field(repr=False, compare=False)
    document: dict[str, Any] | None = None
    restore: dict[str, Any] | None = None

    @property
    def action(self) -> str:
        """The API call, as `iam:CreateUser`."""
        return self.kind.action

    @property
    def policy(self) -> dict[str, Any] | None:
        """The policy document this call sends, if any."""
        return self.plan.policy if self.kind.sends_access_policy else self.document

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "title": self.title, "params": _jsonable(self.params)}
        if self.policy is not None:
            out["policy"] = self.policy
        return out


@dataclass
class Plan:
    draft: Draft  # the request, checked and normalised, with the policy the credentials get
    identity: Identity | None
    steps: list[Step] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    # The review of a custom policy or extra statements; None for a generated policy.
    policy_review: PolicyReview | None = None

    @property
    def request(self) -> CredentialRequest:
        return self.draft.request

    @property
    def needs_broad_acknowledgement(self) -> bool:
        """The custom policy grants more than the named buckets and nobody has accepted that yet."""
        return acknowledgement_required(self.request, self.policy_review)

    @property
    def ok_once_acknowledged(self) -> bool:
        """The only thing stopping this plan is a broad custom policy nobody has accepted yet."""
        return (
            self.needs_broad_acknowledgement
            and self.policy_review is not None
            and self.blockers == [_broad_policy_blocker(self.policy_review)]
        )

    def acknowledge_broad_policy(self) -> None:
        """The person accepted the broad grants (after seeing them): lift that one blocker."""
        if not self.needs_broad_acknowledgement:
            return
        assert self.policy_review is not None
        blocker = _broad_policy_blocker(self.policy_review)
        self.draft = dataclasses.replace(self.draft, request=dataclasses.replace(self.request, allow_broad=True))
        self.blockers = [b for b in self.blockers if b != blocker]
        self.warnings.append(_broad_policy_warning(self.policy_review, self.request))

    @property
    def policy(self) -> dict[str, Any] | None:
        """The policy that limits the new credentials (the user's inline policy or the session policy)."""
        return self.draft.policy

    @property
    def ok(self) -> bool:
        return not self.blockers

    def add(
        self,
        kind: StepKind,
        title: str,
        params: dict[str, Any],
        *,
        document: dict[str, Any] | None = None,
        restore: dict[str, Any] | None = None,
    ) -> Step:
        """Append a step of this kind to the plan."""
        step = Step(kind, title, params, self, document=document, restore=restore)
        self.steps.append(step)
        return step

    def describe(self) -> str:
        """The dry run, in plain words: facts, numbered calls with their policies, warnings, blockers."""
        req = self.request
        where = ", ".join(req.buckets)
        scope = _scope_text(req)
        lines = [f"Plan: {req.kind.value} credentials, {req.access.value} access to {where}{scope}."]
        if self.policy_review is not None:
            lines.append(self.policy_review.headline + ".")
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
                if step.kind is WAIT_FOR_NEW_KEY:
                    # Its params say whose key to wait for; the call itself sends none.
                    lines.append(f"     {step.action}()  (signed with the new key)")
                else:
                    lines.append(f"     {step.action}({_format_params(step.params)})")
                if step.policy is not None:
                    lines.append("     Policy:")
                    lines.extend(policy_lines(step.policy, "       "))
        else:
            lines.append("Steps: none.")
        lines += outcome_lines(self.warnings, self.blockers)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        req = self.request
        return {
            "request": {
                "buckets": list(req.buckets),
                "access": req.access.value,
                "prefix": req.prefix,
                "prefixes": list(req.all_prefixes),
                "prefix_mode": req.prefix_mode.value,
                "keys": list(req.keys),
                "list_keys": req.list_keys,
                "kms_keys": [dataclasses.asdict(grant) for grant in req.kms_keys],
                "kind": req.kind.value,
                "duration_seconds": req.duration_seconds,
                "username": req.username,
                "reuse_existing_user": req.reuse_existing_user,
                "create_buckets": req.create_buckets,
                "bucket_region": req.bucket_region,
                "permissions_boundary": req.permissions_boundary,
                "role_name": req.role_name,
                "allow_broad": req.allow_broad,
            },
            "policy_review": _review_dict(self.policy_review),
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


def _review_dict(review: PolicyReview | None) -> dict[str, Any] | None:
    if review is None:
        return None
    return {
        "headline": review.headline,
        "broad": list(review.broad),
        "findings": [dataclasses.asdict(finding) for finding in review.findings],
        "notes": list(review.notes),
    }


def _format_params(params: dict[str, Any]) -> str:
    return ", ".join(f"{key}={json.dumps(_jsonable(value), ensure_ascii=False)}" for key, value in params.items())


def user_policy_name(access: AccessLevel | str) -> str:
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


def _scope_text(req: CredentialRequest) -> str:
    """` under prefix 'a/'`, ` under prefixes 'a/', 'b/'`, ` on keys 'x.csv'` (and both), or ""."""
    parts = []
    if req.all_prefixes:
        noun = "prefix" if len(req.all_prefixes) == 1 else "prefixes"
        parts.append(f" under {noun} " + ", ".join(repr(p) for p in req.all_prefixes))
    if req.keys:
        noun = "key" if len(req.keys) == 1 else "keys"
        listed = " (listing them too)" if req.list_keys else ""
        parts.append(f" on {noun} " + ", ".join(repr(k) for k in req.keys) + listed)
    return " and".join(parts)


def _check_credentials(ctx: AwsContext) -> None:
    """A HEAD answer carries no error code, so a 403 may hide dead credentials: ask STS."""
    try:
        ctx.sts.get_caller_identity()
    except Exception as exc:
        error = translate(exc, "sts:GetCallerIdentity")
        if isinstance(error, _CREDENTIAL_ERRORS):
            raise error from None


def _plan_buckets(ctx: AwsContext, req: CredentialRequest, plan: Plan, reads: _Reads) -> dict[str, str | None]:
    """Facts and create steps for each bucket; returns the buckets that exist, with their regions."""
    existing: dict[str, str | None] = {}
    create_region = req.bucket_region or ctx.region
    for bucket in req.buckets:
        try:
            response = reads.get(ctx.s3.head_bucket, Bucket=bucket)
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
                existing[bucket] = region
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
        existing[bucket] = region
    return existing


def _plan_bucket_encryption(ctx: AwsContext, plan: Plan, existing: dict[str, str | None], reads: _Reads) -> None:
    """Read each existing bucket's default encryption; a customer-managed KMS key goes into the
    policy (`policies.kms_statements`), so the draft is made again with it and measured again."""
    req = plan.request
    grants: list[KmsKeyGrant] = []
    for bucket, region in existing.items():
        reads.start(read_bucket_encryption, ctx, bucket, region)
    for bucket, region in existing.items():
        encryption = reads.get(read_bucket_encryption, ctx, bucket, region)
        if encryption.problem is not None:
            plan.warnings.append(encryption.describe())
            continue
        plan.facts.append(encryption.describe())
        if encryption.needs_key_grant:
            assert encryption.key_arn is not None
            key_region = encryption.key_arn.split(":")[3] or region or ctx.region
            grants.append(KmsKeyGrant(bucket, encryption.key_arn, key_region, encryption.bucket_key_enabled))
    if not grants:
        return
    keys = ", ".join(sorted({grant.key_arn for grant in grants}))
    if req.access is AccessLevel.CUSTOM:
        plan.warnings.append(
            f"The custom policy is used as it is; reading or writing these buckets also needs KMS permissions on {keys}."
        )
        return
    actions = " and ".join(policies.KMS_WRITE_ACTIONS if req.access.can_write else policies.KMS_READ_ACTIONS)
    plan.facts.append(
        f"the policy adds {actions} on {keys}, only through S3 in the bucket's region (kms:ViaService) and only "
        "for the granted objects (kms:EncryptionContext:aws:s3:arn): S3 refuses reads and writes without it"
    )
    draft = draft_request(dataclasses.replace(req, kms_keys=tuple(grants)))
    plan.draft = draft
    plan.blockers.extend(problem.message for problem in draft.problems)


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
    plan.add(CREATE_BUCKET, f"Create bucket {bucket} in {region}", params)
    plan.add(
        TAG_BUCKET,
        f"Tag bucket {bucket} as created by s3cred-tui",
        {"Bucket": bucket, "Region": region, "Tagging": {"TagSet": [dict(CREATED_BY_TAG)]}},
    )


# ---------------------------------------------------------------------------
# Permanent: user, inline policy, access key


def _plan_permanent(ctx: AwsContext, req: CredentialRequest, identity: Identity | None, plan: Plan, reads: _Reads) -> None:
    iam = ctx.iam
    user = req.username
    assert user is not None  # the draft fills in the default name
    policy_name = user_policy_name(req.access)
    existing_inline: dict[str, dict] = {}
    reuse = False
    try:
        raw_user = reads.get(iam.get_user, UserName=user)["User"]
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
            keys = reads.get(iam.list_access_keys, UserName=user).get("AccessKeyMetadata", [])
            names = reads.get(iam.list_user_policies, UserName=user).get("PolicyNames", [])
            for name in names:
                reads.start(iam.get_user_policy, UserName=user, PolicyName=name)
            for name in names:
                existing_inline[name] = reads.get(iam.get_user_policy, UserName=user, PolicyName=name)["PolicyDocument"]
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

    # The draft measured the new policy alone; a reused user's inline policies count against the same limit.
    draft = plan.draft
    total = draft.size + sum(policies.policy_size(doc) for doc in existing_inline.values())
    if total > draft.limit:
        others = f" together with the user's {len(existing_inline)} other inline policies" if existing_inline else ""
        plan.blockers.append(
            f"The user policy is {draft.size:,} characters{others} "
            f"({total:,} in all); AWS allows {draft.limit:,} of inline policy per user. "
            "Use fewer buckets or a shorter prefix."
        )

    if not reuse:
        params: dict[str, Any] = {"UserName": user, "Tags": [dict(CREATED_BY_TAG)]}
        if req.permissions_boundary:
            boundary = _in_partition(policies.BOUNDARY_FOR_LEVEL[req.access], _partition(identity))
            params["PermissionsBoundary"] = boundary
            plan.facts.append(f"permissions boundary {boundary.rsplit('/', 1)[-1]} caps the user to S3")
        plan.add(CREATE_USER, f"Create IAM user {user}", params)
    plan.add(PUT_USER_POLICY, f"Give {user} the inline policy {policy_name}", {"UserName": user, "PolicyName": policy_name})
    plan.add(CREATE_ACCESS_KEY, f"Create an access key for {user}", {"UserName": user})
    plan.add(WAIT_FOR_NEW_KEY, WAIT_FOR_KEY_TITLE, {"UserName": user})


# ---------------------------------------------------------------------------
# Assume role


def _plan_assume_role(ctx: AwsContext, req: CredentialRequest, identity: Identity, plan: Plan, reads: _Reads) -> None:
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
    limits = duration_range(CredentialKind.ASSUME_ROLE, identity.principal_type)
    if duration > limits.max_seconds:  # role chaining: the draft already held the 12-hour limit
        plan.blockers.append(f"{limits.refusal(duration)} Choose {limits.longest} or less.")

    role_name = req.role_name or DEFAULT_ROLE_NAME
    if identity.principal_type == "assumed-role":
        plan.warnings.append(
            f"You are signed in through role {identity.principal_arn}, so the helper role {role_name} trusts that "
            "role: every session of it (anyone or anything that can assume it) will be able to assume "
            f"{role_name} too."
        )
    partition = _partition(identity)
    managed_arn = _in_partition(policies.ROLE_MANAGED_POLICY_ARN, partition)
    trust = policies.trust_policy_for(identity.principal_arn)
    iam = ctx.iam
    try:
        role = reads.get(iam.get_role, RoleName=role_name)["Role"]
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
        plan.add(
            CREATE_ROLE,
            f"Create role {role_name}, trusted by {identity.principal_arn}",
            {
                "RoleName": role_name,
                "MaxSessionDuration": max_session,
                "Description": "Temporary S3 credentials made by s3cred-tui",
                "Tags": [dict(CREATED_BY_TAG)],
            },
            document=trust,
        )
        plan.add(
            ATTACH_ROLE_POLICY,
            f"Attach {managed_arn.rsplit('/', 1)[-1]} to role {role_name} (the session policy narrows it)",
            {"RoleName": role_name, "PolicyArn": managed_arn},
        )
    else:
        role_arn = role["Arn"]
        ours = is_ours(role.get("Tags"))
        reads.start(iam.list_attached_role_policies, RoleName=role_name)
        reads.start(iam.list_role_policies, RoleName=role_name)
        if not ours:
            try:
                ours = is_ours(reads.get(iam.list_role_tags, RoleName=role_name).get("Tags"))
            except Exception as exc:
                raise translate(exc, "iam:ListRoleTags") from None
        try:
            attached = [
                p["PolicyArn"]
                for p in reads.get(iam.list_attached_role_policies, RoleName=role_name).get("AttachedPolicies", [])
            ]
            inline = reads.get(iam.list_role_policies, RoleName=role_name).get("PolicyNames", [])
        except Exception as exc:
            raise translate(exc, "iam:ListAttachedRolePolicies") from None
        current_trust = decode_policy_document(role.get("AssumeRolePolicyDocument") or {})
        trust_check = assess_trust(current_trust, identity.principal_arn, identity.account)
        has_policy = managed_arn in attached
        max_session = int(role.get("MaxSessionDuration") or DEFAULT_MAX_SESSION_SECONDS)
        long_enough = max_session >= duration
        extras = [a for a in attached if a != managed_arn] + [f"inline {n}" for n in inline]
        owner = "created by s3cred-tui" if ours else "not created by s3cred-tui"
        problems = []
        if not has_policy:
            problems.append(f"{managed_arn.rsplit('/', 1)[-1]} is not attached")
        if not long_enough:
            problems.append(f"its maximum session is {max_session} s, less than {duration} s")
        if not trust_check.ok:
            # Never rewritten, tag or not: the tag proves nothing, and the principals it lets in
            # may depend on it.
            plan.facts.append(f"role {role_name} exists ({owner}); its trust policy does not let only you assume it")
            free = _free_role_name(iam, role_name)
            suggestion = f" (for example {free}, which is free)" if free else ""
            plan.blockers.append(
                f"Role {role_name} ({owner}) cannot be reused: {' '.join(trust_check.reasons)} "
                f"Its trust policy will not be changed; choose another role name{suggestion}."
            )
        elif not problems:
            plan.facts.append(f"role {role_name} exists ({owner}), trusts only you, and is ready")
        elif ours:
            plan.facts.append(f"role {role_name} exists ({owner}, trusts only you) and will be repaired: {'; '.join(problems)}")
            if not has_policy:
                plan.add(
                    ATTACH_ROLE_POLICY,
                    f"Attach {managed_arn.rsplit('/', 1)[-1]} to role {role_name}",
                    {"RoleName": role_name, "PolicyArn": managed_arn},
                )
            if not long_enough:
                new_max = min(MAX_ROLE_SESSION_SECONDS, duration)
                plan.add(
                    UPDATE_ROLE,
                    f"Allow sessions of {new_max} s on role {role_name}",
                    {"RoleName": role_name, "MaxSessionDuration": new_max},
                    restore={"MaxSessionDuration": max_session},
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

    plan.add(
        ASSUME_ROLE,
        f"Assume role {role_name} with the session policy for {duration // 60} minutes",
        {
            "RoleArn": role_arn,
            "RoleSessionName": role_session_name(req.buckets, req.access),
            "DurationSeconds": duration,
        },
    )


ROLE_NAME_LIMIT = 64
_FREE_NAME_ATTEMPTS = 9


def _free_role_name(iam: Any, taken: str) -> str | None:
    """A role name like `taken` that no role has yet (`NAME-2`, `NAME-3`, ...), or None when
    none of the first few is free or the account cannot be asked."""
    for counter in range(2, 2 + _FREE_NAME_ATTEMPTS):
        suffix = f"-{counter}"
        candidate = taken[: ROLE_NAME_LIMIT - len(suffix)] + suffix
        try:
            iam.get_role(RoleName=candidate)
        except Exception as exc:
            if isinstance(translate(exc, "iam:GetRole"), NotFound):
                return candidate
            return None
    return None


# ---------------------------------------------------------------------------
# Custom policies


def _broad_policy_blocker(review: PolicyReview) -> str:
    return (
        f"{review.headline}. It grants more than the named buckets: {' '.join(review.broad)} "
        "Acknowledge this explicitly to use it (--allow-broad on the command line, a confirm step in the app)."
    )


def _broad_policy_warning(review: PolicyReview, request: CredentialRequest) -> str:
    if request.custom_policy is None:
        return f"The extra statements grant more than the named buckets: {' '.join(review.broad)}"
    return f"Acknowledged: the policy grants more than the named buckets: {' '.join(review.broad)}"


def policy_review_for(draft: Draft) -> PolicyReview | None:
    """The review of what the person wrote into the policy (a custom policy, or extra statements
    added to a generated one); None for a generated policy or a draft without a policy. Pure."""
    req = draft.request
    if draft.policy is None or (req.custom_policy is None and not req.extra_statements):
        return None
    return check_custom_policy(draft.policy, req.buckets, req.prefix)


def acknowledgement_required(request: CredentialRequest, review: PolicyReview | None) -> bool:
    """A custom policy that grants more than the named buckets needs an explicit yes first.

    Extra statements added to a generated policy are reviewed and warned about, not blocked:
    each is a grant asked for by name, on top of a policy this tool wrote.
    """
    return request.custom_policy is not None and review is not None and bool(review.broad) and not request.allow_broad


def _review_policy(plan: Plan) -> None:
    """Review a policy the person wrote before anything uses it: findings and broad grants are
    warnings; a broad custom policy is a blocker until acknowledged."""
    review = policy_review_for(plan.draft)
    if review is None:
        return
    plan.policy_review = review
    plan.warnings.extend(f"Policy lint (parliament): {finding.text}" for finding in review.findings)
    plan.warnings.extend(review.notes)
    if acknowledgement_required(plan.request, review):
        plan.blockers.append(_broad_policy_blocker(review))
    elif review.broad:
        plan.warnings.append(_broad_policy_warning(review, plan.request))


# ---------------------------------------------------------------------------
# Federation token


def _plan_federation(req: CredentialRequest, identity: Identity, plan: Plan) -> None:
    duration = int(req.duration_seconds or DEFAULT_MAX_SESSION_SECONDS)
    if identity.principal_type not in ("user", "root"):
        plan.blockers.append(
            f"Only an IAM user may call sts:GetFederationToken; you are signed in as {identity.arn}. "
            "Choose assume-role or permanent credentials."
        )
    else:
        limits = duration_range(CredentialKind.FEDERATION_TOKEN, identity.principal_type)
        if not limits.min_seconds <= duration <= limits.max_seconds:
            plan.blockers.append(limits.refusal(duration))
    if identity.principal_type == "user":
        plan.warnings.append(
            f"A federation token can do only what both {identity.name} and the policy allow, "
            "and cannot call IAM. Your user needs these S3 permissions itself."
        )
    name = role_session_name(req.buckets, req.access, max_length=FEDERATION_NAME_LIMIT)
    plan.add(
        GET_FEDERATION_TOKEN,
        f"Get a federation token {name} for {duration // 60} minutes",
        {"Name": name, "DurationSeconds": duration},
    )


# ---------------------------------------------------------------------------


def build_plan(ctx: AwsContext, request: CredentialRequest, identity: Identity | None = None) -> Plan:
    """Draft the request (no AWS call before it has no problems: the first is raised), then read
    the account and lay out the steps.

    The draft refused a policy over its size limit, so only a reused user's other inline policies
    can still make it too large here.
    """
    draft = draft_request(request)
    if draft.problems:
        raise draft.problems[0]
    req = draft.request
    with _Reads() as reads:
        _start_independent_reads(ctx, req, identity, reads)
        if identity is None:
            identity = reads.get(whoami, ctx)
        plan = Plan(draft=draft, identity=identity)
        _review_policy(plan)
        existing_buckets = _plan_buckets(ctx, req, plan, reads)
        _plan_bucket_encryption(ctx, plan, existing_buckets, reads)
        req = plan.request
        kind = CredentialKind(req.kind)
        if kind is CredentialKind.PERMANENT:
            _plan_permanent(ctx, req, identity, plan, reads)
        elif kind is CredentialKind.ASSUME_ROLE:
            _plan_assume_role(ctx, req, identity, plan, reads)
        else:
            _plan_federation(req, identity, plan)
    return plan


# ---------------------------------------------------------------------------
# Reading the account concurrently

# Reads that do not depend on one another (who is calling, each bucket, the user or role) run
# side by side: a plan costs about two round trips, not one per read. botocore clients are
# thread-safe and `AwsContext` creates each once, under a lock; a session is never shared.
PLAN_READ_THREADS = 8


class _Reads:
    """Read-only calls started ahead in worker threads and collected where the plan needs them.

    The plan is still laid out in one thread, in its own order, taking each answer (or the
    exception it raised) with `get`: facts, warnings and blockers read the same as if every
    call had been made one after another. A call nobody started is made on the spot.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=PLAN_READ_THREADS, thread_name_prefix="plan-read")
        self._started: dict[Hashable, Future] = {}

    def __enter__(self) -> _Reads:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # Reads started on a guess and never needed (say, the role of a caller who turns out to be
        # root) are cancelled if not running yet; running ones end within the client's timeouts.
        self._pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _key(call: Callable[..., Any], args: tuple, kwargs: dict[str, Any]) -> Hashable:
        return (call, args, tuple(sorted(kwargs.items())))

    def start(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        key = self._key(call, args, kwargs)
        if key not in self._started:
            self._started[key] = self._pool.submit(call, *args, **kwargs)

    def get(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`call(*args, **kwargs)`'s answer: the one started ahead, or made now."""
        future = self._started.pop(self._key(call, args, kwargs), None)
        return future.result() if future is not None else call(*args, **kwargs)


def _start_independent_reads(ctx: AwsContext, req: CredentialRequest, identity: Identity | None, reads: _Reads) -> None:
    """Start every read whose question is known before any answer: the caller, each bucket, and
    the user (with its keys and policies when it is to be reused) or the role."""
    if identity is None:
        reads.start(whoami, ctx)
    try:
        s3, iam = ctx.s3, ctx.iam
    except Exception:  # a client that cannot be made fails where the plan first uses it, as one by one
        return
    for bucket in req.buckets:
        reads.start(s3.head_bucket, Bucket=bucket)
    kind = CredentialKind(req.kind)
    if kind is CredentialKind.PERMANENT and req.username:
        reads.start(iam.get_user, UserName=req.username)
        if req.reuse_existing_user:
            reads.start(iam.list_access_keys, UserName=req.username)
            reads.start(iam.list_user_policies, UserName=req.username)
    elif kind is CredentialKind.ASSUME_ROLE and (identity is None or identity.principal_type in _MAY_ASSUME_ROLES):
        # Unknown callers too: a root or federated caller (who may not assume roles) costs one unused read.
        reads.start(iam.get_role, RoleName=req.role_name or DEFAULT_ROLE_NAME)


_MAY_ASSUME_ROLES = ("user", "assumed-role")
