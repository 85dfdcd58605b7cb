"""Recovering from a broken turn: continue a partial answer, retry with nothing to retry, race what is typed."""

from __future__ import annotations

import pytest
from app_helpers import SIZE, ask, footer_labels, screen_text, send, wait_for
from fake_server import (
    Delay,
    Done,
    Drop,
    FakeServer,
    RecordedRequest,
    Response,
    SSEError,
    blocking_response,
    chunk,
    error_response,
    text_response,
)

from streamchat.messages import CONTINUE_PROMPT
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp
from streamchat.ui.chat.slash import NOTHING_TO_CONTINUE, NOTHING_TO_RETRY
from streamchat.ui.race.screen import RaceScreen
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.saved import ContinuedLabel
from streamchat.ui.widgets.turn import AssistantTurn

PARTIAL = "Streamed so far"


def partial_then(*steps: Delay | Drop | SSEError | Done) -> Response:
    """A stream that sends ``PARTIAL``, then ``steps`` instead of a finish reason."""
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": PARTIAL}), *steps])


def notified(app: StreamChatApp) -> list[str]:
    return [str(notification.message) for notification in app._notifications]


BROKEN_OFF = [
    pytest.param(partial_then(Delay(0.05), Drop()), "error", id="dropped"),
    pytest.param(partial_then(SSEError({"message": "overloaded", "type": "server_error"})), "error", id="sse-error"),
    pytest.param(partial_then(Done()), "incomplete", id="no-finish-reason"),
]


@pytest.mark.parametrize(("response", "status"), BROKEN_OFF)
async def test_an_answer_that_broke_off_with_some_text_can_be_continued(
        app: StreamChatApp, fake_server: FakeServer, response: Response, status: str) -> None:
    fake_server.enqueue(response, text_response(" and the rest."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "tell me", ok=False)
        assert (app.history[-1].status, app.history[-1].content) == (status, PARTIAL)
        await wait_for(pilot, lambda: {"Continue answer", "Retry"} <= set(footer_labels(app)), "continue offered")
        await pilot.press("ctrl+e")
        await wait_for(pilot, lambda: len(fake_server.requests) == 2 and not app.turn_running, "the continuation")
        sent = fake_server.requests[1].messages
        assert sent[-2:] == [{"role": "assistant", "content": PARTIAL}, {"role": "user", "content": CONTINUE_PROMPT}]
        assert len(app.query(ContinuedLabel)) == 1
        assert app.query(AssistantTurn).last().query_one(AnswerView).text == " and the rest."
        await wait_for(pilot, lambda: "Continue answer" not in footer_labels(app), "continue no longer offered")
        shown = screen_text(app)
        assert "ctrl+e to continue" not in shown and "ctrl+r to retry" not in shown, "a stale hint stayed"
        assert app.query_one(ErrorNote).message in " ".join(shown.replace("▌", " ").split()), "the error itself stays"


async def test_an_error_before_any_text_offers_retry_not_continue(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "Slow down", retry_after="0"))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "tell me", ok=False)
        await wait_for(pilot, lambda: "Retry" in footer_labels(app), "retry offered")
        assert "Continue answer" not in footer_labels(app)
        await pilot.press("ctrl+e")
        await send(pilot, "/continue")
        await pilot.pause()
        assert NOTHING_TO_CONTINUE in notified(app)
        assert len(fake_server.requests) == 1


async def test_retry_with_nothing_to_retry_says_so(app: StreamChatApp, fake_server: FakeServer) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/retry")
        await pilot.pause()
        assert NOTHING_TO_RETRY in notified(app)
        assert not fake_server.requests and not app.turn_running


def race_answers(request: RecordedRequest) -> Response:
    return text_response("Raced.") if request.stream else blocking_response("Raced.")


async def test_ctrl_t_races_the_prompt_typed_and_takes_it_from_the_prompt(
        app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("Chatted."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "an earlier question")
        fake_server.router = race_answers
        prompt = app.query_one(Prompt)
        prompt.insert("Why stream?")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: isinstance(app.screen, RaceScreen), "the race pane")
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        await wait_for(pilot, lambda: bool(screen.results) and not screen.running, "the race")
        assert screen.results[-1].prompt == "Why stream?"
        assert [r.messages[-1]["content"] for r in fake_server.requests[1:]] == ["Why stream?"] * 2
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RaceScreen), "the chat")
        assert prompt.text == "" and prompt.recall[-1] == "Why stream?"  # taken, as sending takes it
        await pilot.press("ctrl+t")  # nothing typed: the last prompt sent, as before
        await wait_for(pilot, lambda: isinstance(app.screen, RaceScreen) and len(screen.results) == 2
                       and not screen.running, "the second race")
        assert screen.results[-1].prompt == "an earlier question"
