"""The status line: backend and model on the left, how full the context is, the turn's timing on the right."""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Static

from streamchat.backends import describe_backend
from streamchat.backends.base import Backend
from streamchat.config.settings import Settings
from streamchat.context import Fill
from streamchat.events import (
    AnyEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallStarted,
    TurnDone,
)
from streamchat.timing import SPLIT_SHOWN_MS, Clock

_TOKEN_EVENTS = (TextDelta, ReasoningDelta, ToolCallArgumentsDelta)
_FIRST_TOKEN_EVENTS = (*_TOKEN_EVENTS, ToolCallStarted)


NO_TOOLS = "tools unsupported"
"""The status line's word on tools when they are on but the backend cannot use them (the local model)."""


@dataclass
class LiveStats:
    """The figures of the turn under way, kept up to date by the turn worker (cheaply, per event)."""

    clock: Clock
    """Where time comes from."""
    started_at: float
    """When the user sent the prompt (Enter): every figure counts from here."""
    first_token_at: float | None = None
    """When the first visible token arrived."""
    tokens: int = 0
    """Visible chunks so far (the server's figure replaces it at the end)."""
    ended_at: float | None = None
    """When the turn ended, however it ended."""
    outcome: str | None = None
    """None while running, else ``complete``, ``stopped``, ``error``..."""
    done: TurnDone | None = None
    """The turn's final figures, once it ended normally."""

    def observe(self, event: AnyEvent) -> None:
        """Count one event."""
        if isinstance(event, _FIRST_TOKEN_EVENTS) and self.first_token_at is None:
            self.first_token_at = self.clock()
        if isinstance(event, _TOKEN_EVENTS):
            self.tokens += 1
        if isinstance(event, TurnDone):
            self.finish(event.status, event)

    def finish(self, outcome: str, done: TurnDone | None = None) -> None:
        """The turn ended (``done`` is None when it was stopped)."""
        if self.ended_at is None:
            self.ended_at = self.clock()
        self.outcome = outcome
        self.done = done

    def summary(self, *, compact: bool = False) -> str:
        """One line: TTFT, tokens, tokens/s, elapsed (the agent's figures once the turn is done);
        ``compact``: TTFT and elapsed only, for a narrow terminal."""
        before: float | None = None
        if self.done is not None:
            ttft, tokens, rate = self.done.ttft_ms, self.done.tokens, self.done.tokens_per_s
            elapsed = self.done.total_ms / 1000.0
            before = self.done.request_sent_ms
        else:
            now = self.ended_at if self.ended_at is not None else self.clock()
            first = self.first_token_at
            ttft = None if first is None else (first - self.started_at) * 1000.0
            tokens = self.tokens
            span = None if first is None else now - first
            rate = tokens / span if span and tokens > 1 else None
            elapsed = now - self.started_at
        split = f" ({before:,.0f} ms before sending)" if before is not None and before >= SPLIT_SHOWN_MS else ""
        parts = [
            "TTFT —" if ttft is None else f"TTFT {ttft:,.0f} ms{'' if compact else split}",
            f"{tokens} tok",
            "— tok/s" if rate is None else f"{rate:,.1f} tok/s",
            f"{elapsed:.1f} s",
        ]
        if compact:
            del parts[1:3]
        if self.outcome not in (None, "complete"):
            parts.insert(0, str(self.outcome))
        return " · ".join(parts)


def fit(width: int, wheres: tuple[str, ...], stats: tuple[str, ...], meters: tuple[str, ...] = (),
        gap: int = 2) -> tuple[str, str, str]:
    """The fullest (where, meter, stats) that fits ``width`` cells: each tuple is its texts, fullest first.

    What gives way first: the server's address, the meter's window (``ctx 40%``), the figures' details, then
    the profile and tools (with the meter whole while it fits, then short), then the meter: the model stays to
    the last. When even the shortest does not fit, the shortest (the left side is cut).
    """
    wheres, stats = wheres or ("",), stats or ("",)
    tries = [(where, meter, stats[0]) for meter in meters or ("",) for where in wheres[:2]]
    tries += [(where, meter, stats[-1]) for meter in (*meters, "") for where in wheres[1:] or wheres]
    for where, meter, shown in tries:
        if cell_len(where) + sum(cell_len(part) + gap for part in (meter, shown) if part) <= width:
            return where, meter, shown
    return tries[-1]


