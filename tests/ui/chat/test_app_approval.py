"""Tools that ask before they act: inline in the tool row, by keyboard; saved with the conversation."""

from __future__ import annotations

from pathlib import Path

from app_helpers import SIZE, finish_turn, send, wait_for
from fake_server import FakeServer, text_response, tool_call_response

from streamchat.config.file import config_path, load_config
from streamchat.config.settings import Settings
from streamchat.store.database import ConversationStore
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.tool_call import ToolCallRow

READ = [("call_1", "read_file", {"path": "notes.txt"})]


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "notes.txt").write_text("the secret plan")
    return tmp_path


def asking(app: StreamChatApp) -> ToolCallRow | None:
    return next((row for row in app.query(ToolCallRow) if row.state == "asking"), None)


def tool_messages(app: StreamChatApp) -> list[tuple[str, dict[str, object] | None]]:
    return [(m.content, m.approval) for m in app.history if m.role == "tool"]


async def test_a_file_tool_asks_in_its_row_then_runs_once_allowed(settings: Settings, fake_server: FakeServer,
                                                                  tmp_path: Path) -> None:
    app = make_app(settings.with_overrides(workspace=str(workspace(tmp_path))))
    fake_server.enqueue(tool_call_response([*READ, ("call_2", "calculator", {"expression": "2+2"})]),
                        text_response("It says: the secret plan."),
                        tool_call_response(READ), text_response("Still the plan."))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "read my notes")
        await wait_for(pilot, lambda: asking(app) is not None, "the question")
        row = asking(app)
        assert row is not None and row.has_focus and len(fake_server.requests) == 1
        assert "y once · c for this chat · a always" in str(row.query_one(".tool-ask").render())
        assert [r.state for r in app.query(ToolCallRow)][1] != "ok", "nothing runs while the user is asked"
        await pilot.press("y")
        await finish_turn(pilot)
        assert row.state == "ok" and row.result == "the secret plan" and "allowed once" in row.decision
        sent = fake_server.requests[1].messages
        assert [m["content"] for m in sent if m["role"] == "tool"] == ["the secret plan", "4"]
        await send(pilot, "again")  # allowed once: asked again
        await wait_for(pilot, lambda: asking(app) is not None, "the question again")
        await pilot.press("c")
        await finish_turn(pilot)
        assert [a["scope"] for _, a in tool_messages(app) if a] == ["once", "chat"]
    with ConversationStore(settings.data_dir) as store:
        saved = store.load(store.last_conversation_id() or "")
    approvals = [m.approval for m in saved.messages if m.role == "tool"]
    assert approvals[0] == {"allowed": True, "by": "user", "scope": "once", "reason": "", "stopped": False}
    assert approvals[1] is None, "the calculator needs no approval"


async def test_deny_with_a_reason_tells_the_model_and_esc_while_asked_denies_and_stops(
        settings: Settings, fake_server: FakeServer, tmp_path: Path) -> None:
    app = make_app(settings.with_overrides(workspace=str(workspace(tmp_path))))
    fake_server.enqueue(tool_call_response(READ), text_response("Understood, I will not read it."),
                        tool_call_response(READ))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "read my notes")
        await wait_for(pilot, lambda: asking(app) is not None, "the question")
        await pilot.press("n")
        row = asking(app)
        assert row is not None and row.has_class("-denying")
        await pilot.press(*"private stuff", "enter")
        await finish_turn(pilot)
        sent = [m for m in fake_server.requests[1].messages if m["role"] == "tool"]
        assert sent[0]["content"] == "The user did not allow read_file to run. Their reason: private stuff"
        assert row.state == "error" and "denied: private stuff" in row.decision
        await send(pilot, "please read it")
        await wait_for(pilot, lambda: asking(app) is not None, "the question")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        assert len(fake_server.requests) == 3, "nothing more was asked of the model"
        content, approval = tool_messages(app)[-1]
        assert approval is not None and approval["stopped"] is True and approval["allowed"] is False
        assert "stopped the turn" in content and app.history[-1].status == "stopped"


async def test_always_allow_is_saved_in_the_config_file_and_then_nothing_asks(
        settings: Settings, fake_server: FakeServer, tmp_path: Path) -> None:
    app = make_app(settings.with_overrides(workspace=str(workspace(tmp_path))))
    fake_server.enqueue(tool_call_response(READ), text_response("Read."))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "read")
        await wait_for(pilot, lambda: asking(app) is not None, "the question")
        await pilot.press("a")
        await finish_turn(pilot)
        await wait_for(pilot, lambda: config_path().exists() and "read_file" in config_path().read_text(),
                       "always_allow saved")
    assert load_config().always_allow == ("read_file",)
    again = make_app(settings.with_overrides(workspace=str(tmp_path), always_allow=("read_*",)))
    fake_server.enqueue(tool_call_response(READ), text_response("Read again."))
    async with again.run_test(size=SIZE) as pilot:
        await send(pilot, "read")
        await finish_turn(pilot)
        row = again.query_one(ToolCallRow)
        assert row.state == "ok" and "by always_allow" in row.decision
