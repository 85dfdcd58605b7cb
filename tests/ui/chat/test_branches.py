"""Edit and branch: an edited prompt or a regenerated answer is a new version beside the old one; flip between
them; fork a conversation from a message; delete from a message on. The next request, the store, --continue and
/export follow the branch on screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, ask, finish_turn, make_settings, screen_text, wait_for
from fake_server import FakeServer, text_response

from streamchat.config.settings import Settings
from streamchat.store.database import ConversationStore
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.screens.choice import ChoiceScreen
from streamchat.ui.screens.confirm import ConfirmScreen
from streamchat.ui.widgets.message import UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.saved import SavedTurn
from streamchat.ui.widgets.turn import AssistantTurn, BranchLabel


@pytest.fixture
def settings(fake_server: FakeServer, tmp_path: Path) -> Settings:
    return make_settings(fake_server, data_dir=str(tmp_path / "data"))


def sent(server: FakeServer, index: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[index].messages]


def shown(app: StreamChatApp) -> list[str]:
    """The conversation on screen: each prompt, and each answer's text."""
    return [w.text if isinstance(w, UserMessage) else w.markdown for w in app.query("UserMessage, AssistantTurn")]


async def focus_prompt_number(pilot, app: StreamChatApp, number: int) -> UserMessage:  # type: ignore[no-untyped-def]
    """Move from the prompt box to the ``number``-th prompt shown (1 is the first)."""
    await pilot.press("alt+up")
    prompts = list(app.query(UserMessage))
    while app.focused is not prompts[number - 1]:
        await pilot.press("up")
    return prompts[number - 1]


async def saved_branch(app: StreamChatApp) -> list[str]:
    await app.persistence.call(lambda: None)  # every write asked for so far is done
    assert app.persistence.store is not None and app.persistence.current_id is not None
    loaded = app.persistence.store.load(app.persistence.current_id)
    return [m.content for m in loaded.messages]


async def test_edit_an_earlier_prompt_resend_and_flip_between_the_two_branches(
        app: StreamChatApp, fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fake_server.enqueue(*(text_response(t) for t in ("A1", "A2", "A3", "A2 edited", "A4", "A3 edited")))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for question in ("q1", "q2", "q3"):
            await ask(pilot, question)
        entry = await focus_prompt_number(pilot, app, 2)
        await pilot.press("e")
        prompt = app.query_one(Prompt)
        assert app.focused is prompt and prompt.text == "q2" and "Editing a prompt" in str(prompt.border_title)
        prompt.load_text("q2, edited")
        await pilot.press("enter")
        await finish_turn(pilot)
        assert sent(fake_server) == [("user", "q1"), ("assistant", "A1"), ("user", "q2, edited")]
        assert shown(app) == ["q1", "A1", "q2, edited", "A2 edited"] and prompt.border_title is None
        second = list(app.query(UserMessage))[1]
        assert second.branch == (2, 2) and "‹ 2/2 › q2, edited" in screen_text(app)
        assert await saved_branch(app) == ["q1", "A1", "q2, edited", "A2 edited"]

        await focus_prompt_number(pilot, app, 2)
        await pilot.press("left")  # back to the first version: the old continuation is all there
        assert shown(app) == ["q1", "A1", "q2", "A2", "q3", "A3"]
        assert list(app.query(UserMessage))[1].branch == (1, 2) and entry is not app.focused
        assert await saved_branch(app) == ["q1", "A1", "q2", "A2", "q3", "A3"]
        await ask(pilot, "q4")
        assert sent(fake_server) == [("user", "q1"), ("assistant", "A1"), ("user", "q2"), ("assistant", "A2"),
                                     ("user", "q3"), ("assistant", "A3"), ("user", "q4")]

        await focus_prompt_number(pilot, app, 2)
        await pilot.press("right")
        assert shown(app) == ["q1", "A1", "q2, edited", "A2 edited"]
        await ask(pilot, "q3, edited")
        assert sent(fake_server)[-3:] == [("user", "q2, edited"), ("assistant", "A2 edited"), ("user", "q3, edited")]
        prompt.insert("/export md")
        await pilot.press("enter")
        await wait_for(pilot, lambda: list(tmp_path.glob("streamchat-*.md")), "the export")
        exported = next(tmp_path.glob("streamchat-*.md")).read_text()
        assert "q3, edited" in exported and "A4" not in exported, "the export follows the branch on screen"

        await focus_prompt_number(pilot, app, 3)
        await pilot.press("e", "escape")  # esc gives up the edit; what was typed before comes back
        assert prompt.text == "" and prompt.border_title is None


async def test_regenerate_makes_a_sibling_answer_and_continue_reopens_the_branch_shown(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("First take."), text_response("Second take."), text_response("Go on."))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "tell me a joke")
        await pilot.press("alt+up", "r")
        await finish_turn(pilot)
        assert sent(fake_server) == [("user", "tell me a joke")]
        assert shown(app) == ["tell me a joke", "Second take."]
        assert app.query_one(AssistantTurn).branch == (2, 2)
        assert isinstance(app.focused, Prompt)
        label, turn = app.query_one(BranchLabel), app.query_one(AssistantTurn)
        assert label.region.y == turn.region.y, "‹ 2/2 › is the answer's first row, no blank row above it"
        await pilot.press("alt+up", "left")
        assert shown(app) == ["tell me a joke", "First take."] and app.query_one(AssistantTurn).branch == (1, 2)
        assert [m.content for m in app.history] == ["tell me a joke", "First take."]
        await saved_branch(app)
    reopened = make_app(settings, continue_last=True)
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: reopened.query(SavedTurn), "the saved turn")
        assert shown(reopened) == ["tell me a joke", "First take."]
        assert reopened.query_one(SavedTurn).branch == (1, 2) and "‹ 1/2 ›" in screen_text(reopened)
        assert reopened.query_one(BranchLabel).region.y == reopened.query_one(SavedTurn).region.y
        await pilot.press("alt+up", "right")
        assert shown(reopened) == ["tell me a joke", "Second take."]
        await ask(pilot, "another")
        assert sent(fake_server)[-3:] == [("user", "tell me a joke"), ("assistant", "Second take."),
                                          ("user", "another")]


