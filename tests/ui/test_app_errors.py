"""Errors show in place, keep what streamed, leave the prompt usable; retries rerun the turn."""

from __future__ import annotations

import socket

import pytest
from app_helpers import SIZE, ask, finish_turn, footer_labels, make_settings, screen_text, send, wait_for
from fake_server import (
    Delay,
    Drop,
    FakeServer,
    Response,
    SSEError,
    Stall,
    chunk,
    error_response,
    text_response,
    web_page,
)
from textual.widgets import Static

from streamchat.config.settings import Settings
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import make_app
from streamchat.ui.widgets.error import KIND_TITLES, ErrorNote
from streamchat.ui.widgets.message import UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.turn import AssistantTurn


def partial_then(*steps: object, text: str = "Streamed so far") -> Response:
    """A stream that sends ``text``, then the failure ``steps``."""
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": text}), *steps])  # type: ignore[list-item]


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CASES = [
    pytest.param(error_response(401, "Incorrect API key provided"), "auth", None, {}, id="401"),
    pytest.param(error_response(404, "The model does not exist"), "not_found", None, {}, id="404"),
    pytest.param(error_response(429, "Slow down", retry_after="0"), "rate_limit", None, {}, id="429"),
    pytest.param(error_response(500, "Internal trouble"), "server", None, {}, id="500"),
    pytest.param(partial_then(Delay(0.05), Drop()), "dropped", "Streamed so far", {}, id="drop"),
    pytest.param(partial_then(Stall(5)), "timeout", "Streamed so far", {"timeout": 0.5}, id="stall"),
    pytest.param(partial_then(SSEError({"message": "overloaded", "type": "server_error"})), "stream_error",
                 "Streamed so far", {}, id="sse-error"),
]


@pytest.mark.parametrize(("response", "kind", "kept", "overrides"), CASES)
async def test_each_error_kind_shows_in_place_and_the_prompt_stays_usable(
    fake_server: FakeServer, response: Response, kind: str, kept: str | None, overrides: dict[str, float]
) -> None:
    fake_server.enqueue(response, text_response("Back to normal."))
    app = make_app(make_settings(fake_server, **overrides))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "try it", ok=False)
        turn = app.query_one(AssistantTurn)
        note = turn.query_one(ErrorNote)
        assert note.kind == kind and note.has_class(f"-{kind}") and turn.has_class("-error")
        shown = screen_text(app)
        assert KIND_TITLES[kind] in shown and "ctrl+r" in shown
        assert ("ctrl+e to continue" in shown) == bool(kept)  # only a partial answer can be carried on
        if kept is not None:
            assert turn.query_one(AnswerView).text == kept and kept in shown
            assert list(turn.children).index(turn.query_one(AnswerView)) < list(turn.children).index(note)
        assert app.history[-1].status == "error" and app.history[-1].content == (kept or "")
        assert isinstance(app.focused, Prompt) and not app.turn_running
        await ask(pilot, "again")
        assert app.query(AssistantTurn).last().query_one(AnswerView).text == "Back to normal."


SETUP_MISTAKES = [
    pytest.param(web_page(), "", "config", "answers with a web page, not the OpenAI API", id="web-page"),
    pytest.param(web_page(404), "", "config", "There is no chat-completions API at", id="html-404"),
    pytest.param(error_response(404, "FakeServer: no route"), "/v1", "config", "Did you mean", id="no-v1"),
    pytest.param(error_response(400, "This model's maximum context length is 8192 tokens.",
                                code="context_length_exceeded"), "", "context_length", "too long", id="overflow"),
]


@pytest.mark.parametrize(("response", "cut", "kind", "phrase"), SETUP_MISTAKES)
async def test_a_setup_mistake_is_named_with_what_helps_instead_of_retry(
        fake_server: FakeServer, response: Response, cut: str, kind: str, phrase: str) -> None:
    fake_server.enqueue(response)
    app = make_app(make_settings(fake_server, base_url=fake_server.base_url.removesuffix(cut)))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "hello?", ok=False)
        note = app.query_one(ErrorNote)
        shown = " ".join(screen_text(app).split())
        assert note.kind == kind and KIND_TITLES[kind] in shown and phrase in note.message
        assert "ctrl+r to retry" not in note.hint, "retrying as it is cannot help"
        if kind == "context_length":
            assert "ctrl+n starts a new chat" in shown and "/compact" in note.hint and "/drop" in note.hint
        else:
            assert "fix the setting" in shown


async def test_connection_refused_shows_in_place() -> None:
    port = closed_port()
    app = make_app(Settings(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0, timeout=2.0))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "anyone there?", ok=False)
        note = app.query_one(ErrorNote)
        assert note.kind == "connection"
        assert "connection refused" in note.render().plain  # type: ignore[attr-defined]
        assert not app.turn_running and isinstance(app.focused, Prompt)
        await pilot.press("h", "i")
        assert app.query_one(Prompt).text == "hi"


async def test_ctrl_r_retries_the_failed_turn_replacing_its_answer(fake_server: FakeServer) -> None:
    fake_server.enqueue(partial_then(Drop(), text="Half"), text_response("Whole answer."))
    app = make_app(make_settings(fake_server))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "question", ok=False)
        assert app.query_one(ErrorNote).kind == "dropped"
        assert "Retry" in footer_labels(app)
        await pilot.press("ctrl+r")
        await pilot.pause()
        await finish_turn(pilot)
        assert [m.text for m in app.query(UserMessage)] == ["question"]
        turn = app.query_one(AssistantTurn)
        assert not turn.query(ErrorNote) and turn.query_one(AnswerView).text == "Whole answer."
        assert [(m.role, m.content, m.status) for m in app.history] == [
            ("user", "question", None), ("assistant", "Whole answer.", "complete")]
        assert [r.messages for r in fake_server.requests] == [[{"role": "user", "content": "question"}]] * 2


async def test_a_stream_that_fails_before_any_token_offers_a_blocking_retry(fake_server: FakeServer) -> None:
    fake_server.enqueue(Response([Stall(5)]), text_response("Answer without streaming."))
    app = make_app(make_settings(fake_server, timeout=0.5))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "question", ok=False)
        assert app.query_one(ErrorNote).kind == "timeout"
        assert "Retry without streaming" in footer_labels(app)
        assert "ctrl+b to retry without streaming" in screen_text(app)
        await pilot.press("ctrl+b")
        await pilot.pause()
        await finish_turn(pilot)
        assert fake_server.requests[1].stream is False
        assert app.query_one(AssistantTurn).query_one(AnswerView).text == "Answer without streaming."
        assert app.history[-1].status == "complete"
        assert "Retry without streaming" not in footer_labels(app)


async def test_no_blocking_retry_after_an_auth_error(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(401, "bad key"))
    app = make_app(make_settings(fake_server))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "question", ok=False)
        assert "Retry" in footer_labels(app) and "Retry without streaming" not in footer_labels(app)
        status = app.query_one("#status-stats", Static).render().plain  # type: ignore[attr-defined]
        assert status.startswith("error · TTFT —")


async def test_a_rate_limited_request_says_it_will_try_again_and_then_answers(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "Slow down", retry_after="1"), text_response("Answered at last."))
    app = make_app(make_settings(fake_server, max_retries=2))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "Trying again in 1 s" in screen_text(app), "the retry note")
        assert "Rate limited" in screen_text(app) and "trying again (attempt 2 of 3)" in screen_text(app)
        await finish_turn(pilot)
        assert "Answered at last." in screen_text(app) and not app.query(ErrorNote)
