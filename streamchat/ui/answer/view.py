"""`AnswerView`: one streamed Markdown answer, drawn as lines (Textual's Line API).

``append()`` only buffers. A frame, `FRAME_SECONDS` after the first fragment since the last
(`FLOOD_FRAME_SECONDS` while text pours in), reads what arrived: escape sequences held back
until whole, control characters stripped, the block splitter. Closed blocks are rendered once
(a few per frame, the rest in spare time or when they come into view); only the open tail is
rendered again. ``render_line(y)`` serves the visible rows, so a frame costs the tail plus the
screen whatever the answer's length, and nothing here makes the turn worker wait.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region, Size
from textual.screen import ModalScreen
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from streamchat.markdown import Block, BlockSplitter, split_blocks
from streamchat.safety import split_incomplete_escape, strip_control
from streamchat.ui.answer.lines import AnswerLines
from streamchat.ui.answer.render import BlockRenderer, renderer_for

__all__ = ["AnswerView"]


class AnswerView(Widget):
    """One assistant answer: ``append()`` fragments as they stream, then ``finish()``; or ``set_text()``."""

    DEFAULT_CSS = "AnswerView { height: auto; }"

    FRAME_SECONDS: ClassVar[float] = 1 / 20
    """The longest a fragment waits to be drawn; what arrives meanwhile is drawn with it."""
    FLOOD_FRAME_SECONDS: ClassVar[float] = 1 / 10
    """The wait once a frame drew `FLOOD_CHARS` or more: fewer, fuller frames while text pours in."""
    FLOOD_CHARS: ClassVar[int] = 400
    LAYOUT_SECONDS: ClassVar[float] = 0.15
    """While the answer streams, new lines are laid out at most this often (a layout scrolls every line)."""
    FRAME_BUDGET: ClassVar[float] = 0.006
    """Seconds a frame (or a spare moment, every `IDLE_SECONDS`) spends rendering closed blocks."""
    IDLE_SECONDS: ClassVar[float] = 0.05
    REOPEN_CHARS: ClassVar[int] = 24_000
    """A reopened answer up to this long is rendered at its first layout (longer: as it comes into view)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fragments: list[str] = []
        self._pending: list[str] = []
        self._held = ""  # an unfinished escape sequence, kept until its end arrives
        self._splitter = BlockSplitter()
        self._lines = AnswerLines(self._render_block)
        self._renderer: BlockRenderer | None = None  # in the app's theme, fetched when first needed
        self._frame_timer: Timer | None = None
        self._idle_timer: Timer | None = None
        self._interval = self.FRAME_SECONDS
        self._height = 0  # at the last layout
        self._laid_out = 0.0  # when the last layout was asked for
        self._style = Style()  # the widget's own, worked out once per render pass
        self._margin = 40  # lines around a block coming into view rendered with it
        self._eager = True  # closed blocks rendered in spare time (a reopened answer's wait to be seen)
        self._small_at = 0  # the width a reopened answer was last offered to be drawn whole at
        self.finished = False
        """True once the whole answer is in (``finish()`` or ``set_text()``)."""

    @property
    def text(self) -> str:
        """Everything appended so far (raw, as received)."""
        if len(self._fragments) > 1:
            self._fragments[:] = ["".join(self._fragments)]
        return self._fragments[0] if self._fragments else ""

    def append(self, text: str) -> None:
        """Buffer a fragment for the next frame. Cheap; never waits."""
        if text:
            self.finished = False
            self._fragments.append(text)
            self._pending.append(text)
            if self._frame_timer is None and self.is_mounted:
                self._frame_timer = self.set_timer(self._interval, self._frame, name="answer-frame")

    def flush(self) -> None:
        """Draw what has been appended now, without waiting for the frame."""
        self._absorb(final=False)
        self._redraw()

    def finish(self) -> None:
        """The answer is complete: draw the last fragment and close the open block."""
        self._absorb(final=True)
        self.finished = True
        self._redraw()

    def set_text(self, text: str) -> None:
        """Show a finished answer (from history); its blocks are rendered when they come into view."""
        self._fragments, self._pending, self._held = [text] if text else [], [], ""
        self._splitter = BlockSplitter()
        self._lines.reset(split_blocks(strip_control(text)))
        self._eager, self.finished, self._small_at = False, True, 0
        if self.is_mounted:
            self.refresh(layout=True)

    def _absorb(self, *, final: bool) -> None:
        """Split what arrived since the last frame into blocks (cheap: proportional to the new text)."""
        if self._frame_timer is not None:
            self._frame_timer.stop()
            self._frame_timer = None
        raw = self._held + "".join(self._pending)
        self._pending.clear()
        self._interval = self.FLOOD_FRAME_SECONDS if len(raw) >= self.FLOOD_CHARS else self.FRAME_SECONDS
        ready, self._held = (raw, "") if final else split_incomplete_escape(raw)
        ops = self._splitter.feed(strip_control(ready)) if ready else []
        for op in ops + (self._splitter.finish() if final else []):
            self._lines.apply(op)
        self._lines.set_tail(self._splitter.tail)

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._recolor)
        if self._pending:
            self.flush()

    def _render_block(self, block: Block, width: int, references: dict[str, Any]) -> list[Strip]:
        """Render with the app's theme (a view can be laid out before its Mount event: not set up there)."""
        if self._renderer is None:
            self._renderer = renderer_for(self.app)
        return self._renderer.render(block, width, references)

    def _recolor(self, _theme: object) -> None:
        self._renderer = None
        self._lines.invalidate()
        self.refresh(layout=True)

    def _frame(self) -> None:
        self._frame_timer = None
        self._absorb(final=False)
        self._redraw()

    def _redraw(self) -> None:
        """Repaint the tail's rows; lay out again if the height changed (at most every `LAYOUT_SECONDS`
        while streaming: the tail's rows go on repainting meanwhile)."""
        lines = self._lines
        if not self.is_mounted:
            return
        if not self._screen_shows():
            self.refresh(layout=True)  # a hidden screen is not laid out: the next layout draws it all
            return
        if self._eager and lines.render_some(self.FRAME_BUDGET) and self._idle_timer is None:
            self._idle_timer = self.set_interval(self.IDLE_SECONDS, self._render_idle, name="answer-idle")
        if lines.height != self._height or lines.moved:
            wait = 0.0 if self.finished else self._laid_out + self.LAYOUT_SECONDS - time.monotonic()
            if wait <= 0:
                lines.moved, self._laid_out = False, time.monotonic()
                self.refresh(layout=True)
                return
            if self._frame_timer is None:
                self._frame_timer = self.set_timer(wait, self._frame, name="answer-frame")
        changed = lines.take_changed()
        if changed is not None:  # usually just the tail's rows
            self.refresh(Region(0, changed, self.size.width, max(lines.height - changed, 1)))

    def _render_idle(self) -> None:
        if self._screen_shows() and not self._lines.render_some(self.FRAME_BUDGET) and self._idle_timer:
            self._idle_timer.stop()
            self._idle_timer = None
        if self._lines.moved:
            self._redraw()

    def _screen_shows(self) -> bool:
        """This view's screen is on top, or under modal screens only (which show it around them)."""
        stack, screen = self.app.screen_stack, self.screen
        return screen in stack and all(isinstance(above, ModalScreen) for above in stack[stack.index(screen) + 1 :])

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._lines.resize(width)
        if not self._eager and width != self._small_at:  # a reopened answer: a short one is drawn whole now,
            self._small_at = width  # at its real height (once a width: a long one is not summed at every layout)
            self._lines.render_small(self.REOPEN_CHARS)
        self._height = self._lines.height
        return self._height

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style, self._margin = self.rich_style, self.app.size.height  # once per pass, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        strip = self._lines.line(y, margin=self._margin)
        if self._lines.moved:  # a block came into view and was rendered: its height was an estimate
            self.call_later(self._redraw)
        width, style = self.size.width, self._style
        strip = Strip.blank(width, style) if strip is None else strip.crop_extend(0, width, style).apply_style(style)
        if (selection := self.text_selection) and (span := selection.get_span(y)):
            start, end = span[0], strip.cell_length if span[1] == -1 else span[1]
            highlight = self.screen.get_component_rich_style("screen--selection")  # over the text's own colours
            selected = Strip(Segment.apply_style(iter(strip.crop(start, end)), post_style=highlight))
            strip = Strip.join([strip.crop(0, start), selected, strip.crop(end)])
        return strip.apply_offsets(0, y)

    def place_at(self, y: int) -> tuple[int, float]:
        """Where content line ``y`` is in the answer, however it is wrapped (see ``line_at``)."""
        return self._lines.position(y)

    def line_at(self, place: tuple[int, float], *, render: bool = False) -> int:
        """The content line of ``place`` (from ``place_at``) at the current width; with ``render``, its block and a
        screen around it are rendered first (their real heights then need a layout before the line is used)."""
        line = self._lines.line_of(place, margin=self.app.size.height if render else 0)
        if self._lines.moved:
            self._lines.moved = False
            self.refresh(layout=True)
        return line

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(line.rstrip() for line in self._lines.plain_lines())), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
