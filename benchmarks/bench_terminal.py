"""Benchmark: the app in a real terminal (tmux), streaming a long Markdown answer from the fake server.

    python benchmarks/bench_terminal.py [--width 120] [--height 40] [--parts 300] [--pace 50]
                                        [--seconds 10] [--turns 200] [--only flood,quarters,pace,esc,reopen]
                                        [--source OTHER_CHECKOUT]

Headless benchmarks skip the cost of painting; this one drives the real app in a detached
tmux session (``send-keys``), reads the screen (``capture-pane``) and the app's CPU time
(``/proc/PID/stat``). The answer is 300 parts, each a heading, a paragraph, a code fence
and a small table (about 76k characters), sent in 4-character chunks. It prints:

- flood: the answer at wire speed: time from the request reaching the server to the last
  line on screen, and the longest time the screen did not change while it streamed (polled
  every ~10 ms);
- quarters: CPU-ms per chunk, quarter by quarter (the server pauses 4 s after each quarter;
  the app's CPU is read when the quarter's last heading is on screen and the app is idle);
- pace: the same answer at ``--pace`` chunks/s for ``--seconds``: the app's share of a core;
- esc: a flood of 2M characters, Esc after 1 s: Esc to the server seeing the connection
  closed, and Esc to ``stopped`` on screen;
- reopen: a saved conversation of ``--turns`` turns (each answer about 1.5k characters of
  the same Markdown) opened with ``--continue``: launch to its last line on screen, and
  resident memory then.

Run by hand (needs tmux); quote ratios from one run: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from terminal import Server, Terminal, app_command

END = "END OF THE ANSWER"


def part(n: int) -> str:
    """One part: a heading, a paragraph, a code fence and a small table (about 250 characters)."""
    return (
        f"## Part {n}\n\n"
        f"Streaming shows part {n} as soon as it is written, so nobody waits for the end of it; "
        f"each line lands on screen the moment it arrives.\n\n"
        f"```python\ndef part_{n}(x):\n    return x * {n}\n```\n\n"
        f"| key | value |\n|---|--:|\n| part | {n} |\n| square | {n * n} |\n\n"
    )


def answer(parts: int) -> str:
    return "".join(part(n) for n in range(1, parts + 1)) + END + "\n"


def chunks(text: str, size: int = 4) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


SOURCE: dict[str, str] = {}
"""``PYTHONPATH`` for the app when ``--source`` names another checkout (to measure before and after)."""


def launch(server: Server, data_dir: str, width: int, height: int, *args: str) -> Terminal:
    env = {"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": server.url, "STREAMCHAT_DATA_DIR": data_dir,
           "STREAMCHAT_TOOLS": "0", **SOURCE}
    term = Terminal(app_command(*args), width, height, env)
    if term.wait_for("Ask anything", 30) is None:
        term.close()
        raise SystemExit("the app did not start:\n" + term.screen())
    return term


def flood(width: int, height: int, parts: int) -> None:
    """The answer at wire speed: request to last line on screen, and the longest still screen meanwhile."""
    text = answer(parts)
    tokens: list[str | float] = list(chunks(text))
    with Server(tokens) as server:
        term = launch(server, tempfile.mkdtemp(), width, height)
        try:
            term.type("Write the long answer")
            term.keys("Enter")
            last_change, longest, previous, shown = time.monotonic(), 0.0, "", None
            deadline = time.monotonic() + 300
            while shown is None and time.monotonic() < deadline:
                screen, now = term.screen(), time.monotonic()
                if 0 in server.requests and screen != previous:
                    longest = max(longest, now - max(last_change, server.requests[0].received))
                    last_change, previous = now, screen
                if END in screen:
                    shown = now
                time.sleep(0.01)
            request = server.requests[0]
            print(f"flood: {len(text):,} characters in {len(tokens):,} chunks, sent in "
                  f"{(request.finished or 0) - request.received:.2f} s")
            print(f"  request -> last line on screen: {shown - request.received:.2f} s" if shown else "  never shown")
            print(f"  longest time the screen did not change while streaming: {longest * 1000:.0f} ms")
        finally:
            term.close()


def quarters(width: int, height: int, parts: int) -> None:
    """CPU per chunk in the first and the last quarter: the server pauses after each quarter, and the
    app's CPU is read once the quarter's last part is on screen and the app is idle."""
    text = answer(parts)
    pieces = chunks(text)
    size = len(pieces) // 4
    tokens: list[str | float] = []
    for index in range(4):
        tokens += pieces[index * size : (index + 1) * size if index < 3 else len(pieces)]
        if index < 3:
            tokens.append(4.0)
    marks = [f"Part {parts * (index + 1) // 4}" for index in range(3)] + [END]
    with Server(tokens) as server:
        term = launch(server, tempfile.mkdtemp(), width, height)
        try:
            term.type("Write the long answer")
            cpu = [term.cpu()]
            term.keys("Enter")
            for mark in marks:
                if term.wait_for(mark, 120) is None:
                    print(f"quarters: {mark!r} never showed")
                    return
                cpu.append(idle_cpu(term))
            per_chunk = [(cpu[i + 1] - cpu[i]) / (size if i < 3 else len(pieces) - 3 * size) * 1000 for i in range(4)]
            print(f"quarters: CPU per chunk, quarter by quarter: {' · '.join(f'{ms:.3f} ms' for ms in per_chunk)}")
        finally:
            term.close()


def idle_cpu(term: Terminal) -> float:
    """The app's CPU time once it has stopped using any for 0.2 s."""
    previous = term.cpu()
    while True:
        time.sleep(0.2)
        now = term.cpu()
        if now - previous < 0.005:
            return now
        previous = now


