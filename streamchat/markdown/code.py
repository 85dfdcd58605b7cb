"""The fenced code blocks of a Markdown text, wherever they sit: at the top, in a list item, in a quote (UI-free).

Read with markdown-it, as CommonMark reads them: a fence indented under a list item counts, and
its body comes without that indentation; a fence left open (an answer stopped mid-block) runs to
the end of the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

__all__ = ["CodeBlock", "code_blocks"]

_PARSER = MarkdownIt("commonmark", {"html": False})


@dataclass(frozen=True)
class CodeBlock:
    """One fenced code block."""

    language: str
    """The first word of its info string (``python``), or ``""``."""
    body: str
    """Its text, without the fences or the indentation of the block that holds it."""

    @property
    def lines(self) -> int:
        """How many lines the body has."""
        return self.body.count("\n") + (0 if self.body.endswith("\n") else 1) if self.body else 0


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced code block of ``text``, in order."""
    if "```" not in text and "~~~" not in text:
        return []
    return [CodeBlock(token.info.strip().partition(" ")[0], token.content)
            for token in _PARSER.parse(text) if token.type == "fence"]
