"""Esc stops the running turn at once, keeping what streamed."""

from __future__ import annotations

import asyncio

from app_helpers import SIZE, ask, footer_labels, screen_text, send, wait_for
from fake_server import Delay, Done, FakeServer, Response, chunk, text_response, tool_call_response
from textual.widgets import Static

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.tools.registry import ToolRegistry
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.turn import STOPPED, STOPPED_EARLY, AssistantTurn


def long_pause_after(text: str) -> Response:
    """Streams ``text``, then waits far longer than any test runs."""
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": text}), Delay(30),
                     chunk({"content": " never shown"}), chunk({}, finish_reason="stop"), Done()])


async def test_esc_mid_stream_stops_keeps_partial_and_prompt_works(app: StreamChatApp,
                                                                   fake_server: FakeServer) -> None:
    fake_server.enqueue(long_pause_after("Partial answer"))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me a long story")
        await wait_for(pilot, lambda: "Partial answer" in "".join(v.text for v in app.query(AnswerView)),
                       "the first tokens")
        assert app.turn_running and "Stop" in footer_labels(app)
        await pilot.press("escape")
        disconnected = await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 5.0)
        assert disconnected is not None, "the HTTP stream was not closed"
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        await pilot.pause(0.1)
        turn = app.query_one(AssistantTurn)
        assert turn.has_class("-stopped")
        assert turn.query_one(AnswerView).text == "Partial answer"
        assert [n.render().plain for n in turn.query(Note)] == [STOPPED, "gpt-4o-mini"]  # type: ignore[attr-defined]
        assert "Partial answer" in screen_text(app) and STOPPED in screen_text(app)
        last = app.history[-1]
        assert (last.role, last.content, last.status) == ("assistant", "Partial answer", "stopped")
        assert "Stop" not in footer_labels(app)

        fake_server.enqueue(text_response("Fresh answer"))
        await ask(pilot, "something else")
        assert app.query(AssistantTurn).last().query_one(AnswerView).text == "Fresh answer"
        assert fake_server.requests[1].messages[-2]["content"].startswith("Partial answer")


async def test_esc_before_the_first_token_says_stopped_before_any_answer(app: StreamChatApp,
                                                                         fake_server: FakeServer) -> None:
    fake_server.enqueue(Response([Delay(30), chunk({"role": "assistant", "content": "late"})]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello?")
        await wait_for(pilot, lambda: len(fake_server.requests) == 1, "the request")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        await pilot.pause(0.1)
        turn = app.query_one(AssistantTurn)
        assert not turn.query(AnswerView)
        assert STOPPED_EARLY in screen_text(app)
        assert app.history[-1].status == "stopped" and app.history[-1].content == ""


async def slow_tool(seconds: float) -> str:
    """Wait, then say so.

    Args:
        seconds: How long to wait.
    """
    await asyncio.sleep(seconds)
    return "done"


async def test_esc_while_a_tool_runs_cancels_it_and_marks_it_stopped(settings: Settings,
                                                                     fake_server: FakeServer) -> None:
    registry = ToolRegistry(timeout_s=60)
    registry.register(slow_tool)
    agent = Agent(OpenAIBackend(settings), settings, registry)
    fake_server.enqueue(tool_call_response([("call_1", "slow_tool", {"seconds": 30})]))
    app = make_app(settings, agent)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "wait for it")
        await wait_for(pilot, lambda: bool(app.query(ToolCallRow)) and app.query_one(ToolCallRow).state == "running",
                       "the tool to run")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        await pilot.pause(0.1)
        row = app.query_one(ToolCallRow)
        assert row.state == "stopped" and row.has_class("-stopped")
        assert "stopped" in row.query_one(".tool-header", Static).render().plain  # type: ignore[attr-defined]
        assert app.query_one(AssistantTurn).has_class("-stopped")
        tool_message = next(m for m in app.history if m.role == "tool")
        assert tool_message.status == "stopped"
        assert len(fake_server.requests) == 1


async def test_new_chat_while_streaming_stops_the_turn_and_starts_clean(app: StreamChatApp,
                                                                        fake_server: FakeServer) -> None:
    fake_server.enqueue(long_pause_after("Old topic"), text_response("New topic answer"))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "old")
        await wait_for(pilot, lambda: "Old topic" in "".join(v.text for v in app.query(AnswerView)), "tokens")
        await pilot.press("ctrl+n")
        assert await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 5.0) is not None
        await ask(pilot, "new")
        assert [(m.role, m.content) for m in app.history] == [("user", "new"), ("assistant", "New topic answer")]
        assert len(app.query(AssistantTurn)) == 1 and not app.turn_running
        assert fake_server.requests[1].messages == [{"role": "user", "content": "new"}]


async def test_esc_under_a_flood_stops_at_once_keeping_what_arrived(app: StreamChatApp,
                                                                    fake_server: FakeServer) -> None:
    """Chunks pour in far faster than frames: Esc still closes the stream at once (the turn worker
    never waits on drawing), and what had arrived stays, drawn."""
    pieces = [f"Line {n} of a very long answer that keeps coming.\n\n" for n in range(60_000)]
    fake_server.enqueue(text_response(pieces))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "flood me")
        await wait_for(pilot, lambda: "Line 200 of" in "".join(v.text for v in app.query(AnswerView)), "the flood")
        await pilot.press("escape")
        disconnected = await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 5.0)
        assert disconnected is not None, "the HTTP stream was not closed"
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        await pilot.pause(0.2)
        kept = app.query_one(AssistantTurn).query_one(AnswerView).text
        whole = "".join(pieces)
        assert kept.startswith("Line 0 of") and whole.startswith(kept) and len(kept) < len(whole)
        last_line = kept.rstrip().rsplit("\n", 1)[-1]
        assert last_line in screen_text(app) and STOPPED in screen_text(app)
