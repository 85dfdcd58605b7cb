"""The race: the same prompt sent streaming and blocking at the same moment.

UI-free. ``run_side()`` runs one side and reports what it saw; ``Verdict``
compares the two. The app runs each side in its own worker; ``run_race()``
runs both for the headless ``race --json``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal

from streamchat.agent import Agent
from streamchat.events import AnyEvent, ErrorEvent, MessageAdded, ReasoningDelta, TextDelta, TurnDone
from streamchat.messages import new_history
from streamchat.timing import Clock, format_ms

DEFAULT_RACE_PROMPT = "Explain in a few paragraphs why streaming makes a chat client feel faster."
"""Raced when no prompt is given (``streamchat race``, the race pane)."""

Mode = Literal["streaming", "blocking"]
"""Which side of the race."""

SAME_TOTAL_FRACTION = 0.15
"""Totals within this fraction of the longer one count as "about the same"."""
SAME_TOTAL_MS = 300.0
"""... or within this many milliseconds, whichever is larger."""


@dataclass
class SideResult:
    """What one side of a race saw, in milliseconds from when the user asked for the race."""

    mode: Mode
    """``streaming`` or ``blocking``."""
    ready_ms: float = 0.0
    """When the request left: the time spent getting ready first (making the agents, loading models),
    included in every figure below, since the user waited for it too."""
    ttft_ms: float | None = None
    """When the first visible text appeared (for blocking, that is the total)."""
    total_ms: float | None = None
    """When the answer was complete."""
    tokens: int = 0
    """Completion tokens (the server's figure when it gave one)."""
    tokens_per_s: float | None = None
    """Tokens per second over the whole request, from the race's start (comparable across sides)."""
    text: str = ""
    """The answer."""
    arrivals_ms: list[float] = field(default_factory=list)
    """When each piece of text arrived (for the timeline)."""
    error: ErrorEvent | None = None
    """The error that ended this side, if one did."""
    stopped: bool = False
    """True when the user stopped the race."""

    def observe(self, event: AnyEvent, now_ms: float) -> None:
        """Count one event of this side, ``now_ms`` after the user asked: first text, arrivals, the end."""
        if isinstance(event, (TextDelta, ReasoningDelta)) and event.text:
            if self.ttft_ms is None:
                self.ttft_ms = now_ms
            if isinstance(event, TextDelta):
                self.arrivals_ms.append(now_ms)
                self.tokens += 1
        elif isinstance(event, ErrorEvent):
            self.error = event
        elif isinstance(event, TurnDone):
            self.total_ms = now_ms
            self.tokens = event.tokens
            # Over the whole request on both sides, so the two rates compare.
            self.tokens_per_s = event.tokens / (now_ms / 1000.0) if now_ms > 0 and event.tokens else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (without the per-token arrivals)."""
        return {
            "ready_ms": _round(self.ready_ms),
            "ttft_ms": _round(self.ttft_ms), "total_ms": _round(self.total_ms), "tokens": self.tokens,
            "tokens_per_s": _round(self.tokens_per_s), "chars": len(self.text),
            "error": None if self.error is None else {"kind": self.error.kind, "message": self.error.message},
            "stopped": self.stopped,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class Verdict:
    """How much sooner streaming showed text, and whether the totals agree."""

    first_text_saved_ms: float
    """Blocking total minus streaming first text: how much sooner the user could read."""
    first_text_ratio: float | None
    """Blocking total divided by streaming first text (None if first text took 0 ms)."""
    total_diff_ms: float
    """Streaming total minus blocking total (positive: streaming finished later)."""
    totals_similar: bool
    """True when the totals are within the tolerance."""
    summary: str
    """One honest sentence for people."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"first_text_saved_ms": round(self.first_text_saved_ms, 1),
                "first_text_ratio": None if self.first_text_ratio is None else round(self.first_text_ratio, 1),
                "total_diff_ms": round(self.total_diff_ms, 1), "totals_similar": self.totals_similar,
                "summary": self.summary}


