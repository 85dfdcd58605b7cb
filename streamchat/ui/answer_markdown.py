"""`AnswerMarkdown`: the Markdown widget an answer is rendered with, safe for untrusted text.

Raw HTML is shown as literal text (never dropped, never interpreted), links only post
`Markdown.LinkClicked` (no browser, no actions), and table cells' tooltips are `Content`
rather than markup strings.
"""

from __future__ import annotations

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
    markup string, so a cell reading ``[@click=app.quit]x[/]`` would become live markup."""

    def compose(self) -> ComposeResult:
        for header in self.headers:
            yield MarkdownTableCellContents(header, classes="header").with_tooltip(header)
        for row_index, row in enumerate(self.rows, 1):
            for cell_index, cell in enumerate(row, 1):
                name = f"cell{row_index}.{cell_index}"
                yield MarkdownTableCellContents(cell, classes=f"row{row_index} cell", name=name).with_tooltip(cell)
            self.last_row = row_index


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
