"""Which users some policy grants S3 access covering a bucket (read from their documents, offline)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from s3cred_tui.core.inventory.users import UserDetail
from s3cred_tui.core.policies import as_list


def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    """IAM wildcards: `*` any run, `?` one character; nothing else is special."""
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


def _action_touches_s3(action: str) -> bool:
    action = action.lower()
    if action.startswith("s3:"):
        return True
    return bool(_wildcard_regex(action).fullmatch("s3:getobject")) or bool(_wildcard_regex(action).fullmatch("s3:listbucket"))


def _resource_names_bucket(resource: str, bucket: str) -> bool:
    """Whether an ARN pattern covers the bucket itself or objects in it."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    if not _wildcard_regex(parts[2]).fullmatch("s3"):
        return False
    path = parts[5]
    if _wildcard_regex(path).fullmatch(bucket):
        return True
    # For objects, the part before the first "/" names buckets; a "*" there may also
    # swallow the "/" itself, which the whole-pattern test below catches.
    bucket_part = path.split("/", 1)[0]
    if "/" in path and _wildcard_regex(bucket_part).fullmatch(bucket):
        return True
    return bool(_wildcard_regex(path).fullmatch(f"{bucket}/x")) or bool(_wildcard_regex(path).match(f"{bucket}/"))


def document_references_bucket(document: dict, bucket: str) -> bool:
    """True when an Allow statement with an S3 action has a resource covering the bucket.

    NotAction and NotResource are read generously (they usually allow a lot); Deny
    statements are not counted: this answers "who is granted something here".
    """
    for statement in as_list(document.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            touches = True
        else:
            touches = any(_action_touches_s3(str(a)) for a in as_list(statement.get("Action")))
        if not touches:
            continue
        if "NotResource" in statement:
            return True
        if any(_resource_names_bucket(str(r), bucket) for r in as_list(statement.get("Resource"))):
            return True
    return False


def users_referencing_bucket(details: Iterable[UserDetail], bucket: str) -> list[str]:
    """Names of users with some policy (own or via a group) granting S3 access covering `bucket`."""
    return [
        detail.name
        for detail in details
        if any(document_references_bucket(doc, bucket) for _where, doc in detail.policy_documents())
    ]
