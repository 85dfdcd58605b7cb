"""The agent loop against the fake server: tools, rounds, cancellation, timing."""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
from fake_server import (
    Delay,
    FakeServer,
    Response,
    blocking_response,
    chunk,
    error_response,
    text_response,
    tool_call_response,
)

from streamchat.agent import TOOL_STOPPED, Agent, stop_events
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.events import AnyEvent, ErrorEvent, MessageAdded, TextDelta, ToolResult, ToolRunning, TurnDone
from streamchat.messages import STOPPED_NOTE, ChatMessage
from streamchat.tools import ToolRegistry, default_registry


def make_agent(server: FakeServer, tmp_path: Path, registry: ToolRegistry | None = None, **overrides: Any) -> Agent:
    settings = Settings(base_url=server.base_url, api_key="sk-test-key-123456", max_retries=0, timeout=2.0,
                        workspace=str(tmp_path), **overrides)
    return Agent(OpenAIBackend(settings), settings, registry or default_registry(tmp_path))


async def run(agent: Agent, history: list[ChatMessage], text: str | None = "hi", **kw: Any) -> list[AnyEvent]:
    async with aclosing(agent.run_turn(history, text, **kw)) as events:
        return [event async for event in events]


async def test_tool_results_reach_the_model_under_their_call_ids(fake_server: FakeServer, tmp_path: Path) -> None:
    calls = [("call_a", "calculator", {"expression": "6*7"}), ("call_b", "current_time", {"timezone": "UTC"})]
    fake_server.enqueue(tool_call_response(calls), text_response("It is 42."))
    history: list[ChatMessage] = []
    events = await run(make_agent(fake_server, tmp_path), history, "compute")
    running = [e for e in events if isinstance(e, ToolRunning)]
    results = {e.id: e for e in events if isinstance(e, ToolResult)}
    assert [r.id for r in running] == ["call_a", "call_b"]
    assert results["call_a"].content == "42" and not results["call_a"].is_error
    assert "UTC" in results["call_b"].content
    second = fake_server.requests[1].messages
    assert second[1]["role"] == "assistant" and [c["id"] for c in second[1]["tool_calls"]] == ["call_a", "call_b"]
    tool_messages = {m["tool_call_id"]: m["content"] for m in second if m["role"] == "tool"}
    assert tool_messages["call_a"] == "42"
    assert events[-1].status == "complete" and isinstance(events[-1], TurnDone) and events[-1].rounds == 2
    assert history[-1].content == "It is 42."


