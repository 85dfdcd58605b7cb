"""One Markdown block rendered to lines (`Strip`s) by Rich, safe for untrusted text.

`BlockRenderer.render(source, width)` parses a block with markdown-it (raw HTML off: tags
are shown as text), renders it with Rich's Markdown elements (headings left-aligned, code
fences highlighted and wrapped at the width, tables with their columns' alignment, links
followed by their URL, never opened), and returns its lines without the blank lines Rich
puts around it. Text is never read as markup; control characters were stripped before.
Colours come from the app's Textual theme (`MarkdownColors`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import CodeBlock, Heading, HorizontalRule, ListItem, Markdown, MarkdownElement, TableElement
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.theme import Theme
from textual.strip import Strip

__all__ = ["BlockRenderer", "MarkdownColors"]

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")
"""One parser for every block: CommonMark with tables and strikethrough, raw HTML shown as text."""


@dataclass(frozen=True)
class MarkdownColors:
    """The colours an answer is drawn in (from the app's theme), as ``#rrggbb`` strings."""

    heading: str = "#0178D4"
    """Headings."""
    accent: str = "#FFC473"
    """Inline code."""
    link: str = "#57A5E2"
    """Links, list bullets and numbers."""
    muted: str = "#8A8A8A"
    """Block quotes, rules, a link's URL, table borders."""
    code_background: str = "#1E1E1E"
    """Behind code fences and inline code."""
    dark: bool = True
    """A dark theme (picks the syntax colours)."""

    def theme(self) -> Theme:
        """Rich's Markdown styles in these colours."""
        return Theme({
            "markdown.h1": Style(color=self.heading, bold=True, underline=True),
            "markdown.h2": Style(color=self.heading, bold=True),
            "markdown.h3": Style(color=self.heading, bold=True),
            "markdown.h4": Style(color=self.heading, italic=True),
            "markdown.h5": Style(italic=True),
            "markdown.h6": Style(italic=True, dim=True),
            "markdown.code": Style(color=self.accent, bgcolor=self.code_background),
            "markdown.block_quote": Style(color=self.muted),
            "markdown.item.bullet": Style(color=self.link, bold=True),
            "markdown.item.number": Style(color=self.link),
            "markdown.hr": Style(color=self.muted),
            "markdown.link": Style(color=self.link, underline=True),
            "markdown.link_url": Style(color=self.muted),
            "markdown.table.border": Style(color=self.muted),
            "markdown.table.header": Style(bold=True),
        }, inherit=True)


class _Heading(Heading):
    """Every heading left-aligned (Rich centres ``#``)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text = self.text.copy()
        text.justify = "left"
        yield text


class _Code(CodeBlock):
    """A code fence: highlighted, wrapped at the width (never cut off), on the code background."""

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> _Code:
        lexer = (token.info or "").partition(" ")[0] or "text"
        code = cls(lexer, markdown.code_theme)
        code.background = getattr(markdown, "code_background", None)
        return code

    def __init__(self, lexer_name: str, theme: str) -> None:
        super().__init__(lexer_name, theme)
        self.background: str | None = None

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        code = str(self.text).rstrip("\n")
        yield Syntax(code, self.lexer_name, theme=self.theme, word_wrap=True, padding=(0, 1),
                     background_color=self.background)


class _Item(ListItem):
    """A list item; an ordered one is numbered ``1.`` rather than Rich's ``1``."""

    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        width = len(str(last_number)) + 3
        lines = console.render_lines(self.elements, options.update(width=options.max_width - width), style=self.style)
        style = console.get_style("markdown.item.number", default="none")
        numeral, padding = Segment(f"{number}.".rjust(width - 1) + " ", style), Segment(" " * width)
        new_line = Segment("\n")
        for index, line in enumerate(lines):
            yield padding if index else numeral
            yield from line
            yield new_line


class _Rule(HorizontalRule):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(style=console.get_style("markdown.hr", default="none"), characters="─")


class _Table(TableElement):
    """A pipe table with each column aligned as its delimiter row says (``---:`` right, ``:-:`` centre)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, style="markdown.table.border", show_edge=False,
                      collapse_padding=True)
        if self.header is not None and self.header.row is not None:
            for cell in self.header.row.cells:
                heading = cell.content.copy()
                heading.stylize("markdown.table.header")
                justify = cell.justify if cell.justify != "default" else "left"
                table.add_column(heading, justify=justify, overflow="fold")
        if self.body is not None:
            for row in self.body.rows:
                table.add_row(*(cell.content for cell in row.cells))
        yield table


class _Markdown(Markdown):
    """Rich's Markdown with our parser and elements (nothing is parsed twice, no parser per block)."""

    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements,
        "heading_open": _Heading,
        "fence": _Code,
        "code_block": _Code,
        "hr": _Rule,
        "list_item_open": _Item,
        "table_open": _Table,
    }

    def __init__(self, source: str, code_theme: str, code_background: str) -> None:
        # Not Markdown.__init__, which builds a parser for every document.
        self.markup = source
        self.parsed = _PARSER.parse(source)
        self.code_theme = code_theme
        self.justify = None
        self.style = "none"
        self.hyperlinks = False  # a link is shown as "text (url)": visible, and never opened
        self.inline_code_lexer = None
        self.inline_code_theme = code_theme
        self.code_background = code_background


class BlockRenderer:
    """Renders Markdown blocks to lines in one set of colours (one private Rich console)."""

    def __init__(self, colors: MarkdownColors | None = None) -> None:
        self.colors = colors or MarkdownColors()
        """The colours in use."""
        self._console = Console(file=io.StringIO(), width=80, color_system="truecolor", force_terminal=True,
                                legacy_windows=False, emoji=False, markup=False, highlight=False,
                                theme=self.colors.theme())
        self._code_theme = "monokai" if self.colors.dark else "default"

    def render(self, source: str, width: int) -> list[Strip]:
        """``source`` (one block) as lines ``width`` cells wide at most, without blank lines around it."""
        width = max(width, 4)
        options = self._console.options.update(width=width, max_width=width, height=None)
        lines = self._console.render_lines(self._document(source), options, pad=False)
        start, end = 0, len(lines)
        while start < end and _blank(lines[start]):
            start += 1
        while end > start and _blank(lines[end - 1]):
            end -= 1
        return [Strip(line) for line in lines[start:end]]

    def _document(self, source: str) -> _Markdown:
        return _Markdown(source, self._code_theme, self.colors.code_background)


def _blank(line: list[Segment]) -> bool:
    """A line with nothing visible: only spaces, and no background."""
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)
