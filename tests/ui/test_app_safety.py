"""Untrusted text (answers, tool arguments and results, errors) is shown literally, never interpreted."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, ask, make_settings, screen_text, send, wait_for
from fake_server import FakeServer, error_response, text_response, tool_call_response

from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp
from streamchat.ui.widgets.tool_call import ToolCallRow

HOSTILE = "[bold]not bold[/bold] [@click=app.quit]click me[/] \x1b[31mred\x1b[0m \x1b]0;title\x07done"


async def test_markup_in_model_output_is_literal_and_click_actions_do_not_run(app: StreamChatApp,
                                                                             fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response([HOSTILE]))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "be nasty")
        shown = screen_text(app)
        assert "[bold]not bold[/bold] [@click=app.quit]click me[/] red done" in shown
        assert "[31m" not in shown and "title" not in shown
        answer = app.query_one(AnswerView)
        for x in range(0, 48, 6):
            await pilot.click(answer, offset=(x, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None


SPLIT = ("ANSI \x1b[31mred\x1b[0m, clear \x1b[2J, title \x1b]0;PWNED-TITLE\x07, "
         "clipboard \x1b]52;c;aGVsbG8=\x07, link \x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\ end")


async def test_escape_sequences_cut_across_chunks_are_removed_whole(app: StreamChatApp,
                                                                     fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response([SPLIT[i:i + 5] for i in range(0, len(SPLIT), 5)], delay=0.005))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "be sneaky")
        shown = screen_text(app)
        assert "ANSI red, clear , title , clipboard , link click end" in shown
        for leftover in ("[0m", "[2J", "PWNED", "aGVsbG8", "evil", "]0;", "]52"):
            assert leftover not in shown


async def test_tool_arguments_results_and_error_texts_are_literal(app: StreamChatApp,
                                                                  fake_server: FakeServer) -> None:
    fake_server.enqueue(tool_call_response([("call_1", "calculator", '{"expression": "[b]1[/b]+1"}')]),
                        error_response(500, "[@click=app.quit]boom[/] \x1b[2J"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "tools then trouble", ok=False)
        row = app.query_one(ToolCallRow)
        assert row.state == "error"
        shown = screen_text(app)
        assert '{"expression": "[b]1[/b]+1"}' in shown
        assert "[@click=app.quit]boom[/]" in shown and "[2J" not in shown
        await pilot.click(row)
        await pilot.pause()
        assert "[b]1[/b]+1" in screen_text(app)
        assert app.is_running


async def test_the_key_echoed_by_the_model_is_masked_even_cut_across_chunks(fake_server: FakeServer) -> None:
    from streamchat.ui.app import make_app

    key = "plain-hunter2-echo-key-77"  # not key-shaped: only the configured secret can mask it
    text = f"Your key is {key}, and plain-hunter2 alone is not it."
    fake_server.enqueue(text_response([text[i:i + 3] for i in range(0, len(text), 3)]))
    app = make_app(make_settings(fake_server, api_key=key))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "echo my key")
        shown = screen_text(app)
        assert "Your key is ***, and plain-hunter2 alone is not it." in shown
        assert key not in shown and "echo-key" not in shown


async def test_copy_and_export_carry_no_escape_sequence_or_key_out(
        fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamchat.ui.app import make_app

    monkeypatch.chdir(tmp_path)
    key = "plain-hunter2-echo-key-77"
    answer = (f"Clear\x1b[2J clip \x1b]52;c;SGVsbG8=\x07 title \x1b]0;PWNED\x07 bell\x07 a\x08b key {key}\n\n"
              "```sh\necho \x1b[31mred\x1b[0m\n```\n")
    fake_server.enqueue(text_response([answer]))
    app = make_app(make_settings(fake_server, api_key=key, data_dir=str(tmp_path / "data")))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "be nasty")
        await send(pilot, "/copy")
        await pilot.pause()
        assert app.clipboard == "Clear clip  title  bell ab key ***\n\n```sh\necho red\n```\n"
        await send(pilot, "/copy code")
        await pilot.pause()
        assert app.clipboard == "echo red\n"
        await send(pilot, "/copy file")
        await send(pilot, "/export md")
        await wait_for(pilot, lambda: len(list(tmp_path.glob("streamchat-*.md"))) == 2, "the two files")
    for path in tmp_path.glob("streamchat-*.md"):
        text = path.read_text()
        assert "Clear clip  title  bell ab key ***" in text, path.name
        assert not any(char in text for char in "\x1b\x07\x08") and key not in text, path.name


def test_an_export_without_the_store_masks_the_key_as_the_store_would() -> None:
    from streamchat.messages import ChatMessage
    from streamchat.ui.chat.export_here import exportable
    from streamchat.ui.chat.saving import SaveTarget

    key = "plain-hunter2-echo-key-77"
    history = [ChatMessage(role="user", content="my key?"), ChatMessage(role="assistant", content=f"It is {key}.")]
    conversation = exportable(None, SaveTarget(), history, "m", key)
    assert [m.content for m in conversation.messages] == ["my key?", "It is ***."] and key in history[1].content
