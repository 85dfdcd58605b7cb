"""The agent loop: one user turn of stream -> tools -> stream, as a stream of events.

``Agent.run_turn()`` appends to the history it is given as it goes, and says
so with a ``MessageAdded`` event each time, so the history is consistent
whatever happens: an error keeps the text that had streamed, and cancelling
the task that runs the turn closes the HTTP response, cancels running tools
and keeps the partial answer marked ``stopped``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from streamchat.accumulator import StreamAccumulator
from streamchat.approval import Approval, Approver
from streamchat.backends.base import Backend, ChatRequest, completion_as_chunk
from streamchat.backends.errors import classify, retry_delay
from streamchat.config.settings import Settings
from streamchat.events import (
    AnyEvent,
    ErrorEvent,
    MessageAdded,
    RequestStats,
    Retrying,
    ToolApproval,
    ToolResult,
    ToolRunning,
)
from streamchat.messages import Attachment, ChatMessage, ToolCall, TurnStatus, api_messages
from streamchat.safety import redact
from streamchat.timing import Clock, RequestTimer, turn_done

if TYPE_CHECKING:
    from streamchat.tools import ToolRegistry

TOOL_STOPPED = "Stopped by the user before the tool finished."
"""The tool result recorded for a call the user stopped."""


class Agent:
    """Runs turns against one backend with one tool registry."""

    def __init__(self, backend: Backend, settings: Settings, registry: ToolRegistry | None = None, *,
                 clock: Clock = time.perf_counter) -> None:
        self.backend = backend
        """Where requests go."""
        self.settings = settings
        """Model, limits and tool settings."""
        self.registry = registry
        """The tools offered, or None for none."""
        self.clock = clock
        """The clock timings use."""
        self.approver: Approver | None = None
        """Asked before a tool that needs approval runs; None runs every tool without asking."""

    @property
    def tools_active(self) -> bool:
        """True when tools are on, exist, and the backend can use them."""
        return bool(self.settings.tools_enabled and self.registry and self.backend.supports_tools)

    def _request(self, history: list[ChatMessage]) -> ChatRequest:
        tools = self.registry.schemas() if self.tools_active and self.registry else []
        return ChatRequest(messages=api_messages(history), model=self.settings.model_name, tools=tools,
                           max_tokens=self.settings.max_tokens, temperature=self.settings.temperature)

    def _assistant(self, acc: StreamAccumulator, status: TurnStatus, timer: RequestTimer,
                   tool_calls: list[ToolCall] | None = None, error: ErrorEvent | None = None) -> ChatMessage:
        timer.end()
        return ChatMessage(role="assistant", content=acc.text, reasoning=acc.reasoning, tool_calls=tool_calls or [],
                           status=status, error=error.message if error else None,
                           error_kind=error.kind if error else None, model=self.settings.model_name,
                           backend=self.backend.name, profile=self.settings.profile, stats=vars(timer.stats()).copy())

    async def run_turn(self, history: list[ChatMessage], user_text: str | None = None, *, stream: bool = True,
                       waited_s: float = 0.0, attachments: list[Attachment] | None = None
                       ) -> AsyncGenerator[AnyEvent, None]:
        """Run one turn, appending to ``history``; yields events, ``TurnDone`` last.

        Each message it appends is announced by a ``MessageAdded`` as it lands, ``user_text`` first
        (appended as the user's message; None continues from the history as it is). Stopped (its task
        cancelled), it records the partial answer and announces it before the stop goes on; a caller
        stopped while it handled an event lets the turn do so with ``stop_events``. ``stream=False``
        makes blocking requests. ``waited_s`` is how long ago the user sent the prompt (starting up,
        making the backend): every figure of the turn counts from that moment. ``attachments`` go with
        ``user_text``: files whose text the model gets after the prompt's.
        """
        if user_text is not None:
            yield _add(history, ChatMessage(role="user", content=user_text, attachments=list(attachments or [])))
        turn_start = self.clock() - max(0.0, waited_s)
        stats: list[RequestStats] = []
        first_token_at: float | None = None
        first_token_sent_ms: float | None = None
        status: TurnStatus = "complete"
        finish_reason: str | None = None
        rounds = 0
        while True:
            if rounds >= self.settings.max_tool_rounds:
                message = (f"Gave up after {rounds} model requests: the model kept asking for tools "
                           f"(max tool rounds is {self.settings.max_tool_rounds}).")
                yield _add(history, ChatMessage(role="assistant", status="error", error=message,
                                                error_kind="tool_rounds", model=self.settings.model_name,
                                                backend=self.backend.name))
                yield ErrorEvent("tool_rounds", message)
                status = "error"
                break
            rounds += 1
            attempt = 0
            while True:  # attempts at this request: a failure before its answer began may be retried
                attempt += 1
                timer = RequestTimer(self.clock, turn_start)
                acc = StreamAccumulator()
                error: ErrorEvent | None = None
                delay: float | None = None
                timer.start()
                try:
                    async with aclosing(self._one_request(history, acc, timer, stream)) as events:
                        async for event in events:
                            yield event
                except (asyncio.CancelledError, GeneratorExit) as stop:
                    async for added in _stopped(stop, history, [self._assistant(acc, "stopped", timer)]):
                        yield added
                    raise
                except Exception as exc:  # noqa: BLE001 - every failure becomes an error event
                    started = timer.headers_at is not None
                    error = classify(exc, base_url=self.settings.base_url, model=self.settings.model_name,
                                     api_key=self.settings.api_key, timeout=self.settings.timeout,
                                     streaming_started=started, attempts=attempt)
                    delay = retry_delay(exc, error, attempt, self.settings.max_retries, started=started)
                finally:
                    timer.end()
                if delay is None or error is None:
                    break
                try:
                    yield Retrying(attempt + 1, self.settings.max_retries + 1, delay, error.kind, error.message)
                    await asyncio.sleep(delay)  # a stop (esc) cancels the wait like any other
                except (asyncio.CancelledError, GeneratorExit) as stop:
                    async for added in _stopped(stop, history, [self._assistant(acc, "stopped", timer)]):
                        yield added
                    raise
            stats.append(timer.stats())
            if timer.first_token_at is not None and first_token_at is None:
                first_token_at = timer.first_token_at
                first_token_sent_ms = stats[-1].sent_ms
            finish_reason = acc.finish_reason
            if error is None and acc.status == "incomplete":
                error = ErrorEvent("incomplete", "The stream ended before the model finished its answer.",
                                   retryable=True)
            if error is not None:
                status = "incomplete" if error.kind == "incomplete" else "error"
                yield _add(history, self._assistant(acc, status, timer, error=error))
                yield error
                break
            # Calls cut off by the token limit have broken arguments: they are not run.
            calls = acc.tool_calls if self.tools_active and acc.status != "length" else []
            yield _add(history, self._assistant(acc, acc.status, timer, tool_calls=calls))
            if not calls:
                status = acc.status
                break
            tool_events = self._run_tools(history, calls)
            try:
                async for event in tool_events:
                    yield event
            except asyncio.CancelledError:  # stopped while the caller handled a tool's event
                for event in await stop_events(tool_events):
                    yield event
                raise
            finally:
                await tool_events.aclose()
        ttft_ms = None if first_token_at is None else (first_token_at - turn_start) * 1000.0
        yield turn_done(status, finish_reason, ttft_ms, (self.clock() - turn_start) * 1000.0, stats, rounds,
                        first_token_sent_ms)

    async def _one_request(self, history: list[ChatMessage], acc: StreamAccumulator, timer: RequestTimer,
                           stream: bool) -> AsyncGenerator[AnyEvent, None]:
        request = self._request(history)
        if not stream:
            for event in self._feed(acc, timer, completion_as_chunk(await self.backend.complete(request, timer))):
                yield event
        else:
            async with aclosing(self.backend.stream(request, timer)) as chunk_stream:
                async for chunk in chunk_stream:
                    for event in self._feed(acc, timer, chunk):
                        yield event
        timer.end()
        for event in acc.finish():
            yield event

    def _feed(self, acc: StreamAccumulator, timer: RequestTimer, chunk: Any) -> list[AnyEvent]:
        seen = acc.visible_chunks
        events = acc.feed(chunk)
        if acc.visible_chunks > seen:
            timer.token()
        if acc.completion_tokens is not None:
            timer.usage_tokens = acc.completion_tokens
        if acc.prompt_tokens is not None:
            timer.usage_prompt_tokens = acc.prompt_tokens
        return events

    async def _approve(self, call: ToolCall) -> Approval | None:
        """The decision for a call that needs one (None: it needs none, or nobody is set to ask)."""
        if self.approver is None or self.registry is None or not self.registry.needs_approval(call.name):
            return None
        return await self.approver(call)

    async def _run_tools(self, history: list[ChatMessage], calls: list[ToolCall]) -> AsyncGenerator[AnyEvent, None]:
        """Ask for the calls that need approval (one at a time), then run the allowed ones in parallel,
        yielding results as each finishes; one tool message per call."""
        assert self.registry is not None
        results: dict[str, ToolResult] = {}
        approvals: dict[str, Approval] = {}
        tasks: dict[asyncio.Task[ToolResult], ToolCall] = {}
        asking: ToolCall | None = None
        try:
            for call in calls:  # inside the try: a stop while asking still records the calls
                asking = call
                approval = await self._approve(call)
                asking = None
                if approval is None:
                    continue
                approvals[call.id] = approval
                yield ToolApproval(call.id, call.name, approval.allowed, approval.by, approval.scope, approval.reason)
                if not approval.allowed:
                    results[call.id] = ToolResult(call.id, call.name, approval.result_for_model(call.name), True)
                    yield results[call.id]
            runnable = [call for call in calls if call.id not in results]
            tasks = {asyncio.create_task(self._run_one(call)): call for call in runnable}
            for call in runnable:
                yield ToolRunning(call.id, call.name, call.arguments)
            pending = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in sorted(done, key=lambda t: calls.index(tasks[t])):
                    result = task.result()
                    results[result.id] = result
                    yield result
        except (asyncio.CancelledError, GeneratorExit) as stop:
            if asking is not None:  # esc while asked: denied, and the turn stops
                approvals[asking.id] = refused = Approval(False, stopped=True)
                results[asking.id] = ToolResult(asking.id, asking.name, refused.result_for_model(asking.name), True)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            ended = [*self._tool_messages(calls, results, approvals, stopped=True),
                     ChatMessage(role="assistant", status="stopped", model=self.settings.model_name,
                                 backend=self.backend.name, profile=self.settings.profile)]
            async for added in _stopped(stop, history, ended):
                yield added
            raise
        for message in self._tool_messages(calls, results, approvals, stopped=False):
            yield _add(history, message)

    @staticmethod
    def _tool_messages(calls: list[ToolCall], results: dict[str, ToolResult], approvals: dict[str, Approval], *,
                       stopped: bool) -> list[ChatMessage]:
        messages = []
        for call in calls:
            result = results.get(call.id)
            approval = approvals.get(call.id)
            messages.append(ChatMessage(role="tool", tool_call_id=call.id, name=call.name,
                                        content=result.content if result else TOOL_STOPPED,
                                        is_error=result.is_error if result else True,
                                        status=None if result or not stopped else "stopped",
                                        stats={"elapsed_ms": result.elapsed_s * 1000.0} if result else None,
                                        approval=approval.to_dict() if approval else None))
        return messages

    async def _run_one(self, call: ToolCall) -> ToolResult:
        assert self.registry is not None
        started = self.clock()
        outcome = await self.registry.run(call.name, call.arguments)
        content = redact(outcome.content, self.settings.api_key)  # a tool must never hand the key around
        return ToolResult(call.id, call.name, content, outcome.is_error, self.clock() - started)



def _add(history: list[ChatMessage], message: ChatMessage) -> MessageAdded:
    """Append ``message`` to ``history``, after its last message (the system prompt aside); the event that says so."""
    message.parent_id = next((m.id for m in reversed(history) if m.role != "system"), None)
    history.append(message)
    return MessageAdded(message)


async def _stopped(stop: BaseException, history: list[ChatMessage],
                   messages: list[ChatMessage]) -> AsyncGenerator[MessageAdded, None]:
    """A turn stopped: append what it had; announce it unless closed (a closed generator cannot yield)."""
    for message in messages:
        added = _add(history, message)
        if isinstance(stop, asyncio.CancelledError):
            yield added


async def stop_events(events: AsyncGenerator[AnyEvent, None]) -> list[AnyEvent]:
    """After the task consuming a turn was stopped while it handled an event: stop the turn where it
    waits and return what it announces on the way out (its partial answer, its stopped tools).

    Nothing when the stop already went through the turn (it announced those in the caller's loop).
    """
    if getattr(events, "ag_frame", None) is None:  # it has ended
        return []
    ended: list[AnyEvent] = []
    try:
        event = await events.athrow(asyncio.CancelledError())
        while True:
            ended.append(event)
            event = await events.__anext__()
    except (asyncio.CancelledError, StopAsyncIteration):
        return ended