async def test_fork_copies_the_branch_down_to_a_message_into_a_new_conversation(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A2"), text_response("A3 in the fork"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        original = app.persistence.current_id
        await pilot.press("alt+up", "up", "up", "f")  # on the first answer
        await pilot.pause()
        assert shown(app) == ["q1", "A1"] and app.persistence.current_id != original
        assert f"Forked from conversation {original[:8]}" in screen_text(app)  # type: ignore[index]
        await ask(pilot, "q3")
        assert sent(fake_server) == [("user", "q1"), ("assistant", "A1"), ("user", "q3")]
        assert await saved_branch(app) == ["q1", "A1", "q3", "A3 in the fork"]
        await focus_prompt_number(pilot, app, 2)
        await pilot.press("f")  # on a prompt: the fork ends before it, the prompt waits in the box
        await pilot.pause()
        assert shown(app) == ["q1", "A1"] and app.query_one(Prompt).text == "q3"
    with ConversationStore(settings.data_dir) as store:
        assert original is not None
        assert [m.content for m in store.load(original).messages] == ["q1", "A1", "q2", "A2"]
        assert len(store.list_conversations()) == 3


async def test_delete_from_a_message_on_asks_then_keeps_what_came_before(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(*(text_response(t) for t in ("A1", "A2", "A2 again", "A2, asked again")))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await pilot.press("alt+up", "r")
        await finish_turn(pilot)
        await focus_prompt_number(pilot, app, 2)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        assert "3 messages, 1 of them on other branches" in str(app.screen.query_one("Label").render())
        await pilot.press("y")
        await wait_for(pilot, lambda: shown(app) == ["q1", "A1"], "the messages to go")
        assert [m.content for m in app.history] == ["q1", "A1"] and len(app.conversation_tree) == 2
        assert await saved_branch(app) == ["q1", "A1"]
        await ask(pilot, "q2 again")
        assert sent(fake_server) == [("user", "q1"), ("assistant", "A1"), ("user", "q2 again")]


async def test_deleting_from_the_first_message_leaves_no_empty_conversation_behind(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A fresh start"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        first = app.persistence.current_id
        await focus_prompt_number(pilot, app, 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: shown(app) == [], "the messages to go")
        await app.persistence.call(lambda: None)
        assert app.persistence.store is not None and not app.persistence.store.list_conversations()
        await ask(pilot, "q again")
        assert app.persistence.current_id not in (None, first) and await saved_branch(app) == ["q again",
                                                                                            "A fresh start"]


async def test_retry_after_deleting_the_last_prompt_answers_again_in_place_of_the_answer_left(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A2"), text_response("A1 again"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await focus_prompt_number(pilot, app, 2)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: shown(app) == ["q1", "A1"], "the messages to go")
        await pilot.press("escape", "ctrl+r")
        await finish_turn(pilot)
        assert shown(app) == ["q1", "A1 again"], "the answer retried is not left on screen"
        assert [m.content for m in app.history] == ["q1", "A1 again"] == await saved_branch(app)


async def test_an_edit_is_measured_against_its_own_branch_and_a_way_out_not_taken_puts_the_old_one_back(
        settings: Settings, fake_server: FakeServer) -> None:
    usage = {"prompt_tokens": 820, "completion_tokens": 10, "total_tokens": 830}
    fake_server.enqueue(text_response("A1"), text_response("A2", usage=usage), text_response("A1 for the edit"))
    app = make_app(settings.with_overrides(context_window=1000))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await focus_prompt_number(pilot, app, 2)
        await pilot.press("e")
        app.query_one(Prompt).load_text("q2 " + "long " * 800)  # past the window on its branch too
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the ways out")
        assert shown(app) == ["q1", "A1"], "the branch the edit goes on is what is measured"
        await pilot.press("escape")  # no way out taken: the conversation is shown as it was
        await wait_for(pilot, lambda: shown(app) == ["q1", "A1", "q2", "A2"], "the old branch back")
        assert app.query_one(Prompt).text.startswith("q2 long") and len(fake_server.requests) == 2
        assert await saved_branch(app) == ["q1", "A1", "q2", "A2"]

        await focus_prompt_number(pilot, app, 1)
        await pilot.press("e")
        app.query_one(Prompt).load_text("q1, edited")
        await pilot.press("enter")  # the whole conversation would not fit, the edit's branch (nothing) does
        await finish_turn(pilot)
        assert not isinstance(app.screen, ChoiceScreen) and sent(fake_server) == [("user", "q1, edited")]


async def test_a_fork_at_the_first_prompt_saves_no_empty_conversation(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A1 in the fork"))
    app = make_app(settings.with_overrides(system_prompt="Be brief."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await focus_prompt_number(pilot, app, 1)
        await pilot.press("f")
        await wait_for(pilot, lambda: app.query_one(Prompt).text == "q1", "the prompt waiting in the box")
        await app.persistence.call(lambda: None)
        assert app.persistence.store is not None and len(app.persistence.store.list_conversations()) == 1
        await pilot.press("enter")
        await finish_turn(pilot)
        assert await saved_branch(app) == ["Be brief.", "q1", "A1 in the fork"]
