"""`AnswerSegment`: one Markdown segment of an answer, which can unmount itself when far away.

A frozen segment keeps its Markdown source; `AnswerView` tells it when to drop its rendered
`AnswerMarkdown` (keeping its height, so the scroll position holds) and when to rebuild it.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widget import Widget

from streamchat.ui.answer_markdown import AnswerMarkdown

__all__ = ["AnswerSegment"]


class AnswerSegment(Widget):
    """One Markdown segment of an answer. Far from the viewport, a frozen segment unmounts its
    Markdown and keeps only its source and height (see `AnswerView`); it is rebuilt when near."""

    DEFAULT_CSS = "AnswerSegment { height: auto; }"

    def __init__(self, source: str = "", *, live: bool = False) -> None:
        super().__init__()
        self.source = source
        self.frozen = not live
        self.markdown: AnswerMarkdown | None = AnswerMarkdown(classes="-live") if live else AnswerMarkdown(source)

    def compose(self) -> ComposeResult:
        if self.markdown is not None:
            yield self.markdown

    def freeze(self) -> None:
        if self.markdown is not None and not self.frozen:
            self.markdown.remove_class("-live")
            self.source = self.markdown.source
        self.frozen = True

    def show(self, shown: bool) -> None:
        """Rebuild the Markdown (True) or unmount it, keeping the current height (False)."""
        if not self.frozen or shown == (self.markdown is not None):
            return
        if shown:
            self.markdown = AnswerMarkdown(self.source)
            self.call_later(self._rebuild, self.markdown)
        elif self.markdown is not None and self.markdown.is_mounted and self.size.height:
            self.styles.height = self.size.height
            self.call_later(self._drop, self.markdown)
            self.markdown = None

    async def _drop(self, markdown: AnswerMarkdown) -> None:
        await markdown.remove()
        # Textual caches placements and displayed children per container: refresh both, or
        # they keep the removed widgets alive; refresh() drops the lines rendered so far.
        self._clear_arrangement_cache()
        self.displayed_children  # noqa: B018
        self.refresh()

    async def _rebuild(self, markdown: AnswerMarkdown) -> None:
        if markdown is self.markdown:
            await self.mount(markdown)  # rendered when this returns: only then drop the fixed height
            if markdown is self.markdown:
                self.styles.height = "auto"