def pace(width: int, height: int, parts: int, rate: float, seconds: float) -> None:
    tokens = chunks(answer(parts))
    with Server(tokens, delay=1 / rate) as server:
        term = launch(server, tempfile.mkdtemp(), width, height)
        try:
            term.type("Write the long answer")
            term.keys("Enter")
            while 0 not in server.requests:
                time.sleep(0.01)
            time.sleep(1.0)
            cpu0, wall0 = term.cpu(), time.monotonic()
            time.sleep(seconds)
            cpu1, wall1 = term.cpu(), time.monotonic()
            share = (cpu1 - cpu0) / (wall1 - wall0) * 100
            print(f"pace: {rate:.0f} chunks/s for {seconds:.0f} s: {share:.1f} % of a core")
        finally:
            term.close()


def esc(width: int, height: int) -> None:
    tokens = chunks(answer(8000))
    with Server(tokens) as server:
        term = launch(server, tempfile.mkdtemp(), width, height)
        try:
            term.type("Write the long answer")
            term.keys("Enter")
            while 0 not in server.requests:
                time.sleep(0.005)
            time.sleep(1.0)
            pressed = term.keys("Escape")
            shown = term.wait_for("■ stopped", 10, poll=0.005)
            deadline = time.monotonic() + 5
            while server.requests[0].disconnected is None and time.monotonic() < deadline:
                time.sleep(0.002)
            closed = server.requests[0].disconnected
            print("esc: under a flood (2M characters at wire speed), Esc after 1 s:")
            print(f"  Esc -> connection closed: {(closed - pressed) * 1000:.0f} ms" if closed else "  never closed")
            print(f"  Esc -> '■ stopped' on screen: {(shown - pressed) * 1000:.0f} ms" if shown else "  never shown")
        finally:
            term.close()


SAVE_CONVERSATION = """
import sys
from streamchat.messages import ChatMessage
try:
    from streamchat.store.database import ConversationStore
except ImportError:  # a checkout from before the store became a package
    from streamchat.store import ConversationStore
data_dir, turns, body = sys.argv[1], int(sys.argv[2]), sys.stdin.read()
with ConversationStore(data_dir) as store:
    conversation_id = store.create_conversation("Two hundred turns")
    messages = []
    for turn in range(1, turns + 1):
        messages.append(ChatMessage(role="user", content=f"Question {turn}"))
        messages.append(ChatMessage(role="assistant", content=f"Answer {turn}.\\n\\n{body}Last of {turn}"))
    store.save_messages(conversation_id, messages)
"""
"""Saves the conversation to reopen, run by the checkout measured (its own store and schema)."""


def reopen(width: int, height: int, turns: int) -> None:
    data_dir = tempfile.mkdtemp()
    body = "".join(part(n) for n in range(1, 7))
    subprocess.run([sys.executable, "-c", SAVE_CONVERSATION, data_dir, str(turns)], input=body, text=True,
                   check=True, env={**os.environ, **SOURCE}, cwd=data_dir)
    with Server(["x"]) as server:
        started = time.monotonic()
        env = {"OPENAI_API_KEY": "bench", "OPENAI_BASE_URL": server.url, "STREAMCHAT_DATA_DIR": data_dir, **SOURCE}
        term = Terminal(app_command("--continue"), width, height, env)
        try:
            shown = term.wait_for(f"Last of {turns}", 60, poll=0.005)
            print(f"reopen: {turns} turns ({turns * (len(body) + 30):,} characters) with --continue:")
            print(f"  launch -> last line on screen: {shown - started:.2f} s" if shown else "  never shown")
            time.sleep(1.0)
            print(f"  resident memory: {term.rss_mb():.0f} MB")
        finally:
            term.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=120)
    parser.add_argument("--height", type=int, default=40)
    parser.add_argument("--parts", type=int, default=300)
    parser.add_argument("--pace", type=float, default=50.0, help="chunks per second for the paced run")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the paced run is measured")
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--only", default="flood,quarters,pace,esc,reopen")
    parser.add_argument("--source", help="run the app from this checkout instead (e.g. an older commit's worktree)")
    args = parser.parse_args()
    if args.source:
        SOURCE["PYTHONPATH"] = str(Path(args.source).resolve())
    only = set(args.only.split(","))
    if "flood" in only:
        flood(args.width, args.height, args.parts)
    if "quarters" in only:
        quarters(args.width, args.height, args.parts)
    if "pace" in only:
        pace(args.width, args.height, args.parts, args.pace, args.seconds)
    if "esc" in only:
        esc(args.width, args.height)
    if "reopen" in only:
        reopen(args.width, args.height, args.turns)


if __name__ == "__main__":
    main()
