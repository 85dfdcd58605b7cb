"""The fake server: a real HTTP server on 127.0.0.1, in its own thread, serving the scripts in order."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Any

from fake_server.handler import Served, _Handler
from fake_server.script import RecordedRequest, Response


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, fake: Served, address: tuple[str, int]) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # Skip HTTPServer.server_bind's getfqdn() (a reverse DNS lookup).
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if exc is not None:
            self.fake.errors.append(exc)


class FakeServer:
    """A fake OpenAI-compatible server on 127.0.0.1, served from its own thread."""

    def __init__(self, default: Response | None = None, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.default: Response | None = default
        self.router: Callable[[RecordedRequest], Response | None] | None = None
        """When set, picks the response for each request instead of the queue (e.g. by ``stream``)."""
        self.requests: list[RecordedRequest] = []
        self.errors: list[BaseException] = []
        """Unexpected exceptions raised inside handlers (should stay empty)."""
        self.models: list[str] | None = ["fake-model"]
        """What GET /v1/models lists; None answers 404, as a server that does not list its models."""
        self.model_info: dict[str, dict[str, Any]] = {}
        """More fields of a model's entry in that list, by id (``{"max_model_len": 8192}`` as vLLM says it)."""
        self._address = (host, port)
        self._queue: deque[Response] = deque()
        self._cond = threading.Condition()
        self._stop_event = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()

    # -- lifecycle

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._address[0]}:{self.port}/v1"

    def start(self) -> None:
        if self._httpd is not None:
            return
        self._stop_event.clear()
        self._httpd = _HTTPServer(self, self._address)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, name="FakeServer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stop_event.set()
        httpd.shutdown()
        with self._cond:
            connections = list(self._connections)
            handlers = list(self._handler_threads)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=2.0)
        deadline = time.monotonic() + 1.0
        for t in handlers:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self._httpd = self._thread = None

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- scripting

    def enqueue(self, *responses: Response) -> None:
        """Queue responses; each POST /v1/chat/completions consumes one, in order."""
        with self._cond:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """How many queued responses are not consumed yet."""
        with self._cond:
            return len(self._queue)

    # -- waiting

    def wait_for_requests(self, n: int, timeout: float = 2.0) -> bool:
        """Wait until at least ``n`` chat requests were received."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= n, timeout)

    def wait_for_disconnect(self, index: int = -1, timeout: float = 2.0) -> float | None:
        """Wait until request ``index`` is seen disconnected by the client.

        Returns its ``disconnected_at`` (``time.monotonic()``), or None on timeout
        or as soon as that request's script finished without a disconnect.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if -len(self.requests) <= index < len(self.requests):
                    rec = self.requests[index]
                    if rec.disconnected_at is not None:
                        return rec.disconnected_at
                    if rec.finished_at is not None:
                        return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def wait_for_finish(self, index: int = -1, timeout: float = 2.0) -> float | None:
        """Wait until request ``index``'s script ran to its end; returns ``finished_at`` or None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if -len(self.requests) <= index < len(self.requests):
                    rec = self.requests[index]
                    if rec.finished_at is not None:
                        return rec.finished_at
                    if rec.disconnected_at is not None:
                        return None
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    # -- used by handlers

    def _record(self, rec: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _update(self, rec: RecordedRequest, **changes: float) -> None:
        with self._cond:
            for key, value in changes.items():
                setattr(rec, key, value)
            self._cond.notify_all()

    def _next_response(self, rec: RecordedRequest) -> Response | None:
        if self.router is not None:
            return self.router(rec)
        with self._cond:
            return self._queue.popleft() if self._queue else self.default

    def _track(self, conn: socket.socket, thread: threading.Thread) -> None:
        with self._cond:
            self._connections.add(conn)
            self._handler_threads.add(thread)

    def _untrack(self, conn: socket.socket, thread: threading.Thread) -> None:
        with self._cond:
            self._connections.discard(conn)
            self._handler_threads.discard(thread)
