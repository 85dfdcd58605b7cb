"""Cut streamed Markdown into blocks that can be rendered on their own (UI-free).

`BlockSplitter` reads an answer's text as it arrives and closes a block at each boundary:
a blank line outside a fence (unless an indented line carries on a list item), a code fence,
a pipe table, an ATX heading. A closed block never changes again, so a view renders it once;
only the open block (`BlockSplitter.tail`) changes while the answer streams.

A block that grows past `PART_CHARS` while open is cut into *parts* at a line boundary (a
fence or table part repeats the opener or header, so it renders alone), and a line longer
than `LINE_PART_CHARS` at a space: the open part stays small however long the block. When a
cut block ends it is handed over whole once (`Merged`), to be rendered as one, unless it is
larger than `MERGE_CHARS`. Work per call is proportional to the new text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from streamchat.markdown.syntax import (
    FENCE_OPEN,
    cell_count,
    could_close_fence,
    ends_table,
    is_blank,
    is_delimiter_row,
    is_fence_open,
    is_heading,
    is_indented,
    is_table_row,
)

__all__ = ["LINE_PART_CHARS", "MERGE_CHARS", "PART_CHARS", "Block", "BlockSplitter", "Closed", "Merged", "apply_op",
           "split_blocks"]

PART_CHARS = 2048
"""An open block is cut into parts at the next line boundary past this many characters."""
LINE_PART_CHARS = 2048
"""An unfinished line longer than this is cut at a space (a paragraph with no line break)."""
MERGE_CHARS = 32_768
"""A block that was cut while it streamed is handed over whole when it ends, up to this size."""

Kind: TypeAlias = Literal["prose", "fence", "table"]


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
    """A block that had been cut into parts ended: its last `parts` closed blocks and its rest are `block`."""

    parts: int
    """How many blocks closed before (the block's earlier parts) it replaces."""
    block: Block
    """The whole block."""


Op: TypeAlias = Closed | Merged


class BlockSplitter:
    """Turns streamed Markdown into closed blocks plus one open block; see the module docstring."""

    def __init__(self, part_chars: int = PART_CHARS, merge_chars: int = MERGE_CHARS,
                 line_part_chars: int = LINE_PART_CHARS) -> None:
        self.part_chars = part_chars
        self.merge_chars = merge_chars
        self.line_part_chars = line_part_chars
        self._ops: list[Op] = []
        self._kind: Kind | None = None  # the open block's kind, None when there is none
        self._head: list[str] = []  # lines every part starts with: a fence's opener, a table's header and delimiter
        self._lines: list[str] = []  # the open part's other complete lines
        self._chars = 0  # characters in those lines
        self._whole: list[str] = []  # every complete line of the open block, for `Merged`
        self._parts = 0  # parts of the open block already closed
        self._blank = False  # a blank line followed the open prose block (it ends unless an indented line follows)
        self._fence = ("`", 3)  # the open fence's character and length
        self._partial = ""  # the unfinished line (what is left of it after cuts)
        self._partial_done: list[str] = []  # pieces of the unfinished line already cut off into parts

    # -- reading

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
        return self._take()

    def finish(self) -> list[Op]:
        """The answer ended: close the open block (and the unfinished line)."""
        if self._partial or self._partial_done:
            self._complete_line()
        self._close()
        return self._take()

    @property
    def tail(self) -> Block | None:
        """The open block as it stands, unfinished line included; None when there is nothing open."""
        partial = self._partial
        if self._kind == "fence" and partial and could_close_fence(partial, *self._fence, complete=False):
            partial = ""  # maybe its closing fence: not shown as a line of code meanwhile
        if self._kind is None and not partial:
            return None
        body = "\n".join([*self._head, *self._lines])
        if partial:
            if body:
                body += "\n\n" if self._blank else "\n"
            body += partial
        if not body.strip():
            return None
        return Block(body, joined=self._parts > 0)

    def _take(self) -> list[Op]:
        ops, self._ops = self._ops, []
        return ops

    # -- lines

    def _complete_line(self) -> None:
        rest = self._partial
        line = "".join(self._partial_done) + rest
        cut = bool(self._partial_done)
        self._partial, self._partial_done = "", []
        if cut:  # the line's start was cut off into parts already: it carries on the open block
            self._append(rest, whole=line)
        else:
            self._line(line)

    def _line(self, line: str) -> None:
        kind = self._kind
        if kind == "fence":
            if could_close_fence(line, *self._fence, complete=True):
                self._append(line)
                self._close()
            else:
                self._cut_if_full()
                self._append(line)
            return
        if kind == "table":
            if not ends_table(line):
                self._cut_if_full()
                self._append(line)
                return
            self._close()
        if is_blank(line):
            if self._kind == "prose":
                self._blank = True
            return
        if self._kind == "prose" and self._blank:
            self._blank = False
            if is_indented(line):  # a list item's next paragraph (or code under it): same block
                self._append("")
                self._append(line)
                return
            self._close()
        if is_fence_open(line):
            self._close()
            match = FENCE_OPEN.fullmatch(line)
            assert match is not None
            self._open("fence", line)
            self._fence = (match.group(2)[0], len(match.group(2)))
        elif is_heading(line):
            self._close()
            self._open("prose", None)
            self._append(line)
            self._close()
        elif self._starts_table(line):
            header = self._lines.pop()
            self._whole.pop()
            self._chars -= len(header) + 1
            if self._lines or self._parts:
                self._close()
            else:
                self._reset()
            self._open("table", header, line)
        else:
            if self._kind is None:
                self._open("prose", None)
            elif not is_indented(line):
                self._cut_if_full()
            self._append(line)

    def _starts_table(self, line: str) -> bool:
        """``line`` is a delimiter row under a header row that ends the open prose."""
        if self._kind != "prose" or not self._lines or not is_delimiter_row(line):
            return False
        header = self._lines[-1]
        return is_table_row(header) and cell_count(header) == cell_count(line)

    def _partial_grew(self) -> None:
        """Act on the unfinished line as soon as it tells enough: its first character decides whether a
        blank line ended the block above; a line grown too long is cut (at a space; a line of code anywhere)."""
        partial = self._partial
        if self._kind == "prose" and self._blank and not self._partial_done and partial.strip():
            self._blank = False
            if is_indented(partial):
                self._append("")  # carries on the block above: the blank line stays inside it
            else:
                self._close()  # the block above is done: drawn once more at most, then never again
        if len(partial) <= self.line_part_chars or self._kind == "table":
            return
        if self._kind != "fence":
            at = partial.rfind(" ", self.line_part_chars // 2)
            if at < 0:
                return  # no space yet: wait (a word this long is rare; the tail renders it meanwhile)
            cut = at + 1
            if self._kind is None:
                self._open("prose", None)
        else:
            cut = len(partial)
        piece = partial[:cut]
        self._lines.append(piece)
        self._chars += len(piece)
        self._cut()
        self._partial_done.append(piece)
        self._partial = partial[cut:]

    # -- the open block

    def _open(self, kind: Kind, *head: str | None) -> None:
        self._kind = kind
        self._head = [line for line in head if line is not None]
        self._whole = list(self._head)
        self._blank = False

    def _append(self, line: str, whole: str | None = None) -> None:
        self._lines.append(line)
        self._chars += len(line) + 1
        self._whole.append(line if whole is None else whole)

    def _cut_if_full(self) -> None:
        if self._chars >= self.part_chars:
            self._cut()

    def _part_source(self, *, closer: bool) -> str:
        lines = [*self._head, *self._lines]
        if closer and self._kind == "fence":
            lines.append(self._fence[0] * self._fence[1])
        return "\n".join(lines)

    def _cut(self) -> None:
        """Close the open part; the block goes on in a new part."""
        if self._lines:
            self._ops.append(Closed(Block(self._part_source(closer=True), joined=self._parts > 0)))
            self._parts += 1
            self._lines, self._chars = [], 0

    def _close(self) -> None:
        """End the open block: hand it over whole (or its last part), and open nothing."""
        if self._kind is None:
            return
        if self._parts == 0:
            if self._lines or self._kind != "prose":
                self._ops.append(Closed(Block(self._part_source(closer=False))))
        else:
            whole = "\n".join(self._whole)
            if len(whole) <= self.merge_chars:
                self._ops.append(Merged(self._parts, Block(whole)))
            elif self._lines:
                self._ops.append(Closed(Block(self._part_source(closer=False), joined=True)))
        self._reset()

    def _reset(self) -> None:
        self._kind = None
        self._head, self._lines, self._whole = [], [], []
        self._chars = self._parts = 0
        self._blank = False


def split_blocks(text: str, splitter: BlockSplitter | None = None) -> list[Block]:
    """The blocks a finished ``text`` (control characters already stripped) renders as."""
    splitter = splitter or BlockSplitter()
    blocks: list[Block] = []
    for op in [*splitter.feed(text), *splitter.finish()]:
        apply_op(blocks, op)
    return blocks


def apply_op(blocks: list[Block], op: Op) -> None:
    """Apply one splitter operation to a list of closed blocks."""
    if isinstance(op, Merged):
        del blocks[len(blocks) - op.parts :]
    blocks.append(op.block)
