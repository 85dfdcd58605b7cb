"""Tool calls: rows appear as they stream, run, finish, expand; the follow-up answer streams after them."""

from __future__ import annotations

import json

from app_helpers import SIZE, ask, screen_text, send
from fake_server import Drop, FakeServer, text_response, tool_call_response
from textual.widgets import Static

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.events import AnyEvent, ToolCallArgumentsDelta, ToolCallStarted, ToolResult
from streamchat.tools import default_registry
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.turn import AssistantTurn

TWO_CALLS = [("call_1", "calculator", {"expression": "6*7"}), ("call_2", "current_time", {"timezone": "UTC"})]


def header(row: ToolCallRow) -> str:
    return row.query_one(".tool-header", Static).render().plain  # type: ignore[attr-defined, no-any-return]


async def test_two_parallel_tool_calls_get_rows_that_run_and_finish(app: StreamChatApp, fake_server: FakeServer,
                                                                    turn_events: list[AnyEvent]) -> None:
    fake_server.enqueue(tool_call_response(TWO_CALLS, dialect="openai", text_before="Let me check."),
                        text_response("It is 42, and the time is known.", delay=0.005))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "what is 6*7 and what time is it?")
        turn = app.query_one(AssistantTurn)
        kinds = [type(child).__name__ for child in turn.children]
        assert kinds == ["AnswerView", "ToolCallRow", "ToolCallRow", "AnswerView", "Note"]  # the footer last
        first, second = turn.query(AnswerView)
        assert first.text == "Let me check."
        assert second.text == "It is 42, and the time is known."
        calc, clock = turn.query(ToolCallRow)
        assert (calc.tool_name, calc.state, calc.result) == ("calculator", "ok", "42")
        assert clock.tool_name == "current_time" and clock.state == "ok" and "UTC" in (clock.result or "")
        assert header(calc).startswith("▸ ✓ calculator") and '"6*7"' in header(calc) and "→ 42" in header(calc)
        assert calc.has_class("-ok") and not calc.has_class("-expanded")
        started = [e.name for e in turn_events if isinstance(e, ToolCallStarted)]
        assert started == ["calculator", "current_time"]
        assert sum(isinstance(e, ToolCallArgumentsDelta) for e in turn_events) > 2
        assert next(e.content for e in turn_events if isinstance(e, ToolResult)) == "42"
        assert "It is 42, and the time is known." in screen_text(app)
        assert [m.role for m in app.history] == ["user", "assistant", "tool", "tool", "assistant"]


async def test_a_tool_row_expands_on_enter_and_click(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(tool_call_response(TWO_CALLS[:1]), text_response("Done."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "compute")
        row = app.query_one(ToolCallRow)
        body = row.query_one(".tool-body", Static)
        assert not body.display
        row.focus()
        await pilot.press("enter")
        assert row.expanded and row.has_class("-expanded") and body.display
        shown = body.render().plain  # type: ignore[attr-defined]
        assert json.dumps({"expression": "6*7"}, indent=2) in shown and "result\n42" in shown
        await pilot.click(row)
        assert not row.expanded and not body.display


async def test_tools_unavailable_on_the_backend_is_a_quiet_note_once(settings: Settings,
                                                                     fake_server: FakeServer) -> None:
    backend = OpenAIBackend(settings)
    backend.supports_tools = False  # as the local backend
    agent = Agent(backend, settings, default_registry())
    fake_server.enqueue(text_response("No tools here."), text_response("Still none."))
    app = make_app(settings, agent)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "first")
        await ask(pilot, "second")
        notes = [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]
        assert len([n for n in notes if "Answering without tools. The openai backend cannot call tools." in n]) == 1
        assert "tools" not in fake_server.requests[0].body
        assert not app.query(ErrorNote)
        status = app.query_one("#status-backend", Static).render().plain  # type: ignore[attr-defined]
        assert "tools on" not in status and "tools unsupported" in status, "the status line says tools are on"
        await send(pilot, "/tools on")
        await pilot.pause()
        notes = [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]
        assert notes[-1] == ("tools on, but this model cannot call them: it answers without. "
                             "The openai backend cannot call tools.")


async def test_before_the_local_model_is_made_the_status_line_does_not_say_tools_on() -> None:
    app = make_app(Settings(local=True, model_path="/nonexistent/model.gguf"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        status = app.query_one("#status-backend", Static).render().plain  # type: ignore[attr-defined]
        assert status.startswith("local") and "tools on" not in status and "tools unsupported" in status


async def test_a_call_cut_off_by_a_dropped_stream_is_marked_not_run(app: StreamChatApp,
                                                                    fake_server: FakeServer) -> None:
    started = tool_call_response(TWO_CALLS[:1], pieces=3)
    started.steps[3:] = [Drop()]  # role, start, first fragment of the arguments, then the connection drops
    fake_server.enqueue(started)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "compute", ok=False)
        row = app.query_one(ToolCallRow)
        assert row.state == "stopped" and "not run" in header(row)
        assert app.query_one(ErrorNote).kind == "dropped"
