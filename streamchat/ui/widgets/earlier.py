"""Earlier messages of a reopened conversation, mounted a batch at a time as the user scrolls up.

A long conversation opens at once: only its last messages are mounted, under an
`EarlierMessages` line that holds the rest (widgets made but not mounted). When the
conversation scrolls near its top, the next batch is mounted above what shows, and the view
is moved by their height so that what the user was reading stays where it was.
"""

from __future__ import annotations

from textual.containers import ScrollableContainer
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from streamchat.ui.widgets.message import UserMessage

__all__ = ["EarlierMessages", "split_recent"]

RECENT_WIDGETS = 40
"""Widgets mounted when a conversation is reopened (about the last 20 exchanges)."""
BATCH_WIDGETS = 40
"""Widgets mounted each time the user scrolls up to the earlier ones."""


def split_recent(widgets: list[Widget], recent: int = RECENT_WIDGETS) -> tuple[list[Widget], list[Widget]]:
    """``widgets`` as (earlier, recent): ``recent`` of them at least, starting at a user's message when one is near."""
    start = max(len(widgets) - recent, 0)
    while start > 0 and not isinstance(widgets[start], UserMessage) and start > len(widgets) - 2 * recent:
        start -= 1
    return widgets[:start], widgets[start:]


class EarlierMessages(Static):
    """``↑ N earlier messages``: the widgets above what is mounted, mounted a batch at a time by ``show_more()``."""

    DEFAULT_CSS = """
    EarlierMessages { color: $text-muted; text-align: center; margin-top: 1; }
    """

    def __init__(self, widgets: list[Widget]) -> None:
        super().__init__(markup=False)
        self.waiting = list(widgets)
        """The widgets not mounted yet, oldest first."""
        self._busy = False
        self.pending = False
        """True while a ``show_more`` is queued (one at a time)."""
        self._label()

    def _label(self) -> None:
        count = sum(1 for widget in self.waiting if isinstance(widget, UserMessage))
        self.update(Content(f"↑ {count} earlier prompts and their answers · scroll up to show them"))

    async def show_more(self, batch: int = BATCH_WIDGETS) -> None:
        """Mount the next ``batch`` widgets above what shows, if the top is still near, keeping the view in place.

        The view is kept in place by the message that was first: it stays as far from the top of
        the view as it was (whatever the height of what is added above it).
        """
        self.pending = False
        scroll = self.parent
        if self._busy or not self.waiting or not isinstance(scroll, ScrollableContainer) or not near_top(scroll):
            return
        self._busy = True
        try:
            await scroll.stop_animation("scroll_y", complete=False)  # a scroll on its way would land elsewhere
            shown = scroll.children[scroll.children.index(self) + 1 :]
            anchor = shown[0] if shown else None
            offset = anchor.virtual_region.y - scroll.scroll_y if anchor is not None else 0
            earlier, more = split_recent(self.waiting, batch)
            await scroll.mount_all(more, after=self)
            self.waiting = earlier
            if earlier:
                self._label()
            else:
                await self.remove()
            if anchor is not None:
                scroll.call_after_refresh(_keep_place, scroll, anchor, offset)
        finally:
            self._busy = False


def near_top(scroll: ScrollableContainer) -> bool:
    """Less than a screen of ``scroll`` is left above what it shows."""
    return scroll.scroll_y < scroll.size.height


def _keep_place(scroll: ScrollableContainer, anchor: Widget, offset: int) -> None:
    """Scroll so that ``anchor`` is ``offset`` lines below the top of the view again."""
    if anchor.is_attached:
        scroll.scroll_to(y=anchor.virtual_region.y - offset, animate=False, immediate=True)
