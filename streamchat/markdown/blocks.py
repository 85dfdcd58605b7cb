"""Cut streamed Markdown into blocks that render on their own (UI-free).

`BlockSplitter` reads an answer as it arrives and closes a block at each boundary: a blank
line outside a fence (unless an indented line carries on a list item), a code fence, a pipe
table, an ATX heading. A closed block never changes, so a view renders it once; only the open
block (`BlockSplitter.tail`) changes while the answer streams. An open block past `PART_CHARS`
is cut into parts at a line boundary (a fence or table part repeats its opener or header), and
a line past `LINE_PART_CHARS` at a space, so the tail stays small; when a cut block ends it is
handed over whole (`Merged`), up to `MERGE_CHARS` (`MERGE_CODE_CHARS` for a fence or a table, slower to
render). Work per call is proportional to the new text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["LINE_PART_CHARS", "MERGE_CHARS", "MERGE_CODE_CHARS", "PART_CHARS", "Block", "BlockSplitter", "Closed",
           "Merged", "Op", "apply_op", "split_blocks"]

PART_CHARS = 2048
"""An open block is cut into parts at the next line boundary past this many characters."""
LINE_PART_CHARS = 2048
"""An unfinished line longer than this is cut at a space (a paragraph with no line break)."""
MERGE_CHARS = 262_144
"""Prose cut while it streamed is handed over whole when it ends, up to this size (50 KB render in ~20 ms)."""
MERGE_CODE_CHARS = 32_768
"""The same for a fence or a table (Rich renders 32 KB of either in about 0.3 s); larger ones stay in parts."""

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_DELIMITER_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_NOT_A_ROW = re.compile(r"\s*$| {4}| {0,3}\t| {0,3}(?:#{1,6}(?:[ \t]|$)|>|[-*+][ \t]|\d{1,9}[.)][ \t]|`{3}|~{3})")
_CELL = re.compile(r"(?<!\\)\|")


def _cells(row: str) -> int:
    cells = _CELL.split(row.strip())
    return len(cells) - (not cells[0].strip()) - (len(cells) > 1 and not cells[-1].strip())


def _closes(line: str, fence: str, complete: bool = True) -> bool:
    """``line`` closes a fence opened by ``fence`` (unfinished: may still become its closer)."""
    stripped = line.lstrip(" ")
    rest = stripped.lstrip(fence[0])
    if len(line) - len(stripped) > 3 or rest.strip():
        return False
    return not complete or len(stripped) - len(rest) >= len(fence)


@dataclass(frozen=True, slots=True)
class Block:
    """A piece of an answer that renders on its own."""

    source: str
    """Its Markdown source (no trailing newline)."""
    joined: bool = False
    """True for a later part of a block cut while it streamed: no blank line before it."""


@dataclass(frozen=True, slots=True)
class Closed:
    """A block ended (or a part of an open block was cut off): it will not change again."""

    block: Block
    """The block."""


@dataclass(frozen=True, slots=True)
class Merged:
    """A block that had been cut into parts ended: it replaces its last `parts` closed blocks."""

    parts: int
    """How many closed blocks (its earlier parts) it replaces."""
    block: Block
    """The whole block."""


Op: TypeAlias = Closed | Merged


class BlockSplitter:
    """Turns streamed Markdown into closed blocks plus one open block; see the module docstring."""

    def __init__(self, part_chars: int = PART_CHARS, merge_chars: int = MERGE_CHARS,
                 line_part_chars: int = LINE_PART_CHARS, merge_code_chars: int = MERGE_CODE_CHARS) -> None:
        self.part_chars, self.merge_chars, self.line_part_chars = part_chars, merge_chars, line_part_chars
        self.merge_code_chars = merge_code_chars
        self._ops: list[Op] = []
        self._kind: Literal["prose", "fence", "table"] | None = None  # the open block's
        self._head: list[str] = []  # lines each part starts with: a fence's opener, a table's header and delimiter
        self._lines: list[str] = []  # the open part's other complete lines
        self._chars = 0  # their length
        self._whole: list[str] = []  # every complete line of the open block, for `Merged`
        self._parts = 0  # parts of the open block closed already
        self._blank = False  # a blank line followed the open prose: it ends unless an indented line follows
        self._fence = "```"  # the open fence's run of backticks or tildes
        self._partial = ""  # the unfinished line (what is left of it after cuts)
        self._cut_off: list[str] = []  # pieces of the unfinished line cut off into parts already

    def feed(self, text: str) -> list[Op]:
        """Read ``text`` (control characters already stripped); return the blocks it closed."""
        start = 0
        while (end := text.find("\n", start)) >= 0:
            self._partial += text[start:end]
            self._complete_line()
            start = end + 1
        if start < len(text):
            self._partial += text[start:]
            self._partial_grew()
        ops, self._ops = self._ops, []
        return ops

    def finish(self) -> list[Op]:
        """The answer ended: close the unfinished line and the open block."""
        if self._partial or self._cut_off:
            self._complete_line()
        self._close()
        ops, self._ops = self._ops, []
        return ops

    @property
    def tail(self) -> Block | None:
        """The open block as it stands, unfinished line included; None when nothing is open."""
        partial = self._partial
        if self._kind == "fence" and _closes(partial, self._fence, complete=False):
            partial = ""  # maybe its closing fence: not shown as a line of code meanwhile
        body = "\n".join([*self._head, *self._lines, *([partial] if partial else [])])
        return Block(body, joined=self._parts > 0) if body.strip() else None

    def _complete_line(self) -> None:
        rest, line = self._partial, "".join(self._cut_off) + self._partial
        was_cut, self._partial, self._cut_off = bool(self._cut_off), "", []
        if was_cut:  # its start is in closed parts already: it carries on the open block
            self._append(rest, line)
        else:
            self._line(line)

    def _line(self, line: str) -> None:
        if self._kind == "fence":
            if not _closes(line, self._fence):
                self._cut_if_full()
                self._append(line)
                return
            self._append(line)
            self._close()
            return
        if self._kind == "table":
            if not _NOT_A_ROW.match(line) and "|" in line:
                self._cut_if_full()
                self._append(line)
                return
            self._close()
        if not line.strip():
            self._blank = self._kind == "prose"
            return
        if self._blank:
            self._blank = False
            if line[0] in " \t":  # a list item's next paragraph (or code under it): the same block
                self._append("")
                self._append(line)
                return
            self._close()
        if (fence := _FENCE.fullmatch(line)) and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            self._close()
            self._open("fence", line)
            self._fence = fence.group(1)
        elif _HEADING.match(line):
            self._close()
            self._open("prose")
            self._append(line)
            self._close()
        elif self._kind == "prose" and self._lines and _DELIMITER_ROW.fullmatch(line) and "-" in line \
                and "|" in self._lines[-1] and _cells(self._lines[-1]) == _cells(line):
            header = self._lines.pop()  # the line above was the table's header: the prose ends before it
            self._whole.pop()
            self._chars -= len(header) + 1
            self._close()
            self._open("table", header, line)
        else:
            if self._kind is None:
                self._open("prose")
            elif line[0] not in " \t":
                self._cut_if_full()
            self._append(line)

    def _partial_grew(self) -> None:
        """Act on the unfinished line as soon as it tells enough: its first character says whether a blank
        line ended the block above; grown too long, it is cut (at a space; a line of code anywhere)."""
        partial = self._partial
        if self._blank and not self._cut_off and partial.strip():
            self._blank = False
            if partial[0] in " \t":
                self._append("")  # carries on the block above: the blank line stays inside it
            else:
                self._close()  # the block above is done now, drawn as it was last drawn
        if len(partial) <= self.line_part_chars or self._kind == "table":
            return
        cut = len(partial) if self._kind == "fence" else partial.rfind(" ", self.line_part_chars // 2) + 1
        if not cut:
            return  # no space yet (a word this long is rare): the tail draws it whole meanwhile
        if self._kind is None:
            self._open("prose")
        self._lines.append(partial[:cut])
        self._chars += cut
        self._cut()
        self._cut_off.append(partial[:cut])
        self._partial = partial[cut:]

    def _open(self, kind: Literal["prose", "fence", "table"], *head: str) -> None:
        self._kind, self._head, self._whole = kind, list(head), list(head)

    def _append(self, line: str, whole: str | None = None) -> None:
        self._lines.append(line)
        self._chars += len(line) + 1
        self._whole.append(line if whole is None else whole)

    def _cut_if_full(self) -> None:
        if self._chars >= self.part_chars:
            self._cut()

    def _source(self, closer: bool) -> str:
        fence = [self._fence] if closer and self._kind == "fence" else []
        return "\n".join([*self._head, *self._lines, *fence])

    def _cut(self) -> None:
        """Close the open part; the block goes on in a new part."""
        if self._lines:
            self._ops.append(Closed(Block(self._source(closer=True), joined=self._parts > 0)))
            self._parts += 1
            self._lines, self._chars = [], 0

    def _close(self) -> None:
        """End the open block: hand it over (whole, if it was cut), and open nothing."""
        if self._kind is not None:
            whole = "\n".join(self._whole)
            limit = self.merge_chars if self._kind == "prose" else self.merge_code_chars
            if self._parts and len(whole) <= limit:
                self._ops.append(Merged(self._parts, Block(whole)))
            elif self._lines or (self._head and not self._parts):
                self._ops.append(Closed(Block(self._source(closer=False), joined=self._parts > 0)))
        self._kind, self._head, self._lines, self._whole = None, [], [], []
        self._chars = self._parts = 0
        self._blank = False


def apply_op(blocks: list[Block], op: Op) -> None:
    """Apply one operation of the splitter to a list of closed blocks."""
    if isinstance(op, Merged):
        del blocks[len(blocks) - op.parts :]
    blocks.append(op.block)


def split_blocks(text: str, splitter: BlockSplitter | None = None) -> list[Block]:
    """The blocks a finished ``text`` (control characters already stripped) renders as."""
    splitter = splitter or BlockSplitter()
    blocks: list[Block] = []
    for op in [*splitter.feed(text), *splitter.finish()]:
        apply_op(blocks, op)
    return blocks
