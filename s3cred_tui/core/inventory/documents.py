"""IAM policy documents as the account holds them: decoding, sharing identical ones, and managed policies' default versions."""

from __future__ import annotations

import hashlib
import json
import urllib.parse
from typing import TYPE_CHECKING, Any

from s3cred_tui.core.errors import S3CredError, translate

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


def decode_policy_document(document: Any) -> dict:
    """A policy document as a dict.

    boto3 already decodes IAM documents to dicts; a raw endpoint answer is URL-encoded JSON
    text (and plain JSON text is accepted too). No document (None) is {}. Text that is not
    JSON raises ValueError.
    """
    if isinstance(document, dict):
        return document
    if isinstance(document, str):
        text = document
        if text.lstrip().startswith("%"):
            text = urllib.parse.unquote(text)
        try:
            return json.loads(text)
        except ValueError:
            return json.loads(urllib.parse.unquote(document))
    return {}


class DocumentPool:
    """One shared copy of each distinct policy document met in one read of the account.

    Accounts repeat documents (one policy pasted into many users, the same group read for each
    member), and a parsed document costs ~2 KB of dicts and lists for ~250 bytes of JSON: 5,000
    users' inline policies held ~9 MB. Documents identical as written (same keys in the same
    order, same values) share one object, and the strings inside them ("Effect", "Allow",
    "s3:GetObject", ARNs) are shared across documents that differ. The shared documents are
    read-only, like every document the inventory hands out.
    """

    def __init__(self) -> None:
        self._documents: dict[bytes, Any] = {}
        self._strings: dict[str, str] = {}

    def share(self, document: Any) -> Any:
        if isinstance(document, str):
            return self._strings.setdefault(document, document)
        try:
            # Key order kept (no sort_keys): a shared copy reads exactly like the one it stands for.
            text = json.dumps(document, separators=(",", ":"))
        except (TypeError, ValueError):  # not plain JSON (a stub's object): kept as it is
            return document
        # A digest rather than the text as the key: the pool lives through a whole read, and 5,000
        # distinct documents' texts would be ~1.5 MB more at the read's peak.
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        shared = self._documents.get(key)
        if shared is None:
            shared = self._documents[key] = self._with_shared_strings(document)
        elif shared != document:  # two documents with one 128-bit digest (practically never): not shared
            return document
        return shared

    def _with_shared_strings(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._strings.setdefault(value, value)
        if isinstance(value, dict):
            return {self._with_shared_strings(k): self._with_shared_strings(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._with_shared_strings(v) for v in value]
        return value


def managed_policy_document(ctx: AwsContext, arn: str) -> dict:
    """The default version's document of a managed policy (customer or AWS managed).

    Raises typed errors: a missing policy is `NotFound`, a document that is not JSON is an
    `S3CredError` with code "MalformedPolicy".
    """
    iam = ctx.iam
    try:
        version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    except Exception as exc:
        raise translate(exc, "iam:GetPolicy") from None
    try:
        raw = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
    except Exception as exc:
        raise translate(exc, "iam:GetPolicyVersion") from None
    try:
        return decode_policy_document(raw)
    except ValueError as exc:
        raise S3CredError(f"The policy document of {arn} is not valid JSON: {exc}", code="MalformedPolicy") from None

