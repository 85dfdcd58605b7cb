"""`AnswerView`: one streamed Markdown answer, drawn as lines (Textual's Line API).

``append()`` only buffers. A frame (at most `FRAME_SECONDS` after the first fragment since
the last one) reads what arrived: held-back escape sequences, control characters stripped,
then the block splitter. Closed blocks are rendered once (a few per frame, the rest in spare
time or when they come into view); only the open tail is rendered again. ``render_line(y)``
serves the visible rows from that cache, so a frame costs the tail plus the screen, however
long the answer. Nothing here waits: the turn worker never blocks on rendering.

Model text is untrusted: escape sequences are removed whole, Markdown is rendered by Rich
from text (never markup), raw HTML is shown as text, and links are shown with their URL.
"""

from __future__ import annotations

from typing import ClassVar

from rich.style import Style
from textual.geometry import Region, Size
from textual.screen import ModalScreen
from textual.selection import Selection
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from streamchat.markdown import BlockSplitter, split_blocks
from streamchat.safety import split_incomplete_escape, strip_control
from streamchat.ui.answer.colors import renderer_for
from streamchat.ui.answer.lines import AnswerLines

__all__ = ["AnswerView"]


class AnswerView(Widget):
    """One assistant answer: ``append()`` fragments as they stream, then ``finish()``; or ``set_text()``."""

    DEFAULT_CSS = """
    AnswerView { height: auto; }
    """

    FRAME_SECONDS: ClassVar[float] = 1 / 30
    """The longest a fragment waits to be drawn; what arrives meanwhile is drawn with it."""
    FLOOD_FRAME_SECONDS: ClassVar[float] = 1 / 10
    """The frame interval while text pours in (each frame moves every line on screen: fewer, fuller frames)."""
    FLOOD_CHARS: ClassVar[int] = 400
    """A frame that drew this many characters or more means text is pouring in."""
    FRAME_BUDGET: ClassVar[float] = 0.006
    """Seconds a frame may spend rendering closed blocks that are not in view."""
    IDLE_SECONDS: ClassVar[float] = 0.05
    """While blocks wait to be rendered in spare time, how often some are."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fragments: list[str] = []
        self._pending: list[str] = []
        self._held = ""  # an unfinished escape sequence, kept until its end arrives
        self._splitter = BlockSplitter()
        self._lines = AnswerLines(lambda source, width: [])
        self._frame_timer: Timer | None = None
        self._interval = self.FRAME_SECONDS  # until the next frame: longer while text pours in
        self._idle_timer: Timer | None = None
        self._height = 0  # the height at the last layout
        self._style = Style()  # the widget's style, worked out once per render pass
        self._margin = 40  # lines around the view rendered with a block that comes into view
        self._eager = True  # render closed blocks in spare time (a streamed answer; a reopened one waits to be seen)
        self.finished = False
        """True once the whole answer is in (``finish()`` or ``set_text()``)."""

    @property
    def text(self) -> str:
        """Everything appended so far (raw, as received)."""
        if len(self._fragments) > 1:
            self._fragments[:] = ["".join(self._fragments)]
        return self._fragments[0] if self._fragments else ""

    # -- feeding

    def append(self, text: str) -> None:
        """Buffer a fragment; it is drawn by the next frame. Cheap and never waits."""
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
        self._fragments = [text] if text else []
        self._pending.clear()
        self._held = ""
        self._splitter = BlockSplitter()
        self._lines.reset(split_blocks(strip_control(text)))
        self._eager = False
        self.finished = True
        if self.is_mounted:
            self.refresh(layout=True)

    def _absorb(self, *, final: bool) -> None:
        """Split what arrived since the last frame into blocks (cheap: proportional to the new text)."""
        if self._frame_timer is not None:
            self._frame_timer.stop()
            self._frame_timer = None
        if not self._pending and not final:
            return
        raw = self._held + "".join(self._pending)
        self._pending.clear()
        self._interval = self.FLOOD_FRAME_SECONDS if len(raw) >= self.FLOOD_CHARS else self.FRAME_SECONDS
        ready, self._held = (raw, "") if final else split_incomplete_escape(raw)
        lines, splitter = self._lines, self._splitter
        for op in splitter.feed(strip_control(ready)) if ready else ():
            lines.apply(op)
        if final:
            for op in splitter.finish():
                lines.apply(op)
        lines.set_tail(splitter.tail)

    # -- drawing

    def on_mount(self) -> None:
        self._lines.render = renderer_for(self.app).render
        self.app.theme_changed_signal.subscribe(self, self._recolor)
        if self._pending:
            self.flush()

    def _recolor(self, _theme: object) -> None:
        self._lines.render = renderer_for(self.app).render
        self._lines.invalidate()
        self.refresh(layout=True)

    def _frame(self) -> None:
        self._frame_timer = None
        self._absorb(final=False)
        self._redraw()

    def _redraw(self) -> None:
        """Measure again and repaint: a layout only when the height changed, else just the tail's rows."""
        if not self.is_mounted:
            return
        if not self._screen_shows():  # not laid out meanwhile: the next layout draws it all
            self.refresh(layout=True)
            return
        lines = self._lines
        if self._eager and lines.render_some(self.FRAME_BUDGET) and self._idle_timer is None:
            self._idle_timer = self.set_interval(self.IDLE_SECONDS, self._render_idle, name="answer-idle")
        if lines.height != self._height or lines.moved:
            lines.moved = False
            self.refresh(layout=True)
        else:
            top, height = lines.tail_region
            self.refresh(Region(0, top, self.size.width, max(height, 1)))

    def _render_idle(self) -> None:
        """Render a few more closed blocks in spare time (none while the screen is hidden)."""
        if not self._screen_shows():
            return
        if not self._lines.render_some(self.FRAME_BUDGET) and self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        if self._lines.moved:
            self._lines.moved = False
            self.refresh(layout=True)

    def _screen_shows(self) -> bool:
        """True when this view's screen is on top, or only modal screens (which show it around them) are."""
        stack = self.app.screen_stack
        screen = self.screen
        return screen in stack and all(isinstance(above, ModalScreen) for above in stack[stack.index(screen) + 1 :])

    # -- the Line API

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._lines.resize(width)
        self._height = self._lines.height
        return self._height

    def render_lines(self, crop: Region) -> list[Strip]:
        self._style = self.rich_style  # once per pass (it is worked out from every ancestor's styles)
        self._margin = self.app.size.height
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        lines = self._lines
        width = self.size.width
        strip = lines.line(y, margin=self._margin)
        if lines.moved:  # a block came into view and was rendered: its real height differs from the estimate
            lines.moved = False
            self.call_later(self.refresh, layout=True)
        style = self._style
        if strip is None:
            return Strip.blank(width, style)
        strip = strip.crop_extend(0, width, style).apply_style(style)
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            start, end = span
            end = strip.cell_length if end == -1 else end
            highlight = self.screen.get_component_rich_style("screen--selection")
            strip = Strip.join([strip.crop(0, start), strip.crop(start, end).apply_style(highlight), strip.crop(end)])
        return strip.apply_offsets(0, y)

    # -- selection

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        return selection.extract("\n".join(line.rstrip() for line in self._lines.plain_lines())), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()
