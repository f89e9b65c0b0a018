"""Messages thread workers post back to the event loop.

Each carries the `generation` of the load that produced it, so a page from a load that
a refresh has superseded (thread workers cannot be killed) is recognised and dropped.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


class IdentityLoaded(Message):
    def __init__(self, identity: Any) -> None:
        super().__init__()
        self.identity = identity


class BucketsPage(Message):
    def __init__(self, generation: int, buckets: list[Any]) -> None:
        super().__init__()
        self.generation = generation
        self.buckets = buckets


class RegionsLoaded(Message):
    def __init__(self, generation: int, regions: dict[str, Any]) -> None:
        super().__init__()
        self.generation = generation
        self.regions = regions


class UsersPage(Message):
    def __init__(self, generation: int, users: list[Any]) -> None:
        super().__init__()
        self.generation = generation
        self.users = users


class CountsLoaded(Message):
    def __init__(self, generation: int, counts: dict[str, Any]) -> None:
        super().__init__()
        self.generation = generation
        self.counts = counts


class ListingDone(Message):
    """A listing reached its last page (`what` is "buckets" or "users")."""

    def __init__(self, generation: int, what: str) -> None:
        super().__init__()
        self.generation = generation
        self.what = what


class PrefixPageLoaded(Message):
    """`node` is the tree node listed and `source` its data when the listing began.

    The worker only carries the node back; it is read and changed on the event loop.
    """

    def __init__(self, node: Any, source: Any, page: Any, has_more: bool) -> None:
        super().__init__()
        self.node = node
        self.source = source
        self.page = page
        self.has_more = has_more


class UserDetailLoaded(Message):
    def __init__(self, detail: Any) -> None:
        super().__init__()
        self.detail = detail


class UserChanged(Message):
    """A user action finished; `summary` is plain words for a notice or a modal."""

    def __init__(self, user_name: str, summary: str, *, deleted: bool = False, removed: list[str] | None = None, credentials: Any = None) -> None:
        super().__init__()
        self.user_name = user_name
        self.summary = summary
        self.deleted = deleted
        self.removed = removed or []
        self.credentials = credentials
