"""The scrolling conversation: follows the stream until the user scrolls up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import var

from streamchat.ui.widgets.earlier import EarlierMessages


class ConversationView(VerticalScroll, can_focus=False):
    """Messages, oldest first. Anchored to the bottom (``anchor()``) so new content stays in view.

    Scrolling up releases the anchor (Textual's own rule); ``following`` mirrors
    that and posts ``FollowChanged`` so the app can show the "new content below"
    hint. Scrolling back to the bottom, or ``follow()``, follows again.
    """

    @dataclass
    class FollowChanged(Message):
        """The conversation started or stopped following new content."""

        conversation: ConversationView
        """The conversation that changed."""
        following: bool
        """True when it follows the stream again."""

    following = var(True, init=False)
    """True while the view sticks to the bottom."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._released = False

    def on_mount(self) -> None:
        self.anchor()

    def release_anchor(self) -> None:
        """The user scrolls: stop following once the view leaves the bottom."""
        super().release_anchor()
        self._released = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._released:
            at_bottom = new_value >= self.max_scroll_y
            self._released = not at_bottom
            self.following = at_bottom
        if new_value < self.size.height:
            self.reveal_earlier()

    def reveal_earlier(self) -> None:
        """Mount more of a reopened conversation's earlier messages if the top of the view is near."""
        first = self.children[0] if self.children else None
        if isinstance(first, EarlierMessages) and self.scroll_y < self.size.height:
            self.call_later(first.show_more)

    def watch_virtual_size(self) -> None:
        if self._released and self.scroll_y < self.max_scroll_y:
            self.following = False

    def scroll_end(self, *args: Any, **kwargs: Any) -> None:
        """Scroll to the bottom, which follows the stream again."""
        super().scroll_end(*args, **kwargs)
        self._released = False
        self.following = True

    def watch_following(self, following: bool) -> None:
        self.post_message(self.FollowChanged(self, following))

    def follow(self) -> None:
        """Jump to the bottom and follow the stream again."""
        self.anchor()

    async def clear(self) -> None:
        """Remove every message and follow again."""
        await self.remove_children()
        self.follow()

    async def note(self, text: str, *, classes: str = "", above_running: bool = False) -> None:
        """A dim note at the end (``above_running``: just above an answer streaming, if one is), and follow."""
        from streamchat.ui.widgets.message import Note

        running = self.query(".-running") if above_running else None
        await self.mount(Note(text, classes=classes), before=running.first() if running else None)
        self.follow()
