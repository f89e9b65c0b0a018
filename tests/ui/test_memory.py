"""ui/memory.py: freezing at a structure's doublings, never on every growth."""

from __future__ import annotations

import gc

from s3cred_tui.ui.memory import FreezeAtDoublings


def test_a_growing_structure_is_frozen_at_its_doublings_only(monkeypatch):
    frozen: list[str] = []
    monkeypatch.setattr(gc, "collect", lambda *a: frozen.append("collect") or 0)
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append("freeze"))
    policy = FreezeAtDoublings(4000)
    grew = [policy.grew_to(size) for size in (1000, 3999, 4000, 5000, 7999, 8000, 15_999, 16_000)]
    assert grew == [False, False, True, False, False, True, False, True]
    # Each freeze comes after a collection, so cyclic garbage is freed rather than frozen.
    assert frozen == ["collect", "freeze"] * 3