class StatusLine(Horizontal):
    """Backend, model and tools on the left; live or last-turn timing on the right.

    The timing is redrawn from a timer a few times a second while a turn runs,
    never per token. In a narrow terminal both sides shorten (``fit``) so the model stays in view.
    """

    REFRESH_INTERVAL = 0.25
    """Seconds between redraws while a turn runs."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.stats: LiveStats | None = None
        """The turn being shown (attributes down: the app sets it)."""
        self._timer: Timer | None = None
        self._wheres: tuple[str, ...] = ()
        self._fill: Fill | None = None
        self._texts: tuple[str, str, str] = ("", "", "")  # what the three parts show

    def compose(self) -> ComposeResult:
        yield Static(id="status-backend", markup=False)
        yield Static(id="status-context", markup=False, classes="-empty")
        yield Static(id="status-stats", markup=False)

    def show_context(self, fill: Fill | None) -> None:
        """Show how full the model's context is (``ctx 3.2k/8k 40%``), amber then red as it fills; None: nothing."""
        self._fill = fill
        meter = self.query_one("#status-context", Static)
        level = fill.level if fill is not None else "ok"
        meter.set_class(level == "amber", "-amber")
        meter.set_class(level == "red", "-red")
        self._fit()

    def on_mount(self) -> None:
        self._timer = self.set_interval(self.REFRESH_INTERVAL, self._tick, pause=True)

    def describe(self, settings: Settings, backend: Backend | None = None) -> None:
        """Show where requests go: the backend's own description once it exists, else what settings say.

        Tools switched on for a model that cannot call them (the backend says; before it exists, the
        settings: a local model only when told it can) show as unsupported, not on.
        """
        if backend is None:
            can_call_tools = not settings.use_local or settings.local_tools == "on"  # a GGUF's template: not read yet
        else:
            can_call_tools = backend.supports_tools
        tools = "tools off" if not settings.tools_enabled else "tools on" if can_call_tools else NO_TOOLS
        where = describe_backend(settings, backend)
        if settings.profile and not settings.use_local:
            where = f"{settings.profile} · {where}"
        model = settings.model_name
        kind = settings.profile if settings.profile and not settings.use_local else where.split(" · ")[0]
        shorter = (f"{where} · {tools}", f"{kind} · {model} · {tools}", f"{model} · {tools}", model)
        self._wheres = tuple(dict.fromkeys(shorter))
        self._fit()

    def track(self, stats: LiveStats) -> None:
        """Show this turn's figures, live until it ends."""
        self.stats = stats
        self._tick()
        if self._timer is not None:
            self._timer.resume()

    def clear(self) -> None:
        """Forget the last turn's figures."""
        self.stats = None
        self._tick()

    def _tick(self) -> None:
        stats = self.stats
        self.set_class(stats is not None and stats.outcome is None, "-running")
        self._fit()
        if (stats is None or stats.outcome is not None) and self._timer is not None:
            self._timer.pause()

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Show both sides and the meter, as full as the width allows (``fit``)."""
        stats, fill = self.stats, self._fill
        figures = (stats.summary(), stats.summary(compact=True)) if stats else ("",)
        meters = tuple(dict.fromkeys((fill.describe(), fill.describe(compact=True)))) if fill is not None else ()
        texts = fit(self.content_size.width or 10_000, self._wheres, figures, meters)
        for part, text, before in zip(("backend", "context", "stats"), texts, self._texts, strict=True):
            if text != before:  # a tick redraws only what changed (the figures, as a rule)
                self.query_one(f"#status-{part}", Static).update(Content(text))
        self.query_one("#status-context").set_class(not texts[1], "-empty")
        self._texts = texts

    def refresh_stats(self) -> None:
        """Redraw now (at the end of a turn)."""
        self._tick()
