"""Incremental block splitter for a streaming Markdown answer (UI-free).

`BlockSplitter` reads sanitized text as it arrives and turns it into a short list of
operations for the view: stream prose into the live Markdown segment, freeze it at a
block boundary (`Break`), and route code fences and pipe tables to a cheap plain-text
preview (`BlockStart` / `BlockLine` / `BlockPartial`) until they end (`BlockEnd` carries
the block's whole Markdown source, rendered once).  Work per call is proportional to
the new text (plus the current line), never to the length of the answer.
"""

from __future__ import annotations

from typing import Literal

from streamchat.ui.answer_ops import BlockEnd, BlockLine, BlockPartial, BlockStart, Break, Op, Prose
from streamchat.ui.answer_syntax import (
    DELIMITER_CHARS,
    DELIMITER_ROW,
    FENCE_OPEN,
    HR,
    TABLE_END,
    TABLE_ROW,
    cell_count,
    classify,
)

__all__ = ["BlockSplitter", "segment_sources"]


class BlockSplitter:
    """Split streamed Markdown into segments; see the module docstring.

    Args:
        soft_limit: Freeze the live segment at the next blank line followed by an
            unindented line that does not start a list item, once it holds this many characters.
        hard_limit: Past this size, also split before a list item.
    """

    def __init__(self, soft_limit: int = 2048, hard_limit: int = 8192) -> None:
        self.soft_limit = soft_limit
        self.hard_limit = hard_limit
        self._ops: list[Op] = []
        self._mode: Literal["prose", "fence", "table"] = "prose"
        self._line = ""  # the current, unfinished line
        self._emitted = 0  # characters of the current line already sent as prose
        self._started = False  # the current line has been classified as prose
        self._segment_chars = 0
        self._after_blank = False
        self._header: str | None = None  # a held "| a | b |" line that may start a table
        self._block: list[str] = []  # source lines of the open fence or table
        self._fence_char = ""
        self._fence_len = 0
        self._fence_indent = 0

    def feed(self, text: str) -> list[Op]:
        """Consume sanitized ``text``; return the operations it implies."""
        start = 0
        while (end := text.find("\n", start)) >= 0:
            self._line += text[start:end]
            self._step(complete=True)
            start = end + 1
        if start < len(text):
            self._line += text[start:]
            self._step(complete=False)
        return self._take()

    def finish(self) -> list[Op]:
        """End of the answer: flush held text, close any open block, freeze the segment."""
        if self._line:
            self._step(complete=True)
        if self._header is not None:
            self._release_header()
        if self._mode != "prose":
            self._ops.append(BlockEnd("".join(self._block)))
            self._block = []
            self._mode = "prose"
        self._break()
        self._after_blank = False
        return self._take()

    def _take(self) -> list[Op]:
        ops, self._ops = self._ops, []
        return ops

    def _step(self, complete: bool) -> None:
        if self._mode == "fence":
            self._fence_step(complete)
        elif self._mode == "table":
            self._table_step(complete)
        else:
            self._prose_step(complete)
        if complete:
            self._line = ""
            self._emitted = 0
            self._started = False

    def _prose(self, text: str) -> None:
        if self._ops and isinstance(last := self._ops[-1], Prose):
            self._ops[-1] = Prose(last.text + text)
        else:
            self._ops.append(Prose(text))
        self._segment_chars += len(text)

    def _break(self) -> None:
        if self._segment_chars:
            self._ops.append(Break())
            self._segment_chars = 0

    def _release_header(self) -> None:
        assert self._header is not None
        self._prose(self._header + "\n")
        self._header = None
        self._after_blank = False

    def _prose_step(self, complete: bool) -> None:
        line = self._line
        if self._header is not None:
            is_delimiter = DELIMITER_ROW.fullmatch(line) and cell_count(line) == cell_count(self._header)
            if complete and is_delimiter:
                self._break()
                self._ops.append(BlockStart("table"))
                for row in (self._header, line):
                    self._block.append(row + "\n")
                    self._ops.append(BlockLine(row))
                self._header = None
                self._mode = "table"
                return
            if not complete and set(line) <= DELIMITER_CHARS:
                return  # may still become the delimiter row
            self._release_header()
        if not self._started:
            kind = classify(line, complete)
            if kind == "wait":
                return
            if kind == "fence":
                self._open_fence(line)
                return
            if self._after_blank and kind not in ("blank", "indented"):
                if self._segment_chars >= (self.hard_limit if kind == "list" else self.soft_limit):
                    self._break()
            if kind == "table":
                self._header = line
                return
            if kind == "blank":
                self._after_blank = True
                if self._segment_chars:
                    self._prose("\n")
                return
            self._started = True
        self._prose(line[self._emitted :] + ("\n" if complete else ""))
        self._emitted = len(line)
        if complete:
            self._after_blank = False

    def _open_fence(self, line: str) -> None:
        match = FENCE_OPEN.fullmatch(line)
        assert match is not None
        self._break()
        self._mode = "fence"
        self._fence_indent = len(match.group(1))
        self._fence_char = match.group(2)[0]
        self._fence_len = len(match.group(2))
        self._block = [line + "\n"]
        self._ops.append(BlockStart("fence", match.group(3).strip()))

    def _is_closer(self, line: str, complete: bool) -> bool:
        stripped = line.lstrip(" ")
        if len(line) - len(stripped) > 3:
            return False
        run = len(stripped) - len(stripped.lstrip(self._fence_char))
        if complete:
            return run >= self._fence_len and not stripped[run:].strip()
        return not stripped[run:].strip()  # could still become the closing fence

    def _fence_step(self, complete: bool) -> None:
        line = self._line
        if not complete:
            self._ops.append(BlockPartial("" if self._is_closer(line, False) else self._unindent(line)))
            return
        self._block.append(line + "\n")
        if self._is_closer(line, True):
            self._ops.append(BlockEnd("".join(self._block)))
            self._block = []
            self._mode = "prose"
            self._after_blank = False
        else:
            self._ops.append(BlockLine(self._unindent(line)))

    def _unindent(self, line: str) -> str:
        indent = len(line) - len(line.lstrip(" "))
        return line[min(indent, self._fence_indent) :]

    def _table_step(self, complete: bool) -> None:
        line = self._line
        if not complete:
            self._ops.append(BlockPartial(line if TABLE_ROW.match(line) else ""))
            return
        if line.strip() and not TABLE_END.match(line) and not HR.fullmatch(line):
            self._block.append(line + "\n")
            self._ops.append(BlockLine(line))
            return
        self._ops.append(BlockEnd("".join(self._block)))
        self._block = []
        self._mode = "prose"
        self._after_blank = False
        self._prose_step(complete=True)  # the line that ended the table starts the prose


def segment_sources(text: str, soft_limit: int = 2048, hard_limit: int = 8192) -> list[str]:
    """The Markdown sources of the segments a finished, sanitized ``text`` splits into."""
    splitter = BlockSplitter(soft_limit, hard_limit)
    segments: list[str] = []
    prose: list[str] = []
    for op in [*splitter.feed(text), *splitter.finish()]:
        if isinstance(op, Prose):
            prose.append(op.text)
        elif isinstance(op, Break | BlockEnd):
            if prose:
                segments.append("".join(prose))
                prose.clear()
            if isinstance(op, BlockEnd):
                segments.append(op.source)
    return segments
