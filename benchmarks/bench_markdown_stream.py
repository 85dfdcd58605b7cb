"""Benchmark: streaming a long Markdown answer into `AnswerView` (or, with --baseline, into one
plain `Markdown` fed through `Markdown.get_stream()`), headless. Run by hand; not a test.

    python benchmarks/bench_markdown_stream.py [--baseline] [--rate 2000] [--chars 80000] [--token-chars 4]

Tokens are fed as fast as possible (or at --rate tokens/s), then finish(). The answer has
four parts with the same mix of content (each with a long fence and a long table), so the
quarters are comparable. Prints tokens/s absorbed overall and, per quarter, wall and CPU
seconds per 1k tokens. Each quarter is timed until what it fed is on screen (the view is
flushed and the app idle), so rendering work is charged to the tokens that caused it.
Python's garbage collector is a large share of the cost on long answers (its full
collections scan every live object); its time is shown separately.
`feed(view, tokens)` is the only thing that knows where tokens come from, so it can be
swapped for a network feed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Markdown

from streamchat.ui.answer import AnswerView

WORDS = (
    "stream token render widget layout parser segment frame budget latency answer model "
    "markdown fence table column value buffer flush event loop terminal cursor"
).split()


def _words(seed: int, count: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3 + i * i) % len(WORDS)] for i in range(count))


def _section(n: int) -> str:
    return (
        f"## Section {n}\n\n"
        f"{_words(n, 60).capitalize()}, with `inline code {n}` and **bold {n}** text.\n\n"
        f"{_words(n + 1, 45).capitalize()}.\n\n"
        + "".join(f"- {_words(n + k, 8)}\n" for k in range(5))
        + "\n"
        + "".join(f"{k}. {_words(n * 3 + k, 7)}\n" for k in range(1, 4))
        + f"\n```python\ndef section_{n}(x: int) -> int:\n"
        + "".join(f"    x = x * {k} + {n}  # {_words(k, 3)}\n" for k in range(6))
        + "    return x\n```\n\n"
    )


def _long_fence(min_chars: int) -> str:
    lines = ["```python", "# a long generated module"]
    i = 0
    while sum(len(line) + 1 for line in lines) < min_chars:
        lines.append(f"def step_{i}(value: float) -> float:")
        lines.append(f'    """{_words(i, 6)}."""')
        lines.append(f"    return value * {i % 7 + 1} + {i}")
        lines.append("")
        i += 1
    return "\n".join([*lines, "```", "", ""])


def _table(rows: int) -> str:
    head = "| # | name | value | note |\n|---:|:-----|------:|:-----|\n"
    body = "".join(f"| {i} | item_{i} | {i * 37 % 1000} | {_words(i, 4)} |\n" for i in range(rows))
    return head + body + "\n"


def make_answer(min_chars: int = 80_000) -> str:
    """A long answer made of four parts with the same mix, so that the first and the last
    quarter can be compared: headings, paragraphs, lists, short fences, one long fence
    (>= 8k chars) and one 110-row table per part."""
    parts = ["# A long answer\n\n", _words(0, 40).capitalize(), ".\n\n"]
    n = 0

    def grow_to(chars: float) -> None:
        nonlocal n
        while sum(map(len, parts)) < chars:
            n += 1
            parts.append(_section(n))

    for part in range(4):
        grow_to(min_chars * (part + 0.15) / 4)
        parts.append(_long_fence(8_500))
        grow_to(min_chars * (part + 0.65) / 4)
        parts.append(_table(110))
        grow_to(min_chars * (part + 1) / 4)
    return "".join(parts)


def tokenize(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


class Sink(Protocol):
    def append(self, text: str) -> Awaitable[None] | None: ...

    async def flush(self) -> None: ...

    async def finish(self) -> None: ...


class LineView:
    """`AnswerView` behind the benchmark's interface (its flush and finish do not wait)."""

    def __init__(self, view: AnswerView) -> None:
        self.view = view

    def append(self, text: str) -> None:
        self.view.append(text)

    async def flush(self) -> None:
        self.view.flush()

    async def finish(self) -> None:
        self.view.finish()


