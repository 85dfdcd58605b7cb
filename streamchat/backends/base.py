"""The backend interface: stream a chat completion, or complete it blocking."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Protocol

from streamchat.timing import RequestTimer


@dataclass(frozen=True)
class ChatRequest:
    """One request to a model."""

    messages: list[dict[str, Any]]
    """The conversation in the API's form."""
    model: str
    """The model to ask."""
    tools: list[dict[str, Any]] = field(default_factory=list)
    """Tool schemas to offer; empty offers none."""
    max_tokens: int | None = None
    """Cap on completion tokens, or None for the server's default."""
    temperature: float | None = None
    """Sampling temperature, or None for the server's default."""


@dataclass(frozen=True)
class Completion:
    """A blocking answer, reduced to what we use."""

    content: str
    """The answer text."""
    tool_calls: list[tuple[str, str, str]]
    """(id, name, arguments) of each tool call."""
    finish_reason: str | None
    """Why the model stopped."""
    completion_tokens: int | None
    """Tokens the server says it generated, if it said."""
    reasoning: str = ""
    """Reasoning text, if the server sent any."""


class Backend(Protocol):
    """Something that can answer a ``ChatRequest``; knows nothing of any UI."""

    name: str
    """Short name shown to the user: ``openai`` or ``local``."""
    supports_tools: bool
    """False when the model cannot call tools (the agent loop then offers none)."""
    description: str
    """One line for status bars: backend and where it points."""

    def stream(self, request: ChatRequest, timer: RequestTimer) -> AsyncGenerator[Any, None]:
        """Yield ``ChatCompletionChunk``s as they arrive.

        Calls ``timer.headers()`` when the response starts. Closing the
        iterator (or cancelling the task consuming it) closes the response.
        """
        ...

    async def complete(self, request: ChatRequest, timer: RequestTimer) -> Completion:
        """Make one blocking request and return the whole answer."""
        ...

    async def list_models(self) -> list[str]:
        """The models the server offers (``GET /v1/models``); raises when it does not say."""
        ...

    async def context_window(self) -> int | None:
        """Tokens the model takes in all (prompt and answer), as far as it can be known; None when not."""
        ...

    def prepare(self) -> None:
        """Do ahead of time the slow one-time work a first request would do: imports, loading a model.

        Blocking: call it in a worker thread. Requests work without it; a failure here is left for the
        first request to report.
        """
        ...

    async def aclose(self) -> None:
        """Release connections or models."""
        ...


def completion_as_chunk(completion: Any) -> Any:
    """A blocking ``Completion`` dressed as one chunk, so one accumulator serves both modes."""
    calls = [
        SimpleNamespace(index=i, id=cid, function=SimpleNamespace(name=name, arguments=args))
        for i, (cid, name, args) in enumerate(completion.tool_calls)
    ]
    extra = {"reasoning_content": completion.reasoning} if completion.reasoning else {}
    delta = SimpleNamespace(content=completion.content, refusal=None, tool_calls=calls, model_extra=extra)
    usage = SimpleNamespace(prompt_tokens=None, completion_tokens=completion.completion_tokens)
    choice = SimpleNamespace(index=0, delta=delta, finish_reason=completion.finish_reason)
    return SimpleNamespace(choices=[choice], usage=usage if completion.completion_tokens is not None else None)
