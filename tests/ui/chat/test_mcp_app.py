"""MCP tools in the chat, end to end: a real MCP server (tests/mcp_server.py) and the fake OpenAI server.

One streamable-HTTP server process serves the whole module; the crash test runs its own stdio process.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_helpers import SIZE, finish_turn, send, wait_for
from fake_server import FakeServer, text_response, tool_call_response

from streamchat.config.schema import McpServerConfig
from streamchat.config.settings import Settings
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.tool_call import ToolCallRow

SERVER = Path(__file__).resolve().parents[2] / "mcp_server.py"


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    """The test MCP server over streamable HTTP, started once for the module."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(SERVER), "--http", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the test MCP server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=10)


def notes(app: StreamChatApp) -> list[str]:
    return [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]


def asking(app: StreamChatApp) -> ToolCallRow | None:
    return next((row for row in app.query(ToolCallRow) if row.state == "asking"), None)


def tool_results(server: FakeServer, request: int) -> list[str]:
    return [m["content"] for m in server.requests[request].messages if m["role"] == "tool"]


async def test_an_mcp_tool_is_asked_for_allowed_runs_and_its_result_goes_back(
        settings: Settings, fake_server: FakeServer, mcp_url: str) -> None:
    app = make_app(settings.with_overrides(mcp_servers=(McpServerConfig("demo", url=mcp_url),)))
    fake_server.enqueue(tool_call_response([("call_1", "demo__slow", {"seconds": 0.3})]), text_response("Done."),
                        tool_call_response([("call_2", "demo__fail", {"why": "bad input"})]), text_response("Hm."),
                        tool_call_response([("call_3", "demo__slow", {"seconds": 0.1})]), text_response("OK."),
                        tool_call_response([("call_4", "demo__slow", {"seconds": 30})]),
                        tool_call_response([("call_5", "demo__slow", {"seconds": 0.1})]), text_response("Back."))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(n.startswith("MCP demo: 2 tools") for n in notes(app)), "the server's tools")
        await send(pilot, "wait a bit")
        await wait_for(pilot, lambda: asking(app) is not None, "the approval question")
        row = asking(app)
        assert row is not None and row.tool_name == "demo__slow" and len(fake_server.requests) == 1
        offered = [tool["function"]["name"] for tool in fake_server.requests[0].body["tools"]]
        assert "demo__slow" in offered and "demo__fail" in offered and "calculator" in offered
        await pilot.press("y")
        await wait_for(pilot, lambda: row.state == "running", "the tool to run with its spinner")
        await finish_turn(pilot)
        assert row.state == "ok" and row.result == "waited 0.3 s" and row.elapsed_s is not None
        assert row.elapsed_s >= 0.3
        assert tool_results(fake_server, 1) == ["waited 0.3 s"]

        await send(pilot, "now fail")
        await wait_for(pilot, lambda: asking(app) is not None, "the approval question")
        await pilot.press("c")  # allowed for this chat
        await finish_turn(pilot)
        failed = app.query(ToolCallRow).last()
        assert failed.state == "error" and "failed on purpose: bad input" in (failed.result or "")
        assert "failed on purpose: bad input" in tool_results(fake_server, 3)[-1]

        await send(pilot, "wait again")  # demo__slow was allowed once only: asked again
        await wait_for(pilot, lambda: asking(app) is not None, "the approval question")
        await pilot.press("n", *"not now", "enter")
        await finish_turn(pilot)
        assert tool_results(fake_server, 5)[-1] == "The user did not allow demo__slow to run. Their reason: not now"

        await send(pilot, "wait for long")  # esc cancels a running MCP call, as a built-in's
        await wait_for(pilot, lambda: asking(app) is not None, "the approval question")
        await pilot.press("y")
        long = app.query(ToolCallRow).last()
        await wait_for(pilot, lambda: long.state == "running", "the long call to run")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        assert long.state == "stopped" and app.history[-1].status == "stopped"
        await send(pilot, "wait briefly")  # the server still serves
        await wait_for(pilot, lambda: asking(app) is not None, "the approval question")
        await pilot.press("y")
        await finish_turn(pilot)
        assert app.query(ToolCallRow).last().result == "waited 0.1 s"


async def test_a_server_that_crashes_mid_call_gives_a_clear_error_and_the_chat_goes_on(
        settings: Settings, fake_server: FakeServer, tmp_path: Path) -> None:
    crashy = McpServerConfig("crashy", command=sys.executable, args=[str(SERVER)])
    app = make_app(settings.with_overrides(mcp_servers=(crashy,), always_allow=("crashy__*",)))
    fake_server.enqueue(tool_call_response([("call_1", "crashy__slow", {"seconds": 0.1, "then_exit": True})]),
                        text_response("The tool broke, sorry."), text_response("Still here."))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(n.startswith("MCP crashy: 2 tools") for n in notes(app)), "the server")
        await send(pilot, "crash it")
        await finish_turn(pilot)
        row = app.query_one(ToolCallRow)
        assert row.state == "error" and "closed the connection during the call" in (row.result or "")
        assert "crashed or exited" in tool_results(fake_server, 1)[0]
        await wait_for(pilot, lambda: any("MCP crashy is not available: the server exited" in n for n in notes(app)),
                       "the note that it died")
        assert any("exiting mid-call as asked" in n for n in notes(app)), "its last words are shown"
        offered = [tool["function"]["name"] for tool in fake_server.requests[1].body["tools"]]
        assert not any(name.startswith("crashy__") for name in offered), "its tools are gone"
        await send(pilot, "are you there?")
        await finish_turn(pilot)
        assert "Still here." in [m.content for m in app.history if m.role == "assistant"]
