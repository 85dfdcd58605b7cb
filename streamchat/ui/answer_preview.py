"""`BlockPreview`: cheap plain text standing in for a code fence or pipe table while it streams.

Shown as `Content` (never markup); only the last chunk of lines is repainted per frame, and
`AnswerView` replaces the preview by the block rendered as Markdown once the block ends.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from textual.app import ComposeResult
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

__all__ = ["BlockPreview"]


class BlockPreview(Widget):
    """Plain text standing in for a fence or table until it ends.

    Lines are kept in chunks of `CHUNK_LINES` `Static`s; only the last chunk is repainted.
    """

    DEFAULT_CSS = """
    BlockPreview { height: auto; margin: 1 2; padding: 1 2; background: $foreground 5%; }
    BlockPreview.-table { margin: 0 2 1 2; padding: 0; background: transparent; }
    BlockPreview > Static { text-wrap: nowrap; }
    BlockPreview > .-header { color: $text-muted; }
    """

    CHUNK_LINES: ClassVar[int] = 32

    def __init__(self, kind: Literal["fence", "table"], header: str = "") -> None:
        super().__init__(classes=f"-{kind}")
        self._header = Content(f"```{header}") if kind == "fence" else None
        self._lines: list[str] = []
        self._partial = ""
        self._chunk_start = 0
        self._tail = Static(Content(""))
        self._dirty = False

    def compose(self) -> ComposeResult:
        if self._header is not None:
            yield Static(self._header, classes="-header")
        yield self._tail

    def add_line(self, line: str) -> None:
        self._lines.append(line)
        self._partial = ""
        self._dirty = True

    def set_partial(self, text: str) -> None:
        self._dirty = self._dirty or text != self._partial
        self._partial = text

    async def sync(self) -> None:
        """Repaint the last chunk (and mount new chunks); cost bounded by the new lines."""
        if not self._dirty:
            return
        self._dirty = False
        new_chunks: list[Static] = []
        while len(self._lines) - self._chunk_start > self.CHUNK_LINES:
            end = self._chunk_start + self.CHUNK_LINES
            self._tail.update(Content("\n".join(self._lines[self._chunk_start : end])))
            self._chunk_start = end
            self._tail = Static(Content(""))
            new_chunks.append(self._tail)
        lines = self._lines[self._chunk_start :]
        self._tail.update(Content("\n".join([*lines, self._partial] if self._partial else lines)))
        if new_chunks:
            await self.mount_all(new_chunks)
