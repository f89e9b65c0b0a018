"""What a person asks for: buckets, an access level, a prefix, and a kind of credential."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class AccessLevel(str, enum.Enum):
    READ_ONLY = "read-only"
    WRITE_ONLY = "write-only"
    READ_WRITE = "read-write"
    CUSTOM = "custom"

    @property
    def label(self) -> str:
        return {
            AccessLevel.READ_ONLY: "Read only",
            AccessLevel.WRITE_ONLY: "Write only",
            AccessLevel.READ_WRITE: "Read and write",
            AccessLevel.CUSTOM: "Custom policy",
        }[self]

    @property
    def can_read(self) -> bool:
        return self in (AccessLevel.READ_ONLY, AccessLevel.READ_WRITE)

    @property
    def can_write(self) -> bool:
        return self in (AccessLevel.WRITE_ONLY, AccessLevel.READ_WRITE)

    @property
    def can_delete(self) -> bool:
        return self is AccessLevel.READ_WRITE


class PrefixMode(str, enum.Enum):
    """How `*`, `?` and `$` in a prefix are read.

    PLAIN refuses `*` and `?` (a person rarely means them, and IAM would read them as
    wildcards); LITERAL matches them as characters (escaped as `${*}`, `${?}`); PATTERN
    keeps them as IAM wildcards on purpose. `$` is always escaped as `${$}`.
    """

    PLAIN = "plain"
    LITERAL = "literal"
    PATTERN = "pattern"


class CredentialKind(str, enum.Enum):
    PERMANENT = "permanent"  # IAM user + access key
    ASSUME_ROLE = "assume-role"  # sts.assume_role with a session policy
    FEDERATION_TOKEN = "federation-token"  # sts.get_federation_token (callers that are IAM users)

    @property
    def temporary(self) -> bool:
        return self is not CredentialKind.PERMANENT


MIN_DURATION_SECONDS = 15 * 60
MAX_DURATION_SECONDS = 12 * 60 * 60


@dataclass(frozen=True)
class KmsKeyGrant:
    """A bucket whose default encryption is a customer-managed KMS key, read from the account."""

    bucket: str
    key_arn: str
    region: str
    # With an S3 Bucket Key, S3 asks KMS with the bucket's ARN as encryption context, not the object's.
    bucket_key_enabled: bool = False


@dataclass(frozen=True)
class CredentialRequest:
    """A request for credentials, before or after validation.

    `prefix` is as typed; `draft.draft_request` gives a copy with the prefix
    normalised (trailing `/`, no leading `/`). Several prefixes go in `prefixes` (`prefix`, when
    also given, counts as one of them); the normalised copy holds them all in `prefixes` and the
    first in `prefix`. `keys` are exact object keys (always literal: `*` and `?` are characters);
    `list_keys` also lets the credentials list those exact keys. `kms_keys` are filled in by the
    planner from the buckets' default encryption, never typed.
    """

    buckets: tuple[str, ...]
    access: AccessLevel = AccessLevel.READ_WRITE
    prefix: str = ""
    prefix_mode: PrefixMode = PrefixMode.PLAIN
    kind: CredentialKind = CredentialKind.PERMANENT
    duration_seconds: int | None = None
    username: str | None = None
    # What to do when `username` already exists: None = refuse (plan says so), "reuse" = add a key to it.
    reuse_existing_user: bool = False
    create_buckets: bool = False
    bucket_region: str | None = None
    # Permanent users get an AWS-managed S3-only permissions boundary unless turned off.
    permissions_boundary: bool = True
    role_name: str | None = None
    extra_statements: tuple[dict[str, Any], ...] = field(default=())
    custom_policy: dict[str, Any] | None = None
    # The person has seen and accepted that the custom policy (or the extra statements) grants more
    # than the named buckets (`policy_checks.check_custom_policy(...).broad`); without it the plan refuses.
    allow_broad: bool = False
    prefixes: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    list_keys: bool = False
    kms_keys: tuple[KmsKeyGrant, ...] = ()

    @property
    def temporary(self) -> bool:
        return self.kind.temporary

    @property
    def all_prefixes(self) -> tuple[str, ...]:
        """`prefix` and `prefixes` together, in order, each once ("" dropped: it means no prefix)."""
        combined = ((self.prefix,) if self.prefix else ()) + tuple(self.prefixes)
        return tuple(dict.fromkeys(p for p in combined if p))
