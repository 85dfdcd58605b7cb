"""A chat-completions event stream read straight from the wire (the SDK sends the request and opens it).

The SDK's stream builds a pydantic model for every chunk: at hundreds of chunks a second that
was most of the CPU time the app spent per chunk (0.12 ms of 0.19 ms, measured). `wire_chunks`
reads the same server-sent events from the SDK's response and parses each with ``json``;
`WireObject` lets the accumulator read a chunk exactly as it reads the SDK's models (by
``getattr``). It keeps the SDK's stream rules: ``[DONE]`` ends the stream (the rest of the body is
read so the connection can be reused), and an event carrying ``error`` raises ``openai.APIError``.
A line that is not JSON raises ``json.JSONDecodeError`` (named as a setup mistake upstream).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx2
import openai

__all__ = ["WireObject", "wire_chunks"]


class WireObject:
    """A JSON object from the stream, read like the SDK's models: a missing field is None, objects nest.

    ``model_extra`` is the object itself, so fields the SDK would keep as extras
    (``reasoning_content``, ``reasoning``) are found there.
    """

    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getattr__(self, name: str) -> Any:
        if name == "model_extra":
            return self._data
        value = self._data.get(name)
        if isinstance(value, dict):
            return WireObject(value)
        if isinstance(value, list):
            return [WireObject(item) if isinstance(item, dict) else item for item in value]
        return value

    def __repr__(self) -> str:
        return f"WireObject({self._data!r})"


async def wire_chunks(stream: Any) -> AsyncIterator[WireObject]:
    """The chunks of ``stream`` (an ``openai.AsyncStream`` not iterated yet), parsed with ``json``.

    A stall or a broken connection raises what the SDK's stream raises (``openai.APITimeoutError``,
    ``openai.APIConnectionError``), so errors are told apart as before."""
    response = stream.response
    try:
        async for chunk in _chunks(response):
            yield chunk
    except httpx2.TimeoutException as exc:
        raise openai.APITimeoutError(request=response.request) from exc
    except (httpx2.RequestError, ssl.SSLError, anyio.EndOfStream) as exc:
        raise openai.APIConnectionError(request=response.request) from exc


async def _chunks(response: Any) -> AsyncIterator[WireObject]:
    lines = response.aiter_lines()
    data: list[str] = []
    async for line in lines:
        if line.startswith("data:"):
            data.append(line[6:] if line.startswith("data: ") else line[5:])
        elif not line and data:  # a blank line ends an event
            payload = "\n".join(data)
            data.clear()
            if payload.startswith("[DONE]"):
                async for _ in lines:  # the rest of the body: HTTP/1.1 reuses the connection only when read
                    pass
                return
            if (chunk := _chunk(payload, response)) is not None:
                yield chunk
    if data and not "\n".join(data).startswith("[DONE]"):  # the last event, with no blank line after it
        if (chunk := _chunk("\n".join(data), response)) is not None:
            yield chunk


def _chunk(payload: str, response: Any) -> WireObject | None:
    chunk = json.loads(payload)
    if isinstance(chunk, dict) and chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else None
        raise openai.APIError(message if isinstance(message, str) and message else "An error occurred during streaming",
                              response.request, body=error)
    return WireObject(chunk) if isinstance(chunk, dict) else None
