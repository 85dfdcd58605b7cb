"""Timing as data: when a request was sent, answered, first showed text, and ended."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from streamchat.events import RequestStats, TurnDone
from streamchat.messages import TurnStatus

Clock = Callable[[], float]
"""A monotonic clock in seconds (``time.perf_counter`` unless a test gives another)."""

SPLIT_SHOWN_MS = 100.0
"""When a request left at least this long after the user sent the prompt, a time to first token shown
says how much of it came before the request (making the backend, loading a model, waiting out a retry)."""


def percentile(values: list[float], fraction: float) -> float | None:
    """The value below which ``fraction`` of ``values`` fall (nearest rank), or None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class RequestTimer:
    """Marks the moments of one request and turns them into ``RequestStats``."""

    clock: Clock = time.perf_counter
    """Where time comes from."""
    turn_start: float | None = None
    """When the user sent the prompt this request serves (None: not known); ``sent_ms`` counts from it."""
    sent_at: float = 0.0
    """When the request was sent."""
    headers_at: float | None = None
    """When the response headers arrived."""
    first_token_at: float | None = None
    """When the first visible chunk arrived."""
    last_token_at: float | None = None
    """When the latest visible chunk arrived."""
    ended_at: float | None = None
    """When the response ended (or failed)."""
    chunk_count: int = 0
    """Visible chunks received."""
    usage_tokens: int | None = None
    """``usage.completion_tokens`` if the server reported it."""
    usage_prompt_tokens: int | None = None
    """``usage.prompt_tokens`` if the server reported it."""
    gaps: list[float] = field(default_factory=list)
    """Seconds between consecutive visible chunks."""

    def start(self) -> None:
        """The request is being sent now."""
        self.sent_at = self.clock()

    def headers(self) -> None:
        """The response headers arrived now."""
        self.headers_at = self.clock()

    def token(self) -> None:
        """A visible chunk arrived now."""
        now = self.clock()
        if self.first_token_at is None:
            self.first_token_at = now
        elif self.last_token_at is not None:
            self.gaps.append(now - self.last_token_at)
        self.last_token_at = now
        self.chunk_count += 1

    def end(self) -> None:
        """The response ended now (only the first call counts)."""
        if self.ended_at is None:
            self.ended_at = self.clock()

    @property
    def tokens(self) -> int:
        """The best token count we have: the server's, else chunks."""
        return self.usage_tokens if self.usage_tokens is not None else self.chunk_count

    def _ms(self, moment: float | None) -> float | None:
        return None if moment is None else (moment - self.sent_at) * 1000.0

    def elapsed_ms(self) -> float:
        """Time since the request was sent (or its total, once ended)."""
        end = self.ended_at if self.ended_at is not None else self.clock()
        return (end - self.sent_at) * 1000.0

    def tokens_per_s(self) -> float | None:
        """Tokens per second from the first token to the end (or now)."""
        if self.first_token_at is None:
            return None
        end = self.ended_at if self.ended_at is not None else self.clock()
        span = end - self.first_token_at
        if span <= 0 or self.tokens < 2:
            return None
        return self.tokens / span

    def stats(self) -> RequestStats:
        """A snapshot of the figures."""
        p50 = percentile(self.gaps, 0.5)
        p95 = percentile(self.gaps, 0.95)
        return RequestStats(
            sent_ms=None if self.turn_start is None else (self.sent_at - self.turn_start) * 1000.0,
            headers_ms=self._ms(self.headers_at),
            ttft_ms=self._ms(self.first_token_at),
            total_ms=self._ms(self.ended_at),
            tokens=self.tokens,
            tokens_per_s=self.tokens_per_s(),
            gap_p50_ms=None if p50 is None else p50 * 1000.0,
            gap_p95_ms=None if p95 is None else p95 * 1000.0,
            prompt_tokens=self.usage_prompt_tokens,
        )


def turn_done(status: TurnStatus, finish_reason: str | None, ttft_ms: float | None, total_ms: float,
              stats: list[RequestStats], rounds: int, request_sent_ms: float | None) -> TurnDone:
    """A turn's closing figures from its requests' (tokens summed, the rate over the streamed parts)."""
    spans = [item.tokens / item.tokens_per_s for item in stats if item.tokens_per_s]
    streamed = sum(item.tokens for item in stats if item.tokens_per_s)
    return TurnDone(status=status, finish_reason=finish_reason, ttft_ms=ttft_ms, total_ms=total_ms,
                    tokens=sum(item.tokens for item in stats),
                    tokens_per_s=streamed / sum(spans) if spans and sum(spans) > 0 else None,
                    rounds=rounds, requests=stats, request_sent_ms=request_sent_ms)


def format_ms(ms: float | None) -> str:
    """A duration for people: ``52 ms``, ``1.23 s`` (negative ones too), ``—`` for one not known."""
    if ms is None:
        return "—"
    return f"{ms / 1000:.2f} s" if abs(ms) >= 1000 else f"{ms:.0f} ms"
