"""Benchmark: the whole app absorbing a long Markdown answer from the fake server over HTTP.

    python benchmarks/bench_app_stream.py [--chars 80000] [--token-chars 4] [--delay 0] [--shape markdown]

A fake OpenAI server (tests/fake_server/) runs in a child process, so its CPU is not
counted, and streams an answer of >= 80k characters (headings, lists, long code fences,
long tables; four parts with the same mix) as fast as it can, one SSE chunk per token.
``--shape paragraph`` sends one paragraph with no line break at all (the worst case for a
renderer that re-parses the block being written); ``--shape lines`` sends short lines with
no blank line between them (one long Markdown paragraph of many lines); ``--shape blocks``
sends many small blocks (short sections, small lists, tiny code fences, tiny tables,
quotes: a few hundred characters each), the worst case for a renderer that mounts a widget
per block. QA's freeze report: ``--shape blocks --chars 50000 --token-chars 9 --delay 0.0005``.
The app (headless, 100x40) sends one prompt through the real SDK path: backend ->
accumulator -> agent loop -> turn worker -> AnswerView. Prints tokens/s absorbed and, for
the first and the last quarter of the answer, wall and CPU seconds per 1k tokens (and the
garbage collector's share); also how responsive the app stayed: the longest gap between ticks
of a 50 ms interval timer (how long the event loop was held: a clock, Esc and resizes wait
that long), with and without the garbage collector's pauses in it, the longest gap between
screen refreshes, the longest render step of the answer view (``_step``; ``_flush`` in older
versions), and when the first text was on screen. ``--gc-freeze`` and ``--gc-threshold`` show
what tuning the collector would change (the app does neither).
Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_markdown_stream import GC, make_answer, tokenize  # noqa: E402

from streamchat.config.settings import Settings  # noqa: E402
from streamchat.events import TextDelta  # noqa: E402
from streamchat.ui.answer import AnswerView  # noqa: E402
from streamchat.ui.app import make_app  # noqa: E402
from streamchat.ui.chat.persistence import ChatPersistence  # noqa: E402
from streamchat.ui.chat.saving import TurnSaving  # noqa: E402

events: list[object] = []
"""Every event the turn worker hands on (the one route: to the widgets and the store), in order."""
_saw = ChatPersistence.saw


def _recording(self: ChatPersistence, turn: TurnSaving, event: object) -> None:
    events.append(event)
    _saw(self, turn, event)  # type: ignore[arg-type]


ChatPersistence.saw = _recording  # type: ignore[method-assign]

SERVER = """
import sys, json, time
sys.path.insert(0, {tests!r})
from fake_server import FakeServer, text_response
tokens = json.load(open({tokens_file!r}))
server = FakeServer(default=text_response(tokens, delay={delay}))
server.start()
print(server.base_url, flush=True)
time.sleep(3600)
"""


def start_server(tokens: list[str], delay: float) -> tuple[subprocess.Popen[str], str]:
    import json
    import tempfile

    tokens_file = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(tokens, tokens_file)
    tokens_file.close()
    code = SERVER.format(tests=str(HERE.parent / "tests"), tokens_file=tokens_file.name, delay=delay)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


SENTENCE = "Streaming shows each word as soon as the model writes it, so nobody waits for the end. "


def make_blocks(chars: int) -> str:
    """Many small blocks: QA's answer (sections, lists, tiny fences and tables, quotes)."""
    parts = ["# Long answer\n\n"]
    i = 0
    while sum(len(p) for p in parts) < chars:
        i += 1
        parts.append(f"## Section {i}\n\nSome **bold** and *italic* text with `code` number {i}. " * 2 + "\n\n")
        parts.append(f"- item a{i}\n- item b{i}\n  - nested c{i}\n1. first\n2. second\n\n")
        parts.append(f"```python\ndef f{i}(x):\n    return x * {i}  # comment\n```\n\n")
        parts.append(f"| col A | col B | col C |\n| --- | --- | --- |\n| {i} | b{i} | c{i} |\n| x | y | z |\n\n")
        parts.append("> a quote line\n\n")
    parts.append("THE END MARKER\n")
    return "".join(parts)


