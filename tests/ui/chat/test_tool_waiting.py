"""A tool call that waits its turn (to be asked, or to run) is marked still, not with a spinner."""

from __future__ import annotations

from pathlib import Path

from app_helpers import SIZE, finish_turn, send, wait_for
from fake_server import FakeServer, text_response, tool_call_response

from streamchat.config.settings import Settings
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.waiting import spinner_frame


def headers(app: StreamChatApp) -> list[str]:
    return [str(row.query_one(".tool-header").render()) for row in app.query(ToolCallRow)]


def spins(header: str) -> bool:
    return any(spinner_frame(step / 10) in header for step in range(40))


async def test_the_second_call_waits_still_while_the_first_asks_and_an_allowed_one_waits_to_run(
        settings: Settings, fake_server: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("A")
    calls = [("c1", "read_file", {"path": "a.txt"}), ("c2", "list_files", {"path": "."})]
    fake_server.enqueue(tool_call_response(calls), text_response("done"))
    app = make_app(settings.with_overrides(workspace=str(tmp_path)))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "two tools")
        await wait_for(pilot, lambda: [row.state for row in app.query(ToolCallRow)] == ["asking", "waiting"], "asked")
        await pilot.pause(0.25)  # the headers' timer has redrawn them a few times
        first, second = headers(app)
        assert second.startswith("▸ … list_files waiting") and not spins(second), second
        await pilot.press("y")
        await wait_for(pilot, lambda: [row.state for row in app.query(ToolCallRow)] == ["waiting", "asking"], "next")
        await pilot.pause(0.25)
        first, second = headers(app)
        assert first.startswith("▸ … read_file allowed once") and not spins(first), first
        await pilot.press("y")
        await finish_turn(pilot)
        assert [row.state for row in app.query(ToolCallRow)] == ["ok", "ok"]
