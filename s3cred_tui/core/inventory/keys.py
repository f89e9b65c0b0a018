"""One user's access keys with their last use: for the few users a screen or command shows.

Every user's key ages at once come from the credential report (`credential_report`); this is
the per-user read (two calls per key at most) that also gives each key's id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3cred_tui.core.errors import translate
from s3cred_tui.core.inventory.pages import all_items
from s3cred_tui.core.inventory.users import AccessKeyInfo

if TYPE_CHECKING:
    from s3cred_tui.core.session import AwsContext


def access_keys_of(ctx: AwsContext, user: str) -> tuple[AccessKeyInfo, ...]:
    """The user's keys, oldest first, each with its last use (`get_access_key_last_used`)."""
    iam = ctx.iam
    keys = []
    for key in all_items(iam.list_access_keys, "AccessKeyMetadata", "iam:ListAccessKeys", UserName=user):
        try:
            used = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"]).get("AccessKeyLastUsed", {})
        except Exception as exc:
            raise translate(exc, "iam:GetAccessKeyLastUsed") from None
        service = used.get("ServiceName")
        keys.append(
            AccessKeyInfo(
                id=key["AccessKeyId"],
                status=key.get("Status", ""),
                created=key.get("CreateDate"),
                last_used=used.get("LastUsedDate"),
                last_used_service=None if service in (None, "", "N/A") else service,
            )
        )
    return tuple(sorted(keys, key=lambda k: (k.created is None, k.created)))
