"""Names a module hands out but imports only when first asked for (start-up cost).

`cli.parser` (each command's function) and `ui.app` (every screen but the first) keep a table
of name -> module and use `attribute_getter(table, __name__)` as their module `__getattr__`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def attribute_getter(table: Mapping[str, str], owner: str) -> Callable[[str], Any]:
    """A module `__getattr__` that imports `table[name]` on first use and returns its `name`."""

    def get(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {owner!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return get
