"""The history screen (Ctrl+O) while an answer streams, and Enter typed faster than the search."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, make_settings, screen_text, send, wait_for
from fake_server import Delay, Done, FakeServer, Response, chunk
from textual.pilot import Pilot
from textual.widgets import Input

from streamchat.config.settings import Settings
from streamchat.messages import ChatMessage
from streamchat.store.database import ConversationStore
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp
from streamchat.ui.chat.restore import STOPPED_TO_OPEN
from streamchat.ui.screens.history import HistoryScreen
from streamchat.ui.widgets.message import UserMessage
from streamchat.ui.widgets.saved import INTERRUPTED
from streamchat.ui.widgets.turn import STOPPED


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(fake_server: FakeServer, data_dir: Path) -> Settings:
    return make_settings(fake_server, data_dir=str(data_dir))


def seed(data_dir: Path, question: str, answer: str) -> str:
    """A saved conversation of one exchange; its id."""
    with ConversationStore(data_dir) as store:
        cid = store.create_conversation()
        store.save_messages(cid, [ChatMessage(role="user", content=question),
                                  ChatMessage(role="assistant", content=answer, status="complete")])
    return cid


def paused(first: str, then: str, seconds: float) -> Response:
    """Streams ``first``, waits ``seconds``, then ``then``."""
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": first}), Delay(seconds),
                     chunk({"content": then}), chunk({}, finish_reason="stop"), Done()])


async def streaming(pilot: Pilot[object], app: StreamChatApp, prompt: str, first: str) -> None:
    """Send ``prompt`` and wait until ``first`` shows and the conversation is saved with a checkpoint of it."""
    await send(pilot, prompt)
    await wait_for(pilot, lambda: first in "".join(view.text for view in app.query(AnswerView)), "the first tokens")
    await wait_for(pilot, lambda: app.persistence.target.id is not None, "the conversation saved")
    await pilot.pause(0.6)  # a checkpoint (every 0.5 s) is written: reloading now would show it "interrupted"
    await app.persistence.call(lambda: None)


async def open_history(pilot: Pilot[object], app: StreamChatApp, rows: int) -> HistoryScreen:
    await pilot.press("ctrl+o")
    await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen) and len(app.screen.rows) == rows, "list")
    assert isinstance(app.screen, HistoryScreen)
    return app.screen


async def test_opening_the_conversation_shown_while_it_streams_leaves_the_answer_streaming(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    from streamchat.ui.app import make_app

    app = make_app(settings)
    fake_server.enqueue(paused("Part one,", " part two.", 1.5))
    async with app.run_test(size=SIZE) as pilot:
        await streaming(pilot, app, "a slow answer", "Part one,")
        screen = await open_history(pilot, app, 1)
        assert screen.highlighted is not None and screen.highlighted.id == app.persistence.target.id
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen), "the screen to close")
        assert app.turn_running, "the answer was cut off"
        await wait_for(pilot, lambda: not app.turn_running, "the answer to finish", limit=10)
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Part one, part two." in shown and INTERRUPTED not in shown and STOPPED not in shown
        assert app.history[-1].content == "Part one, part two." and app.history[-1].status == "complete"


async def test_opening_another_conversation_while_one_streams_stops_it_saved_as_stopped(
        settings: Settings, fake_server: FakeServer, data_dir: Path) -> None:
    from streamchat.ui.app import make_app

    other = seed(data_dir, "what is a quokka?", "A small marsupial.")
    app = make_app(settings)
    fake_server.enqueue(paused("Part one,", " never shown.", 30))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await streaming(pilot, app, "a slow answer", "Part one,")
        current = app.persistence.target.id
        screen = await open_history(pilot, app, 2)
        await pilot.press("down")
        assert screen.highlighted is not None and screen.highlighted.id == other
        await pilot.press("enter")
        await wait_for(pilot, lambda: [m.text for m in app.query(UserMessage)] == ["what is a quokka?"], "it opens")
        assert not app.turn_running and STOPPED_TO_OPEN in [str(n.message) for n in app._notifications]
        screen = await open_history(pilot, app, 2)  # back to the first: its answer saved as stopped, newest
        assert screen.highlighted is not None and screen.highlighted.id == current
        await pilot.press("enter")
        await wait_for(pilot, lambda: [m.text for m in app.query(UserMessage)] == ["a slow answer"], "it opens")
        await pilot.pause(0.1)
        shown = screen_text(app)
        assert "Part one," in shown and STOPPED in shown and INTERRUPTED not in shown
    with ConversationStore(data_dir) as store:
        assert current is not None and store.load(current).messages[-1].status == "stopped"


async def test_enter_typed_before_the_list_follows_the_search_opens_the_match(
        settings: Settings, data_dir: Path) -> None:
    from streamchat.ui.app import make_app

    quokka = seed(data_dir, "what is a quokka?", "A small marsupial.")
    seed(data_dir, "banana bread", "Bananas.")  # newer: listed first, under the cursor
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.persistence.store is not None, "the store")
        screen = await open_history(pilot, app, 2)
        screen.query_one("#history-search", Input).value = "quokka"
        screen.action_open()  # Enter, before the list was searched again
        await wait_for(pilot, lambda: not isinstance(app.screen, HistoryScreen), "the screen to close")
        await wait_for(pilot, lambda: bool(app.query(UserMessage)), "a conversation")
        assert [m.text for m in app.query(UserMessage)] == ["what is a quokka?"]
        assert app.persistence.target.id == quokka
