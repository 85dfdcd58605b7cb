"""The OpenAI-compatible backend over ``AsyncOpenAI``.

Works with OpenAI, Ollama, vLLM, llama.cpp server, LM Studio and OpenRouter
through ``base_url``. Streams with ``create(stream=True)`` inside
``async with``, so closing or cancelling closes the HTTP response at once.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncGenerator
from typing import Any

import httpx2
import openai
from openai import AsyncOpenAI

from streamchat.backends import mistakes
from streamchat.backends.base import ChatRequest, Completion
from streamchat.backends.errors import error_of
from streamchat.backends.wire import wire_chunks
from streamchat.config.settings import Settings
from streamchat.safety import host_of
from streamchat.timing import RequestTimer

NO_KEY_PLACEHOLDER = "no-key"
"""Sent as the key to servers that need none (Ollama, llama.cpp, vLLM)."""


def media_type(content_type: str | None) -> str:
    """``text/event-stream`` for ``text/event-stream; charset=utf-8`` ("" when there is none)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


CONTEXT_KEYS = ("context_length", "context_window", "max_model_len", "max_context_length", "n_ctx")
"""Where servers say a model's context length in their model list (first found wins)."""


def context_length(info: dict[str, object]) -> int | None:
    """The context length a model-list entry states, if it states one."""
    for place in (info, info.get("meta"), info.get("top_provider")):
        if isinstance(place, dict):
            for key in (*CONTEXT_KEYS, "n_ctx_train"):
                value = place.get(key)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    return value
    return None


class OpenAIBackend:
    """Talks to any OpenAI-compatible chat-completions server."""

    name = "openai"
    supports_tools = True

    def __init__(self, settings: Settings, *, client: AsyncOpenAI | None = None) -> None:
        self.settings = settings
        """The settings it was made with."""
        self.client = client or AsyncOpenAI(
            api_key=settings.api_key or NO_KEY_PLACEHOLDER,
            base_url=settings.base_url,
            timeout=httpx2.Timeout(settings.timeout, connect=settings.connect_timeout),
            max_retries=0,  # the agent retries, and says so (``Retrying``), instead of a silent wait
            default_headers=dict(settings.headers) or None,
        )
        """The SDK client."""
        self.include_usage = True
        """Ask for ``stream_options.include_usage``; turned off if the server refuses it."""
        self.description = f"openai · {host_of(str(self.client.base_url))}"
        """Backend and server, for status lines."""

    def prepare(self) -> None:
        """Import what the first request would (the SDK's chat resources, the stream's parsers); see
        ``Backend.prepare``. Measured: it takes about 40 ms off the first request."""
        self.client.chat.completions  # noqa: B018 - a lazy property: touching it imports the chat resources
        for module in ("jiter", "anyio._backends._asyncio"):  # parses the events; runs the transport on asyncio
            with contextlib.suppress(ImportError):
                importlib.import_module(module)

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {"model": request.model, "messages": request.messages}
        if request.tools:
            params["tools"] = request.tools
        if request.max_tokens is not None:
            params["max_tokens"] = request.max_tokens
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    async def _open_stream(self, request: ChatRequest) -> Any:
        params = self._params(request)
        if self.include_usage:
            try:
                return await self.client.chat.completions.create(
                    **params, stream=True, stream_options={"include_usage": True}
                )
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                if "stream_options" not in str(exc) and "include_usage" not in str(exc):
                    raise
                self.include_usage = False
        return await self.client.chat.completions.create(**params, stream=True)

    async def stream(self, request: ChatRequest, timer: RequestTimer) -> AsyncGenerator[Any, None]:
        """Yield the stream's chunks (`WireObject`s, read like ``ChatCompletionChunk``s); see ``Backend.stream``.

        An answer that is not an event stream (a web page, one JSON body) is a ``BackendError``
        naming the mistake, rather than an empty stream.
        """
        response = await self._open_stream(request)
        timer.headers()
        async with response:
            content_type = media_type(response.response.headers.get("content-type"))
            if content_type and content_type != "text/event-stream":
                raise error_of(mistakes.not_an_event_stream(self.settings.base_url, content_type))
            async for chunk in wire_chunks(response):
                yield chunk

    async def complete(self, request: ChatRequest, timer: RequestTimer) -> Completion:
        """One blocking request; see ``Backend.complete``."""
        result: Any = await self.client.chat.completions.create(**self._params(request), stream=False)
        timer.headers()
        if isinstance(result, str):  # the SDK hands over a body that is not JSON as text
            raise error_of(mistakes.unexpected_body(self.settings.base_url, result))
        choice = result.choices[0] if result.choices else None
        message = choice.message if choice else None
        calls = [
            (call.id, call.function.name, call.function.arguments)
            for call in (message.tool_calls or [] if message else [])
            if getattr(call, "function", None) is not None
        ]
        extra = (message.model_extra or {}) if message else {}
        reasoning = extra.get("reasoning_content") or extra.get("reasoning") or ""
        usage = result.usage
        return Completion(
            content=(message.content or "") if message else "",
            tool_calls=calls,
            finish_reason=choice.finish_reason if choice else None,
            completion_tokens=usage.completion_tokens if usage else None,
            reasoning=reasoning if isinstance(reasoning, str) else "",
        )

    async def list_models(self) -> list[str]:
        """The ids the server lists at ``GET /models``, sorted; raises what the SDK raises."""
        page = await self.client.models.list(timeout=self.settings.connect_timeout + 5.0)
        return sorted({model.id async for model in page})

    async def context_window(self) -> int | None:
        """The model's context length, when the server's model list says it (vLLM ``max_model_len``, OpenRouter
        ``context_length``, llama.cpp ``meta.n_ctx_train``...); None when it does not, or cannot be asked."""
        try:
            page = await self.client.models.list(timeout=self.settings.connect_timeout + 5.0)
            async for model in page:
                if model.id == self.settings.model_name:
                    return context_length(model.model_extra or {})
        except Exception:  # noqa: BLE001 - the meter then goes without a window
            return None
        return None

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.client.close()
