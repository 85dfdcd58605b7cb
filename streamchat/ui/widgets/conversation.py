"""The scrolling conversation: follows the stream until the user scrolls up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.containers import VerticalScroll
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget

from streamchat.ui.answer import AnswerView
from streamchat.ui.widgets.earlier import EarlierMessages, near_top


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
        self._place: tuple[Widget, float | tuple[int, float]] | None = None  # what is read at the top (_read_place)
        self._width = 0
        self._reading = False  # a `_note_place` is on its way

    def on_mount(self) -> None:
        self.anchor()

    def release_anchor(self) -> None:
        """The user scrolls: stop following once the view leaves the bottom."""
        super().release_anchor()
        self._released = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._released and self.size.width == self._width:  # (a new width can clamp it to the bottom: not a follow)
            at_bottom = new_value >= self.max_scroll_y
            self._released = not at_bottom
            self.following = at_bottom
        if new_value < self.size.height:
            self.reveal_earlier()
        if not self._reading:  # once the screen shows the new position (regions are from the last layout)
            self._reading = True
            self.call_after_refresh(self._note_place)

    def _note_place(self) -> None:
        self._reading = False
        if self.size.width == self._width:  # not while a new width is being laid out (see on_resize)
            self._place = self._read_place() if self._released else None

    def _read_place(self) -> tuple[Widget, float | tuple[int, float]] | None:
        """What is read at the top of the view: an answer and the place in its text, or a message and the
        share of it above the top."""
        top = self.content_region.y
        try:
            widget, _ = self.screen.get_widget_at(self.content_region.x + self.content_region.width // 2, top)
        except Exception:  # noqa: BLE001 - not laid out, or nothing there
            return None
        if isinstance(widget, AnswerView) and widget.content_region.y <= top:
            return widget, widget.place_at(top - widget.content_region.y)
        for child in self.children:
            region = child.virtual_region_with_margin
            if region.bottom > self.scroll_y:
                return child, (self.scroll_y - region.y) / max(region.height, 1)
        return None

    def on_resize(self) -> None:
        """A new width re-wraps everything: a reader scrolled up stays on what they were reading."""
        widened, self._width = self.size.width != self._width, self.size.width
        if widened and self._place is not None:
            widget, place = self._place
            if isinstance(widget, AnswerView) and isinstance(place, tuple):
                widget.line_at(place, render=True)  # its lines at the new width first (a layout), then the scroll
            self.call_after_refresh(lambda: self.call_after_refresh(self._return_to, widget, place))

    def _return_to(self, widget: Widget, place: float | tuple[int, float]) -> None:
        if not widget.is_attached:
            return
        if isinstance(widget, AnswerView) and isinstance(place, tuple):
            y = self.scroll_y + widget.content_region.y - self.content_region.y + widget.line_at(place)
        elif isinstance(place, float):
            region = widget.virtual_region_with_margin
            y = region.y + place * region.height
        else:
            return
        self.scroll_to(y=y, animate=False, immediate=True)

    def reveal_earlier(self) -> None:
        """Mount more of a reopened conversation's earlier messages if the top of the view is near."""
        first = self.children[0] if self.children else None
        if isinstance(first, EarlierMessages) and not first.pending and near_top(self):
            first.pending = True
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
