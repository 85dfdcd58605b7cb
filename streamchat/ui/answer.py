"""`AnswerView`: one streaming assistant answer, rendered as Markdown at a bounded cost per token.

Appends are buffered and rendered at frame rate. A `BlockSplitter` (`answer_blocks`) turns the
text into operations (`answer_ops`), queued and applied in bounded steps: at most `STEP_OPS`
operations that mount widgets and about `STEP_SECONDS` of work per step, with a screen refresh
between steps, so that however fast the stream and whatever its shape, the event loop is never
held for long: the screen repaints, the clock ticks and keys act while a backlog is rendered.

Finished prose documents are frozen and never touched again, only the small live tail is
re-parsed; code fences and pipe tables are shown as plain text (`BlockPreview`) while they grow
(only the last chunk of lines is repainted) and rendered as Markdown once, when they end.
Consecutive small documents share one `AnswerSegment` (up to `SOFT_LIMIT` characters or
`GROUP_LINES` lines); frozen segments far from the viewport are unmounted and rebuilt from their
sources when scrolled back to, and far unmounted ones are merged into placeholders, so neither
the widgets on screen nor the view's children grow with the answer.

Rendering runs in a worker of its own (`_render_frames`), never in this widget's message loop,
and a step holds a `batch_update()` only while it runs, then prompts the screen to repaint.

Everything the model sends is untrusted: control sequences are stripped, text is shown as
`Content` (never markup), HTML is shown literally, and links only post
`Markdown.LinkClicked` (no browser, no actions; see `AnswerMarkdown`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import suppress
from typing import ClassVar, Final, TypeAlias

from textual.app import ComposeResult
from textual.dom import NoScreen
from textual.screen import ModalScreen, Screen
from textual.widget import MountError, Widget
from textual.widgets import Markdown
from textual.worker import Worker

from streamchat.safety import split_incomplete_escape, strip_control
from streamchat.ui.answer_blocks import BlockSplitter, segment_sources
from streamchat.ui.answer_markdown import AnswerMarkdown
from streamchat.ui.answer_ops import BlockEnd, BlockLine, BlockPartial, BlockStart, Break, Op, Prose
from streamchat.ui.answer_preview import BlockPreview
from streamchat.ui.answer_segment import AnswerSegment

__all__ = ["AnswerView"]


class _End:
    """Queued after the last operation of a finished answer: freeze the open segment."""


_END: Final = _End()
Step: TypeAlias = Op | _End


def _weight(op: Step) -> int:
    """The characters an operation stands for in the backlog."""
    if isinstance(op, Prose):
        return len(op.text)
    if isinstance(op, BlockEnd):
        return len(op.source)
    return 0


def _mounts(op: Step) -> bool:
    """True for the operations that parse Markdown or mount widgets (the costly ones)."""
    return isinstance(op, Prose | BlockStart | BlockEnd)


class AnswerView(Widget):
    """One assistant answer, streamed: `append` fragments, then `await finish()`.

    Frozen segments further than `KEEP_SCREENS` screen heights from the viewport are unmounted
    (only their sources and height stay) and rebuilt when they come within `SHOW_SCREENS`:
    Textual re-lays out every displayed widget whenever anything changes size, and Python's
    garbage collector scans every live object, so without this each token would cost more
    the longer the answer (and the conversation) grows.
    """

    DEFAULT_CSS = """
    AnswerView { height: auto; layout: vertical; }
    """

    FLUSH_INTERVAL: ClassVar[float] = 1 / 30
    MAX_FRAME_INTERVAL: ClassVar[float] = 0.25
    """Frames are never further apart than this (see `_render_frames`)."""
    SOFT_LIMIT: ClassVar[int] = 2048
    """Prose documents end at a block boundary past this size; segments hold documents up to it."""
    HARD_LIMIT: ClassVar[int] = 8192
    BACKLOG_CHARS: ClassVar[int] = 2_000
    """Unrendered characters above which ``keep_up()`` waits until everything is rendered."""
    STEP_OPS: ClassVar[int] = 16
    """At most this many operations that parse or mount (prose, block start, block end) per step."""
    STEP_SECONDS: ClassVar[float] = 0.05
    """A step takes no new operation once it has run this long."""
    GROUP_LINES: ClassVar[int] = 20
    """A segment takes no more documents once it is this tall (see `_close_full_group`)."""
    PROSE_CHUNK: ClassVar[int] = 2048
    """Prose is appended to the live document at most this many characters at a time."""
    PAUSE_LIMIT: ClassVar[float] = 0.25
    """Between steps, wait for a screen refresh at most this long."""
    SHOW_SCREENS: ClassVar[float] = 2
    KEEP_SCREENS: ClassVar[float] = 3
    MERGE_ABOVE: ClassVar[int] = 32
    """Far segments are merged into placeholders only while the view has more than this many."""
    MERGE_SCREENS: ClassVar[float] = 6
    MERGE_PARTS: ClassVar[int] = 16
    REMEASURE_SEGMENTS: ClassVar[int] = 1
    """After a width change, unloaded segments rebuilt (to measure their height, then unloaded
    again if still far) per layout, the nearest first, once no text is waiting to be rendered."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._fragments: list[str] = []
        self._pending: list[str] = []
        self._pending_chars = 0
        self._held = ""  # an unfinished escape sequence, kept until its end arrives
        self._splitter = BlockSplitter(self.SOFT_LIMIT, self.HARD_LIMIT)
        self._queue: deque[Step] = deque()  # operations not rendered yet
        self._queued_chars = 0
        self._final = False  # the answer is complete: the next parse ends it
        self._group: AnswerSegment | None = None  # the open segment (the last one, not frozen)
        self._preview: BlockPreview | None = None
        self._segments: list[AnswerSegment] = []
        self._lock = asyncio.Lock()
        self._rendered: asyncio.Event | None = None  # set when the running render loop ends
        # What `_virtualize` chose to do, done by the next step (or at once when none is running):
        self._drops: list[tuple[AnswerSegment, list[AnswerMarkdown]]] = []  # documents to unmount
        self._merges: list[tuple[AnswerSegment, AnswerSegment]] = []  # the second goes into the first
        self._splits: list[AnswerSegment] = []  # placeholders to split
        self._tidy_scheduled = False
        self._wake = asyncio.Event()  # text was appended (or the answer finished): render it
        self._refreshed = asyncio.Event()  # the screen was laid out (or repainted) since the last step
        self._renderer: Worker[None] | None = None
        self._complete = False  # the finished answer is all rendered
        self._ready = False
        self._finish_on_mount = False
        self._deferred = False  # rendering waits for the screen to show again
        self._initial: str | None = None

    @property
    def text(self) -> str:
        """Everything appended so far (raw, as received)."""
        if len(self._fragments) > 1:
            self._fragments[:] = ["".join(self._fragments)]
        return self._fragments[0] if self._fragments else ""

    @property
    def segments(self) -> list[AnswerSegment]:
        """The segments, in order (the last may be open)."""
        return list(self._segments)

    @property
    def live_segment(self) -> AnswerMarkdown | None:
        """The Markdown document still receiving text, if any."""
        return None if self._group is None else self._group.live

    def append(self, text: str) -> None:
        """Buffer a fragment; it is rendered at the next frame. Never awaits."""
        if text:
            self._complete = False
            self._fragments.append(text)
            self._pending.append(text)
            self._pending_chars += len(text)
            self._schedule()

    @property
    def backlog(self) -> int:
        """Characters appended but not rendered yet."""
        return self._pending_chars + self._queued_chars

    async def keep_up(self) -> None:
        """Backpressure for streams faster than the screen: wait while the backlog is large.

        The caller (the turn worker) awaits this after ``append``; it returns at once unless
        more than ``BACKLOG_CHARS`` wait, and then once everything is rendered (in bounded steps,
        the screen refreshed between them), so the screen never falls far behind the stream.
        """
        if self.backlog > self.BACKLOG_CHARS:
            await self._catch_up()

    async def flush(self) -> None:
        """Render what has been appended so far now, without finishing (frames do this anyway)."""
        if self._ready:
            await self._catch_up()

    async def finish(self) -> None:
        """Render everything appended (the tail included) and freeze all segments."""
        if not self._ready:
            self._finish_on_mount = True
            return
        self._final = True
        await self._catch_up()

    def set_text(self, text: str) -> None:
        """Show a finished answer (from history): each segment rendered once, all static."""
        self._fragments = [text] if text else []
        self._pending.clear()
        self._pending_chars = 0
        self._held = ""
        self._splitter = BlockSplitter(self.SOFT_LIMIT, self.HARD_LIMIT)
        self._queue.clear()
        self._queued_chars = 0
        self._final = False
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
            self._final = True
        if self._final or self._pending:
            self._schedule()

    def on_unmount(self) -> None:
        self._ready = False

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        event.stop()

    def _virtualize(self, screen: Screen[object]) -> None:
        """After each layout, unmount frozen segments far from the viewport, rebuild near ones,
        merge unloaded ones further than `MERGE_SCREENS` into placeholders of up to `MERGE_PARTS`
        segments (once there are more than `MERGE_ABOVE`), and split a placeholder that comes near.
        """
        self._refreshed.set()  # laid out and painted: the next step may go (see `_pause`)
        if self._deferred:  # the screen is showing again: render what waited
            self._deferred = False
            self._schedule()
        height = screen.size.height
        rendering = self._rendered is not None
        stale: list[tuple[int, AnswerSegment]] = []
        merge = len(self._segments) > self.MERGE_ABOVE
        merging: AnswerSegment | None = None  # the placeholder the next far segments go into
        merged = 0
        for segment in self._segments:
            if not (segment.frozen and (region := segment.region)):
                merging = None
                continue
            distance = max(-region.bottom, region.y - height, 0)
            if distance <= self.SHOW_SCREENS * height:
                if segment.parts:
                    self._splits.append(segment)
                else:
                    segment.show(True)
            elif distance > self.KEEP_SCREENS * height:
                if not rendering:
                    segment.show(False)
                elif (docs := segment.unload()) is not None:
                    self._drops.append((segment, docs))  # removed by the next step: one layout for both
            parts = len(segment.parts) or 1
            if merge and distance > self.MERGE_SCREENS * height and segment.unloaded and not segment.stale:
                if merging is not None and merged + parts <= self.MERGE_PARTS and (
                    merging.measured_width == segment.measured_width
                ):
                    self._merges.append((merging, segment))
                    merged += parts
                else:
                    merging, merged = segment, parts
            else:
                merging = None
            if segment.stale:  # the width changed: rebuild to measure it again (see below)
                stale.append((distance, segment))
        stale.sort(key=lambda item: item[0])
        idle = not (rendering or self._queue or self._pending)  # remeasuring waits while text streams in
        for _, segment in stale[: self.REMEASURE_SEGMENTS if idle else 0]:  # the nearest first
            if segment.parts:
                self._splits.append(segment)
            else:
                segment.show(True)
        if (self._merges or self._splits) and not rendering:
            self._tidy_later()

    def _tidy_later(self) -> None:
        if not self._tidy_scheduled:
            self._tidy_scheduled = self.call_later(self._tidy_now)

    async def _tidy_now(self) -> None:
        self._tidy_scheduled = False
        async with self._lock:
            with self.app.batch_update():
                await self._tidy()
        self._prompt_screen()

    async def _tidy(self) -> None:
        """Unmount, merge and split what `_virtualize` chose (checking it still applies)."""
        drops, merges, splits = self._drops, self._merges, self._splits
        self._drops, self._merges, self._splits = [], [], []
        for segment, docs in drops:
            await segment.drop(docs)
        segments = self._segments
        for first, other in merges:
            if first in segments and other in segments and first.unloaded and other.unloaded:
                if segments.index(other) == segments.index(first) + 1:
                    first.absorb(other)
                    segments.remove(other)
                    await other.remove()
        for segment in splits:
            if segment in segments and segment.parts:
                placeholders = segment.split()
                at = segments.index(segment) + 1
                segments[at:at] = placeholders
                await self.mount_all(placeholders, after=segment)

    def _frozen_segments(self, text: str) -> list[AnswerSegment]:
        groups: list[list[str]] = []
        size = self.SOFT_LIMIT
        for source in segment_sources(strip_control(text), self.SOFT_LIMIT, self.HARD_LIMIT):
            if size >= self.SOFT_LIMIT:
                groups.append([])
                size = 0
            groups[-1].append(source)
            size += len(source)
        segments = [AnswerSegment(sources) for sources in groups]
        self._segments += segments
        return segments

    def _schedule(self) -> None:
        """Have the background renderer render what was appended, a frame from now."""
        self._wake.set()
        if self._renderer is None and self._ready:
            self._renderer = self.run_worker(self._render_frames(), name="answer-render", group="answer-render")

    async def _render_frames(self) -> None:
        """The background renderer, in a task of its own: never in this widget's message loop,
        which must stay free (Textual runs timer callbacks there: a render loop in one would hold
        back every message to this view, and the widgets they refer to, until it ended).

        A frame renders what arrived since the last one. Frames are at least `FLUSH_INTERVAL`
        apart, and at least as far apart as the last one took to render and repaint (up to
        `MAX_FRAME_INTERVAL`): a frame that costs more (a screen of many small widgets, a huge
        paragraph being written) then renders more text at once, and the renderer never takes
        more than about half of the time; ``keep_up()`` is what makes it catch up.
        """
        interval = self.FLUSH_INTERVAL
        try:
            while not (self._complete and not self._wake.is_set()) and not self._gone():
                await self._wake.wait()
                await asyncio.sleep(interval)  # what arrives meanwhile is rendered at once
                self._wake.clear()
                began = time.perf_counter()
                if await self._catch_up():
                    await self._pause()
                interval = min(max(time.perf_counter() - began, self.FLUSH_INTERVAL), self.MAX_FRAME_INTERVAL)
        finally:
            self._renderer = None

    async def _replace(self, text: str) -> None:
        async with self._lock:
            self._group = self._preview = None
            self._segments = []
            self._drops, self._merges, self._splits = [], [], []
            with self.app.batch_update():
                await self.remove_children()
                if text:
                    await self.mount_all(self._frozen_segments(text))

    def _screen_shows(self) -> bool:
        """True when this view's screen is on top, or only modal screens (which show it around them) are."""
        stack = self.app.screen_stack
        screen = self.screen
        return screen in stack and all(isinstance(above, ModalScreen) for above in stack[stack.index(screen) + 1:])

    async def _catch_up(self) -> bool:
        """Render everything appended so far, in bounded steps with a screen refresh between them.
        True if this call rendered anything.

        One render loop runs at a time; other callers wait for it to end, then check again.
        A step is shielded: a caller cancelled mid-step (the turn stopped) must not leave an
        operation half done (a block mounted with its preview still shown).
        """
        while self._rendered is not None:
            await self._rendered.wait()
        self._rendered = asyncio.Event()
        try:
            steps = 0
            while (more := await asyncio.shield(self._step())) is not None:
                steps += 1
                if not more:
                    break
                await self._pause()
            return steps > 0
        finally:
            done, self._rendered = self._rendered, None
            done.set()
            if self._drops or self._merges or self._splits:
                self._tidy_later()  # no step to take them with

    async def _step(self) -> bool | None:
        """Parse the new text and apply a bounded share of the queued operations.

        Returns None if there was nothing to render (or it cannot be now), else True if more waits.
        """
        async with self._lock:
            if self._gone():
                return None
            if not self._screen_shows():
                # Hidden (the race pane is on top): Textual neither lays out nor paints this screen, so
                # rendering now is wasted work, and a batch_update() here would hold back the screen on
                # top. Keep buffering; the first layout after the screen returns renders it all.
                # Under a modal (the palette) the screen still shows, and the answer goes on streaming.
                self._deferred = True
                return None
            self._parse()
            if not self._queue:
                return None
            began = time.perf_counter()
            mounts = 0
            with self.app.batch_update():  # one repaint per step; only while the screen shows (see above)
                try:
                    await self._tidy()
                    while self._queue and mounts < self.STEP_OPS and time.perf_counter() - began < self.STEP_SECONDS:
                        op = self._queue.popleft()
                        self._queued_chars -= _weight(op)
                        mounts += _mounts(op)
                        await self._apply(op)
                        if self._gone():
                            return None
                    if self._preview is not None:
                        await self._preview.sync()
                except MountError:
                    if self._gone():  # removed (a new chat, the app quitting) while a step ran
                        return None
                    raise
            self._prompt_screen()
            return bool(self._queue)

    def _gone(self) -> bool:
        """Removed, being removed, or closing: nothing more to render."""
        return self._closing or self._pruning or not self.is_attached

    def _prompt_screen(self) -> None:
        """After a batch update: the screen went idle during the batch and skipped its refresh,
        and ending the batch prompts only the app; prompt the screen, or it shows nothing new
        until some other message reaches it (seen: no repaint for over a second)."""
        with suppress(NoScreen):
            self.screen.check_idle()

    async def _pause(self) -> None:
        """Give the loop a turn between steps: wait until the screen has laid out and repainted.

        The first layout after a step is enough: Textual lays new widgets out a second time (once
        they have their size), and that second pass is cheaper merged with the next step's.
        """
        refreshed = self._refreshed
        refreshed.clear()
        try:
            scheduled = self.screen.call_after_refresh(refreshed.set)  # in case nothing needs a layout
        except NoScreen:  # no longer on a screen
            return
        if scheduled:
            with suppress(TimeoutError):
                await asyncio.wait_for(refreshed.wait(), self.PAUSE_LIMIT)

    def _parse(self) -> None:
        """Turn the text appended so far into queued operations (cheap: proportional to the text)."""
        final, self._final = self._final, False
        if not self._pending and not final:
            return
        raw = self._held + "".join(self._pending)
        self._pending.clear()
        self._pending_chars = 0
        ready, self._held = (raw, "") if final else split_incomplete_escape(raw)
        ops: list[Step] = []
        if ready:
            ops += self._splitter.feed(strip_control(ready))
        if final:
            ops += [*self._splitter.finish(), _END]
        queue = self._queue
        for op in ops:
            if isinstance(op, Prose):
                text = op.text
                if queue and isinstance(last := queue[-1], Prose) and len(last.text) < self.PROSE_CHUNK:
                    queue.pop()  # one append for what arrived since the last step
                    text = last.text + text
                for start in range(0, len(text), self.PROSE_CHUNK):
                    queue.append(Prose(text[start : start + self.PROSE_CHUNK]))
            else:
                queue.append(op)
            self._queued_chars += _weight(op)

    async def _open_group(self) -> AnswerSegment:
        """The open segment, starting one (before the preview, if any) when there is none."""
        if self._group is None:
            self._group = AnswerSegment(open=True)
            self._segments.append(self._group)
            await self.mount(self._group, before=self._preview)
        return self._group

    def _close_full_group(self) -> None:
        """Freeze the open segment once it holds `SOFT_LIMIT` characters or `GROUP_LINES` lines
        (its height at the last layout): many small blocks take far more lines than prose."""
        group = self._group
        if group is not None and (group.chars >= self.SOFT_LIMIT or group.size.height >= self.GROUP_LINES):
            group.freeze()
            self._group = None

    async def _apply(self, op: Step) -> None:
        if isinstance(op, Prose):
            group = await self._open_group()
            live = group.live or await group.start_live()
            await live.append(op.text)
        elif isinstance(op, Break):
            if self._group is not None:
                self._group.end_live()
                self._close_full_group()
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
            group = await self._open_group()
            group.end_live()
            await group.add_block(op.source)
            if self._preview is not None:
                await self._preview.remove()
                self._preview = None
            self._close_full_group()
        else:  # _END: the answer is complete
            if self._group is not None:
                self._group.freeze()
                self._group = None
            self._complete = not self._pending
