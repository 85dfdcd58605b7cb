"""One Markdown block rendered to lines (`Strip`s) by Rich, safe for untrusted text, in the app's colours.

`BlockRenderer.render(source, width)` parses a block with markdown-it (raw HTML off: tags show
as text) and renders it with Rich's Markdown elements, adjusted: headings left-aligned, code
fences highlighted and wrapped at the width (never cut off), table columns aligned as their
delimiter row says, ordered items numbered ``1.``, links followed by their URL and never
opened. Text is never read as markup; control characters were stripped before.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any, ClassVar

from markdown_it import MarkdownIt
from markdown_it.token import Token
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.markdown import (
    CodeBlock,
    Heading,
    HorizontalRule,
    ListItem,
    Markdown,
    MarkdownElement,
    TableElement,
)
from rich.rule import Rule
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from textual.app import App
from textual.color import Color
from textual.strip import Strip

from streamchat.markdown import Block

__all__ = ["BlockRenderer", "renderer_for"]

_PARSER = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").enable("table")


class _Heading(Heading):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text.copy()  # left-aligned (Rich centres a level-1 heading)


class _Code(CodeBlock):
    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> CodeBlock:
        return cls((token.info or "").partition(" ")[0] or "text", markdown.code_theme)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        background = console.get_style("markdown.code_block").bgcolor
        yield Syntax(str(self.text).rstrip("\n"), self.lexer_name, theme=self.theme, word_wrap=True,
                     padding=(0, 1), background_color=background.name if background else None)


class _Item(ListItem):
    def render_number(self, console: Console, options: ConsoleOptions, number: int, last_number: int) -> RenderResult:
        width = len(str(last_number)) + 3
        lines = console.render_lines(self.elements, options.update(width=options.max_width - width), style=self.style)
        numeral = Segment(f"{number}.".rjust(width - 1) + " ", console.get_style("markdown.item.number"))
        for index, line in enumerate(lines):
            yield from (Segment(" " * width) if index else numeral, *line, Segment.line())


class _Rule(HorizontalRule):
    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield Rule(style=console.get_style("markdown.hr"), characters="─")


class _Table(TableElement):
    continued = False  # a later part of a table too long to render whole: its header is already above

    @classmethod
    def create(cls, markdown: Markdown, token: Token) -> _Table:
        table = cls()
        table.continued = getattr(markdown, "continued", False)
        return table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        header = self.header.row.cells if self.header and self.header.row else []
        rows = [row.cells for row in self.body.rows] if self.body else []
        words = [max((cell_len(word) for cell in column for word in cell.content.plain.split()), default=1)
                 for column in zip(header, *rows, strict=False)]
        if sum(words) + 2 * (len(words) - 1) > options.max_width:
            # Too narrow for its columns (Rich would squeeze them to a letter each): a row per paragraph,
            # one "header: value" line per cell.
            for index, cells in enumerate(rows):
                if index:
                    yield Rule(style=console.get_style("markdown.table.border"), characters="┄")
                for heading, cell in zip(header, cells, strict=False):
                    yield Text.assemble(Text(heading.content.plain, "bold"), ": ", cell.content)
            return
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True,
                      show_header=not self.continued, style="markdown.table.border")
        for cell in header:
            title = cell.content.copy()
            title.stylize("bold")
            table.add_column(title, justify="left" if cell.justify == "default" else cell.justify, overflow="fold")
        for cells in rows:
            table.add_row(*(cell.content for cell in cells))
        yield table


class _Markdown(Markdown):
    elements: ClassVar[dict[str, type[MarkdownElement]]] = {
        **Markdown.elements, "heading_open": _Heading, "fence": _Code, "code_block": _Code, "hr": _Rule,
        "list_item_open": _Item, "table_open": _Table,
    }

    def __init__(self, source: str, code_theme: str, continued: bool, references: dict[str, Any]) -> None:
        # Not Rich's __init__, which builds a parser per document. ``references`` resolves "[text][label]"
        # links whose definition is in another block; the definitions this block makes are added to it.
        parsed = _PARSER.parse(source, {"references": references})
        self.markup, self.parsed, self.justify, self.style = source, parsed, None, "none"
        self.code_theme = self.inline_code_theme = code_theme
        self.inline_code_lexer = None
        self.hyperlinks = False  # a link shows as "text (url)": visible, and never opened
        self.continued = continued


class BlockRenderer:
    """Renders Markdown blocks to lines in one set of colours (``name: "#rrggbb"``; a private Rich console)."""

    def __init__(self, colors: tuple[tuple[str, str], ...] = (), dark: bool = True) -> None:
        palette = {"heading": "#0178D4", "accent": "#FFC473", "link": "#57A5E2", "muted": "#8A8A8A",
                   "code": "#262626", **dict(colors)}
        heading, muted = Style(color=palette["heading"], bold=True), Style(color=palette["muted"])
        theme = Theme({
            "markdown.h1": heading + Style(underline=True), "markdown.h2": heading, "markdown.h3": heading,
            "markdown.h4": Style(color=palette["heading"], italic=True), "markdown.h5": Style(italic=True),
            "markdown.code": Style(color=palette["accent"], bgcolor=palette["code"]),
            "markdown.code_block": Style(bgcolor=palette["code"]),
            "markdown.item.bullet": Style(color=palette["link"], bold=True),
            "markdown.item.number": Style(color=palette["link"]),
            "markdown.link": Style(color=palette["link"], underline=True),
            "markdown.block_quote": muted, "markdown.hr": muted, "markdown.link_url": muted,
            "markdown.table.border": muted,
        })
        self._console = Console(file=io.StringIO(), color_system="truecolor", force_terminal=True, emoji=False,
                                markup=False, highlight=False, legacy_windows=False, theme=theme)
        self._code_theme = "monokai" if dark else "default"

    def render(self, block: Block | str, width: int, references: dict[str, Any] | None = None) -> list[Strip]:
        """``block`` as lines at most ``width`` cells wide, without blank lines around it.

        ``references``: the answer's link reference definitions so far (those ``block`` makes are added)."""
        source, continued = (block, False) if isinstance(block, str) else (block.source, block.joined)
        document = _Markdown(source, self._code_theme, continued, {} if references is None else references)
        options = self._console.options.update(width=max(width, 4), height=None)
        lines = self._console.render_lines(document, options, pad=False)
        shown = [index for index, line in enumerate(lines) if not _blank(line)]
        return [Strip(line) for line in lines[shown[0] : shown[-1] + 1]] if shown else []


def _blank(line: list[Segment]) -> bool:
    return all(not segment.text.strip() and not (segment.style and segment.style.bgcolor) for segment in line)


def renderer_for(app: App[object]) -> BlockRenderer:
    """The renderer in ``app``'s current theme (one per theme, shared by every answer)."""
    variables = app.theme_variables

    def color(name: str, fallback: str) -> Color:
        try:
            return Color.parse(variables.get(name, fallback))
        except Exception:  # noqa: BLE001 - a variable that is not a plain colour ("auto 60%")
            return Color.parse(fallback)

    background, foreground = color("background", "#121212"), color("foreground", "#E0E0E0")
    return _renderer((("heading", color("markdown-h1-color", "#0178D4").hex6),
                      ("accent", color("text-accent", "#FFC473").hex6), ("link", color("text-primary", "#57A5E2").hex6),
                      ("muted", background.blend(foreground, 0.6).hex6),
                      ("code", color("surface", "#1E1E1E").blend(foreground, 0.04).hex6)), app.current_theme.dark)


@lru_cache(maxsize=8)
def _renderer(colors: tuple[tuple[str, str], ...], dark: bool) -> BlockRenderer:
    return BlockRenderer(colors, dark)
