"""An answer's lines: each closed block rendered once at the view's width, the open tail again as it grows.

`AnswerLines` keeps one answer's blocks (from `BlockSplitter`) with their rendered lines
(`Strip`s) and serves any line by its number. A block not rendered at the current width counts
with an estimated height until it is asked for, or rendered in spare time (`render_some`): the
cost of a frame is the tail plus the visible rows, whatever the answer's length. Blocks are one
blank line apart, except the parts of a block that was cut while it streamed.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from textual.strip import Strip

from streamchat.markdown import Block, Closed, Merged, Op

__all__ = ["AnswerLines", "estimate_height"]

Render = Callable[[Block, int, dict[str, Any]], list[Strip]]
"""Renders one block at a width, with the answer's link reference definitions (and adds those it defines)."""


def estimate_height(source: str, width: int) -> int:
    """About how many lines ``source`` takes at ``width``, before it is rendered."""
    usable = max(width - 3, 1) if width > 0 else 1 << 30
    return sum(len(line) // usable + 1 for line in source.split("\n"))


class _Entry:
    """One block and, once rendered, its lines."""

    __slots__ = ("block", "height", "strips", "width")

    def __init__(self, block: Block, width: int) -> None:
        self.block, self.strips, self.width = block, list[Strip](), 0  # width 0: not rendered
        self.height = estimate_height(block.source, width)

    def render(self, render: Render, width: int, references: dict[str, Any]) -> bool:
        """Render at ``width``; True if the height changed."""
        self.strips, self.width, height = render(self.block, width, references), width, self.height
        self.height = len(self.strips)
        return self.height != height


class AnswerLines:
    """The lines of one answer at one width; see the module docstring."""

    def __init__(self, render: Render) -> None:
        self.render = render
        """Renders a block (replaced when the theme changes, then `invalidate()`)."""
        self.width = 0
        """The width lines are rendered at; 0 until the view is laid out."""
        self.moved = False
        """Set when rendering changed a block's height (the lines below moved): the view lays out again."""
        self._entries: list[_Entry] = []  # closed blocks, then the tail if there is one
        self._has_tail = self._tail_dirty = False
        self._tops: list[int] = []  # each entry's first line, valid for the first `_valid` entries
        self._valid = 0
        self._changed = 0  # the first entry whose lines changed since `take_changed()`
        self._references: dict[str, Any] = {}  # link reference definitions ("[docs]: https://…") seen so far

    def reset(self, blocks: Iterable[Block]) -> None:
        """Show these closed blocks (a finished answer), none rendered yet."""
        self._entries = [_Entry(block, self.width) for block in blocks]
        self._has_tail = self._tail_dirty = False
        self._references.clear()
        self._changed_from(0)

    def apply(self, op: Op) -> None:
        """Take an operation of the splitter; a closed block identical to the tail as drawn keeps its lines."""
        tail = self._entries.pop() if self._has_tail else None
        drawn = tail is not None and not self._tail_dirty and tail.width == self.width
        self._has_tail = self._tail_dirty = False
        if isinstance(op, Merged):
            del self._entries[len(self._entries) - op.parts :]
        keep = drawn and isinstance(op, Closed) and tail is not None and tail.block == op.block
        self._entries.append(tail if keep and tail is not None else _Entry(op.block, self.width))
        self._changed_from(len(self._entries) - 1)

    def set_tail(self, block: Block | None) -> None:
        """The open block is now ``block``, rendered when next measured."""
        if self._has_tail and block == self._entries[-1].block:
            return
        if self._has_tail:
            self._entries.pop()
        self._has_tail = self._tail_dirty = block is not None
        if block is not None:
            self._entries.append(_Entry(block, self.width))
        self._changed_from(len(self._entries) - 1 if block else len(self._entries))

    def resize(self, width: int) -> None:
        """Lines are wanted at ``width``: blocks count with an estimate until rendered again."""
        if width != self.width:
            self.width = width
            for entry in self._entries:
                if entry.width != width:
                    entry.height = estimate_height(entry.block.source, width)
            self._tail_dirty = self._has_tail
            self._changed_from(0)

    def invalidate(self) -> None:
        """Render every block again (the colours changed, a link reference was defined)."""
        for entry in self._entries:
            entry.width = 0
        self._tail_dirty = self._has_tail
        self._changed_from(0)

    @property
    def height(self) -> int:
        """Lines in all (the tail rendered first if it changed)."""
        if self._tail_dirty and self.width:
            self._tail_dirty = False
            self._render(len(self._entries) - 1, tail=True)
        last = len(self._entries) - 1
        return self._top(last) + self._entries[last].height if self._entries else 0

    def line(self, y: int, margin: int = 0) -> Strip | None:
        """Line ``y`` (None for a blank one), rendering its block and those ``margin`` lines around it if need be."""
        if not self.width or self.height <= y:
            return None
        index = bisect_right(self._tops, y) - 1
        if self._entries[index].width != self.width:
            self._render_around(index, margin)
            index = bisect_right(self._tops, y) - 1 if self.height > y else -1
        if index < 0:
            return None
        entry, offset = self._entries[index], y - self._tops[index]
        return entry.strips[offset] if offset < len(entry.strips) else None

    def position(self, y: int) -> tuple[int, float]:
        """Where line ``y`` is in the answer's text: its block, and the share of the block above it."""
        if not self._entries or self.height <= 0:
            return 0, 0.0
        index = max(bisect_right(self._tops, y) - 1, 0)
        return index, max(0.0, min(1.0, (y - self._tops[index]) / max(self._entries[index].height, 1)))

    def line_of(self, position: tuple[int, float], margin: int = 0) -> int:
        """The line of ``position`` (from `position`) at the current width, its block rendered if need be."""
        index, share = position
        if not self._entries or not self.width:
            return 0
        index = min(index, len(self._entries) - 1)
        if self._entries[index].width != self.width:
            self._render_around(index, margin)
        top = self._top(index)
        return top + int(share * self._entries[index].height)

    def plain_lines(self) -> list[str]:
        """The text of every line (all blocks rendered), for a selection."""
        text: list[str] = []
        while len(text) < self.height:
            line = self.line(len(text), margin=1 << 30)
            text.append("" if line is None else line.text)
        return text

    def render_some(self, budget: float) -> bool:
        """Render closed blocks not rendered at the width, latest first, for about ``budget`` seconds.

        Returns True if some remain."""
        deadline = time.perf_counter() + budget
        waiting = [index for index in range(len(self._entries) - self._has_tail)
                   if self._entries[index].width != self.width] if self.width else []
        while waiting:
            self._render(waiting.pop())
            if time.perf_counter() > deadline:
                break
        return bool(waiting)

    def take_changed(self) -> int | None:
        """The first line that changed since the last call (None: nothing did)."""
        changed, self._changed = self._changed, len(self._entries)
        return self._top(changed) if changed < len(self._entries) else None

    def _changed_from(self, index: int) -> None:
        self._valid, self._changed = min(self._valid, index), min(self._changed, index)

    def render_small(self, limit: int) -> None:
        """Render every block not rendered at the width if they hold ``limit`` characters or fewer in all
        (a typical reopened answer then has its real height from its first layout, not an estimate)."""
        waiting = [index for index, entry in enumerate(self._entries) if entry.width != self.width]
        if waiting and self.width and sum(len(self._entries[index].block.source) for index in waiting) <= limit:
            for index in waiting:
                self._render(index)
            self.moved = False

    def _render(self, index: int, *, tail: bool = False) -> None:
        """Render entry ``index`` (``tail``: the open block, with no lines below it to move)."""
        known = len(self._references)
        moved = self._entries[index].render(self.render, self.width, self._references)
        self.moved |= moved and not tail
        self._changed_from(index)
        if len(self._references) > known:  # a block defined a link reference: blocks using it draw it now
            self.invalidate()
            self._entries[index].width = self.width
            self._tail_dirty = self._tail_dirty and not tail
            self.moved = True

    def _render_around(self, index: int, margin: int) -> None:
        """Render entry ``index`` and those within ``margin`` lines above and below it that need it."""
        for step in (-1, 1):
            at, lines = index if step < 0 else index + 1, 0
            while 0 <= at < len(self._entries) and (lines <= margin or at == index):
                if self._entries[at].width != self.width:
                    self._render(at)
                lines += self._entries[at].height
                at += step

    def _top(self, index: int) -> int:
        tops, entries = self._tops, self._entries
        if self._valid <= index:
            del tops[self._valid :]
            at = tops[-1] + entries[len(tops) - 1].height if tops else 0
            for position in range(len(tops), len(entries)):
                entry = entries[position]
                at += 1 if position and entry.height and not entry.block.joined else 0  # the blank line above
                tops.append(at)
                at += entry.height
            self._valid = len(entries)
        return tops[index]
