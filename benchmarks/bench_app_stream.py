"""Benchmark: the whole app absorbing a long Markdown answer from the fake server over HTTP.

    python benchmarks/bench_app_stream.py [--chars 80000] [--token-chars 4] [--delay 0] [--shape markdown]

A fake OpenAI server (tests/fake_server.py) runs in a child process, so its CPU is not
counted, and streams an answer of >= 80k characters (headings, lists, long code fences,
long tables; four parts with the same mix) as fast as it can, one SSE chunk per token.
``--shape paragraph`` sends one paragraph with no line break at all (the worst case for a
renderer that re-parses the block being written); ``--shape lines`` sends short lines with
no blank line between them (one long Markdown paragraph of many lines).
The app (headless, 100x40) sends one prompt through the real SDK path: backend ->
accumulator -> agent loop -> turn worker -> AnswerView. Prints tokens/s absorbed and, for
the first and the last quarter of the answer, wall and CPU seconds per 1k tokens.
Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from bench_markdown_stream import make_answer, tokenize  # noqa: E402

from streamchat.config import Settings  # noqa: E402
from streamchat.events import TextDelta  # noqa: E402
from streamchat.ui.app import make_app  # noqa: E402

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


def make_shaped(shape: str, chars: int) -> str:
    """The answer to stream: ``markdown`` (the mix), one ``paragraph``, or many ``lines`` with no blank line."""
    if shape == "markdown":
        return make_answer(chars)
    text = SENTENCE * (chars // len(SENTENCE) + 1)
    if shape == "lines":
        text = text.replace(". ", ".\n")
    return text[:chars].rstrip()


async def run(chars: int, token_chars: int, delay: float, shape: str = "markdown") -> None:
    answer = make_shaped(shape, chars)
    tokens = tokenize(answer, token_chars)
    server, base_url = start_server(tokens, delay)
    settings = Settings(base_url=base_url, api_key="bench", max_retries=0, tools_enabled=False, timeout=60)
    app = make_app(settings)
    quarter = len(tokens) // 4
    marks: dict[int, tuple[float, float]] = {}
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await app.get_agent()
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            await app.send("Write the long answer.")
            seen = checked = 0
            while app.turn_running or not app.last_events:
                events = app.last_events
                seen += sum(1 for event in events[checked:] if isinstance(event, TextDelta))
                checked = len(events)
                for mark in (quarter, 2 * quarter, 3 * quarter, len(tokens)):
                    if seen >= mark and mark not in marks:
                        marks[mark] = (time.perf_counter(), time.process_time())
                await asyncio.sleep(0.005)
            await pilot.pause()
            end_wall, end_cpu = time.perf_counter(), time.process_time()
            shown = app.query_one("AssistantTurn").query("AnswerView").last()
            text = getattr(shown, "text", "")
            widgets = len(list(app.query("*")))
    finally:
        server.kill()
    total = end_wall - start_wall
    print(f"answer: {len(answer):,} chars, {len(tokens):,} tokens; shown intact: {text == answer}; "
          f"{widgets:,} widgets mounted at the end")
    print(f"absorbed: {len(tokens) / total:,.0f} tokens/s ({total:.2f} s wall, {end_cpu - start_cpu:.2f} s CPU)")
    first_wall, first_cpu = marks[quarter][0] - start_wall, marks[quarter][1] - start_cpu
    last_wall, last_cpu = end_wall - marks[3 * quarter][0], end_cpu - marks[3 * quarter][1]
    per_1k = 1000 / quarter
    print(f"first quarter: {first_wall * per_1k:.3f} s wall, {first_cpu * per_1k:.3f} s CPU per 1k tokens")
    print(f"last quarter:  {last_wall * per_1k:.3f} s wall, {last_cpu * per_1k:.3f} s CPU per 1k tokens")
    points = [(0, (start_wall, start_cpu)), *sorted(marks.items()), (len(tokens) + 1, (end_wall, end_cpu))]
    for (a, (wa, ca)), (b, (wb, cb)) in itertools.pairwise(points):
        label = "finish" if b > len(tokens) else f"tokens {a:>6,}-{b:<6,}"
        print(f"  {label}: {wb - wa:.2f} s wall, {cb - ca:.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=80_000, help="answer length (default 80000)")
    parser.add_argument("--token-chars", type=int, default=4, help="characters per token (default 4)")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between chunks (default 0: flat out)")
    parser.add_argument("--shape", choices=("markdown", "paragraph", "lines"), default="markdown",
                        help="what the answer looks like (default: markdown, the mix)")
    args = parser.parse_args()
    asyncio.run(run(args.chars, args.token_chars, args.delay, args.shape))


if __name__ == "__main__":
    main()
