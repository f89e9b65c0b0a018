"""What an emulated account holds, read straight from moto (never through the fault proxy),
and the check that it holds exactly what an apply reported.

An item is a tuple naming one thing a run can leave behind:
`("user", name)`, `("key", user, key_id)`, `("user-inline", user, policy)`,
`("user-attached", user, policy_arn)`, `("role", name)`, `("role-inline", role, policy)`,
`("role-attached", role, policy_arn)`, `("role-trust", role, document)`,
`("role-max-session", role, seconds)`, `("bucket", name)`.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

Item = tuple


def snapshot(client) -> set[Item]:
    """Every item of the account; `client(service)` gives a boto3 client straight to moto."""
    iam, s3 = client("iam"), client("s3")
    items: set[Item] = set()
    for user in iam.list_users()["Users"]:
        name = user["UserName"]
        items.add(("user", name))
        for key in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
            items.add(("key", name, key["AccessKeyId"]))
        for policy in iam.list_user_policies(UserName=name)["PolicyNames"]:
            items.add(("user-inline", name, policy))
        for policy in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
            items.add(("user-attached", name, policy["PolicyArn"]))
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        items.add(("role", name))
        document = role.get("AssumeRolePolicyDocument") or {}
        if isinstance(document, str):
            document = json.loads(urllib.parse.unquote(document))
        items.add(("role-trust", name, json.dumps(document, sort_keys=True)))
        items.add(("role-max-session", name, int(iam.get_role(RoleName=name)["Role"].get("MaxSessionDuration") or 3600)))
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            items.add(("role-inline", name, policy))
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            items.add(("role-attached", name, policy["PolicyArn"]))
    for bucket in s3.list_buckets()["Buckets"]:
        items.add(("bucket", bucket["Name"]))
    return items


def names_in(item: Item) -> list[str]:
    """The words a report must contain to name this item."""
    kind = item[0]
    if kind == "key":
        return [item[2]]
    if kind in ("user-inline", "role-inline"):
        return [item[2], item[1]]
    if kind in ("user-attached", "role-attached"):
        return [str(item[2]).rsplit("/", 1)[-1], item[1]]
    if kind in ("role-trust", "role-max-session"):
        return [item[1]]
    return [item[1]]


def _names(line: str, item: Item) -> bool:
    return all(word in line for word in names_in(item))


def expected_from(plan: Any, result: Any) -> set[Item]:
    """What a successful apply of `plan` adds to the account."""
    items: set[Item] = set()
    for step in plan.steps:
        params = step.params
        if step.action == "s3:CreateBucket":
            items.add(("bucket", params["Bucket"]))
        elif step.action == "iam:CreateUser":
            items.add(("user", params["UserName"]))
        elif step.action == "iam:PutUserPolicy":
            items.add(("user-inline", params["UserName"], params["PolicyName"]))
        elif step.action == "iam:CreateAccessKey":
            items.add(("key", params["UserName"], result.credentials.access_key_id))
        elif step.action == "iam:CreateRole":
            items.add(("role", params["RoleName"]))
        elif step.action == "iam:AttachRolePolicy":
            items.add(("role-attached", params["RoleName"], params["PolicyArn"]))
    return items


def unreported_changes(before: set[Item], after: set[Item], plan: Any, result: Any) -> list[str]:
    """Differences between the account and what the apply reported; empty when they agree.

    A successful run must have added exactly its plan's resources (one key: the one it
    returned). A failed or cancelled run must have put everything back, except what its
    `not_undone` lines name, and every such line must name something really left over.
    """
    added, removed = after - before, before - after
    problems: list[str] = []
    if result.ok:
        expected = expected_from(plan, result)
        for item in sorted(added - expected, key=repr):
            if item[0] in ("role-trust", "role-max-session"):
                continue  # a repaired role's new trust/session is the plan's own change
            problems.append(f"left but not reported: {item}")
        for item in sorted(expected - added, key=repr):
            problems.append(f"reported but missing: {item}")
        for item in sorted(removed, key=repr):
            if item[0] in ("role-trust", "role-max-session") and any(i[1] == item[1] for i in added):
                continue
            problems.append(f"removed but not reported: {item}")
        return problems
    lines = list(result.not_undone)
    changed = added | removed
    # A repaired role's trust/session shows as one removed and one added item: one change.
    for item in sorted(changed, key=repr):
        if not any(_names(line, item) for line in lines):
            what = "left" if item in added else "removed"
            problems.append(f"{what} but not reported: {item}")
    for line in lines:
        if not any(_names(line, item) for item in changed):
            problems.append(f"reported as left but absent: {line!r}")
    return problems
