"""``streamchat demo N``: the app says what to watch, types the demo's prompt where the user sees it, and sends it."""

from __future__ import annotations

import pytest
from app_helpers import SIZE, wait_for
from fake_server import FakeServer, RecordedRequest, Response, blocking_response, text_response, tool_call_response
from textual.pilot import Pilot

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.demos import NEEDS_TOOLS_MESSAGE, get_demo
from streamchat.tools import default_registry
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.chat.slash import SlashCommands
from streamchat.ui.race.screen import RaceScreen
from streamchat.ui.widgets.message import Note, UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.turn import AssistantTurn


@pytest.fixture(autouse=True)
def quick_typing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Type each demo's prompt in 0.3 s instead of 1 s."""
    monkeypatch.setattr(SlashCommands, "TYPE_SECONDS", 0.3)


def notes(app: StreamChatApp) -> list[str]:
    return [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]


async def watch_it_typed(pilot: Pilot[None], text: str) -> None:
    """Wait until the prompt shows part of ``text`` (it is being typed), then until it was sent."""
    prompt = pilot.app.query_one(Prompt)
    await wait_for(pilot, lambda: 0 < len(prompt.text) < len(text) and text.startswith(prompt.text),
                   "the prompt being typed")
    await wait_for(pilot, lambda: prompt.text == "" and text in prompt.recall, "the prompt to be sent")


async def finish_turn(pilot: Pilot[None]) -> AssistantTurn:
    app = pilot.app
    assert isinstance(app, StreamChatApp)
    await wait_for(pilot, lambda: bool(app.query(AssistantTurn)) and not app.turn_running, "the turn to end")
    await pilot.pause(0.1)
    return app.query(AssistantTurn).last()


async def test_demo_1_says_what_to_watch_types_its_prompt_and_streams_the_answer(settings: Settings,
                                                                                  fake_server: FakeServer) -> None:
    demo = get_demo(1)
    fake_server.enqueue(text_response("Agents are programs that act for you.", delay=0.01))
    app = make_app(settings, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await watch_it_typed(pilot, demo.prompt)
        assert notes(app)[0] == f"Demo 1 · {demo.title}: {demo.watch}"
        turn = await finish_turn(pilot)
        assert [m.text for m in app.query(UserMessage)] == [demo.prompt]
        assert turn.query_one(AnswerView).text == "Agents are programs that act for you."
        assert fake_server.requests[0].stream and fake_server.requests[0].messages[-1]["content"] == demo.prompt


async def test_demo_2_runs_the_calculator_then_streams_the_answer(settings: Settings,
                                                                  fake_server: FakeServer) -> None:
    demo = get_demo(2)
    fake_server.enqueue(tool_call_response([("call_1", "calculator", {"expression": "2**64/7"})]),
                        text_response("2^64 / 7 ≈ 2635249153387078802.3", delay=0.01))
    app = make_app(settings, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await watch_it_typed(pilot, demo.prompt)
        turn = await finish_turn(pilot)
        row = turn.query_one(ToolCallRow)
        assert (row.tool_name, row.state) == ("calculator", "ok") and row.result
        assert turn.query(AnswerView).last().text == "2^64 / 7 ≈ 2635249153387078802.3"
        assert "tools" in fake_server.requests[0].body and len(fake_server.requests) == 2


async def test_demo_3_runs_tool_calls_in_parallel(settings: Settings, fake_server: FakeServer) -> None:
    demo = get_demo(3)
    calls = [("call_1", "current_time", {"timezone": "America/New_York"}),
             ("call_2", "current_time", {"timezone": "Asia/Tokyo"}),
             ("call_3", "list_files", {})]
    fake_server.enqueue(tool_call_response(calls, text_before="Let me look."),
                        text_response("Report: New York and Tokyo are 13 or 14 hours apart.", delay=0.01))
    app = make_app(settings, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await watch_it_typed(pilot, demo.prompt)
        await wait_for(pilot, lambda: any(row.state == "asking" for row in app.query(ToolCallRow)),
                       "list_files to ask first")
        await pilot.press("y")
        turn = await finish_turn(pilot)
        rows = list(turn.query(ToolCallRow))
        assert [row.tool_name for row in rows] == ["current_time", "current_time", "list_files"]
        assert all(row.state in ("ok", "error") and row.result is not None for row in rows)
        assert turn.query(AnswerView).last().text.startswith("Report:")
        assert [m["role"] for m in fake_server.requests[1].messages[-4:]] == ["assistant", "tool", "tool", "tool"]


async def test_a_tool_demo_on_a_backend_without_tools_says_so_and_sends_nothing(settings: Settings,
                                                                                 fake_server: FakeServer) -> None:
    backend = OpenAIBackend(settings)
    backend.supports_tools = False  # as the embedded local model
    app = make_app(settings, Agent(backend, settings, default_registry()), demo=get_demo(2))
    async with app.run_test(size=SIZE) as pilot:
        message = NEEDS_TOOLS_MESSAGE.format(number=2, reason="The openai backend cannot call tools.")
        await wait_for(pilot, lambda: message in notes(app), "the needs-tools note")
        await pilot.pause(1.0)  # typing takes 0.3 s: a request would have been sent by now
        assert fake_server.requests == [] and not app.query(UserMessage)
        assert app.query_one(Prompt).text == ""


async def test_demo_4_types_slash_race_and_opens_the_race_pane(settings: Settings, fake_server: FakeServer) -> None:
    demo = get_demo(4)
    answer = "Tokens arrive one by one."
    streaming = text_response(answer, first_delay=0.05, delay=0.01)
    blocking = Response([], body=blocking_response(answer).body, headers_delay=0.3)

    def route(request: RecordedRequest) -> Response:
        return streaming if request.stream else blocking

    fake_server.router = route
    app = make_app(settings, demo=demo)
    async with app.run_test(size=SIZE) as pilot:
        await watch_it_typed(pilot, f"/race {demo.prompt}")
        await wait_for(pilot, lambda: isinstance(app.screen, RaceScreen), "the race pane")
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        await wait_for(pilot, lambda: bool(screen.results) and not screen.running, "the race")
        result = screen.results[-1]
        assert result.prompt == demo.prompt and result.verdict is not None
        assert result.streaming.text == result.blocking.text == answer
        assert notes(app)[0].startswith("Demo 4 · Comparison")
