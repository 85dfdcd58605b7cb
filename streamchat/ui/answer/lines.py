"""An answer's lines: each closed block rendered once at the view's width, the open tail re-rendered.

`AnswerLines` keeps the blocks of one answer (from `BlockSplitter`) with their rendered lines
(`Strip`s) and serves any line by its number. A block not rendered at the current width (not
rendered yet, or the width changed) counts with an estimated height until it is asked for,
or rendered in spare time (`render_some`): the cost of a frame is the tail plus the visible
rows, whatever the answer's length. Blocks are separated by one blank line, except the parts
of a block that was cut while it streamed.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Iterable

from textual.strip import Strip

from streamchat.markdown import Block, Closed, Merged
from streamchat.markdown.blocks import Op

__all__ = ["AnswerLines", "estimate_height"]

Render = Callable[[str, int], list[Strip]]
"""Renders one block's Markdown source at a width."""


def estimate_height(source: str, width: int) -> int:
    """About how many lines ``source`` takes at ``width`` (before it is rendered)."""
    if width <= 0:
        return source.count("\n") + 1
    usable = max(width - 3, 1)
    return sum(len(line) // usable + 1 for line in source.split("\n"))


class _Entry:
    """One block and, once rendered, its lines."""

    __slots__ = ("block", "height", "strips", "width")

    def __init__(self, block: Block, width: int) -> None:
        self.block = block
        self.strips: list[Strip] = []
        self.width = 0  # the width `strips` were rendered at; 0: never rendered
        self.height = estimate_height(block.source, width)

    def render(self, render: Render, width: int) -> bool:
        """Render at ``width``; True if the height changed."""
        self.strips = render(self.block.source, width)
        self.width = width
        changed = len(self.strips) != self.height
        self.height = len(self.strips)
        return changed

    def separated(self, first: bool) -> int:
        """The blank lines above this block: one, none for the first, a later part or an empty block."""
        return 0 if first or self.block.joined or not self.height else 1


class AnswerLines:
    """The lines of one answer at one width; see the module docstring."""

    def __init__(self, render: Render) -> None:
        self.render = render
        """Renders a block (swapped when the theme changes, then `invalidate()`)."""
        self.width = 0
        """The width lines are rendered at; 0 until the view is laid out."""
        self.moved = False
        """Set when rendering changed a block's height (lines below it moved): the view lays out again."""
        self._entries: list[_Entry] = []  # closed blocks, then the tail (when there is one)
        self._has_tail = False
        self._tail_dirty = False
        self._tops: list[int] = []  # the first line of each entry, valid for the first `_valid` entries
        self._valid = 0
        self._unrendered = 0  # entries before this index are all rendered at the width (a hint)

    # -- blocks

    def reset(self, blocks: Iterable[Block]) -> None:
        """Show these closed blocks (a finished answer), nothing rendered yet."""
        self._entries = [_Entry(block, self.width) for block in blocks]
        self._has_tail = self._tail_dirty = False
        self._changed_from(0)

    def apply(self, op: Op) -> None:
        """Take one operation of the splitter; a closed block identical to the tail keeps its lines."""
        tail = self._entries.pop() if self._has_tail else None
        rendered = tail is not None and not self._tail_dirty and tail.width == self.width
        self._has_tail = self._tail_dirty = False
        if isinstance(op, Merged):
            del self._entries[len(self._entries) - op.parts :]
        if tail is not None and rendered and isinstance(op, Closed) and tail.block == op.block:
            entry = tail
        else:
            entry = _Entry(op.block, self.width)
        self._entries.append(entry)
        self._changed_from(len(self._entries) - 1)

    def set_tail(self, block: Block | None) -> None:
        """The open block is now ``block`` (rendered when next needed)."""
        if self._has_tail:
            tail = self._entries[-1]
            if block == tail.block:
                return
            if block is None:
                self._entries.pop()
                self._has_tail = self._tail_dirty = False
                self._moved_from(len(self._entries))
                return
            tail.block = block
        elif block is None:
            return
        else:
            self._entries.append(_Entry(block, self.width))
            self._has_tail = True
        self._tail_dirty = True
        self._moved_from(len(self._entries) - 1)

    # -- size

    def resize(self, width: int) -> None:
        """Lines are wanted at ``width``: every block counts with an estimate until rendered again."""
        if width == self.width:
            return
        self.width = width
        for entry in self._entries:
            if entry.width != width:
                entry.height = estimate_height(entry.block.source, width)
        self._tail_dirty = self._has_tail
        self._changed_from(0)

    def invalidate(self) -> None:
        """Render every block again (the colours changed)."""
        for entry in self._entries:
            entry.width = 0
        self._tail_dirty = self._has_tail
        self._changed_from(0)

    @property
    def height(self) -> int:
        """Lines in all (the tail rendered first if it changed)."""
        if self._tail_dirty and self.width:
            self._tail_dirty = False
            if self._entries[-1].render(self.render, self.width):
                self._moved_from(len(self._entries) - 1)
        if not self._entries:
            return 0
        last = len(self._entries) - 1
        return self._top(last) + self._entries[last].height

    @property
    def tail_region(self) -> tuple[int, int]:
        """The tail's first line and height ((0, 0) when there is no tail)."""
        if not self._has_tail:
            return 0, 0
        last = len(self._entries) - 1
        return self._top(last), self._entries[last].height

    # -- lines

    def line(self, y: int, margin: int = 0) -> Strip | None:
        """Line ``y`` (None for a blank one), rendering its block, and blocks ``margin`` lines around, if needed."""
        if not self.width:
            return None
        self.height  # noqa: B018 - renders the tail if it changed
        index = self._index(y)
        if index < 0:
            return None
        entry = self._entries[index]
        if entry.width != self.width:
            self._render_around(index, margin)
            index = self._index(y)
            entry = self._entries[index]
        offset = y - self._top(index)
        return entry.strips[offset] if 0 <= offset < len(entry.strips) else None

    def plain_lines(self) -> list[str]:
        """The text of every line (all blocks rendered), for selection."""
        total = self.height
        return [line.text if (line := self.line(y)) is not None else "" for y in range(total)]

    def render_some(self, budget: float) -> bool:
        """Render blocks not rendered at the width, latest first, for about ``budget`` seconds; True if any remain."""
        if not self.width:
            return False
        deadline = time.perf_counter() + budget
        entries = self._entries
        closed = len(entries) - self._has_tail
        for index in range(closed - 1, self._unrendered - 1, -1):
            entry = entries[index]
            if entry.width == self.width:
                continue
            if entry.render(self.render, self.width):
                self._moved_from(index)
                self.moved = True
            if time.perf_counter() > deadline and index > self._unrendered:
                return True
        self._unrendered = max(self._unrendered, closed)
        return False

    # -- geometry

    def _render_around(self, index: int, margin: int) -> None:
        """Render entry ``index`` and the unrendered entries within ``margin`` lines above and below it."""
        entries, width = self._entries, self.width
        lines = 0
        for step in (-1, 1):
            lines = 0
            at = index if step < 0 else index + 1
            while 0 <= at < len(entries) and (lines <= margin or at == index):
                entry = entries[at]
                if entry.width != width and entry.render(self.render, width):
                    self._moved_from(at)
                    self.moved = True
                lines += entry.height
                at += step

    def _moved_from(self, index: int) -> None:
        """Entry ``index`` changed height: the tops after it are to be counted again."""
        self._valid = min(self._valid, index)

    def _changed_from(self, index: int) -> None:
        """Entries from ``index`` on are new or to be rendered again."""
        self._moved_from(index)
        self._unrendered = min(self._unrendered, index)

    def _top(self, index: int) -> int:
        tops, entries = self._tops, self._entries
        if self._valid <= index:
            del tops[self._valid :]
            at = tops[-1] + entries[len(tops) - 1].height if tops else 0
            for position in range(len(tops), len(entries)):
                entry = entries[position]
                at += entry.separated(position == 0)
                tops.append(at)
                at += entry.height
            self._valid = len(entries)
        return tops[index]

    def _index(self, y: int) -> int:
        """The entry line ``y`` is in or just under (-1 above the first)."""
        if not self._entries:
            return -1
        self._top(len(self._entries) - 1)
        return bisect_right(self._tops, y) - 1
