"""Helpers for benchmarks in a real terminal: tmux, the fake server in a child process, /proc readings.

Not a benchmark itself; `bench_terminal.py` uses it. Run by hand only (needs tmux).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent / "tests"
TICKS = os.sysconf("SC_CLK_TCK")

SERVER = """
import json, sys, time
sys.path.insert(0, {tests!r})
from fake_server import Delay, Done, FakeServer, Response, chunk
tokens = json.load(open({tokens_file!r}))
steps = [chunk({{"role": "assistant", "content": ""}})]
for token in tokens:  # a number instead of a chunk: the server pauses that long there
    if isinstance(token, float):
        steps.append(Delay(token))
    else:
        if {delay} > 0 and len(steps) > 1:
            steps.append(Delay({delay}))
        steps.append(chunk({{"content": token}}))
response = Response([*steps, chunk({{}}, finish_reason="stop"), Done()])
server = FakeServer(default=response)
server.start()
print(json.dumps({{"url": server.base_url}}), flush=True)
seen = {{}}
while True:
    for index, request in enumerate(list(server.requests)):
        state = (request.received_at, request.finished_at, request.disconnected_at)
        if seen.get(index) != state:
            seen[index] = state
            print(json.dumps({{"index": index, "received": request.received_at, "finished": request.finished_at,
                              "disconnected": request.disconnected_at}}), flush=True)
    time.sleep(0.002)
"""


@dataclass
class ServedRequest:
    """What the fake server saw of one request (``time.monotonic()`` values, shared by every process)."""

    received: float
    finished: float | None = None
    disconnected: float | None = None


@dataclass
class Server:
    """The fake OpenAI server streaming ``tokens`` (``delay`` seconds apart) in a child process."""

    tokens: Sequence[str | float]
    """The answer's chunks; a number instead is a pause of that many seconds."""
    delay: float = 0.0
    url: str = ""
    requests: dict[int, ServedRequest] = field(default_factory=dict)
    _proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Server:
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
            json.dump(list(self.tokens), file)
        code = SERVER.format(tests=str(TESTS), tokens_file=file.name, delay=self.delay)
        self._proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        self.url = json.loads(self._proc.stdout.readline())["url"]
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            event = json.loads(line)
            self.requests[event["index"]] = ServedRequest(event["received"], event["finished"], event["disconnected"])

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()


class Terminal:
    """The app in a detached tmux session of ``width`` x ``height``."""

    def __init__(self, command: str, width: int = 120, height: int = 40, env: dict[str, str] | None = None) -> None:
        self.name = f"bench{os.getpid()}"
        exports = " ".join(f"{key}={shlex.quote(value)}" for key, value in (env or {}).items())
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
                        f"exec env {exports} {command}"], check=True)
        self.pid = self._app_pid()

    def _app_pid(self) -> int:
        out = subprocess.run(["tmux", "display", "-p", "-t", self.name, "#{pane_pid}"], capture_output=True,
                             text=True, check=True)
        return int(out.stdout.strip())

    def screen(self) -> str:
        """The visible screen as text."""
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def keys(self, *keys: str) -> float:
        """Send keys; returns when they were sent."""
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)
        return time.monotonic()

    def type(self, text: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-l", text], check=True)

    def wait_for(self, needle: str, timeout: float = 60.0, poll: float = 0.01) -> float | None:
        """Poll until ``needle`` is on screen; the time it was first seen, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.screen():
                return time.monotonic()
            time.sleep(poll)
        return None

    def cpu(self) -> float:
        """CPU seconds (user + system) the app has used."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def rss_mb(self) -> float:
        """Resident memory in MB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def app_command(*args: str) -> str:
    """The command that runs streamchat with this Python (``-P``: not the current folder's package, so that
    ``PYTHONPATH`` picks the checkout measured)."""
    return " ".join(shlex.quote(part) for part in (sys.executable, "-P", "-m", "streamchat", *args))
