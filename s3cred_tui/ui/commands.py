"""Command palette entries: create credentials, open a user, probe a key, refresh, switch profile, help,
what s3cred-tui made, roles, groups, rotate a user's key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider

from s3cred_tui.ui.base import s3cred_app_of


@dataclass(frozen=True)
class PaletteCommand:
    text: str
    help: str
    run: Callable[[], Any]


class S3CredCommands(Provider):
    """Commands built from what the account screen has loaded so far."""

    def _commands(self) -> Iterator[PaletteCommand]:
        app = s3cred_app_of(self.app)
        account = app.account_screen()
        yield PaletteCommand("Refresh", "Reload buckets and users from AWS", app.reload_account)
        yield PaletteCommand("Help", "Screens, keys, and what read-only mode means", app.open_help)
        yield PaletteCommand(
            "Probe a key pair…",
            "Paste any access key and secret: see which S3 requests it really gets through",
            app.open_probe,
        )
        yield PaletteCommand(
            "Made by s3cred-tui",
            "Every user, role and bucket it made: reach, key ages, who can assume; rotate or clean up",
            app.open_made,
        )
        yield PaletteCommand("Roles", "Every IAM role: who can assume it, its policies and reach (read-only)", app.open_roles)
        yield PaletteCommand("Groups", "Every IAM group: members, policies and reach (read-only)", app.open_groups)
        for profile in app.available_profiles():
            yield PaletteCommand(
                f"Switch profile: {profile}",
                "Act as this AWS profile and reload everything",
                partial(app.switch_profile, profile),
            )
        if account is None:
            return
        for bucket in account.bucket_names():
            yield PaletteCommand(
                f"Open {bucket} (bucket)", "Prefixes, and who can do what in it", partial(app.open_bucket, bucket)
            )
        for bucket in account.bucket_names():
            yield PaletteCommand(
                f"Create credentials for bucket {bucket}",
                "Open the create form with this bucket selected",
                partial(app.open_create, [bucket]),
            )
        for user in account.user_names():
            yield PaletteCommand(f"Open user {user}", "Policies, groups and access keys", partial(app.open_user, user))
            yield PaletteCommand(
                f"Rotate a key of user {user}", "Step by step: new key, shown once, checked, then the old one goes",
                partial(app.open_rotate, user),
            )

    async def discover(self) -> Hits:
        for command in self._commands():
            # Discovery lists only the general commands, not one line per bucket or user.
            per_item = command.text.startswith(
                ("Create credentials for bucket ", "Open user ", "Rotate a key of user ")
            ) or command.text.endswith(" (bucket)")
            if per_item:
                continue
            yield DiscoveryHit(command.text, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(score, matcher.highlight(command.text), command.run, text=command.text, help=command.help)