async def test_parallel_tools_run_at_the_same_time(fake_server: FakeServer, tmp_path: Path) -> None:
    registry = ToolRegistry(timeout_s=5)

    async def nap(seconds: float) -> str:
        """Sleep a while.

        Args:
            seconds: how long
        """
        await asyncio.sleep(seconds)
        return "rested"

    registry.register(nap)
    calls = [(f"call_{i}", "nap", {"seconds": 0.3}) for i in range(3)]
    fake_server.enqueue(tool_call_response(calls), text_response("done"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    history: list[ChatMessage] = []
    events = await run(make_agent(fake_server, tmp_path, registry), history, "nap thrice")
    elapsed = loop.time() - started
    assert [e.content for e in events if isinstance(e, ToolResult)] == ["rested"] * 3
    assert elapsed < 0.85, "three 0.3 s tools in parallel must not take 0.9 s"
    run_times = [m.stats["elapsed_ms"] for m in history if m.role == "tool" and m.stats]
    assert len(run_times) == 3 and all(290 <= ms < 850 for ms in run_times)  # saved with the result


async def test_failing_unknown_and_malformed_tools_become_error_results(fake_server: FakeServer,
                                                                        tmp_path: Path) -> None:
    calls = [("c1", "no_such_tool", {}), ("c2", "calculator", '{"expression": '), ("c3", "calculator",
                                                                                  {"expression": "1/0"})]
    fake_server.enqueue(tool_call_response(calls), text_response("sorry"))
    events = await run(make_agent(fake_server, tmp_path), [], "break things")
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [r.is_error for r in results] == [True, True, True]
    assert "Unknown tool" in results[0].content and "JSON" in results[1].content
    assert events[-1].status == "complete"
    assert len(fake_server.requests) == 2


async def test_max_tool_rounds_ends_the_turn_with_a_message(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.default = tool_call_response([("c", "calculator", {"expression": "1"})])
    events = await run(make_agent(fake_server, tmp_path, max_tool_rounds=2), [], "loop")
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert errors and errors[0].kind == "tool_rounds" and "2" in errors[0].message
    assert len(fake_server.requests) == 2
    assert events[-1].status == "error"


@pytest.mark.parametrize("dialect", ["openai", "ollama", "llamacpp", "no_index", "one_chunk", "index_from_1"])
async def test_each_dialect_runs_its_tools_end_to_end(fake_server: FakeServer, tmp_path: Path, dialect: str) -> None:
    calls = [("id_x", "calculator", {"expression": "2**10"}), ("id_y", "calculator", {"expression": "3+4"})]
    fake_server.enqueue(tool_call_response(calls, dialect=dialect), text_response("ok"))  # type: ignore[arg-type]
    events = await run(make_agent(fake_server, tmp_path), [], "calc")
    assert {e.id: e.content for e in events if isinstance(e, ToolResult)} == {"id_x": "1024", "id_y": "7"}
    sent = {m["tool_call_id"]: m["content"] for m in fake_server.requests[1].messages if m["role"] == "tool"}
    assert sent == {"id_x": "1024", "id_y": "7"}


async def test_cancelling_closes_the_stream_and_keeps_the_partial_answer(fake_server: FakeServer,
                                                                         tmp_path: Path) -> None:
    fake_server.enqueue(Response([chunk({"content": "Partial "}), chunk({"content": "answer"}), Delay(30)]))
    agent = make_agent(fake_server, tmp_path)
    history: list[ChatMessage] = []
    got_text = asyncio.Event()

    async def consume() -> None:
        async with aclosing(agent.run_turn(history, "long one")) as events:
            async for event in events:
                if isinstance(event, TextDelta) and event.text == "answer":
                    got_text.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_text.wait(), 5)
    cancelled_at = asyncio.get_running_loop().time()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    disconnect = await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 2.0)
    assert disconnect is not None, "the server must see the connection close"
    assert asyncio.get_running_loop().time() - cancelled_at < 1.0
    assert history[-1].role == "assistant" and history[-1].status == "stopped"
    assert history[-1].content == "Partial answer"
    assert history[-1].to_api()["content"].endswith(STOPPED_NOTE)


async def test_every_message_the_turn_adds_is_announced_as_it_lands(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("call_a", "calculator", {"expression": "6*7"})]), text_response("42."))
    history = [ChatMessage(role="system", content="Be brief.")]
    events = await run(make_agent(fake_server, tmp_path), history, "compute")
    added = [event.message for event in events if isinstance(event, MessageAdded)]
    assert added == history[1:]  # the user's prompt first, then the answer with its call, the result, the answer
    assert [m.role for m in added] == ["user", "assistant", "tool", "assistant"]
    assert events.index(next(e for e in events if isinstance(e, MessageAdded))) == 0
    assert isinstance(events[-1], TurnDone)


async def test_a_stop_mid_stream_announces_the_stopped_answer_before_it_goes_on(fake_server: FakeServer,
                                                                                tmp_path: Path) -> None:
    fake_server.enqueue(Response([chunk({"content": "Partial"}), Delay(30)]))
    agent = make_agent(fake_server, tmp_path)
    history: list[ChatMessage] = []
    seen: list[AnyEvent] = []

    async def consume() -> None:  # stopped while waiting for the next chunk: the stop reaches the turn itself
        async with aclosing(agent.run_turn(history, "long one")) as events:
            async for event in events:
                seen.append(event)

    task = asyncio.create_task(consume())
    while not any(isinstance(event, TextDelta) for event in seen):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert isinstance(seen[-1], MessageAdded) and seen[-1].message is history[-1]
    assert (history[-1].status, history[-1].content) == ("stopped", "Partial")


