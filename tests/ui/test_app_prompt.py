"""The prompt (Enter, Ctrl+J, recall), new chat, the system prompt, `/` commands and the palette."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, ask, footer_labels, screen_text, send, wait_for
from fake_server import FakeServer, text_response
from textual.events import Key
from textual.widgets import TextArea

from streamchat.ui.app import StreamChatApp
from streamchat.ui.chat.commands import last_code_block, parse_slash
from streamchat.ui.screens.system_prompt import SystemPromptScreen
from streamchat.ui.widgets.message import Note, UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.turn import AssistantTurn

CODE_ANSWER = "Here:\n\n```python\nprint('one')\n```\n\nand\n\n```sh\necho two\n```\n"


async def test_up_recalls_earlier_prompts_and_down_returns(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("one"), text_response("two"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "first question")
        await ask(pilot, "second question")
        prompt = app.query_one(Prompt)
        await pilot.press("up")
        assert prompt.text == "second question"
        await pilot.press("up")
        assert prompt.text == "first question"
        await pilot.press("down")
        assert prompt.text == "second question"
        await pilot.press("down")
        assert prompt.text == ""


async def test_ctrl_j_and_shift_or_alt_enter_insert_newlines_and_enter_sends(app: StreamChatApp,
                                                                   fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("ok"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "ctrl+j", "b", "shift+enter", "c", "alt+enter", "d")
        assert app.query_one(Prompt).text == "a\nb\nc\nd" and not fake_server.requests
        await pilot.press("enter")
        await wait_for(pilot, lambda: not app.turn_running and bool(app.history), "the turn")
        assert fake_server.requests[0].messages[-1]["content"] == "a\nb\nc\nd"


async def test_new_chat_clears_history_and_view(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("first answer"), text_response("fresh"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "remember this")
        assert len(app.history) == 2
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.history == [] and not app.query(UserMessage) and not app.query(AssistantTurn)
        assert "Retry" not in footer_labels(app)
        await ask(pilot, "new topic")
        assert fake_server.requests[1].messages == [{"role": "user", "content": "new topic"}]


async def test_system_prompt_screen_sets_the_first_message(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("Arr."))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"system prompt")
        await wait_for(pilot, lambda: "System prompt" in screen_text(app), "the palette hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SystemPromptScreen), "the system prompt screen")
        app.screen.query_one(TextArea).insert("Talk like a pirate.")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.settings.system_prompt == "Talk like a pirate."
        await ask(pilot, "hello")
        assert fake_server.requests[0].messages[0] == {"role": "system", "content": "Talk like a pirate."}
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert [(m.role, m.content) for m in app.history] == [("system", "Talk like a pirate.")]


async def test_slash_commands_model_tools_system_copy_and_help(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response([CODE_ANSWER]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "/model other-model")
        await send(pilot, "/tools off")
        await send(pilot, "/system Be brief.")
        await pilot.pause()
        assert (app.settings.model_name, app.settings.tools_enabled) == ("other-model", False)
        await ask(pilot, "code please")
        body = fake_server.requests[0].body
        assert body["model"] == "other-model" and "tools" not in body
        assert body["messages"][0] == {"role": "system", "content": "Be brief."}
        await send(pilot, "/copy")
        await pilot.pause()
        assert app.clipboard == CODE_ANSWER
        await send(pilot, "/copy code")
        await pilot.pause()
        assert app.clipboard == "echo two\n"
        await send(pilot, "/help")
        await pilot.pause()
        assert "/model [NAME]" in app.query(Note).last().render().plain  # type: ignore[attr-defined]
        await send(pilot, "/nonsense")
        await pilot.pause()
        shown = screen_text(app)
        assert "Unknown command /nonsense" in shown
        assert len(fake_server.requests) == 1


async def test_copy_says_what_it_did_and_can_write_a_file_instead(
        app: StreamChatApp, fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    fake_server.enqueue(text_response([CODE_ANSWER]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, "code please")
        await send(pilot, "/copy")
        await pilot.pause()
        said = str(list(app._notifications)[-1].message)
        assert "Copied" not in said, "OSC 52 gives no word back: nothing says it was copied"
        assert said.startswith("Sent the last answer (") and "(OSC 52)" in said
        assert "set -g set-clipboard on" in said and "/copy file" in said
        await send(pilot, "/copy code file")
        await pilot.pause(0.2)
        path = tmp_path / "streamchat-code.txt"
        assert path.read_text() == "echo two\n" and path.stat().st_mode & 0o777 == 0o600
        assert str(list(app._notifications)[-1].message) == f"Wrote the last code block (1 line) to {path}"
        await send(pilot, "/copy file")
        await pilot.pause(0.2)
        assert (tmp_path / "streamchat-answer.md").read_text() == CODE_ANSWER


def test_alt_enter_as_most_terminals_send_it_adds_a_line_instead_of_sending() -> None:
    from textual._xterm_parser import XTermParser

    import streamchat.ui.widgets.prompt as prompt_module

    keys = [event.key for event in XTermParser().feed("a\x1b\rb\r") if isinstance(event, Key)]
    assert keys == ["a", "ctrl+j", "b", "enter"], "Esc Enter (Alt+Enter) must not read as Enter"
    assert "ctrl+j" in prompt_module.NEWLINE_KEYS


def test_parse_slash_and_code_blocks() -> None:
    assert parse_slash("/model gpt-4o") == ("model", "gpt-4o")
    assert parse_slash("//not a command") is None and parse_slash("hello /x") is None
    assert last_code_block(CODE_ANSWER) == "echo two\n"
    assert last_code_block("```py\nunfinished") == "unfinished"
    assert last_code_block("no code") is None


async def test_an_unknown_command_stays_in_the_prompt_to_be_fixed(app: StreamChatApp, fake_server: FakeServer) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await send(pilot, "/modle gpt-4o")
        await pilot.pause()
        prompt = app.query_one(Prompt)
        assert prompt.text == "/modle gpt-4o" and "Unknown command /modle" in screen_text(app)
        assert prompt.recall == []  # not a command that ran: Up recalls nothing of it
        prompt.clear()
        await send(pilot, "/model gpt-4o")
        await pilot.pause()
        assert prompt.text == "" and app.settings.model_name == "gpt-4o" and prompt.recall == ["/model gpt-4o"]
        assert not fake_server.requests
