"""Saved conversations in the app: saved as they happen, reopened, listed, continued, exported."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from app_helpers import SIZE, ask, finish_turn, footer_labels, make_settings, screen_text, send, wait_for
from fake_server import Delay, Done, FakeServer, Response, chunk, text_response
from textual.pilot import Pilot
from textual.widgets import Input, Static

from streamchat.config.settings import Settings
from streamchat.events import AnyEvent, TextDelta
from streamchat.export import to_json, to_markdown
from streamchat.messages import CONTINUE_PROMPT, STOPPED_NOTE, ChatMessage, ToolCall
from streamchat.store.database import ConversationStore
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.screens.confirm import ConfirmScreen
from streamchat.ui.screens.history import HistoryScreen
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.message import Note, UserMessage
from streamchat.ui.widgets.saved import ContinuedLabel, SavedTurn
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.turn import STOPPED, AssistantTurn

KEY = "plain-hunter2-history-5f3a9c"  # not key-shaped: only the configured secret can mask it


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(fake_server: FakeServer, data_dir: Path) -> Settings:
    return make_settings(fake_server, data_dir=str(data_dir), api_key=KEY)


def long_pause_after(text: str) -> Response:
    """Streams ``text``, then waits far longer than any test runs."""
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": text}), Delay(30),
                     chunk({"content": " never shown"}), chunk({}, finish_reason="stop"), Done()])


async def saved(pilot: Pilot[object]) -> None:
    """Wait until the store is open and every write asked for so far is done."""
    app = pilot.app
    assert isinstance(app, StreamChatApp)
    await wait_for(pilot, lambda: app.persistence.store is not None or app.persistence.problem is not None, "store")
    await app.persistence.call(lambda: None)


async def stop_mid_answer(pilot: Pilot[object], server: FakeServer, prompt: str, partial: str) -> None:
    app = pilot.app
    server.enqueue(long_pause_after(partial))
    await send(pilot, prompt)
    await wait_for(pilot, lambda: partial in "".join(v.text for v in app.query(AnswerView)), "the first tokens")
    await pilot.press("escape")
    await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")  # type: ignore[attr-defined]
    await pilot.pause(0.05)


def notes(app: StreamChatApp) -> list[str]:
    return [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]


async def test_continue_reopens_both_turns_with_the_stopped_mark_statuses_and_stats(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    first = make_app(settings)
    fake_server.enqueue(text_response("Hello there, saved world.", delay=0.005))
    async with first.run_test(size=SIZE) as pilot:
        await ask(pilot, "say hello")
        await stop_mid_answer(pilot, fake_server, "tell me a long story", "Once upon a time")
        before = [(m.role, m.content, m.status) for m in first.history]
    assert before == [("user", "say hello", None), ("assistant", "Hello there, saved world.", "complete"),
                      ("user", "tell me a long story", None), ("assistant", "Once upon a time", "stopped")]

    app = make_app(settings, continue_last=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(SavedTurn)) == 2, "the saved turns")
        assert [m.text for m in app.query(UserMessage)] == ["say hello", "tell me a long story"]
        done, stopped = app.query(SavedTurn)
        assert done.has_class("-complete") and done.query_one(AnswerView).text == "Hello there, saved world."
        assert stopped.has_class("-stopped") and stopped.query_one(AnswerView).text == "Once upon a time"
        assert STOPPED in notes(app) and STOPPED in screen_text(app)
        assert any(n.startswith("gpt-4o-mini · first token") and "4 tokens" in n for n in notes(app))  # the timing line
        assert [(m.role, m.content, m.status) for m in app.history] == before
        answer = app.history[1]
        assert (answer.model, answer.backend) == ("gpt-4o-mini", "openai")
        assert answer.stats is not None and answer.stats["tokens"] == 4 and answer.stats["ttft_ms"] > 0
        assert app.history[3].stats is not None and app.history[3].stats["tokens"] == 1

        fake_server.enqueue(text_response("Still the same conversation."))
        await ask(pilot, "and now?")
        assert fake_server.requests[-1].messages[:2] == [{"role": "user", "content": "say hello"},
                                                        {"role": "assistant", "content": "Hello there, saved world."}]
        await saved(pilot)
    with ConversationStore(data_dir) as store:
        [row] = store.list_conversations()
        conversation = store.load(row.id)
    assert [(m.role, m.status) for m in conversation.messages][-2:] == [("user", None), ("assistant", "complete")]
    assert len(conversation.messages) == 6


async def test_the_streaming_answer_is_checkpointed_at_a_bounded_rate_then_saved_stopped_on_quit(
        app: StreamChatApp, fake_server: FakeServer, data_dir: Path) -> None:
    words = [f" w{i}" for i in range(60)]
    fake_server.enqueue(Response([chunk({"role": "assistant", "content": "Start"}),
                                  *[step for w in words for step in (Delay(0.02), chunk({"content": w}))],
                                  Delay(30), chunk({}, finish_reason="stop"), Done()]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "stream slowly")
        partial = "Start" + "".join(words)
        await wait_for(pilot, lambda: partial in "".join(v.text for v in app.query(AnswerView)), "the tokens")
        await pilot.pause(0.7)  # at least one checkpoint after the last token
        with ConversationStore(data_dir) as reader:  # another connection, as after a crash
            [row] = reader.list_conversations()
            messages = reader.load(row.id).messages
        assert [(m.role, m.content, m.status) for m in messages] == [
            ("user", "stream slowly", None), ("assistant", partial, "incomplete")]
        checkpointer = app.persistence.target.checkpointer
        assert checkpointer is not None and 2 <= checkpointer.writes <= 6  # ~0.5 s apart, never per token
    # Quitting mid-answer stops the turn: the stopped answer takes the checkpoint's place.
    with ConversationStore(data_dir) as reader:
        messages = reader.load(row.id).messages
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "stream slowly", None), ("assistant", partial, "stopped")]
    assert messages[1].id == app.history[-1].id


def seed(data_dir: Path, *conversations: tuple[str, str]) -> list[str]:
    """Saved conversations of one exchange each, oldest first; returns their ids."""
    ids = []
    with ConversationStore(data_dir) as store:
        for question, answer in conversations:
            cid = store.create_conversation()
            store.save_messages(cid, [ChatMessage(role="user", content=question),
                                      ChatMessage(role="assistant", content=answer, status="complete")])
            ids.append(cid)
    return ids


def listed(app: StreamChatApp) -> list[str]:
    screen = app.screen
    assert isinstance(screen, HistoryScreen)
    return [row.title or "" for row in screen.rows]


async def test_history_screen_lists_searches_renames_and_deletes_after_a_yes(
        app: StreamChatApp, data_dir: Path) -> None:
    apple, banana, cherry = seed(data_dir, ("apple pie recipe", "Flour."), ("banana bread", "Bananas."),
                                 ("cherry tart", "Cherries."))
    async with app.run_test(size=SIZE) as pilot:
        await saved(pilot)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.rows) == 3, "list")
        assert listed(app) == ["cherry tart", "banana bread", "apple pie recipe"]  # newest first
        assert "banana bread" in screen_text(app)

        await pilot.press(*"BANANA")
        await wait_for(pilot, lambda: listed(app) == ["banana bread"], "the search")
        await pilot.press("ctrl+r")
        rename = app.screen.query_one("#history-rename", Input)
        assert rename.has_focus and rename.value == "banana bread"
        rename.value = ""
        await pilot.press(*"Best banana loaf", "enter")
        await wait_for(pilot, lambda: listed(app) == ["Best banana loaf"], "the new title")

        await pilot.press("backspace", "backspace", "backspace", "backspace", "backspace", "backspace")
        await wait_for(pilot, lambda: len(listed(app)) == 3, "the whole list")
        screen = app.screen
        assert isinstance(screen, HistoryScreen) and screen.highlighted is not None
        assert screen.highlighted.id == banana  # the cursor stayed on the renamed conversation
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "Best banana loaf" in app.screen.question
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "back to the list")
        await pilot.press("ctrl+d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question again")
        await pilot.press("y")
        await wait_for(pilot, lambda: listed(app) == ["cherry tart", "apple pie recipe"], "the deletion")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen), "the screen to close")
    with ConversationStore(data_dir) as store:
        assert [row.id for row in store.list_conversations()] == [cherry, apple]
        assert store.list_conversations(search="banana") == []


async def test_opening_from_history_replaces_the_view_and_new_turns_are_saved_to_it(
        app: StreamChatApp, fake_server: FakeServer, data_dir: Path) -> None:
    [old] = seed(data_dir, ("what is a quokka?", "A small marsupial."))
    fake_server.enqueue(text_response("Fresh chat answer."), text_response("They live in Australia."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "a fresh chat")
        await saved(pilot)
        fresh = app.persistence.target.id
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.rows) == 2, "list")
        await pilot.press(*"quokka")
        await wait_for(pilot, lambda: listed(app) == ["what is a quokka?"], "the search")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(app.query(SavedTurn)), "the conversation")
        assert [m.text for m in app.query(UserMessage)] == ["what is a quokka?"]
        assert "Fresh chat answer." not in screen_text(app) and "A small marsupial." in screen_text(app)
        assert [(m.role, m.content) for m in app.history] == [("user", "what is a quokka?"),
                                                              ("assistant", "A small marsupial.")]
        await ask(pilot, "where do they live?")
        assert fake_server.requests[-1].messages[0] == {"role": "user", "content": "what is a quokka?"}
        await saved(pilot)
    with ConversationStore(data_dir) as store:
        assert [m.content for m in store.load(old).messages] == [
            "what is a quokka?", "A small marsupial.", "where do they live?", "They live in Australia."]
        assert fresh is not None and len(store.load(fresh).messages) == 2


async def test_continue_after_a_stop_sends_the_partial_and_a_request_to_carry_on(
        app: StreamChatApp, fake_server: FakeServer) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await stop_mid_answer(pilot, fake_server, "count to ten", "one two three")
        assert "Continue answer" in footer_labels(app)
        fake_server.enqueue(text_response(" four five six seven eight nine ten"))
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: len(fake_server.requests) == 2 and not app.turn_running, "the continuation")
        sent = fake_server.requests[1].messages
        assert sent[-1] == {"role": "user", "content": CONTINUE_PROMPT}
        assert sent[-2] == {"role": "assistant", "content": f"one two three\n{STOPPED_NOTE}"}
        assert len(app.query(ContinuedLabel)) == 1 and [m.text for m in app.query(UserMessage)] == ["count to ten"]
        last = app.query(AssistantTurn).last()
        assert last.query_one(AnswerView).text == " four five six seven eight nine ten"
        assert "Continue answer" not in footer_labels(app)


async def test_an_answer_cut_short_is_sent_back_the_same_live_and_reopened(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await stop_mid_answer(pilot, fake_server, "count to ten", "one two three")
        fake_server.default = text_response("Four.")
        await ask(pilot, "go on")
        live = fake_server.requests[-1].messages[:2]
        await saved(pilot)
    again = make_app(settings, continue_last=True)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(again.history) == 4, "the conversation")
        await ask(pilot, "and now?")
        assert fake_server.requests[-1].messages[:2] == live
    with ConversationStore(data_dir) as store:  # killed mid-answer: only a checkpoint was saved
        cid = store.create_conversation()
        store.save_message(cid, ChatMessage(role="user", content="count to ten"))
        store.checkpoint(cid, ChatMessage(role="assistant", content="one two three"))
    killed = make_app(settings, resume=cid)
    async with killed.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(killed.history) == 2, "the conversation")
        await ask(pilot, "go on")
        assert fake_server.requests[-1].messages[:2] == live
    assert live[1] == {"role": "assistant", "content": f"one two three\n{STOPPED_NOTE}"}


async def test_a_corrupt_database_means_no_saving_a_note_once_and_chat_still_works(
        app: StreamChatApp, fake_server: FakeServer, data_dir: Path) -> None:
    data_dir.mkdir()
    garbage = os.urandom(4096)
    (data_dir / "history.db").write_bytes(garbage)
    fake_server.enqueue(text_response("Works anyway."))
    async with app.run_test(size=SIZE) as pilot:
        await saved(pilot)
        await pilot.pause(0.05)
        assert [n for n in notes(app) if "History is not saved" in n and "history.db" in n]
        await ask(pilot, "still there?")
        assert app.query_one(AnswerView).text == "Works anyway."
        assert len([n for n in notes(app) if "not saved" in n]) == 1
    assert (data_dir / "history.db").read_bytes() == garbage


async def test_the_api_key_never_reaches_the_database(app: StreamChatApp, fake_server: FakeServer,
                                                      data_dir: Path) -> None:
    fake_server.enqueue(text_response(f"Your key is {KEY}, keep it safe."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, f"my key is {KEY}")
        await saved(pilot)
        stored = b"".join(path.read_bytes() for path in data_dir.glob("history.db*"))
        assert b"keep it safe" in stored  # the session was saved (WAL included)...
        assert KEY.encode() not in stored  # ...without the key


async def test_export_md_writes_the_conversation_here_privately(
        app: StreamChatApp, fake_server: FakeServer, data_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fake_server.enqueue(text_response("Exported answer."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "export me")
        await send(pilot, "/export md")
        cid = app.persistence.target.id
        assert cid is not None
        path = tmp_path / f"streamchat-{cid[:8]}.md"
        await wait_for(pilot, path.exists, "the file")
        await send(pilot, "/export json")
        await wait_for(pilot, (tmp_path / f"streamchat-{cid[:8]}.json").exists, "the JSON file")
        await pilot.pause(0.05)
    with ConversationStore(data_dir) as store:
        conversation = store.load(cid)
    assert path.read_text() == to_markdown(conversation) and "Exported answer." in path.read_text()
    assert (tmp_path / f"streamchat-{cid[:8]}.json").read_text() == to_json(conversation)
    assert path.stat().st_mode & 0o777 == 0o600


def test_resume_an_unknown_id_exits_2_with_a_clear_message(data_dir: Path) -> None:
    seed(data_dir, ("hello", "hi"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    result = subprocess.run([sys.executable, "-m", "streamchat", "--data-dir", str(data_dir), "--resume", "nosuchid"],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 2
    assert "no conversation with id 'nosuchid'" in result.stderr and "Traceback" not in result.stderr


async def test_a_saved_tool_turn_and_a_failed_turn_are_shown_as_they_ended(settings: Settings, data_dir: Path) -> None:
    call = ToolCall("call_1", "calculator", '{"expression": "6*7"}')
    older = ToolCall("call_2", "calculator", '{"expression": "7*6"}')
    with ConversationStore(data_dir) as store:
        cid = store.create_conversation()
        store.save_messages(cid, [
            ChatMessage(role="user", content="what is 6*7?"),
            ChatMessage(role="assistant", content="Let me check.", tool_calls=[call, older], status="complete"),
            ChatMessage(role="tool", tool_call_id="call_1", name="calculator", content="42",
                        stats={"elapsed_ms": 1234.0}),
            ChatMessage(role="tool", tool_call_id="call_2", name="calculator", content="42"),  # saved without a time
            ChatMessage(role="assistant", content="It is 42.", status="complete"),
            ChatMessage(role="user", content="and again?"),
            ChatMessage(role="assistant", status="error", error="Rate limited by host (429)", error_kind="rate_limit"),
        ])
    app = make_app(settings, resume=cid[:6])
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(app.query(SavedTurn)) == 2, "the saved turns")
        await pilot.pause(0.05)
        tools, failed = app.query(SavedTurn)
        row, older_row = tools.query(ToolCallRow)
        assert (row.state, row.result, row.elapsed_s) == ("ok", "42", 1.234)
        header = row.query_one(".tool-header", Static).render().plain  # type: ignore[attr-defined]
        assert header.startswith("▸ ✓ calculator 1.23 s")
        assert (older_row.state, older_row.elapsed_s) == ("ok", None)
        assert [v.text for v in tools.query(AnswerView)] == ["Let me check.", "It is 42."]
        assert failed.has_class("-error") and "Rate limited by host (429)" in failed.query_one(ErrorNote).message
        assert failed.query_one(ErrorNote).kind == "rate_limit"  # titled as it was live, not a generic "Error"
        assert "Continue answer" not in footer_labels(app)


async def test_a_retry_replaces_the_attempt_in_the_saved_conversation(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    app = make_app(settings)
    fake_server.enqueue(text_response("Hello."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "say hello")
        await stop_mid_answer(pilot, fake_server, "tell me a story", "Once upon")  # checkpointed, then stopped
        await saved(pilot)
        fake_server.enqueue(text_response("The second attempt, in full."))
        await pilot.press("ctrl+r")
        await finish_turn(pilot)
        await saved(pilot)
        live = [(m.role, m.content, m.status) for m in app.history]
    with ConversationStore(data_dir) as store:
        [row] = store.list_conversations()
        kept = [(m.role, m.content, m.status) for m in store.load(row.id).messages]
    assert live[-2:] == [("user", "tell me a story", None), ("assistant", "The second attempt, in full.", "complete")]
    assert kept == live and len(kept) == 4  # the stopped attempt and its user message are gone


def test_delete_messages_removes_only_those_of_that_conversation(data_dir: Path) -> None:
    with ConversationStore(data_dir) as store:
        one, two = store.create_conversation(), store.create_conversation()
        a, b = ChatMessage(role="user", content="a"), ChatMessage(role="user", content="b")
        store.save_messages(one, [a, b])
        store.save_message(two, a)
        assert store.delete_messages(one, [a.id, "not-saved"]) == 1
        assert [m.content for m in store.load(one).messages] == ["b"]
        assert [m.content for m in store.load(two).messages] == ["a"]


async def test_a_system_prompt_changed_mid_chat_replaces_the_saved_one_in_first_place(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        fake_server.enqueue(text_response("Hi."), text_response("Terse."))
        await ask(pilot, "hello")
        await send(pilot, "/system Be terse.")
        await ask(pilot, "again")
        await send(pilot, "/system Be kind.")
        await saved(pilot)
    with ConversationStore(data_dir) as store:
        [row] = store.list_conversations()
        conversation = store.load(row.id)
    roles = [(m.role, m.content) for m in conversation.messages]
    assert roles[0] == ("system", "Be kind.") and [r for r, _ in roles].count("system") == 1
    assert [c for r, c in roles if r == "user"] == ["hello", "again"]
    assert conversation.system_prompt == "Be kind."

    again = make_app(settings, continue_last=True)
    async with again.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(again.query(SavedTurn)) == 2, "the saved turns")
        fake_server.enqueue(text_response("Kind."))
        await ask(pilot, "third")
    sent = fake_server.requests[-1].messages
    assert sent[0] == {"role": "system", "content": "Be kind."}
    assert [m["role"] for m in sent].count("system") == 1


@pytest.mark.parametrize("how", ["resume", "continue", "history screen"])
async def test_a_reopened_conversation_retries_its_failed_last_turn(
        settings: Settings, fake_server: FakeServer, data_dir: Path, how: str) -> None:
    from fake_server import error_response

    first = make_app(settings)
    fake_server.enqueue(text_response("Hello."), error_response(429, "Slow down", retry_after="0"))
    async with first.run_test(size=SIZE) as pilot:
        await ask(pilot, "say hello")
        await ask(pilot, "tell me a story", ok=False)
        await saved(pilot)
        cid = first.persistence.target.id
    assert cid is not None and first.history[-1].status == "error"

    app = make_app(settings, resume=cid[:8] if how == "resume" else None, continue_last=how == "continue")
    async with app.run_test(size=SIZE) as pilot:
        if how == "history screen":
            await saved(pilot)
            await pilot.press("ctrl+o")
            await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.rows) == 1, "list")
            await pilot.press("enter")
        await wait_for(pilot, lambda: len(app.query(SavedTurn)) == 2, "the saved turns")
        await wait_for(pilot, lambda: "Retry" in footer_labels(app), "retry offered")  # the footer redraws after
        fake_server.enqueue(text_response("Once upon a time, in full."))
        await pilot.press("ctrl+r")
        await finish_turn(pilot)
        assert fake_server.requests[-1].messages == [
            {"role": "user", "content": "say hello"}, {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "tell me a story"}]
        assert [m.text for m in app.query(UserMessage)] == ["say hello", "tell me a story"]
        assert len(app.query(SavedTurn)) == 1 and not app.query(ErrorNote)  # the failed turn left the view
        assert app.query(AssistantTurn).last().query_one(AnswerView).text == "Once upon a time, in full."
        await saved(pilot)
        live = [(m.role, m.content, m.status) for m in app.history]
    assert live == [("user", "say hello", None), ("assistant", "Hello.", "complete"),
                    ("user", "tell me a story", None), ("assistant", "Once upon a time, in full.", "complete")]
    with ConversationStore(data_dir) as store:
        kept = [(m.role, m.content, m.status) for m in store.load(cid).messages]
    assert kept == live  # the failed attempt and its user message are gone from the store too


async def test_a_long_conversation_opens_with_its_last_turns_and_shows_earlier_ones_on_scrolling_up(
        settings: Settings, data_dir: Path) -> None:
    with ConversationStore(data_dir) as store:
        cid = store.create_conversation("Very long")
        messages: list[ChatMessage] = []
        for n in range(1, 101):
            messages += [ChatMessage(role="user", content=f"Question {n}"),
                         ChatMessage(role="assistant", content=f"Answer {n}.\n\nMore about {n}.", status="complete")]
        store.save_messages(cid, messages)
    app = make_app(settings, resume=cid)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "More about 100." in screen_text(app), "the last answer")
        prompts = lambda: [m.text for m in app.query(UserMessage)]  # noqa: E731
        assert 0 < len(prompts()) < 40 and prompts()[-1] == "Question 100"  # the newest turns only
        conversation = app.query_one("#conversation")
        while "Question 1" not in prompts():
            first, mounted = prompts()[0], len(prompts())
            conversation.scroll_to(y=0, animate=False)  # the top: the next batch is mounted above
            conversation.reveal_earlier()  # asked again before the first ran: one batch all the same
            conversation.reveal_earlier()
            await wait_for(pilot, lambda: prompts()[0] != first, "earlier messages")  # noqa: B023
            await pilot.pause(0.1)
            assert first in screen_text(app)  # what was at the top stays in view
            assert len(prompts()) - mounted <= 21  # one batch (about 20 exchanges), not one per scroll
            assert all(view.size.height > 0 for view in app.query(AnswerView))  # drawn, not left empty
        assert prompts() == [f"Question {n}" for n in range(1, 101)]
        conversation.scroll_to(y=0, animate=False)
        await pilot.pause(0.1)
        assert "Very long" in screen_text(app) and "earlier prompts" not in screen_text(app)
        assert len(app.history) == 200  # the whole conversation is in the next request all along


async def test_a_stop_while_the_view_is_busy_with_a_token_still_saves_the_stopped_answer(
        settings: Settings, fake_server: FakeServer, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handle, busy = AssistantTurn.handle, asyncio.Event()

    async def slow_handle(self: AssistantTurn, event: AnyEvent) -> None:  # esc lands here, not in the stream
        await handle(self, event)
        if isinstance(event, TextDelta):
            busy.set()
            await asyncio.sleep(30)

    monkeypatch.setattr(AssistantTurn, "handle", slow_handle)
    fake_server.enqueue(long_pause_after("half an answer"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "tell me")
        await wait_for(pilot, busy.is_set, "the view to take the first token")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.turn_running, "the turn to stop")
        await saved(pilot)
        assert (app.history[-1].status, app.history[-1].content) == ("stopped", "half an answer")
    with ConversationStore(data_dir) as store:
        found = store.find("last")
        assert found is not None
        messages = store.load(found).messages
    assert [(m.role, m.content, m.status) for m in messages] == [
        ("user", "tell me", None), ("assistant", "half an answer", "stopped")]
