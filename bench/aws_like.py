"""moto, patched to page like AWS: installed by `bench.server --aws-paging`, in that process only.

moto 5.2 answers `ListUsers` and `GetAccountAuthorizationDetails` in one page whatever
`MaxItems` says, and `ListBuckets` truncates at `MaxBuckets` without a token and without
`BucketRegion`. AWS does none of that, and clients tuned against moto pay for it on a real
account (51 round trips for 5,000 users where 6 would do). Here:

- `ListUsers` and `GetAccountAuthorizationDetails` page by `MaxItems` (AWS's default 100,
  at most 1,000) with an opaque `Marker` and `IsTruncated`; GAAD pages over the entities
  its `Filter` selects, in the order users, groups, roles, policies;
- `ListBuckets` pages by `MaxBuckets` (1-10,000) with a `ContinuationToken`, and a paged
  request (`MaxBuckets`, `ContinuationToken`, `Prefix` or `BucketRegion` given) also
  returns each bucket's `BucketRegion`, as S3 does; without any of those it answers every
  bucket at once (the default quota of 10,000), without regions.

Response shapes are botocore's (moto serialises them from the same service model). Markers
and tokens are base64 of an index: opaque to a client, deterministic here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

IAM_DEFAULT_PAGE = 100
IAM_MAX_PAGE = 1000
S3_MAX_BUCKETS = 10_000

_ORIGINALS: dict[tuple[type, str], Any] = {}


def encode_position(index: int) -> str:
    return base64.urlsafe_b64encode(f"position:{index}".encode()).decode()


def decode_position(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        kind, _, value = text.partition(":")
        if kind != "position":
            raise ValueError(token)
        return max(0, int(value))
    except (ValueError, UnicodeDecodeError):
        raise InvalidToken(token) from None


class InvalidToken(ValueError):
    pass


def page_of(items: list, start: int, size: int) -> tuple[list, int | None]:
    """items[start:start+size] and the next start (None on the last page)."""
    page = items[start : start + size]
    following = start + len(page)
    return page, (following if following < len(items) else None)


def iam_page_size(raw: Any) -> int:
    if raw in (None, ""):
        return IAM_DEFAULT_PAGE
    return max(1, min(int(raw), IAM_MAX_PAGE))


def install() -> None:
    """Patch moto's IAM and S3 responses in this process (idempotent)."""
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse
    from moto.s3.responses import S3Response

    if _ORIGINALS:
        return
    _ORIGINALS.update(
        {
            (IamResponse, "list_users"): IamResponse.list_users,
            (IamResponse, "get_account_authorization_details"): IamResponse.get_account_authorization_details,
            (S3Response, "all_buckets"): S3Response.all_buckets,
        }
    )

    def list_users(self: IamResponse) -> ActionResult:
        path_prefix = self._get_param("PathPrefix")
        users = list(self.backend.list_users(path_prefix, None, None))
        page, following = page_of(users, decode_position(self._get_param("Marker")), iam_page_size(self._get_param("MaxItems")))
        result: dict[str, Any] = {"Users": page, "IsTruncated": following is not None}
        if following is not None:
            result["Marker"] = encode_position(following)
        return ActionResult(result)

    def get_account_authorization_details(self: IamResponse) -> ActionResult:
        details = self.backend.get_account_authorization_details(self._get_param("Filter", []))
        entities = (
            [("UserDetailList", u) for u in details["users"]]
            + [("GroupDetailList", g) for g in details["groups"]]
            + [("RoleDetailList", r) for r in details["roles"]]
            + [("Policies", p) for p in details["managed_policies"]]
        )
        page, following = page_of(entities, decode_position(self._get_param("Marker")), iam_page_size(self._get_param("MaxItems")))
        result: dict[str, Any] = {"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}
        for key, entity in page:
            result[key].append(entity)
        result["IsTruncated"] = following is not None
        if following is not None:
            result["Marker"] = encode_position(following)
        return ActionResult(result)

    def all_buckets(self: S3Response) -> Any:
        self.data["Action"] = "ListAllMyBuckets"
        self._authenticate_and_authorize_s3_action()
        prefix = self._get_param("prefix")
        region = self._get_param("bucket-region")
        max_buckets = self._get_param("max-buckets")
        token = self._get_param("continuation-token")
        paged = any(value not in (None, "") for value in (prefix, region, max_buckets, token))
        buckets = list(self.backend.list_buckets(prefix=prefix, bucket_region=region, max_buckets=None))
        size = max(1, min(int(max_buckets), S3_MAX_BUCKETS)) if max_buckets not in (None, "") else S3_MAX_BUCKETS
        page, following = page_of(buckets, decode_position(token) if paged else 0, size)
        records = []
        for bucket in page:
            record = {"Name": bucket.name, "CreationDate": bucket.creation_date_ISO8601}
            if paged:
                record["BucketRegion"] = bucket.region_name
            records.append(record)
        result: dict[str, Any] = {
            "Owner": {"ID": "bcaf1ffd86f41161ca5fb16fd081034f", "DisplayName": "webfile"},
            "Buckets": records,
        }
        if paged and following is not None:
            result["ContinuationToken"] = encode_position(following)
        if prefix:
            result["Prefix"] = prefix
        self.data["Action"] = "ListBuckets"
        return self.serialized(ActionResult(result))

    IamResponse.list_users = list_users  # type: ignore[method-assign]
    IamResponse.get_account_authorization_details = get_account_authorization_details  # type: ignore[method-assign]
    S3Response.all_buckets = all_buckets  # type: ignore[method-assign]


def uninstall() -> None:
    """Put moto's own responses back (tests patch a process they share with others)."""
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)
    _ORIGINALS.clear()


@contextmanager
def aws_like_paging() -> Iterator[None]:
    install()
    try:
        yield
    finally:
        uninstall()
