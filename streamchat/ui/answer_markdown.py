"""`AnswerMarkdown`: the Markdown widget an answer is rendered with, safe for untrusted text.

Raw HTML is shown as literal text (never dropped, never interpreted), links only post
`Markdown.LinkClicked` (no browser, no actions), and table cells' tooltips are `Content`
rather than markup strings.
"""

from __future__ import annotations

from typing import ClassVar

from markdown_it import MarkdownIt
from textual.app import ComposeResult
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownTable, MarkdownTableCellContents, MarkdownTableContent

__all__ = ["AnswerMarkdown"]


def _parser() -> MarkdownIt:
    # "gfm-like" with raw HTML off: tags in the answer are shown as text, not dropped.
    return MarkdownIt("gfm-like", {"html": False})


class _TableContent(MarkdownTableContent):
    """Table cells whose tooltips are `Content`: Textual's own pass the cell's text as a
    markup string, so a cell reading ``[@click=app.quit]x[/]`` would become live markup.

    A long table is mounted a chunk of rows (about `CHUNK_CELLS` cells) per screen refresh:
    each cell is a widget, and mounting hundreds at once would hold the event loop.
    """

    CHUNK_CELLS: ClassVar[int] = 100

    def compose(self) -> ComposeResult:
        for header in self.headers:
            yield MarkdownTableCellContents(header, classes="header").with_tooltip(header)
        yield from self._chunk()

    def on_mount(self) -> None:
        self._schedule_more()

    def _chunk(self) -> list[MarkdownTableCellContents]:
        """The cells of the next whole rows: about `CHUNK_CELLS` cells, at least one row."""
        cells: list[MarkdownTableCellContents] = []
        while self.last_row < len(self.rows) and (not cells or len(cells) + len(self.headers) <= self.CHUNK_CELLS):
            self.last_row += 1
            for column, cell in enumerate(self.rows[self.last_row - 1], 1):
                classes, name = f"row{self.last_row} cell", f"cell{self.last_row}.{column}"
                cells.append(MarkdownTableCellContents(cell, classes=classes, name=name).with_tooltip(cell))
        return cells

    def _schedule_more(self) -> None:
        if self.last_row < len(self.rows):
            self.call_after_refresh(self.call_later, self._mount_more)

    async def _mount_more(self) -> None:
        if self.is_attached and not (self._closing or self._pruning):
            await self.mount_all(self._chunk())
            self._schedule_more()


class _Table(MarkdownTable):
    def compose(self) -> ComposeResult:
        self._headers, self._rows = self._get_headers_and_rows()
        self._blocks.clear()  # the parsed row and cell blocks (never mounted) are no longer needed
        yield _TableContent(self._headers, self._rows)


class AnswerMarkdown(Markdown):
    """A Markdown segment of an answer: links are never opened, HTML is literal text."""

    def __init__(self, markdown: str | None = None, *, classes: str | None = None) -> None:
        super().__init__(markdown, classes=classes, parser_factory=_parser, open_links=False)

    def get_block_class(self, block_name: str) -> type[MarkdownBlock]:
        return _Table if block_name == "table_open" else super().get_block_class(block_name)

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        # Nothing uses an answer's table of contents: stop it here rather than have every
        # document of the answer send one up the DOM (each message keeps its document alive).
        event.stop()
