"""`AnswerView`: one streaming assistant answer, rendered as Markdown at a bounded cost per token.

Appends are buffered and flushed at frame rate. A `BlockSplitter` (`answer_blocks`) cuts the
answer into segments: finished prose segments are frozen `AnswerSegment`s that are never
touched again, only the small live tail is re-parsed; code fences and pipe tables are shown as
plain text (`BlockPreview`) while they grow (only the last chunk of lines is repainted) and
rendered as Markdown once, when they end. Frozen segments far from the viewport are unmounted
and rebuilt from their source when scrolled back to (see `AnswerView`).

Everything the model sends is untrusted: control sequences are stripped, text is shown as
`Content` (never markup), HTML is shown literally, and links only post
`Markdown.LinkClicked` (no browser, no actions; see `AnswerMarkdown`).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Markdown

from streamchat.safety import strip_control
from streamchat.ui.answer_blocks import BlockSplitter, segment_sources
from streamchat.ui.answer_escapes import split_incomplete_escape
from streamchat.ui.answer_markdown import AnswerMarkdown
from streamchat.ui.answer_ops import BlockEnd, BlockLine, BlockPartial, BlockStart, Break, Op, Prose
from streamchat.ui.answer_preview import BlockPreview
from streamchat.ui.answer_segment import AnswerSegment

__all__ = ["AnswerView"]


class AnswerView(Widget):
    """One assistant answer, streamed: `append` fragments, then `await finish()`.

    Frozen segments further than `KEEP_SCREENS` screen heights from the viewport are unmounted
    (only their source and height stay) and rebuilt when they come within `SHOW_SCREENS`:
    Textual re-lays out every displayed widget whenever anything changes size, and Python's
    garbage collector scans every live object, so without this each token would cost more
    the longer the answer (and the conversation) grows.
    """

    DEFAULT_CSS = """
    AnswerView { height: auto; layout: vertical; }
    """

    FLUSH_INTERVAL: ClassVar[float] = 1 / 30
    SOFT_LIMIT: ClassVar[int] = 2048
    HARD_LIMIT: ClassVar[int] = 8192
    BACKLOG_CHARS: ClassVar[int] = 2_000
    """Unrendered characters above which ``keep_up()`` renders at once instead of waiting for a frame."""
    SHOW_SCREENS: ClassVar[float] = 2
    KEEP_SCREENS: ClassVar[float] = 3

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fragments: list[str] = []
        self._pending: list[str] = []
        self._pending_chars = 0
        self._held = ""  # an unfinished escape sequence, kept until its end arrives
        self._splitter = BlockSplitter(self.SOFT_LIMIT, self.HARD_LIMIT)
        self._live: AnswerSegment | None = None
        self._preview: BlockPreview | None = None
        self._segments: list[AnswerSegment] = []
        self._width = 0
        self._lock = asyncio.Lock()
        self._timer: Timer | None = None
        self._remeasure_timer: Timer | None = None
        self._ready = False
        self._finish_on_mount = False
        self._deferred: bool | None = None  # a flush (True: the final one) waiting for the screen to return
        self._initial: str | None = None

    @property
    def text(self) -> str:
        """Everything appended so far (raw, as received)."""
        if len(self._fragments) > 1:
            self._fragments[:] = ["".join(self._fragments)]
        return self._fragments[0] if self._fragments else ""

    @property
    def segments(self) -> list[AnswerSegment]:
        """The Markdown segments, in order (the last may be live)."""
        return list(self._segments)

    @property
    def live_segment(self) -> AnswerMarkdown | None:
        """The Markdown segment still receiving text, if any."""
        return None if self._live is None else self._live.markdown

    def append(self, text: str) -> None:
        """Buffer a fragment; it is rendered at the next frame. Never awaits."""
        if text:
            self._fragments.append(text)
            self._pending.append(text)
            self._pending_chars += len(text)
            self._schedule()

    @property
    def backlog(self) -> int:
        """Characters appended but not rendered yet."""
        return self._pending_chars

    async def keep_up(self) -> None:
        """Backpressure for streams faster than frames: render now when the backlog is large.

        The caller (the turn worker) awaits this after ``append``; it returns at once unless
        more than ``BACKLOG_CHARS`` wait, so the screen never falls far behind the stream.
        """
        if self._pending_chars > self.BACKLOG_CHARS:
            await self.flush()

    async def flush(self) -> None:
        """Render what has been appended so far now, without finishing (frames do this anyway)."""
        if self._ready:
            async with self._lock:
                await self._flush(final=False)

    async def finish(self) -> None:
        """Render everything appended (the tail included) and freeze all segments."""
        if not self._ready:
            self._finish_on_mount = True
            return
        async with self._lock:
            await self._flush(final=True)

    def set_text(self, text: str) -> None:
        """Show a finished answer (from history): each segment rendered once, all static."""
        self._fragments = [text] if text else []
        self._pending.clear()
        self._pending_chars = 0
        self._held = ""
        self._splitter = BlockSplitter(self.SOFT_LIMIT, self.HARD_LIMIT)
        if self._ready:
            self.call_later(self._replace, text)
        else:
            self._initial = text

    def compose(self) -> ComposeResult:
        if self._initial:
            yield from self._frozen_segments(self._initial)
        self._initial = None

    def on_mount(self) -> None:
        self._ready = True
        self.screen.screen_layout_refresh_signal.subscribe(self, self._virtualize)
        if self._finish_on_mount:
            self.call_later(self.finish)
        elif self._pending:
            self._schedule()

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        event.stop()

    def on_resize(self, event: Resize) -> None:
        if self._width and event.size.width != self._width and self._remeasure_timer is None:
            self._remeasure_timer = self.set_timer(0.3, self._remeasure)
        self._width = event.size.width

    def _remeasure(self) -> None:
        """Heights kept for unmounted segments are stale at a new width: rebuild them all once."""
        self._remeasure_timer = None
        for segment in self._segments:
            segment.show(True)

    def _virtualize(self, screen: Screen[object]) -> None:
        """After each layout, unmount frozen segments far from the viewport, rebuild near ones."""
        if self._deferred is not None:  # the screen is showing again: render what waited
            final, self._deferred = self._deferred, None
            self.call_later(self.finish if final else self.flush)
        height = screen.size.height
        for segment in self._segments:
            if segment.frozen and (region := segment.region):
                distance = max(-region.bottom, region.y - height, 0)
                if distance <= self.SHOW_SCREENS * height:
                    segment.show(True)
                elif distance > self.KEEP_SCREENS * height:
                    segment.show(False)

    def _frozen_segments(self, text: str) -> list[AnswerSegment]:
        segments = [AnswerSegment(source) for source in segment_sources(strip_control(text))]
        self._segments += segments
        return segments

    def _schedule(self) -> None:
        if self._timer is None and self._ready:
            self._timer = self.set_timer(self.FLUSH_INTERVAL, self._on_timer, name="answer-flush")

    async def _on_timer(self) -> None:
        self._timer = None
        async with self._lock:
            await self._flush(final=False)

    async def _replace(self, text: str) -> None:
        async with self._lock:
            self._live = self._preview = None
            self._segments = []
            with self.app.batch_update():
                await self.remove_children()
                if text:
                    await self.mount_all(self._frozen_segments(text))

    def _screen_shows(self) -> bool:
        """True when this view's screen is on top, or only modal screens (which show it around them) are."""
        stack = self.app.screen_stack
        screen = self.screen
        return screen in stack and all(isinstance(above, ModalScreen) for above in stack[stack.index(screen) + 1:])

    async def _flush(self, final: bool) -> None:
        if not self._screen_shows():
            # Hidden (the race pane is on top): Textual neither lays out nor paints this screen, so
            # rendering now is wasted work, and a batch_update() here would hold back the screen on
            # top. Keep buffering; the first layout after the screen returns renders it all at once.
            # Under a modal (the palette) the screen still shows, and the answer goes on streaming.
            self._deferred = final or bool(self._deferred)
            return
        raw = self._held + "".join(self._pending)
        self._pending.clear()
        self._pending_chars = 0
        ready, self._held = (raw, "") if final else split_incomplete_escape(raw)
        ops = self._splitter.feed(strip_control(ready)) if ready else []
        if final:
            ops += self._splitter.finish()
        if ops:
            with self.app.batch_update():  # one repaint per frame; only while the screen shows (see above)
                await self._apply(ops)

    async def _apply(self, ops: list[Op]) -> None:
        for op in ops:
            if isinstance(op, Prose):
                if self._live is None:
                    self._live = AnswerSegment(live=True)
                    self._segments.append(self._live)
                    await self.mount(self._live)
                assert self._live.markdown is not None
                await self._live.markdown.append(op.text)
            elif isinstance(op, Break):
                if self._live is not None:
                    self._live.freeze()
                    self._live = None
            elif isinstance(op, BlockStart):
                self._preview = BlockPreview(op.kind, op.header)
                await self.mount(self._preview)
            elif isinstance(op, BlockLine):
                if self._preview is not None:
                    self._preview.add_line(op.line)
            elif isinstance(op, BlockPartial):
                if self._preview is not None:
                    self._preview.set_partial(op.text)
            elif isinstance(op, BlockEnd):
                block = AnswerSegment(op.source)
                self._segments.append(block)
                if self._preview is not None:
                    await self.mount(block, before=self._preview)
                    await self._preview.remove()
                    self._preview = None
                else:
                    await self.mount(block)
        if self._preview is not None:
            await self._preview.sync()
