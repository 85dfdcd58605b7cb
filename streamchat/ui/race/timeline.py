"""The race's timeline: a bar per side on one time scale, so the difference is seen, not read.

::

    Streaming  ─┃▃▅▇█▆▅▇·▆█▇▅▆▇█▆▅▇▆▅▇█▆▅▇▆▅▆▇▇▅▆▇▆▅▆█▆▅●              1.62 s
    Blocking   ─────────────────────────────────────────────────────●  1.84 s
               0                         920 ms                     1.84 s
               ─ waiting  ┃ first text  ▂▅█ text arriving  · gap  ● complete

The longer side's total is the full width. The screen calls ``show()`` a few
times a second while the race runs (never per token), and once at the end.
"""

from __future__ import annotations

import math
from typing import ClassVar

from textual.content import Content
from textual.widget import Widget

from streamchat.race import SideResult
from streamchat.timing import format_ms
from streamchat.ui.race.side import TITLES

LABEL_WIDTH = 11
"""Columns for the side's name."""
VALUE_WIDTH = 10
"""Columns for the figure after the bar."""
LEVELS = "▂▃▄▅▆▇█"
"""How many pieces of text arrived in a column, from one to the most any column saw."""

WAIT = ("─", "$text-muted")
GAP = ("·", "$text-muted")
FIRST = ("┃", "bold $accent")
DONE = ("●", "bold $success")
FAILED = ("✗", "bold $error")
STOPPED = ("■", "bold $warning")
RUNNING = ("▸", "bold $accent")
ARRIVAL_STYLE = "$primary"

Cell = tuple[str, str]


def _column(ms: float, full_ms: float, width: int) -> int:
    return max(0, min(width - 1, int(ms / full_ms * width)))


def side_end_ms(side: SideResult, now_ms: float) -> float:
    """Where a side's bar ends: its total, else now (running, or when it was stopped)."""
    return side.total_ms if side.total_ms is not None else now_ms


def bar_cells(side: SideResult, full_ms: float, width: int, now_ms: float, running: bool) -> list[Cell]:
    """The cells of one side's bar, ``width`` long."""
    cells: list[Cell] = [(" ", "")] * width
    end = _column(side_end_ms(side, now_ms), full_ms, width)
    first = None if side.ttft_ms is None else _column(side.ttft_ms, full_ms, width)
    counts = [0] * width
    for arrival in side.arrivals_ms:
        counts[_column(arrival, full_ms, width)] += 1
    peak = max(counts) or 1
    for column in range(end + 1):
        if first is None or column < first:
            cells[column] = WAIT
        elif counts[column]:
            level = LEVELS[max(0, math.ceil(counts[column] / peak * len(LEVELS)) - 1)]
            cells[column] = (level, ARRIVAL_STYLE)
        else:
            cells[column] = GAP
    if first is not None:
        cells[first] = FIRST
    if side.stopped:
        cells[end] = STOPPED
    elif side.error is not None:
        cells[end] = FAILED
    elif side.total_ms is not None:
        cells[end] = DONE
    elif running:
        cells[end] = RUNNING
    return cells


def _value(side: SideResult, now_ms: float, running: bool) -> str:
    if side.stopped:
        return "stopped"
    if side.total_ms is not None:
        return "failed" if side.error is not None else format_ms(side.total_ms)
    return f"{now_ms / 1000:.1f} s…" if running else ""


def _row(label: str, cells: list[Cell], value: str) -> Content:
    parts: list[str | tuple[str, str]] = [(label.ljust(LABEL_WIDTH), "bold")]
    parts += [cell if cell[1] else cell[0] for cell in cells]
    parts.append(value.rjust(VALUE_WIDTH))
    return Content.assemble(*parts)


def _axis(full_ms: float, width: int) -> Content:
    if full_ms <= 1.0:
        return Content("")  # nothing has happened yet
    left, middle, right = "0", format_ms(full_ms / 2), format_ms(full_ms)
    line = [" "] * width
    line[: len(left)] = left
    start = max(len(left) + 1, width // 2 - len(middle) // 2)
    if start + len(middle) < width - len(right) - 1:
        line[start : start + len(middle)] = middle
    line[width - len(right) :] = right
    return Content.assemble(" " * LABEL_WIDTH, ("".join(line), "$text-muted"))


def _legend() -> Content:
    parts: list[str | tuple[str, str]] = [" " * LABEL_WIDTH]
    for cell, meaning in ((WAIT, "waiting"), (FIRST, "first text"), (("▂▅█", ARRIVAL_STYLE), "text arriving"),
                          (GAP, "gap"), (DONE, "complete")):
        parts += [cell, (f" {meaning}  ", "$text-muted")]
    return Content.assemble(*parts)


def timeline(streaming: SideResult, blocking: SideResult, width: int, now_ms: float = 0.0,
             running: bool = False) -> list[Content]:
    """The timeline's lines for a total ``width``: a bar per side, the time axis, the legend."""
    bar_width = max(10, width - LABEL_WIDTH - VALUE_WIDTH)
    ends = [side_end_ms(side, now_ms) for side in (streaming, blocking)]
    full_ms = max([*ends, now_ms if running else 0.0, 1.0])
    rows = [
        _row(TITLES[side.mode], bar_cells(side, full_ms, bar_width, now_ms, running), _value(side, now_ms, running))
        for side in (streaming, blocking)
    ]
    return [*rows, _axis(full_ms, bar_width), _legend()]


class RaceTimeline(Widget):
    """The two bars, the axis and a legend; redrawn when the screen calls ``show()``."""

    DEFAULT_CSS: ClassVar[str] = "RaceTimeline { height: 4; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.streaming = SideResult("streaming")
        """The streaming side as last shown."""
        self.blocking = SideResult("blocking")
        """The blocking side as last shown."""
        self.now_ms = 0.0
        """Time since the race started (where running bars end)."""
        self.running = False
        """True while the race runs."""

    def show(self, streaming: SideResult, blocking: SideResult, now_ms: float, running: bool) -> None:
        """Draw these figures (attributes down; cheap: one refresh)."""
        self.streaming, self.blocking, self.now_ms, self.running = streaming, blocking, now_ms, running
        self.refresh()

    def lines(self) -> list[Content]:
        """The lines as drawn at the current width."""
        return timeline(self.streaming, self.blocking, self.size.width, self.now_ms, self.running)

    def render(self) -> Content:
        return Content("\n").join(self.lines())
