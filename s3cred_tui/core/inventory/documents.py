"""IAM policy documents as the account holds them: decoding, and managed policies' default versions."""

from __future__ import annotations

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

