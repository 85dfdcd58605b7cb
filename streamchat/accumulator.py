"""Turn raw ``ChatCompletionChunk``s into typed events and a final message.

Pure: no I/O, no clock. Feed it chunks with ``feed()``, then call ``finish()``
when the stream ends. It copes with the dialects real servers speak:

* tool calls keyed by ``index``, or with no ``index`` at all;
* a new ``id`` at an index already in use starts a new call (Ollama sends
  every parallel call at index 0);
* ``id`` and ``name`` repeated in every delta are kept once (llama.cpp);
* several complete calls in one chunk, a first call at index 1;
* chunks with empty ``choices`` (the usage chunk);
* ``reasoning_content`` / ``reasoning`` deltas;
* ``finish_reason: "stop"`` although tool calls were sent: the calls decide;
* a stream that ends without any ``finish_reason`` is *incomplete*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from streamchat.events import (
    AnyEvent,
    ReasoningDelta,
    StreamFinished,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallComplete,
    ToolCallStarted,
    TurnStatus,
    UsageReport,
)
from streamchat.messages import ToolCall


@dataclass
class _PendingCall:
    """A tool call being assembled from deltas."""

    position: int
    index: int | None
    id: str | None = None
    name: str | None = None
    arguments: list[str] = field(default_factory=list)
    started: bool = False


class StreamAccumulator:
    """Builds one assistant message from a stream of chunks, emitting events as it goes."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[_PendingCall] = []
        self._by_index: dict[int, _PendingCall] = {}
        self.finish_reason: str | None = None
        """The last finish_reason the server sent, if any."""
        self.completion_tokens: int | None = None
        """``usage.completion_tokens`` when the server reported it."""
        self.prompt_tokens: int | None = None
        """``usage.prompt_tokens`` when the server reported it."""
        self.visible_chunks = 0
        """Chunks that carried visible output (text, reasoning or tool call)."""
        self.finished = False
        """True once ``finish()`` ran."""

    # -- feeding -------------------------------------------------------------

    def feed(self, chunk: Any) -> list[AnyEvent]:
        """Take one chunk (a ``ChatCompletionChunk``) and return the events it makes."""
        events: list[AnyEvent] = []
        usage = getattr(chunk, "usage", None)
        choices = getattr(chunk, "choices", None) or []
        visible = False
        for choice in choices:
            if (getattr(choice, "index", 0) or 0) != 0:
                continue
            delta = getattr(choice, "delta", None)
            if delta is not None:
                visible = self._feed_delta(delta, events) or visible
            reason = getattr(choice, "finish_reason", None)
            if reason:
                self.finish_reason = reason
        if visible:
            self.visible_chunks += 1
        if usage is not None:
            self.prompt_tokens = getattr(usage, "prompt_tokens", None)
            self.completion_tokens = getattr(usage, "completion_tokens", None)
            events.append(UsageReport(self.prompt_tokens, self.completion_tokens))
        return events

    def _feed_delta(self, delta: Any, events: list[AnyEvent]) -> bool:
        visible = False
        extra = getattr(delta, "model_extra", None) or {}
        reasoning = extra.get("reasoning_content") or extra.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            self._reasoning.append(reasoning)
            events.append(ReasoningDelta(reasoning))
            visible = True
        for text in (getattr(delta, "content", None), getattr(delta, "refusal", None)):
            if isinstance(text, str) and text:
                self._text.append(text)
                events.append(TextDelta(text))
                visible = True
        for tool_delta in getattr(delta, "tool_calls", None) or []:
            self._feed_tool_delta(tool_delta, events)
            visible = True
        return visible

    def _call_for(self, tool_delta: Any) -> _PendingCall:
        """Find the call a delta belongs to, or start a new one."""
        index = getattr(tool_delta, "index", None)
        new_id = getattr(tool_delta, "id", None) or None
        if index is None:
            # No index: a known id picks its call, a new id starts one, else the last call.
            for call in self._calls:
                if new_id and call.id == new_id:
                    return call
            if self._calls and not new_id:
                return self._calls[-1]
            return self._new_call(None)
        current = self._by_index.get(index)
        if current is None or (new_id and current.id and new_id != current.id):
            return self._new_call(index)
        return current

    def _new_call(self, index: int | None) -> _PendingCall:
        call = _PendingCall(position=len(self._calls), index=index)
        self._calls.append(call)
        if index is not None:
            self._by_index[index] = call
        return call

    def _feed_tool_delta(self, tool_delta: Any, events: list[AnyEvent]) -> None:
        call = self._call_for(tool_delta)
        new_id = getattr(tool_delta, "id", None)
        if new_id and not call.id:
            call.id = new_id
        function = getattr(tool_delta, "function", None)
        name = getattr(function, "name", None) if function is not None else None
        if name and (not call.name or (name != call.name and name.startswith(call.name))):
            call.name = name
        fragment = getattr(function, "arguments", None) if function is not None else None
        if call.name and not call.started:
            call.started = True
            if not call.id:
                call.id = f"call_{call.position}"
            events.append(ToolCallStarted(call.id, call.name, call.position))
            if call.arguments:
                events.append(ToolCallArgumentsDelta(call.id, call.name, "".join(call.arguments)))
        if isinstance(fragment, str) and fragment:
            call.arguments.append(fragment)
            if call.started:
                assert call.id is not None and call.name is not None
                events.append(ToolCallArgumentsDelta(call.id, call.name, fragment))

    # -- ending --------------------------------------------------------------

    def finish(self) -> list[AnyEvent]:
        """The stream ended: complete the tool calls and judge how it ended."""
        self.finished = True
        events: list[AnyEvent] = [
            ToolCallComplete(call.id, call.name, call.arguments)
            for call in self.tool_calls
        ]
        events.append(StreamFinished(self.finish_reason, self.status))
        return events

    @property
    def status(self) -> TurnStatus:
        """``complete``, ``length`` or ``incomplete`` (no finish_reason at all)."""
        if self.finish_reason is None:
            return "incomplete"
        if self.finish_reason == "length":
            return "length"
        return "complete"

    # -- results -------------------------------------------------------------

    @property
    def text(self) -> str:
        """All visible text so far."""
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        """All reasoning text so far."""
        return "".join(self._reasoning)

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The calls that have a name, in order (a call without a name cannot run)."""
        return [
            ToolCall(id=call.id or f"call_{call.position}", name=call.name, arguments="".join(call.arguments))
            for call in self._calls
            if call.name
        ]

    @property
    def wants_tools(self) -> bool:
        """True when the model asked for tools, whatever finish_reason said."""
        return bool(self.tool_calls)
