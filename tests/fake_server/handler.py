"""The HTTP side of the fake server: one handler per connection, playing a script as the OpenAI API would."""

from __future__ import annotations

import json
import select
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal, Protocol

from fake_server.builders import _aggregate
from fake_server.script import CREATED, Chunk, Delay, Done, Drop, Headers, Raw, RecordedRequest, Response, SSEError

_POLL = 0.005  # seconds between socket checks while waiting (<= 10 ms required)


class Served(Protocol):
    """What the handler needs of the ``FakeServer`` it serves for: the scripts, the records, the stop."""

    errors: list[BaseException]
    models: list[str] | None
    model_info: dict[str, dict[str, Any]]
    _stop_event: threading.Event

    def _record(self, rec: RecordedRequest) -> None: ...
    def _update(self, rec: RecordedRequest, **changes: float) -> None: ...
    def _next_response(self, rec: RecordedRequest) -> Response | None: ...
    def _track(self, conn: socket.socket, thread: threading.Thread) -> None: ...
    def _untrack(self, conn: socket.socket, thread: threading.Thread) -> None: ...


_Outcome = Literal["ok", "disconnected", "stopped"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY
    fake: Served

    # -- plumbing

    def setup(self) -> None:
        super().setup()
        self.fake = self.server.fake
        self.fake._track(self.connection, threading.current_thread())

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        self.fake._untrack(self.connection, threading.current_thread())

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionError, OSError, ValueError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _peer_closed(self) -> bool:
        sock = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            peeked: bytes = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            return peeked == b""
        except BlockingIOError:
            return False
        except (ConnectionError, OSError, ValueError):
            return True

    def _wait(self, seconds: float) -> _Outcome:
        stop = self.fake._stop_event
        deadline = time.monotonic() + seconds
        peer_sent_data = False
        while True:
            if stop.is_set():
                return "stopped"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "ok"
            timeout = min(_POLL, remaining)
            if peer_sent_data:
                stop.wait(timeout)
                continue
            try:
                readable, _, _ = select.select([self.connection], [], [], timeout)
                if readable:
                    if self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        return "disconnected"
                    peer_sent_data = True  # unexpected bytes (pipelining?): just sleep
            except BlockingIOError:
                pass
            except (ConnectionError, OSError, ValueError):
                return "disconnected"

    def _disconnected(self, rec: RecordedRequest | None) -> None:
        self.close_connection = True
        if rec is not None:
            self.fake._update(rec, disconnected_at=time.monotonic())

    def _finished(self, rec: RecordedRequest | None) -> None:
        if rec is not None:
            self.fake._update(rec, finished_at=time.monotonic())

    def _interrupted(self, rec: RecordedRequest, outcome: _Outcome) -> None:
        if outcome == "disconnected":
            self._disconnected(rec)
        else:
            self._abort()

    def _abort(self) -> None:
        """Server is stopping: cut the connection."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _drop(self, rst: bool) -> None:
        self.close_connection = True
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # The makefile() objects hold references: close them too so the fd really closes.
                self.rfile.close()
                self.wfile.close()
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        merged = {"Content-Type": "application/json", **(headers or {})}
        for key, value in merged.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _send_raw(self, resp: Response) -> None:
        assert resp.raw_body is not None
        self.send_response(resp.status)
        headers = {"Content-Type": "text/html; charset=utf-8", **resp.headers}
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(resp.raw_body)))
        self.end_headers()
        self.wfile.write(resp.raw_body)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # -- routes

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/models" and self.fake.models is not None:
            info = self.fake.model_info
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake", **info.get(m, {})}
                    for m in self.fake.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._not_found()

    def do_POST(self) -> None:
        raw = self._read_body()
        path = self.path.split("?", 1)[0].rstrip("/")
        if path != "/v1/chat/completions":
            self._not_found()
            return
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise ValueError("body is not a JSON object")
        except ValueError as exc:
            self._send_json(400, {"error": {"message": f"invalid JSON body: {exc}", "type": "invalid_request_error"}})
            return
        rec = RecordedRequest(
            path=self.path, headers=Headers(self.headers.items()), body=body, received_at=time.monotonic()
        )
        self.fake._record(rec)
        resp = self.fake._next_response(rec)
        if resp is None:
            message = "FakeServer: no scripted response left and no default"
            error = {"message": message, "type": "server_error", "param": None, "code": "fake_server_queue_empty"}
            self._send_json(500, {"error": error})
            self._finished(rec)
            return
        try:
            self._serve(rec, resp)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self._disconnected(rec)

    def _not_found(self) -> None:
        error = {"message": f"FakeServer: no route for {self.command} {self.path}", "type": "invalid_request_error"}
        self._send_json(404, {"error": {**error, "param": None, "code": "unknown_url"}})

    def _serve(self, rec: RecordedRequest, resp: Response) -> None:
        if resp.headers_delay > 0:
            outcome = self._wait(resp.headers_delay)
            if outcome != "ok":
                self._interrupted(rec, outcome)
                return
        if resp.raw_body is not None:
            self._send_raw(resp)
            self._finished(rec)
            return
        body_only = resp.body is not None and all(isinstance(step, Delay) for step in resp.steps)
        if resp.status == 200 and (rec.stream or resp.always_stream) and not body_only:
            self._stream(rec, resp)
            return
        # A JSON answer (error status, non-streaming request, or a body-plus-delays script):
        # run the waits (and a Drop / in-stream error) first, then send the body.
        body = resp.body
        status = resp.status
        for step in resp.steps:
            if isinstance(step, Delay):
                outcome = self._wait(step.seconds)
                if outcome != "ok":
                    self._interrupted(rec, outcome)
                    return
            elif isinstance(step, Drop):
                self._drop(step.rst)
                self._finished(rec)
                return
            elif isinstance(step, SSEError) and body is None and status == 200:
                status, body = 500, {"error": step.error}
        if body is None and status != 200:
            body = {"error": {"message": f"FakeServer: scripted HTTP {status}", "type": "server_error"}}
        elif body is None:
            body = _aggregate(resp.steps)
        if self._peer_closed():
            self._disconnected(rec)
            return
        self._send_json(status, body, resp.headers)
        self._finished(rec)

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _stream(self, rec: RecordedRequest, resp: Response) -> None:
        self.send_response(200)
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        overrides = {k.lower() for k in resp.headers}
        headers = {k: v for k, v in headers.items() if k.lower() not in overrides}
        for key, value in {**headers, **resp.headers}.items():
            self.send_header(key, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for step in resp.steps:
            if isinstance(step, Delay):
                outcome = self._wait(step.seconds)
                if outcome == "disconnected":
                    self._disconnected(rec)
                    return
                if outcome == "stopped":
                    self._abort()
                    return
                continue
            if isinstance(step, Drop):
                self._drop(step.rst)
                self._finished(rec)
                return
            if isinstance(step, Chunk):
                data = b"data: " + json.dumps(step.data, separators=(",", ":")).encode() + b"\n\n"
            elif isinstance(step, Done):
                data = b"data: [DONE]\n\n"
            elif isinstance(step, SSEError):
                data = b"data: " + json.dumps({"error": step.error}, separators=(",", ":")).encode() + b"\n\n"
            elif isinstance(step, Raw):
                data = step.data
            else:  # pragma: no cover - defensive
                raise TypeError(f"unknown step {step!r}")
            if self._peer_closed():
                self._disconnected(rec)
                return
            self._write_chunk(data)
        self.wfile.write(b"0\r\n\r\n")
        self._finished(rec)