async def test_a_caller_stopped_while_handling_an_event_gets_the_stopped_answer_from_stop_events(
        fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(Response([chunk({"content": "Partial"}), Delay(30)]))
    agent = make_agent(fake_server, tmp_path)
    history: list[ChatMessage] = []
    events = agent.run_turn(history, "long one")
    async for event in events:
        if isinstance(event, TextDelta):
            break  # the caller is busy with this event when the stop comes
    ended = await stop_events(events)
    assert [type(event) for event in ended] == [MessageAdded]
    assert isinstance(ended[0], MessageAdded) and ended[0].message is history[-1]
    assert (history[-1].status, history[-1].content) == ("stopped", "Partial")
    assert await stop_events(events) == []  # the turn has ended: nothing more
    disconnect = await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 2.0)
    assert disconnect is not None, "the request is closed"


async def test_cancelling_during_tools_leaves_a_valid_history(fake_server: FakeServer, tmp_path: Path) -> None:
    registry = ToolRegistry(timeout_s=30)
    tool_started = asyncio.Event()
    tool_cancelled = asyncio.Event()

    async def slow() -> str:
        """Take forever."""
        tool_started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            tool_cancelled.set()
            raise
        return "never"

    registry.register(slow)
    fake_server.enqueue(tool_call_response([("c_slow", "slow", {})]), text_response("next turn works"))
    agent = make_agent(fake_server, tmp_path, registry)
    history: list[ChatMessage] = []
    seen: list[AnyEvent] = []

    async def consume() -> None:
        async with aclosing(agent.run_turn(history, "go")) as events:
            async for event in events:
                seen.append(event)

    task = asyncio.create_task(consume())
    await asyncio.wait_for(tool_started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tool_cancelled.is_set()
    announced = [event.message for event in seen if isinstance(event, MessageAdded)]
    assert announced == history, "every message the turn added, the stopped ones too, was announced (and saved)"
    roles = [(m.role, m.status) for m in history]
    assert roles == [("user", None), ("assistant", "complete"), ("tool", "stopped"), ("assistant", "stopped")]
    assert history[2].tool_call_id == "c_slow" and history[2].content == TOOL_STOPPED
    events = await run(agent, history, "again")
    assert events[-1].status == "complete"
    sent = fake_server.requests[1].messages
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]


async def test_timing_uses_server_usage_and_measures_first_token(fake_server: FakeServer, tmp_path: Path) -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 99, "total_tokens": 102}
    fake_server.enqueue(text_response(["a", "b", "c", "d"], delay=0.05, first_delay=0.2, usage=usage))
    events = await run(make_agent(fake_server, tmp_path), [], "time me")
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert done.tokens == 99
    assert done.ttft_ms is not None and 150 <= done.ttft_ms < done.total_ms
    stats = done.requests[0]
    assert stats.headers_ms is not None and stats.gap_p50_ms is not None and stats.gap_p50_ms >= 30


async def test_first_token_counts_from_when_the_user_sent_the_prompt(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("c1", "calculator", {"expression": "1+1"})]), text_response("Two."))
    history: list[ChatMessage] = []
    events = await run(make_agent(fake_server, tmp_path), history, "sent a while ago", waited_s=5.0)
    done = events[-1]
    assert isinstance(done, TurnDone) and done.ttft_ms is not None and done.request_sent_ms is not None
    first, second = done.requests
    assert first.sent_ms is not None and 5000 <= first.sent_ms < done.ttft_ms, "the wait before the request counts"
    assert done.request_sent_ms == first.sent_ms
    assert done.ttft_ms == pytest.approx(first.sent_ms + (first.ttft_ms or 0.0))  # before sending + the server
    assert second.sent_ms is not None and second.sent_ms > first.sent_ms + (first.total_ms or 0.0)
    assert done.total_ms >= second.sent_ms + (second.total_ms or 0.0)
    saved = [m.stats for m in history if m.role == "assistant"]
    assert [stats and stats["sent_ms"] for stats in saved] == [first.sent_ms, second.sent_ms], "saved with the answer"


