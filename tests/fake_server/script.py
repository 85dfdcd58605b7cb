"""The script of a fake response (its steps: chunks, delays, drops...) and what a request recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

CREATED = 1_700_000_000
"""Fixed ``created`` timestamp, so scripted output is deterministic."""


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
