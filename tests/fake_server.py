"""A scriptable fake OpenAI-compatible chat-completions server for tests.

The server really listens on 127.0.0.1 (port 0 by default) and serves from its
own thread, so it works with any asyncio loop the test uses (including the one
a Textual snapshot test runs). Standard library only.

Usage::

    with FakeServer() as server:
        server.enqueue(text_response("Hello world", delay=0.01))
        client = openai.AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)
        ...
        assert server.requests[0].messages[-1]["content"] == "hi"

Each POST /v1/chat/completions consumes one scripted :class:`Response` from the
queue (or :attr:`FakeServer.default` when the queue is empty). Streaming
requests (``"stream": true``) get the script's steps as HTTP/1.1 chunked
``text/event-stream``; non-streaming requests get ``Response.body`` as JSON, or,
when a script has no body, a ``chat.completion`` assembled from its chunks.
"""

from __future__ import annotations

import json
import math
import re
import select
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, TypeAlias

__all__ = [
    "Chunk",
    "Delay",
    "Done",
    "Drop",
    "FakeServer",
    "Headers",
    "Raw",
    "RecordedRequest",
    "Response",
    "SSEError",
    "Stall",
    "Step",
    "blocking_response",
    "chunk",
    "error_response",
    "split_words",
    "text_response",
    "tool_call_response",
    "web_page",
]

CREATED = 1_700_000_000
"""Fixed ``created`` timestamp, so scripted output is deterministic."""

_POLL = 0.005  # seconds between socket checks while waiting (<= 10 ms required)


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Chunk:
    """Writes ``data: {json}\\n\\n``."""

    data: dict[str, Any]


@dataclass(frozen=True)
class Delay:
    """Waits, watching the socket so a client disconnect is seen within ~5 ms."""

    seconds: float


@dataclass(frozen=True)
class Stall(Delay):
    """Same as :class:`Delay`; named for readability in timeout tests."""


@dataclass(frozen=True)
class Done:
    """Writes ``data: [DONE]\\n\\n``."""


@dataclass(frozen=True)
class Drop:
    """Closes the TCP connection abruptly, without finishing the chunked body.

    ``rst=False`` (default) shuts the socket down (FIN): the client sees the
    body end early. ``rst=True`` sets ``SO_LINGER 0`` and closes: the client
    sees a connection reset. Steps after a Drop never run.
    """

    rst: bool = False


@dataclass(frozen=True)
class Raw:
    """Raw bytes in the body (sent as one HTTP chunk; empty data is skipped)."""

    data: bytes


@dataclass(frozen=True)
class SSEError:
    """Writes ``data: {"error": {...}}\\n\\n`` (an error object inside the stream)."""

    error: dict[str, Any]


Step: TypeAlias = Chunk | Delay | Done | Drop | Raw | SSEError


@dataclass
class Response:
    """A script for one chat-completions request."""

    steps: list[Step] = field(default_factory=list)
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    headers_delay: float = 0.0
    """Wait this long (watching for disconnect) before sending the status line."""
    raw_body: bytes | None = None
    """Send these bytes as the whole body, whatever the request (with ``status`` and ``headers``;
    ``Content-Type`` defaults to ``text/html``): a web page, a proxy's error page."""
    always_stream: bool = False
    """Stream the steps even to a ``"stream": false`` request (a server that only streams)."""


# --------------------------------------------------------------------------- recording


class Headers(dict[str, str]):
    """A dict of request headers with lower-case keys and case-insensitive lookup."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return super().__contains__(key.lower() if isinstance(key, str) else key)

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass
class RecordedRequest:
    """One POST /v1/chat/completions as the server saw it."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float
    disconnected_at: float | None = None
    """When the server saw the client close the connection before the script finished."""
    finished_at: float | None = None
    """When the script ran to its end (a scripted Drop counts as the end)."""

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages = self.body.get("messages")
        return messages if isinstance(messages, list) else []


# --------------------------------------------------------------------------- script helpers

_WORDS = re.compile(r"\s*\S+|\s+")


