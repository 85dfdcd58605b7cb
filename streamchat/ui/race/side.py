"""One side of the race pane: its answer as it arrives (or a waiting clock), and its figures under it."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from streamchat.events import AnyEvent, ErrorEvent, ReasoningDelta, TextDelta
from streamchat.race import Mode, SideResult
from streamchat.safety import SecretMask
from streamchat.timing import SPLIT_SHOWN_MS, Clock, format_ms
from streamchat.ui.answer import AnswerView
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.waiting import WaitingIndicator

SideState = Literal["idle", "running", "done", "error", "stopped"]
"""Where a side is; mirrored as a CSS class (``-running``, ``-done``...)."""

TITLES: dict[Mode, str] = {"streaming": "Streaming", "blocking": "Blocking"}
"""Each side's heading."""
WAITING: dict[Mode, str] = {"streaming": "waiting for the first token", "blocking": "waiting for the whole answer"}
"""What each side's waiting indicator says."""


def figures(side: SideResult, now_ms: float | None = None) -> str:
    """The side's figures on two lines (``now_ms`` while it still runs): the times, then the tokens.

    Times count from when the user asked; the time spent getting ready, part of them, is named on the
    second line when it is worth it.
    """
    ready = f" · {format_ms(side.ready_ms)} getting ready" if side.ready_ms >= SPLIT_SHOWN_MS else ""
    first = f"first text {format_ms(side.ttft_ms)}"
    if side.stopped:
        return f"■ stopped · {first}\n{side.tokens} tok{ready}"
    if side.total_ms is None:
        elapsed = "" if now_ms is None else f" · {now_ms / 1000:.1f} s so far"
        return f"{first}{elapsed}\n{side.tokens} tok{ready}"
    rate = side.tokens_per_s if side.tokens >= 2 else None  # a rate over one token says nothing
    times = f"{'✗ failed · ' if side.error is not None else ''}{first} · total {format_ms(side.total_ms)}"
    return f"{times}\n{side.tokens} tok · {'—' if rate is None else f'{rate:,.1f}'} tok/s{ready}"


class RaceSide(Vertical):
    """``Streaming`` or ``Blocking``: a heading, the answer, and a line of figures.

    The screen feeds it (attributes down): ``start()``, then ``observe()`` for each
    event (sync and cheap), ``tick()`` a few times a second, and ``finish()`` or
    ``stopped()`` once. ``live`` holds what it has seen so far.
    """

    def __init__(self, mode: Mode, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id, classes=f"-{mode} -idle")
        self.mode: Mode = mode
        """Which side this is."""
        self.clock = clock
        """Where the waiting clock's time comes from."""
        self.live = SideResult(mode)
        """What this side has seen so far (the final result once it ends)."""
        self.state: SideState = "idle"
        """Where the side is."""
        self.answer: AnswerView | None = None
        """The answer of the race under way."""
        self._reasoning: AnswerView | None = None
        self._mask = SecretMask(None)

    def compose(self) -> ComposeResult:
        yield Static(Content(TITLES[self.mode]), classes="race-side-title")
        yield VerticalScroll(classes="race-side-body")
        yield Static(Content(""), classes="race-side-figures", markup=False)

    @property
    def body(self) -> VerticalScroll:
        """Where the answer goes."""
        return self.query_one(".race-side-body", VerticalScroll)

    def _set_state(self, state: SideState) -> None:
        self.remove_class(f"-{self.state}")
        self.state = state
        self.add_class(f"-{state}")

    async def start(self, label: str | None = None) -> None:
        """Empty the side and show the waiting clock (``label`` replaces what it says)."""
        self.live = SideResult(self.mode)
        self._set_state("running")
        self.remove_class("-answering")
        settings = getattr(self.app, "settings", None)
        self._mask = SecretMask(getattr(settings, "api_key", None))  # the key never shows, even echoed
        self.answer = AnswerView(classes="race-answer")
        self._reasoning = AnswerView(classes="reasoning")
        body = self.body
        body.anchor(False)
        await body.remove_children()
        await body.mount_all([WaitingIndicator(self.clock, label or WAITING[self.mode]), self._reasoning, self.answer])
        self.tick(0.0)

    async def relabel(self, label: str | None = None) -> None:
        """Restart the waiting clock with another label (the race proper begins)."""
        await self.body.query(WaitingIndicator).remove()
        await self.body.mount(WaitingIndicator(self.clock, label or WAITING[self.mode]), before=0)

    def observe(self, event: AnyEvent) -> None:
        """Show one event of this side, counted in ``live`` already (sync: text goes to the answer's buffer)."""
        if self.live.ttft_ms is not None and not self.has_class("-answering"):  # the first token: once
            self.add_class("-answering")
        if isinstance(event, TextDelta) and event.text and self.answer is not None:
            self.answer.append(self._mask.feed(event.text))
        elif isinstance(event, ReasoningDelta) and event.text and self._reasoning is not None:
            self._reasoning.append(event.text)
            self.add_class("-reasoning")

    def tick(self, now_ms: float | None) -> None:
        """Redraw the figures (``now_ms`` while the race runs)."""
        running = self.state == "running"
        body = self.body
        if self.mode == "streaming" and not body.is_anchored and running \
                and body.virtual_size.height > body.scrollable_content_region.height:
            body.anchor()  # follow the stream once it no longer fits (anchored earlier, it would sit at the bottom)
        text = figures(self.live, now_ms if running else None) if self.state != "idle" else ""
        self.query_one(".race-side-figures", Static).update(Content(text))

    async def finish(self, result: SideResult) -> None:
        """The side ended: keep its result, render the whole answer, show an error where there was one."""
        self.live = result
        await self._settle()
        if result.error is not None:
            await self.body.mount(ErrorNote(result.error.kind, result.error.message))
        elif not result.text:
            await self.body.mount(Note("(the answer was empty)"))
        self._set_state("error" if result.error is not None else "done")
        self.tick(None)

    async def stopped(self) -> None:
        """The user stopped the race: keep what arrived, marked."""
        self.live.stopped = True
        self.live.text = self.answer.text if self.answer is not None else ""
        await self._settle()
        await self.body.mount(Note("■ stopped" if self.live.ttft_ms is not None else "■ stopped before any answer",
                                   classes="stopped-note"))
        self._set_state("stopped")
        self.tick(None)

    async def fail(self, error: ErrorEvent) -> None:
        """The race could not start (no agents): say why on this side."""
        self.live = SideResult(self.mode, error=error)
        await self._settle()
        await self.body.mount(ErrorNote(error.kind, error.message))
        self._set_state("error")
        self.tick(None)

    async def _settle(self) -> None:
        if self.answer is not None:
            self.answer.append(self._mask.flush())
        await self.body.query(WaitingIndicator).remove()
        for view in (self._reasoning, self.answer):
            if view is not None and view.is_attached:
                view.finish()