def verdict(streaming: SideResult, blocking: SideResult) -> Verdict | None:
    """Compare two finished sides; None when either failed or was stopped."""
    if streaming.ttft_ms is None or streaming.total_ms is None or blocking.total_ms is None:
        return None
    if streaming.error or blocking.error or streaming.stopped or blocking.stopped:
        return None
    saved = blocking.total_ms - streaming.ttft_ms
    ratio = blocking.total_ms / streaming.ttft_ms if streaming.ttft_ms > 0 else None
    diff = streaming.total_ms - blocking.total_ms
    tolerance = max(SAME_TOTAL_MS, SAME_TOTAL_FRACTION * max(streaming.total_ms, blocking.total_ms))
    similar = abs(diff) <= tolerance
    if saved > 0:
        sooner = f"first text {ratio:.0f}× sooner" if ratio and ratio >= 2 else "first text sooner"
        head = f"Streaming showed {sooner}: {format_ms(saved)} less waiting."
    else:
        head = f"Streaming showed nothing sooner ({format_ms(-saved)} later): the answer was too short to gain."
    if similar:
        tail = f" Total time about the same ({'+' if diff >= 0 else '−'}{format_ms(abs(diff))})."
    else:
        later = "streaming" if diff > 0 else "blocking"
        tail = f" Totals differ: {later} finished {format_ms(abs(diff))} later"
        serialised = abs(diff) >= 0.4 * max(streaming.total_ms, blocking.total_ms)
        tail += " — the server may be running one request at a time." if serialised else "."
    return Verdict(saved, ratio, diff, similar, head + tail)


SideListener = Callable[[Mode, AnyEvent, float], None]
"""Called with (side, event, ms since start) for every event of a side."""


async def run_side(
    agent: Agent,
    prompt: str,
    mode: Mode,
    *,
    started_at: float | None = None,
    ready_ms: float = 0.0,
    clock: Clock = time.perf_counter,
    listener: SideListener | None = None,
    result: SideResult | None = None,
) -> SideResult:
    """Run one side; cancelling it marks the result stopped and re-raises.

    Figures count from ``started_at`` (when the user asked; default now), of which ``ready_ms`` went
    on getting ready before this call. ``result`` (default: a new one) is filled as the events come, before
    ``listener`` hears of each, so a live view can show it.
    """
    start = clock() if started_at is None else started_at
    result = SideResult(mode, ready_ms=ready_ms) if result is None else result
    history = new_history(agent.settings.system_prompt)
    pieces: list[str] = []
    try:
        async with aclosing(agent.run_turn(history, prompt, stream=mode == "streaming")) as events:
            async for event in events:
                if isinstance(event, MessageAdded):
                    continue  # the side's history, not its figures
                now_ms = (clock() - start) * 1000.0
                result.observe(event, now_ms)
                if isinstance(event, TextDelta):
                    pieces.append(event.text)
                if listener is not None:
                    listener(mode, event, now_ms)
    except asyncio.CancelledError:
        result.stopped = True
        raise
    finally:
        result.text = "".join(pieces)
    if mode == "blocking" and result.total_ms is not None and result.ttft_ms is not None:
        result.ttft_ms = result.total_ms
    return result


@dataclass
class RaceResult:
    """Both sides and the verdict."""

    prompt: str
    """What was asked."""
    streaming: SideResult
    """The streaming side."""
    blocking: SideResult
    """The blocking side."""
    verdict: Verdict | None
    """The comparison, when both sides finished."""
    model: str = ""
    """The model both sides asked."""
    backend: str = ""
    """The backend's description."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for ``race --json``."""
        return {"prompt": self.prompt, "model": self.model, "backend": self.backend,
                "streaming": self.streaming.to_dict(), "blocking": self.blocking.to_dict(),
                "verdict": None if self.verdict is None else self.verdict.to_dict()}


async def run_race(streaming_agent: Agent, blocking_agent: Agent, prompt: str, *, asked_at: float | None = None,
                   clock: Clock = time.perf_counter, listener: SideListener | None = None) -> RaceResult:
    """Start both sides at the same moment and wait for both (an error on one leaves the other running).

    Backends that load a model first (the local one) load it before both requests leave. The figures
    count from ``asked_at`` (on ``clock``; default now), when the user asked: getting ready is part of
    what they waited, and each side's ``ready_ms`` says how much.
    """
    start = clock() if asked_at is None else asked_at
    for agent in (streaming_agent, blocking_agent):
        load = getattr(agent.backend, "load", None)
        if load is not None:
            await load()
    ready_ms = (clock() - start) * 1000.0
    stream_task = asyncio.create_task(run_side(streaming_agent, prompt, "streaming", started_at=start,
                                               ready_ms=ready_ms, clock=clock, listener=listener))
    block_task = asyncio.create_task(run_side(blocking_agent, prompt, "blocking", started_at=start,
                                              ready_ms=ready_ms, clock=clock, listener=listener))
    try:
        streaming, blocking = await asyncio.gather(stream_task, block_task)
    finally:
        for task in (stream_task, block_task):
            task.cancel()
    return RaceResult(prompt, streaming, blocking, verdict(streaming, blocking),
                      model=streaming_agent.settings.model_name, backend=streaming_agent.backend.description)
