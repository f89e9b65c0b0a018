"""Pure builders of least-privilege S3 policies, IAM escaping, size checks and the role trust policy.

What each level grants, and why (every grant is limited to the chosen buckets and prefix):

- read-only: `s3:ListBucket` (limited by the `s3:prefix` condition `PREFIX*` when there is a
  prefix, so listing `""` or `reports` - which would show sibling keys such as
  `reports-private/` - is refused), and `s3:GetObject` + `s3:GetObjectVersion` on `PREFIX*`: reading
  an older version of a key already readable reveals nothing outside the grant, and versioned
  buckets need it to read a specific version. ACLs, tags, retention and legal holds are not
  granted: they are metadata a reader of the data does not need (new buckets have ACLs disabled).
- write-only: `s3:PutObject` (which also covers multipart create/upload/complete),
  `s3:AbortMultipartUpload` and `s3:ListMultipartUploadParts` (to resume or clean up its own
  uploads) on `PREFIX*`. Nothing that reads data or key names: no
  GetObject, no ListBucket, and no ListBucketMultipartUploads (that would list other writers' key
  names; an uploader already knows its own upload id).
- read-write: both, plus `s3:DeleteObject`. Not `s3:DeleteObjectVersion`: on a versioned bucket a
  delete then only adds a delete marker, so the history cannot be destroyed by these credentials.

Levels that read also get `s3:GetBucketLocation` (older SDKs and tools such as rclone ask for a
bucket's region before reading). It cannot share the listing statement when there is a prefix,
since the `s3:prefix` condition would deny it, so it gets its own statement on the bucket ARNs.
When that second list of ARNs would push the policy past the 2,048-character session-policy
limit (twenty buckets with a prefix), it is granted on `arn:aws:s3:::*` instead: a bucket's
region is already disclosed to anyone by the `x-amz-bucket-region` header of HeadBucket, so the
wider resource reveals nothing, and the data grants stay exactly as narrow.

Several prefixes (`--prefix a/ --prefix b/`) share those statements: one ListBucket condition
lists every prefix's pattern and the object statement lists every bucket/prefix ARN. Exact keys
(`--key reports/2024.csv`) are object ARNs with `*`, `?` and `$` escaped (`${*}`, `${?}`, `${$}`),
so a key named `a*b` never grants `a-anything-b`; they get no ListBucket unless listing is asked
for, and then only with an `s3:prefix` equal to one of the keys.

A bucket whose default encryption is a customer-managed KMS key (read by the planner) needs the
key as well: readers `kms:Decrypt`, writers `kms:GenerateDataKey` and `kms:Decrypt` (a multipart
upload decrypts its data key to add parts). The statement names only that key, only through S3
in the bucket's region (`kms:ViaService`), and only for the granted objects
(`kms:EncryptionContext:aws:s3:arn`; the bucket ARN when the bucket uses an S3 Bucket Key, since
S3 then puts the bucket's ARN in the context).

Statements are merged across buckets (one statement per kind of grant, listing every bucket's
ARN) so that temporary credentials for twenty short-named buckets fit the 2,048-character
session-policy limit. For the same reason read-write puts all object actions in one statement.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from s3cred_tui.core.errors import PolicyTooLarge, ValidationError
from s3cred_tui.core.request import (
    AccessLevel,
    CredentialKind,
    CredentialRequest,
    KmsKeyGrant,
    PrefixMode,
)
from s3cred_tui.core.validation import (
    check_key_listing,
    normalise_prefixes,
    validate_bucket_name,
    validate_object_key,
    validate_policy_document,
)

INLINE_USER_POLICY_LIMIT = 2048
ROLE_POLICY_LIMIT = 10240
SESSION_POLICY_LIMIT = 2048
MANAGED_POLICY_LIMIT = 6144


def policy_limit(kind: CredentialKind | str) -> tuple[int, str]:
    """The size limit the policy of this kind of credentials must fit, and what AWS calls that policy.

    Temporary credentials carry it as a session policy; a permanent user as its inline policy.
    """
    if CredentialKind(kind).temporary:
        return SESSION_POLICY_LIMIT, "session policy"
    return INLINE_USER_POLICY_LIMIT, "inline user policy"

POLICY_VERSION = "2012-10-17"

# The role behind temporary credentials needs S3 rights broad enough for any session
# policy to narrow; the effective rights are the intersection.
ROLE_MANAGED_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonS3FullAccess"

S3_READ_ONLY_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
S3_FULL_ACCESS_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonS3FullAccess"

# A permissions boundary caps a user to S3 whatever else is attached to it later.
BOUNDARY_FOR_LEVEL: dict[AccessLevel, str] = {
    AccessLevel.READ_ONLY: S3_READ_ONLY_POLICY_ARN,
    AccessLevel.WRITE_ONLY: S3_FULL_ACCESS_POLICY_ARN,
    AccessLevel.READ_WRITE: S3_FULL_ACCESS_POLICY_ARN,
    AccessLevel.CUSTOM: S3_FULL_ACCESS_POLICY_ARN,
}

READ_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion")
WRITE_OBJECT_ACTIONS = ("s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts")
DELETE_OBJECT_ACTIONS = ("s3:DeleteObject",)

SID_LIST = "ListObjectsInBucket"
SID_LOCATION = "GetBucketLocation"
SID_READ = "ReadObjects"
SID_WRITE = "WriteObjects"
SID_READ_WRITE = "ReadWriteObjects"
SID_KMS = "UseBucketKmsKey"

KMS_READ_ACTIONS = ("kms:Decrypt",)
# A multipart upload decrypts the upload's data key to add each part, so writers need Decrypt too.
KMS_WRITE_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")

_ESCAPES_LITERAL = {"*": "${*}", "?": "${?}", "$": "${$}"}
_ESCAPES_PATTERN = {"$": "${$}"}


def as_list(value: Any) -> list[Any]:
    """An IAM policy element that may be one value or a list, as a list (absent: empty)."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def string_values(value: Any) -> list[str]:
    """The strings of an element that may be one string or a list of them (anything else dropped)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def escape_iam(text: str, mode: PrefixMode = PrefixMode.PLAIN) -> str:
    """Text for an IAM Resource or `*Like` condition: `$` always escaped; `*` and `?` escaped
    unless PATTERN mode keeps them as wildcards."""
    table = _ESCAPES_PATTERN if PrefixMode(mode) is PrefixMode.PATTERN else _ESCAPES_LITERAL
    return "".join(table.get(char, char) for char in text)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def _open_ended(escaped_prefix: str) -> str:
    """The pattern matching the prefix itself and everything under it."""
    return escaped_prefix if escaped_prefix.endswith("*") else escaped_prefix + "*"


def object_arn(bucket: str, prefix: str = "", mode: PrefixMode = PrefixMode.PLAIN) -> str:
    """`arn:aws:s3:::BUCKET/PREFIX*` for a normalised prefix (`BUCKET/*` without one)."""
    return f"arn:aws:s3:::{bucket}/{_open_ended(escape_iam(prefix, mode))}"


def key_arn(bucket: str, key: str) -> str:
    """`arn:aws:s3:::BUCKET/KEY` for exactly one key: its `*`, `?` and `$` escaped, nothing open-ended."""
    return f"arn:aws:s3:::{bucket}/{escape_iam(key, PrefixMode.LITERAL)}"


def list_prefix_condition(prefix: str | Iterable[str], mode: PrefixMode = PrefixMode.PLAIN) -> dict[str, Any]:
    """The ListBucket condition for one or several normalised, non-empty prefixes.

    `reports/*` lets a client list `reports/` and `reports/2024/`, but not `""` or `reports`,
    whose answers would include sibling keys such as `reports-private/...`.
    """
    prefixes = [prefix] if isinstance(prefix, str) else list(prefix)
    return {"StringLike": {"s3:prefix": [_open_ended(escape_iam(p, mode)) for p in prefixes]}}


def kms_statements(
    grants: Iterable[KmsKeyGrant], access: AccessLevel | str, object_patterns: Mapping[str, list[str]]
) -> list[dict[str, Any]]:
    """One statement per customer-managed KMS key the chosen buckets encrypt with (see the module doc).

    `object_patterns` maps each bucket to the object ARNs granted in it (the encryption context
    S3 sends names the object, or the bucket when it uses an S3 Bucket Key).
    """
    access = AccessLevel(access)
    actions = KMS_WRITE_ACTIONS if access.can_write else KMS_READ_ACTIONS
    by_key: dict[tuple[str, str], list[str]] = {}
    for grant in grants:
        if grant.bucket not in object_patterns:
            continue
        contexts = [bucket_arn(grant.bucket)] if grant.bucket_key_enabled else object_patterns[grant.bucket]
        by_key.setdefault((grant.key_arn, grant.region), []).extend(contexts)
    statements = []
    for index, ((arn, region), contexts) in enumerate(by_key.items()):
        statements.append(
            {
                "Sid": SID_KMS if index == 0 else f"{SID_KMS}{index + 1}",
                "Effect": "Allow",
                "Action": list(actions),
                "Resource": arn,
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": list(dict.fromkeys(contexts))},
                },
            }
        )
    return statements


def policy_for(
    buckets: Iterable[str],
    access: AccessLevel | str,
    prefix: str = "",
    mode: PrefixMode = PrefixMode.PLAIN,
    extra_statements: Iterable[Mapping[str, Any]] = (),
    *,
    prefixes: Iterable[str] = (),
    keys: Iterable[str] = (),
    list_keys: bool = False,
    kms_keys: Iterable[KmsKeyGrant] = (),
) -> dict[str, Any]:
    """The least-privilege policy for these buckets at this level, optionally under prefixes
    (`prefix` and `prefixes` together) and/or on exact `keys`; the whole bucket when neither is given."""
    access = AccessLevel(access)
    mode = PrefixMode(mode)
    if access is AccessLevel.CUSTOM:
        raise ValidationError("policy", "Custom access uses the policy you supply; there is nothing to generate.")
    names = [validate_bucket_name(b) for b in buckets]
    if not names:
        raise ValidationError("buckets", "Choose at least one bucket.")
    # Normalising again is harmless and keeps `reports` from ever granting `reports-private/`.
    scope_prefixes = normalise_prefixes(((prefix,) if prefix else ()) + tuple(prefixes), mode)
    exact_keys = tuple(dict.fromkeys(validate_object_key(k) for k in keys))
    check_key_listing(exact_keys, list_keys, access)
    scoped = bool(scope_prefixes or exact_keys)
    bucket_arns = [bucket_arn(b) for b in names]
    object_patterns = {
        b: [object_arn(b, p, mode) for p in scope_prefixes] + [key_arn(b, k) for k in exact_keys]
        if scoped
        else [object_arn(b)]
        for b in names
    }
    object_arns = [arn for b in names for arn in object_patterns[b]]
    list_patterns = [_open_ended(escape_iam(p, mode)) for p in scope_prefixes]
    if list_keys:
        list_patterns += [escape_iam(k, PrefixMode.LITERAL) for k in exact_keys]

    statements: list[dict[str, Any]] = []
    location: dict[str, Any] | None = None
    if access.can_read:
        if scoped:
            if list_patterns:
                statements.append(
                    {
                        "Sid": SID_LIST,
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arns,
                        "Condition": {"StringLike": {"s3:prefix": list_patterns}},
                    }
                )
            location = {"Sid": SID_LOCATION, "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": bucket_arns}
            statements.append(location)
        else:
            statements.append(
                {"Sid": SID_LIST, "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": bucket_arns}
            )
    if access is AccessLevel.READ_ONLY:
        sid, actions = SID_READ, READ_OBJECT_ACTIONS
    elif access is AccessLevel.WRITE_ONLY:
        sid, actions = SID_WRITE, WRITE_OBJECT_ACTIONS
    else:
        sid, actions = SID_READ_WRITE, READ_OBJECT_ACTIONS + WRITE_OBJECT_ACTIONS + DELETE_OBJECT_ACTIONS
    statements.append({"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": object_arns})
    statements.extend(kms_statements(kms_keys, access, object_patterns))
    document = {"Version": POLICY_VERSION, "Statement": statements}
    if location and len(bucket_arns) > 1 and policy_size(document) > SESSION_POLICY_LIMIT:
        location["Resource"] = "arn:aws:s3:::*"
    statements.extend(dict(s) for s in extra_statements)
    return document


def policy_for_request(req: CredentialRequest) -> dict[str, Any]:
    """The custom policy when one is given (checked, used as-is), else the generated one."""
    if req.custom_policy is not None:
        validate_policy_document(req.custom_policy)
        return req.custom_policy  # type: ignore[return-value]
    return policy_for(
        req.buckets,
        req.access,
        req.prefix,
        req.prefix_mode,
        req.extra_statements,
        prefixes=req.prefixes,
        keys=req.keys,
        list_keys=req.list_keys,
        kms_keys=req.kms_keys,
    )


def policy_json(doc: Mapping[str, Any] | str, pretty: bool = True) -> str:
    """The policy as JSON: indented for people, compact for AWS calls."""
    if isinstance(doc, str):
        doc = json.loads(doc)
    if pretty:
        return json.dumps(doc, indent=2, ensure_ascii=False)
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def policy_size(doc: Mapping[str, Any] | str) -> int:
    """Characters as IAM counts them against its limits: whitespace is not counted."""
    text = doc if isinstance(doc, str) else policy_json(doc, pretty=False)
    return sum(1 for char in text if not char.isspace())


def check_policy_size(doc: Mapping[str, Any] | str, limit: int, what: str = "policy") -> None:
    size = policy_size(doc)
    if size <= limit:
        return
    over = size - limit
    raise PolicyTooLarge(
        f"The {what} is {size:,} characters (whitespace not counted) but AWS allows at most {limit:,}; "
        f"it is {over:,} too long. Use fewer buckets, shorter bucket names or a shorter prefix, "
        "or split the buckets across two sets of credentials.",
        code="PolicyTooLarge",
    )


def trust_policy_for(principal_arn: str) -> dict[str, Any]:
    """A role trust policy letting exactly this principal (not its whole account) assume the role."""
    if not isinstance(principal_arn, str) or not principal_arn.startswith("arn:"):
        raise ValidationError("role", f"Expected the ARN of the principal that will assume the role, got {principal_arn!r}.")
    if principal_arn.endswith(":root"):
        raise ValidationError(
            "role", "Refusing to trust a whole account (…:root); name the user or role that will assume the role."
        )
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AllowAssumeRoleByCreator",
                "Effect": "Allow",
                "Principal": {"AWS": principal_arn},
                "Action": "sts:AssumeRole",
            }
        ],
    }
