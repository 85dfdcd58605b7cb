"""Builders of scripted responses: streamed text, tool calls, blocking bodies, errors, a web page."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal, TypeAlias

from fake_server.script import CREATED, Chunk, Delay, Done, Response, Step

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