def split_words(text: str) -> list[str]:
    """Split into word-ish tokens that keep their leading spaces (``"a b"`` -> ``["a", " b"]``)."""
    return _WORDS.findall(text)


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    model: str = "fake-model",
    choices: bool = True,
    usage: dict[str, Any] | None = None,
    id: str = "chatcmpl-fake",
) -> Chunk:
    """A ``chat.completion.chunk`` exactly as OpenAI sends it."""
    data: dict[str, Any] = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": None,
        "choices": (
            [{"index": 0, "delta": dict(delta or {}), "logprobs": None, "finish_reason": finish_reason}]
            if choices
            else []
        ),
    }
    if usage is not None:
        data["usage"] = usage
    return Chunk(data)


def _default_usage(completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": 10, "completion_tokens": completion_tokens, "total_tokens": 10 + completion_tokens}


def _between(chunks: list[Chunk], delay: float) -> list[Step]:
    steps: list[Step] = []
    for i, c in enumerate(chunks):
        if i and delay > 0:
            steps.append(Delay(delay))
        steps.append(c)
    return steps


def text_response(
    text_or_pieces: str | list[str],
    *,
    delay: float = 0.0,
    finish_reason: str | None = "stop",
    usage: dict[str, Any] | None = None,
    done: bool = True,
    first_delay: float = 0.0,
) -> Response:
    """A streamed text answer.

    Steps: ``Delay(first_delay)`` (if > 0), a role chunk ``{"role": "assistant",
    "content": ""}``, one chunk per piece with ``Delay(delay)`` between pieces,
    a final chunk with ``finish_reason`` and an empty delta, a usage chunk with
    ``"choices": []`` (if ``usage``), then ``[DONE]`` (if ``done``).
    """
    pieces = split_words(text_or_pieces) if isinstance(text_or_pieces, str) else list(text_or_pieces)
    steps: list[Step] = []
    if first_delay > 0:
        steps.append(Delay(first_delay))
    steps.append(chunk({"role": "assistant", "content": ""}))
    steps += _between([chunk({"content": p}) for p in pieces], delay)
    steps.append(chunk({}, finish_reason=finish_reason))
    if usage is not None:
        steps.append(chunk(choices=False, usage=usage))
    if done:
        steps.append(Done())
    return Response(steps)


def _args_text(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments)


def _fragments(text: str, pieces: int) -> list[str]:
    if not text:
        return []
    size = math.ceil(len(text) / max(1, pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


ToolCallSpec: TypeAlias = tuple[str, str, "dict[str, Any] | str"]
Dialect = Literal["openai", "ollama", "llamacpp", "no_index", "one_chunk", "index_from_1"]


def tool_call_response(
    calls: list[ToolCallSpec],
    *,
    dialect: Dialect = "openai",
    text_before: str = "",
    finish_reason: str | None = None,
    pieces: int = 3,
    delay: float = 0.0,
) -> Response:
    """A streamed answer with tool calls, in one of several servers' dialects.

    ``calls`` are ``(id, name, arguments)``; a dict of arguments is JSON-encoded.
    ``finish_reason=None`` means the dialect's own: ``"tool_calls"``, or
    ``"stop"`` for ``"ollama"``. Every tool-call delta is in its own chunk
    (except ``"one_chunk"``), with ``Delay(delay)`` between content chunks.
    """
    role = chunk({"role": "assistant", "content": "" if text_before else None})
    body: list[Chunk] = [chunk({"content": p}) for p in split_words(text_before)]

    def tc_chunk(*deltas: dict[str, Any]) -> Chunk:
        return chunk({"tool_calls": list(deltas)})

    for i, (call_id, name, arguments) in enumerate(calls):
        args = _args_text(arguments)
        frags = _fragments(args, pieces)
        if dialect in ("openai", "no_index", "index_from_1"):
            index = {"index": i + (1 if dialect == "index_from_1" else 0)} if dialect != "no_index" else {}
            body.append(
                tc_chunk({**index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}})
            )
            body += [tc_chunk({**index, "function": {"arguments": f}}) for f in frags]
        elif dialect == "ollama":
            body.append(
                chunk(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": name, "arguments": args},
                            }
                        ],
                    }
                )
            )
        elif dialect == "llamacpp":
            body += [
                tc_chunk({"index": i, "id": call_id, "type": "function", "function": {"name": name, "arguments": f}})
                for f in (frags or [""])
            ]
        elif dialect != "one_chunk":
            raise ValueError(f"unknown tool-call dialect {dialect!r}")
    if dialect == "one_chunk":
        body.append(
            tc_chunk(
                *(
                    {"index": i, "id": cid, "type": "function", "function": {"name": n, "arguments": _args_text(a)}}
                    for i, (cid, n, a) in enumerate(calls)
                )
            )
        )
    if finish_reason is None:
        finish_reason = "stop" if dialect == "ollama" else "tool_calls"
    steps: list[Step] = [role, *_between(body, delay), chunk({}, finish_reason=finish_reason), Done()]
    return Response(steps)


