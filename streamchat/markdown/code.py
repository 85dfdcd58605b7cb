"""The fenced code blocks of a Markdown text, wherever they sit: at the top, in a list item, in a quote (UI-free).

Read with markdown-it, as CommonMark reads them: a fence indented under a list item counts, and
its body comes without that indentation; a fence left open (an answer stopped mid-block) runs to
the end of the text.
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

from streamchat.messages import line_count

__all__ = ["CodeBlock", "code_blocks", "may_hold_code"]

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
        return line_count(self.body)


def may_hold_code(text: str) -> bool:
    """False when ``text`` has no fence mark, so no code block (a cheap look, before parsing)."""
    return "```" in text or "~~~" in text


def code_blocks(text: str) -> list[CodeBlock]:
    """Every fenced code block of ``text``, in order."""
    if not may_hold_code(text):
        return []
    return [CodeBlock(token.info.strip().partition(" ")[0], token.content)
            for token in _PARSER.parse(text) if token.type == "fence"]
