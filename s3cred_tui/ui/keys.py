"""The app's keys, read from the bindings themselves: the help screen's table, the README's
(a test compares them), and the binding ids a keymap in the settings may use.

Textual-free over its inputs: it is given (place, class) pairs (`S3CredApp.KEY_PLACES`) and
reads each class's own `BINDINGS`; a keymap (binding id -> keys) shows the keys in use.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# How key names read in a table.
KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "escape": "Esc",
    "enter": "Enter",
    "space": "Space",
    "home": "Home",
    "end": "End",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "pageup": "PgUp",
    "pagedown": "PgDn",
    "backspace": "Backspace",
    "tab": "Tab",
}


@dataclass(frozen=True)
class KeyRow:
    keys: str  # as shown: `g`, `Home`
    where: str  # the places it applies, e.g. "Account, Bucket"
    what: str  # the binding's description
    binding_ids: tuple[str, ...]


def key_label(keys: str) -> str:
    """`question_mark,f1` -> `?`, `F1` as one cell: "`?` / `F1`"."""
    shown = []
    for key in keys.split(","):
        key = key.strip()
        if key in KEY_NAMES:
            shown.append(KEY_NAMES[key])
        elif len(key) == 2 and key[0] == "f" and key[1:].isdigit():
            shown.append(key.upper())
        else:
            shown.append(key)
    return " / ".join(f"`{key}`" for key in shown)


def own_bindings(cls: type) -> list[Any]:
    """The bindings a class declares itself (not those it inherits)."""
    return [b for b in cls.__dict__.get("BINDINGS", []) if hasattr(b, "key")]


def key_rows(places: Sequence[tuple[str, type]], keymap: Mapping[str, str] | None = None) -> list[KeyRow]:
    """One row per key and meaning, with every place it applies (in the order of `places`)."""
    keymap = keymap or {}
    merged: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for where, cls in places:
        for binding in own_bindings(cls):
            label = key_label(keymap.get(binding.id or "", binding.key))
            entry = merged.setdefault((label, binding.description), ([], []))
            if where not in entry[0]:
                entry[0].append(where)
            if binding.id and binding.id not in entry[1]:
                entry[1].append(binding.id)
    return [KeyRow(label, ", ".join(wheres), what, tuple(ids)) for (label, what), (wheres, ids) in merged.items()]


def markdown_table(rows: Iterable[KeyRow]) -> str:
    lines = ["| Key | Where | What it does | Binding id |", "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.keys} | {row.where} | {row.what} | {', '.join(f'`{i}`' for i in row.binding_ids)} |")
    return "\n".join(lines)


def binding_ids(places: Sequence[tuple[str, type]]) -> set[str]:
    return {b.id for _, cls in places for b in own_bindings(cls) if b.id}


README_START = "<!-- keys:start -->"
README_END = "<!-- keys:end -->"


def readme_table(readme: str) -> str:
    """The key table between the README's markers."""
    start = readme.index(README_START) + len(README_START)
    return readme[start : readme.index(README_END)].strip()


def with_readme_table(readme: str, table: str) -> str:
    start = readme.index(README_START) + len(README_START)
    return readme[:start] + "\n" + table + "\n" + readme[readme.index(README_END) :]