def _completion_body(
    content: str | None,
    tool_calls: list[dict[str, Any]] | None,
    finish_reason: str | None,
    usage: dict[str, Any] | None,
    *,
    model: str = "fake-model",
    id: str = "chatcmpl-fake",
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": None,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage if usage is not None else _default_usage(len(split_words(content or ""))),
    }


def blocking_response(
    text: str,
    *,
    tool_calls: list[ToolCallSpec] | None = None,
    delay: float = 0.0,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> Response:
    """A ``chat.completion`` body for ``stream: false`` requests, sent after ``delay``.

    ``finish_reason=None`` means ``"tool_calls"`` when there are tool calls, else ``"stop"``.
    With tool calls and empty ``text``, ``content`` is ``null``.
    """
    calls = [
        {"id": cid, "type": "function", "function": {"name": name, "arguments": _args_text(args)}}
        for cid, name, args in tool_calls or []
    ]
    if finish_reason is None:
        finish_reason = "tool_calls" if calls else "stop"
    content = None if calls and not text else text
    body = _completion_body(content, calls, finish_reason, usage)
    return Response([Delay(delay)] if delay > 0 else [], body=body)


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    409: "conflict_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


def error_response(
    status: int,
    message: str,
    *,
    code: str | None = None,
    retry_after: str | None = None,
    retry_after_ms: str | None = None,
    error_type: str | None = None,
) -> Response:
    """An HTTP error with an OpenAI-style ``{"error": {...}}`` body.

    Note: the openai SDK ignores ``Retry-After: 0`` (it needs 0 < value <= 60) and
    falls back to its own backoff (~0.5 s); use ``retry_after_ms="1"`` for a fast retry.
    """
    if error_type is None:
        error_type = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return Response(status=status, headers=headers, body=body)


WEB_PAGE = b"<!doctype html><html><head><title>Chat</title></head><body><div id=app></div></body></html>"
"""What a web UI serves at its root, for tests of a base URL that is not the API."""


def web_page(status: int = 200, body: bytes = WEB_PAGE) -> Response:
    """An HTML page with ``status`` (a web UI's address, a 404 page, a proxy's error page)."""
    return Response(status=status, raw_body=body)


def _aggregate(steps: list[Step]) -> dict[str, Any]:
    """Build a ``chat.completion`` body from a streaming script's chunks."""
    content: list[str] = []
    calls: list[dict[str, Any]] = []
    by_index: dict[Any, dict[str, Any]] = {}
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    model, cid = "fake-model", "chatcmpl-fake"
    for step in steps:
        if not isinstance(step, Chunk):
            continue
        data = step.data
        model, cid = data.get("model", model), data.get("id", cid)
        if data.get("usage"):
            usage = data["usage"]
        for choice in data.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                content.append(delta["content"])
            for tc in delta.get("tool_calls") or []:
                fn = tc.get("function") or {}
                key = tc.get("index")
                known = next((c for c in calls if tc.get("id") and c["id"] == tc.get("id")), None)
                if known is None and (tc.get("id") or key not in by_index):
                    known = {"id": tc.get("id", ""), "type": "function", "function": {"name": "", "arguments": ""}}
                    calls.append(known)
                elif known is None:
                    known = by_index[key]
                by_index[key] = known
                if fn.get("name") and not known["function"]["name"]:
                    known["function"]["name"] = fn["name"]
                known["function"]["arguments"] += fn.get("arguments") or ""
            if choice.get("finish_reason"):
                finish_reason = choice["finish_reason"]
    text = "".join(content)
    return _completion_body(text if text or not calls else None, calls, finish_reason, usage, model=model, id=cid)


# --------------------------------------------------------------------------- server

_Outcome = Literal["ok", "disconnected", "stopped"]


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, fake: FakeServer, address: tuple[str, int]) -> None:
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY
    server: _HTTPServer
    fake: FakeServer

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
            data = [{"id": m, "object": "model", "created": CREATED, "owned_by": "fake"} for m in self.fake.models]
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
