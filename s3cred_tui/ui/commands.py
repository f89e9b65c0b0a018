"""Command palette entries: create credentials, open a user, probe a key, refresh, switch profile, help."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    text: str
    help: str
    run: Callable[[], Any]


class S3CredCommands(Provider):
    """Commands built from what the account screen has loaded so far."""

    def _commands(self) -> Iterator[PaletteCommand]:
        app: Any = self.app
        account = app.account_screen() if hasattr(app, "account_screen") else None
        yield PaletteCommand("Refresh", "Reload buckets and users from AWS", self._refresh)
        yield PaletteCommand("Help", "Screens, keys, and what read-only mode means", app.action_help)
        yield PaletteCommand(
            "Probe a key pair…",
            "Paste any access key and secret: see which S3 requests it really gets through",
            self._probe,
        )
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
                f"Create credentials for bucket {bucket}",
                "Open the create form with this bucket selected",
                partial(account.open_create, [bucket]),
            )
        for user in account.user_names():
            yield PaletteCommand(f"Open user {user}", "Policies, groups and access keys", partial(account.open_user, user))

    def _probe(self) -> None:
        from s3cred_tui.ui.screens.probe import ProbeScreen

        self.app.push_screen(ProbeScreen())

    def _refresh(self) -> None:
        account = self.app.account_screen()  # type: ignore[attr-defined]
        if account is not None:
            while self.app.screen is not account and len(self.app.screen_stack) > 2:
                self.app.pop_screen()
            account.action_refresh()

    async def discover(self) -> Hits:
        for command in self._commands():
            # Discovery lists only the general commands, not one line per bucket or user.
            if command.text.startswith(("Create credentials for bucket ", "Open user ")):
                continue
            yield DiscoveryHit(command.text, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.text)
            if score > 0:
                yield Hit(score, matcher.highlight(command.text), command.run, text=command.text, help=command.help)
