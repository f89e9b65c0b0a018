"""The one place that decides whether a mutating action may run.

Every screen that changes the account calls `require_writable` first, so read-only
mode is enforced (and explained) the same way everywhere; and every screen's footer hides
the bindings of `MUTATING_ACTIONS` in read-only mode (`ui.base.AwsScreen.check_action`).
"""

from __future__ import annotations

from typing import Any

# Action names (of bindings, on any screen) that change the account: one name, one meaning.
MUTATING_ACTIONS = frozenset(
    {"create", "toggle_key", "delete_key", "new_key", "delete_user", "apply", "cleanup", "rotate"}
)

READ_ONLY_EXPLANATION = "The app was started with --read-only: nothing in the account can be changed."


def require_writable(app: Any, what: str) -> bool:
    """True when `what` may proceed; otherwise tell the person why not and return False."""
    if getattr(app, "read_only", False):
        app.notify(
            f"Not allowed in read-only mode: {what}. Restart without --read-only to make changes.",
            title="Read-only mode",
            severity="warning",
        )
        return False
    return True