def make_shaped(shape: str, chars: int) -> str:
    """The answer to stream: ``markdown`` (the mix), one ``paragraph``, many ``lines`` with no
    blank line, or many small ``blocks``."""
    if shape == "markdown":
        return make_answer(chars)
    if shape == "blocks":
        return make_blocks(chars)
    text = SENTENCE * (chars // len(SENTENCE) + 1)
    if shape == "lines":
        text = text.replace(". ", ".\n")
    return text[:chars].rstrip()


def overlap(start: float, end: float, spans: list[tuple[float, float]]) -> float:
    """Seconds of ``spans`` (sorted, disjoint) inside ``start``..``end``."""
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans if a < end and b > start)


async def run(chars: int, token_chars: int, delay: float, shape: str = "markdown", gc_freeze: bool = False,
              gc_threshold: tuple[int, ...] = ()) -> None:
    answer = make_shaped(shape, chars)
    tokens = tokenize(answer, token_chars)
    server, base_url = start_server(tokens, delay)
    settings = Settings(base_url=base_url, api_key="bench", max_retries=0, tools_enabled=False, timeout=60)
    app = make_app(settings)
    quarter = len(tokens) // 4
    marks: dict[int, tuple[float, float, float]] = {}
    ticks: list[float] = []  # a 50 ms interval timer's: a longer gap is time the event loop was held
    frames: list[float] = []  # screen refreshes
    steps: list[tuple[float, float]] = []  # the answer view's render steps
    collections: list[tuple[float, float]] = []  # the garbage collector's: each holds the loop
    full_collections = 0
    began_gc = 0.0

    def on_gc(phase: str, info: dict[str, int]) -> None:
        nonlocal began_gc, full_collections
        if phase == "start":
            began_gc = time.perf_counter()
        else:
            collections.append((began_gc, time.perf_counter()))
            full_collections += info["generation"] == 2

    first_shown: list[float] = []
    # The view's unit of rendering work: a frame (``_frame``, the Line-API view) or, in older
    # versions, a bounded step (``_step``) or a whole flush (``_flush``). Its longest run shows
    # how long one render can hold the screen.
    step_name = next(name for name in ("_frame", "_step", "_flush") if hasattr(AnswerView, name))
    step = getattr(AnswerView, step_name)

    def timed_frame(view: AnswerView, *args: object, **kwargs: object) -> object:
        began = time.perf_counter()
        result = step(view, *args, **kwargs)
        steps.append((began, time.perf_counter()))
        if not first_shown and view.text:
            first_shown.append(time.perf_counter())
        return result

    async def timed_step(view: AnswerView, *args: object, **kwargs: object) -> object:
        began = time.perf_counter()
        result = await step(view, *args, **kwargs)
        steps.append((began, time.perf_counter()))
        if not first_shown and getattr(view, "segments", None):
            first_shown.append(time.perf_counter())
        return result

    try:
        setattr(AnswerView, step_name, timed_frame if step_name == "_frame" else timed_step)
        async with app.run_test(size=(100, 40)) as pilot:
            await app.get_agent()
            display = app._display

            def counted_display(screen: object, renderable: object) -> None:
                if renderable is not None and not app._batch_count:
                    frames.append(time.perf_counter())
                display(screen, renderable)  # type: ignore[arg-type]

            app._display = counted_display  # type: ignore[method-assign]
            app.set_interval(0.05, lambda: ticks.append(time.perf_counter()), name="bench-tick")
            if gc_freeze:  # what an app that froze its start-up objects would see
                gc.collect()
                gc.freeze()
            if gc_threshold:  # what an app that tuned its collector would see
                gc.set_threshold(*gc_threshold)
            gc.callbacks.append(on_gc)
            start_wall, start_cpu, start_gc = time.perf_counter(), time.process_time(), GC.total
            ticks.append(start_wall)
            frames.append(start_wall)
            await app.send("Write the long answer.")
            seen = checked = 0
            events.clear()
            while app.turn_running or not events:
                seen += sum(1 for event in events[checked:] if isinstance(event, TextDelta))
                checked = len(events)
                for mark in (quarter, 2 * quarter, 3 * quarter, len(tokens)):
                    if seen >= mark and mark not in marks:
                        marks[mark] = (time.perf_counter(), time.process_time(), GC.total)
                await asyncio.sleep(0.005)
            await pilot.pause()
            end_wall, end_cpu, end_gc = time.perf_counter(), time.process_time(), GC.total
            gc.callbacks.remove(on_gc)
            shown = app.query_one("AssistantTurn").query("AnswerView").last()
            text = getattr(shown, "text", "")
            widgets = len(list(app.query("*")))
            segments = len(getattr(shown, "segments", []))
    finally:
        setattr(AnswerView, step_name, step)
        server.kill()
    total = end_wall - start_wall
    print(f"answer: {len(answer):,} chars, {len(tokens):,} tokens; shown intact: {text == answer}; "
          f"{widgets:,} widgets mounted at the end, {segments} segments")
    pauses = [b - a for a, b in collections]
    print(f"absorbed: {len(tokens) / total:,.0f} tokens/s ({total:.2f} s wall, {end_cpu - start_cpu:.2f} s CPU, "
          f"GC {end_gc - start_gc:.2f} s: {full_collections} full collections; the longest pause "
          f"{max(pauses, default=0):.3f} s)")
    first_wall, first_cpu = marks[quarter][0] - start_wall, marks[quarter][1] - start_cpu
    last_wall, last_cpu = end_wall - marks[3 * quarter][0], end_cpu - marks[3 * quarter][1]
    first_gc, last_gc = marks[quarter][2] - start_gc, end_gc - marks[3 * quarter][2]
    per_1k = 1000 / quarter
    print(f"first quarter: {first_wall * per_1k:.3f} s wall, {first_cpu * per_1k:.3f} s CPU per 1k tokens "
          f"(GC {first_gc * per_1k:.3f} s of it)")
    print(f"last quarter:  {last_wall * per_1k:.3f} s wall, {last_cpu * per_1k:.3f} s CPU per 1k tokens "
          f"(GC {last_gc * per_1k:.3f} s of it; the finish included)")

    def gaps(times: list[float]) -> list[tuple[float, float]]:
        inside = [t for t in times if start_wall <= t <= end_wall] + [end_wall]
        return list(itertools.pairwise(inside))

    blocked = [(b - a - 0.05, b - a - 0.05 - overlap(a, b, collections)) for a, b in gaps(ticks)]
    refresh = [b - a for a, b in gaps(frames)]
    held = [(b - a, b - a - overlap(a, b, collections)) for a, b in steps]
    shown_at = (first_shown[0] - start_wall) if first_shown else float("nan")
    print(f"responsiveness: event loop blocked up to {max(blocked, default=(0, 0))[0]:.3f} s "
          f"({max((b for _, b in blocked), default=0):.3f} s not counting the garbage collector); "
          f"longest gap between screen refreshes {max(refresh, default=0):.3f} s ({len(frames):,} refreshes); "
          f"longest render step {max(held, default=(0, 0))[0]:.3f} s "
          f"({max((h for _, h in held), default=0):.3f} s without GC; {len(steps):,} steps); "
          f"first text on screen after {shown_at:.3f} s")
    if os.environ.get("BENCH_GAPS"):  # where the longest refresh gaps were, for digging
        where = sorted(((b - a, a - start_wall) for a, b in gaps(frames)), reverse=True)[:5]
        print("refresh gaps (s, at s):", [(round(g, 3), round(at, 2)) for g, at in where],
              "quarters at:", [round(m[0] - start_wall, 2) for _, m in sorted(marks.items())])
    points = [(0, (start_wall, start_cpu, start_gc)), *sorted(marks.items()),
              (len(tokens) + 1, (end_wall, end_cpu, end_gc))]
    for (a, (wa, ca, ga)), (b, (wb, cb, gb)) in itertools.pairwise(points):
        label = "finish" if b > len(tokens) else f"tokens {a:>6,}-{b:<6,}"
        print(f"  {label}: {wb - wa:.2f} s wall, {cb - ca:.2f} s CPU (GC {gb - ga:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=80_000, help="answer length (default 80000)")
    parser.add_argument("--token-chars", type=int, default=4, help="characters per token (default 4)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between chunks (default 0: flat out)")
    parser.add_argument("--shape", choices=("markdown", "paragraph", "lines", "blocks"), default="markdown",
                        help="what the answer looks like (default: markdown, the mix)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() once the app is up: full collections then skip the start-up objects")
    parser.add_argument("--gc-threshold", type=lambda text: tuple(int(n) for n in text.split(",")), default=(),
                        metavar="N0,N1,N2", help="gc.set_threshold(N0, N1, N2) once the app is up")
    args = parser.parse_args()
    asyncio.run(run(args.chars, args.token_chars, args.delay, args.shape, args.gc_freeze, args.gc_threshold))


if __name__ == "__main__":
    main()
