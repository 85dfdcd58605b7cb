"""The chat app on a real pseudo-terminal: a signal leaves the terminal as Ctrl+Q does, and saves."""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fake_server import FakeServer, text_response

from streamchat.store.database import ConversationStore

LEAVE_ALT_SCREEN = b"\x1b[?1049l"
"""What a full-screen app writes to give the shell its screen back."""
MOUSE_OFF = b"\x1b[?1000l"
"""What turns mouse reporting off again."""


class Terminal:
    """The master side of a pty the app runs on: everything the app wrote, and a way to type."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for(self, text: bytes, limit: float = 30.0) -> None:
        deadline = time.monotonic() + limit
        while text not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"never saw {text!r} on the terminal")
            time.sleep(0.02)


@contextmanager
def app_on_a_terminal(server: FakeServer, data_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes], Terminal]]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-signal-test-1234", STREAMCHAT_MAX_RETRIES="0",
               STREAMCHAT_DATA_DIR=str(data_dir), TERM="xterm-256color")
    process = subprocess.Popen([sys.executable, "-m", "streamchat"], stdin=slave, stdout=slave, stderr=slave,
                               env=env, cwd=data_dir.parent, start_new_session=True)
    os.close(slave)
    terminal = Terminal(master)
    try:
        yield process, terminal
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        os.close(master)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["TERM", "HUP"])
def test_a_signal_restores_the_terminal_and_saves_the_answer_as_stopped(
        fake_server: FakeServer, tmp_path: Path, signum: int, status: int) -> None:
    fake_server.enqueue(text_response("one two three four five six seven eight nine ten", delay=0.3))
    data_dir = tmp_path / "data"
    with app_on_a_terminal(fake_server, data_dir) as (process, terminal):
        terminal.wait_for(b"Ask anything")
        terminal.type("count to ten\r")
        assert fake_server.wait_for_requests(1, 20)
        terminal.wait_for(b"two")
        written = len(terminal.output)
        process.send_signal(signum)
        assert process.wait(20) == status
        time.sleep(0.2)  # the reader thread takes the last bytes
        after = bytes(terminal.output[written:])
    assert LEAVE_ALT_SCREEN in after and MOUSE_OFF in after, "the terminal was left in the app's modes"
    with ConversationStore(data_dir) as store:
        saved = store.load(store.last_conversation_id() or "").messages
    assert [(m.role, m.status) for m in saved] == [("user", None), ("assistant", "stopped")]
    assert saved[-1].content.startswith("one two")
