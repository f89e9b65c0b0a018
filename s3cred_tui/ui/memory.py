"""Keeping large, long-lived data out of Python's full garbage collections.

A full collection walks every tracked object. With an account's lists (5,000 users), the access
map's IAM details and a bucket tree of 20,000 nodes loaded, each one held the event loop for
70-280 ms (bench/RESULTS.md). `gc.freeze` moves everything alive into a generation the collector
skips; frozen objects are still freed by reference counting when dropped, but one frozen while
alive and later dropped *in a cycle* is never freed. So freezing is done at a few points of a
process's life, never after every small change:

- `freeze_after_load()`: once a large, acyclic load has been placed (the account's rows, the
  access map's details), without a collection first (that collection is the stall avoided);
- `FreezeAtDoublings`: when a growing structure (the bucket tree) first doubles (or first grows
  by a set step, if that comes sooner), after a full collection that frees the cyclic garbage
  rather than freezing it.
"""

from __future__ import annotations

import gc


def freeze_after_load() -> None:
    """Move every object alive now out of the collector's reach."""
    gc.freeze()


class FreezeAtDoublings:
    """Collect, then freeze, each time `size` first reaches twice the size of the last freeze,
    or `at_most_every` past it if that comes first: a collection walks everything not yet
    frozen, so the step bounds how long each one (and each automatic full collection between
    two freezes) holds the loop, however large the structure grows."""

    def __init__(self, first_at: int, at_most_every: int | None = None) -> None:
        self.next_at = first_at
        self.at_most_every = at_most_every

    def grew_to(self, size: int) -> bool:
        """True when this call collected and froze."""
        if size < self.next_at:
            return False
        self.next_at = size + (size if self.at_most_every is None else min(size, self.at_most_every))
        gc.collect()
        gc.freeze()
        return True
