"""How every plan (credentials, bucket grant, third-party role) writes itself out as dry-run text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from s3cred_tui.core.policies import policy_json


def policy_lines(document: Mapping[str, Any], indent: str) -> list[str]:
    """A policy as pretty JSON, each line indented under the step or note that sends it."""
    return [indent + line for line in policy_json(document).splitlines()]


def outcome_lines(warnings: Iterable[str], blockers: Iterable[str]) -> list[str]:
    """The plan's warnings (`!`) and what stops it (`x`), each group after a blank line."""
    lines: list[str] = []
    warnings, blockers = list(warnings), list(blockers)
    if warnings:
        lines += ["", "Warnings:"] + [f"  ! {warning}" for warning in warnings]
    if blockers:
        lines += ["", "Cannot proceed:"] + [f"  x {blocker}" for blocker in blockers]
    return lines