async def test_blocking_mode_runs_tools_too(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(blocking_response("", tool_calls=[("b1", "calculator", {"expression": "5*5"})]),
                        blocking_response("25 it is"))
    events = await run(make_agent(fake_server, tmp_path), [], "blocking", stream=False)
    assert [e.content for e in events if isinstance(e, ToolResult)] == ["25"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "25 it is"
    assert all(not r.stream for r in fake_server.requests)


async def test_server_refusing_stream_options_is_retried_without(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(error_response(400, "Unrecognized request argument supplied: stream_options"),
                        text_response("fine"), text_response("again"))
    agent = make_agent(fake_server, tmp_path)
    events = await run(agent, [], "hi")
    assert events[-1].status == "complete"
    assert "stream_options" in fake_server.requests[0].body
    assert "stream_options" not in fake_server.requests[1].body
    await run(agent, [], "hi")
    assert "stream_options" not in fake_server.requests[2].body


async def test_tools_are_offered_only_when_enabled(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(text_response("a"), text_response("b"))
    await run(make_agent(fake_server, tmp_path), [], "x")
    await run(make_agent(fake_server, tmp_path, tools_enabled=False), [], "x")
    offered = [t["function"]["name"] for t in fake_server.requests[0].body["tools"]]
    assert {"calculator", "current_time", "list_files", "read_file"} <= set(offered)
    assert "tools" not in fake_server.requests[1].body
    assert json.dumps(fake_server.requests[1].body).count("calculator") == 0


async def test_stopping_as_tools_are_announced_still_cancels_them(fake_server: FakeServer, tmp_path: Path) -> None:
    registry = ToolRegistry(timeout_s=30)
    finished: list[str] = []

    async def nap() -> str:
        """Sleep."""
        await asyncio.sleep(0.3)
        finished.append("nap")
        return "rested"

    registry.register(nap)
    fake_server.enqueue(tool_call_response([("n1", "nap", {}), ("n2", "nap", {})]))
    history: list[ChatMessage] = []
    async with aclosing(make_agent(fake_server, tmp_path, registry).run_turn(history, "go")) as events:
        async for event in events:
            if isinstance(event, ToolRunning):
                break  # the consumer goes away while the first call is being shown
    await asyncio.sleep(0.4)
    assert finished == [], "tools must be cancelled, not left running"
    assert [(m.role, m.tool_call_id) for m in history[2:4]] == [("tool", "n1"), ("tool", "n2")]
    assert history[-1].role == "assistant" and history[-1].status == "stopped"


async def test_tool_calls_cut_off_by_the_token_limit_are_not_run(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("c", "calculator", '{"expression": "1+')], finish_reason="length"))
    events = await run(make_agent(fake_server, tmp_path), [], "x")
    assert not [e for e in events if isinstance(e, ToolRunning)]
    assert events[-1].status == "length" and len(fake_server.requests) == 1


async def test_a_tool_result_never_carries_the_api_key(fake_server: FakeServer, tmp_path: Path) -> None:
    key = "plain-hunter2-secret"
    registry = ToolRegistry()

    def leak() -> str:
        """Return something secret."""
        return f"the key is {key}"

    registry.register(leak)
    fake_server.enqueue(tool_call_response([("l", "leak", {})]), text_response("ok"))
    settings = Settings(base_url=fake_server.base_url, api_key=key, max_retries=0, timeout=2.0)
    events = await run(Agent(OpenAIBackend(settings), settings, registry), [], "x")
    result = next(e for e in events if isinstance(e, ToolResult))
    assert key not in result.content and "***" in result.content
    assert key not in json.dumps(fake_server.requests[1].body)


async def test_a_request_that_failed_before_any_text_is_left_out_of_the_next_one(fake_server: FakeServer,
                                                                                  tmp_path: Path) -> None:
    fake_server.enqueue(error_response(401, "bad key"), error_response(500, "boom"), text_response("Hello."))
    agent = make_agent(fake_server, tmp_path)
    history: list[ChatMessage] = []
    for prompt in ("first", "second", "third"):
        await run(agent, history, prompt)
    assert [(m.role, m.status) for m in history] == [
        ("user", None), ("assistant", "error"), ("user", None), ("assistant", "error"),
        ("user", None), ("assistant", "complete")]  # the history keeps what happened
    assert (history[1].error_kind, history[3].error_kind) == ("auth", "server")
    assert fake_server.requests[-1].messages == [{"role": "user", "content": "third"}]  # the model sees no empty turns
