"""Attaching files with @: paths of the workspace completed as they are typed, the file's text sent with the prompt
and shown as a chip; a binary or huge file refused, saying why and the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, finish_turn, make_settings, wait_for
from fake_server import FakeServer, text_response

from streamchat.config.settings import Settings
from streamchat.store.database import ConversationStore
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.attachment import AttachmentChip
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.suggestions import Suggestions


@pytest.fixture
def settings(fake_server: FakeServer, tmp_path: Path) -> Settings:
    workspace = tmp_path / "work"
    (workspace / "src").mkdir(parents=True)
    (workspace / "notes.md").write_text("# Notes\nbuy milk\n")
    (workspace / "src" / "app.py").write_text("print('hi')\n")
    (workspace / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (workspace / "big.log").write_text("line\n" * 40_000)
    (workspace / ".env").write_text("OPENAI_API_KEY=sk-never")
    return make_settings(fake_server, workspace=str(workspace), data_dir=str(tmp_path / "data"))


def offered(app: StreamChatApp) -> list[str]:
    suggestions = app.query_one(Suggestions)
    return [str(suggestions.get_option_at_index(i).id) for i in range(suggestions.option_count)
            if suggestions.shown and not suggestions.get_option_at_index(i).disabled]


def last_note(app: StreamChatApp) -> str:
    return str(list(app._notifications)[-1].message)


async def test_at_completes_paths_and_the_files_go_with_the_prompt_as_chips(settings: Settings,
                                                                           fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("Milk, and it prints hi."))
    app = make_app(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(Prompt)
        await pilot.press(*"what do @")
        assert offered(app) == ["src/", "big.log", "logo.png", "notes.md"], "folders first, no hidden or .env file"
        await pilot.press("n")
        assert offered(app) == ["notes.md"]
        await pilot.press("tab")
        assert prompt.text == "what do @notes.md " and not app.query_one(Suggestions).shown
        await pilot.press(*"and @s", "enter")  # enter picks a folder, and its files are offered next
        assert prompt.text == "what do @notes.md and @src/" and offered(app) == ["src/app.py"]
        await pilot.press("enter", *"say?")
        assert prompt.text == "what do @notes.md and @src/app.py say?"
        await pilot.press("enter")
        await finish_turn(pilot)
        assert fake_server.requests[0].messages[-1]["content"] == (
            "what do @notes.md and @src/app.py say?\n\n"
            "Attached notes.md (17 bytes, 2 lines):\n```\n# Notes\nbuy milk\n```\n\n"
            "Attached src/app.py (12 bytes, 1 line):\n```\nprint('hi')\n```")
        chips = list(app.query(AttachmentChip))
        header = str(chips[0].query_one(".chip-header").render())
        assert header == "▸ @notes.md · 17 B · 2 lines" and not chips[0].query_one(".chip-body").display
        await pilot.click(chips[0])
        assert chips[0].expanded and "buy milk" in str(chips[0].query_one(".chip-body").render())
        await app.persistence.call(lambda: None)
    with ConversationStore(settings.data_dir) as store:
        saved = store.load(store.last_conversation_id() or "")
    assert [a.name for a in saved.messages[0].attachments] == ["notes.md", "src/app.py"]


async def test_a_binary_or_huge_file_is_refused_saying_why_and_nothing_is_sent(settings: Settings,
                                                                                fake_server: FakeServer) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        prompt = app.query_one(Prompt)
        await pilot.press(*"what is @lo", "tab")
        assert last_note(app) == ("Cannot attach logo.png: logo.png looks like a binary file (it contains NUL bytes): "
                                  "only text can be attached.")
        assert prompt.text == "what is @lo" and not app.query_one(Suggestions).shown
        prompt.load_text("summarize @big.log")
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: "Not sent" in last_note(app), "the refusal")
        assert "big.log is 195.3 KB, over the 100 KB limit for an attached file" in last_note(app)
        assert prompt.text == "summarize @big.log" and fake_server.requests == [], "nothing sent, nothing lost"
        prompt.load_text("mail @bob about it")  # an @ that names no file is plain text
        fake_server.enqueue(text_response("Sure."))
        await pilot.press("enter")
        await finish_turn(pilot)
        assert fake_server.requests[0].messages[-1]["content"] == "mail @bob about it"
