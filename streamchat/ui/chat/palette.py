"""The chat's commands in Textual's command palette (ctrl+p): a chosen one is posted to the app as a line."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.message import Message

from streamchat.ui.chat.commands import CHAT_COMMANDS, ChatCommand


class PaletteLine(Message):
    """The palette chose a command: run ``line`` (one ending in a space goes to the prompt to be completed)."""

    def __init__(self, line: str) -> None:
        super().__init__()
        self.line = line
        """The prompt line of the command chosen."""


class ChatCommands(Provider):
    """The chat commands in Textual's command palette (ctrl+p)."""

    def _run(self, command: ChatCommand) -> Callable[[], object]:
        return partial(self.app.post_message, PaletteLine(command.line))

    async def discover(self) -> Hits:
        """Every command, for the palette's empty search."""
        for command in CHAT_COMMANDS:
            yield DiscoveryHit(command.title, self._run(command), help=f"{command.usage} · {command.help}")

    async def search(self, query: str) -> Hits:
        """Commands whose title or ``/`` form matches ``query``."""
        matcher = self.matcher(query)
        for command in CHAT_COMMANDS:
            score = max(matcher.match(command.title), matcher.match(command.usage))
            if score > 0:
                yield Hit(score, matcher.highlight(command.title), self._run(command),
                          help=f"{command.usage} · {command.help}")