class BaselineView:
    """One plain `Markdown` fed through `Markdown.get_stream()` (Textual's MarkdownStream)."""

    def __init__(self, markdown: Markdown) -> None:
        self.markdown = markdown
        self.stream = Markdown.get_stream(markdown)

    def append(self, text: str) -> Awaitable[None]:
        return self.stream.write(text)  # appends, then yields to the loop

    async def flush(self) -> None:
        stream = self.stream  # wait until the stream task has appended everything written
        while stream._new_markup.is_set() or self.markdown.lock.is_locked:
            await asyncio.sleep(0.001)

    async def finish(self) -> None:
        await self.stream.stop()
        async with self.markdown.lock:  # wait for the last append to land
            pass


async def feed(view: Sink, tokens: Sequence[str], rate: float = 0) -> None:
    """Append ``tokens`` as fast as possible (or ``rate`` per second), letting the UI run between tokens."""
    start = time.perf_counter()
    for index, token in enumerate(tokens):
        pending = view.append(token)
        if pending is not None:
            await pending
        if rate:
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
        elif pending is None:
            await asyncio.sleep(0)


class BenchApp(App[None]):
    def __init__(self, baseline: bool) -> None:
        super().__init__()
        self.baseline = baseline

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(open_links=False) if self.baseline else AnswerView()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


class GCClock:
    """Wall time spent in the garbage collector."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


GC = GCClock()


@dataclass
class Span:
    tokens: int
    wall: float
    cpu: float
    gc: float

    def per_1k(self) -> str:
        k = self.tokens / 1000
        return (
            f"{self.wall / k:6.3f} s wall, {self.cpu / k:6.3f} s CPU per 1k tokens"
            f" (GC {self.gc / k:.3f} s of it; {self.tokens} tokens)"
        )


async def timed(coro: Awaitable[None], tokens: int) -> Span:
    wall, cpu, in_gc = time.perf_counter(), time.process_time(), GC.total
    await coro
    return Span(tokens, time.perf_counter() - wall, time.process_time() - cpu, GC.total - in_gc)


async def feed_quarter(view: Sink, tokens: Sequence[str], rate: float, pilot: Pilot[None]) -> None:
    await feed(view, tokens, rate)
    await view.flush()  # charge the rendering to these tokens
    await pilot.pause()


async def run(baseline: bool, chars: int, token_chars: int, rate: float) -> None:
    answer = make_answer(chars)
    tokens = tokenize(answer, token_chars)
    quarter = len(tokens) // 4
    slices = [tokens[:quarter], tokens[quarter : 2 * quarter], tokens[2 * quarter : 3 * quarter], tokens[3 * quarter :]]
    app = BenchApp(baseline)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        target: Widget = app.query_one(Markdown if baseline else AnswerView)
        view: Sink = BaselineView(target) if isinstance(target, Markdown) else LineView(target)  # type: ignore[arg-type]
        spans = [await timed(feed_quarter(view, part, rate, pilot), len(part)) for part in slices]
        drain = await timed(view.finish(), 0)
        await pilot.pause()
        total = Span(*(sum(getattr(s, f) for s in [*spans, drain]) for f in ("tokens", "wall", "cpu", "gc")))
        shown = target.text if isinstance(target, AnswerView) else getattr(target, "source", "")
    mode = "baseline: one Markdown + get_stream()" if baseline else "AnswerView"
    print(f"mode: {mode}; feed: {f'{rate:g} tokens/s' if rate else 'as fast as possible'}")
    print(f"answer: {len(answer):,} chars, {len(tokens):,} tokens of {token_chars} chars")
    print(f"text intact: {shown == answer}")
    print(
        f"overall: {total.tokens / total.wall:,.0f} tokens/s absorbed"
        f" ({total.wall:.2f} s wall, {total.cpu:.2f} s CPU, GC {total.gc:.2f} s)"
    )
    for name, span in zip(("first quarter", "2nd quarter", "3rd quarter", "last quarter"), spans, strict=True):
        print(f"{name:>14}: {span.per_1k()}")
    print(f"{'finish':>14}: {drain.wall:.3f} s wall, {drain.cpu:.3f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", action="store_true", help="one plain Markdown + get_stream() instead")
    parser.add_argument("--chars", type=int, default=80_000, help="answer length (default 80000)")
    parser.add_argument("--token-chars", type=int, default=4, help="characters per token (default 4)")
    parser.add_argument("--rate", type=float, default=0, help="tokens per second (default: as fast as possible)")
    args = parser.parse_args()
    asyncio.run(run(args.baseline, args.chars, args.token_chars, args.rate))


if __name__ == "__main__":
    main()
