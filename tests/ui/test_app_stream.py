"""Streaming a prompt into the conversation, the status line, and start-up."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from app_helpers import SIZE, ask, footer_labels, screen_text, send, text_of, wait_for
from fake_server import Delay, FakeServer, Response, chunk, text_response
from textual.widgets import Static

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.cli import main
from streamchat.commands import chat
from streamchat.config.settings import Settings
from streamchat.events import AnyEvent, TextDelta, TurnDone
from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp
from streamchat.ui.chat import agent_loader
from streamchat.ui.widgets.message import UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.turn import AssistantTurn
from streamchat.ui.widgets.waiting import WaitingIndicator


async def test_prompt_has_focus_and_enter_streams_the_answer(app: StreamChatApp, fake_server: FakeServer,
                                                              turn_events: list[AnyEvent]) -> None:
    fake_server.enqueue(text_response("Hello there, streaming world.", delay=0.005))
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.focused, Prompt)
        await ask(pilot, "Say hello")
        assert [m.text for m in app.query(UserMessage)] == ["Say hello"]
        answer = app.query_one(AssistantTurn).query_one(AnswerView)
        assert answer.text == "Hello there, streaming world."
        assert "Hello there, streaming world." in screen_text(app)
        assert fake_server.requests[0].messages[-1] == {"role": "user", "content": "Say hello"}
        assert [(m.role, m.content, m.status) for m in app.history] == [
            ("user", "Say hello", None), ("assistant", "Hello there, streaming world.", "complete")]
        assert sum(isinstance(e, TextDelta) for e in turn_events) == 4
        assert isinstance(turn_events[-1], TurnDone)
        assert app.query_one(Prompt).text == ""


async def test_status_line_shows_backend_model_and_turn_timing(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("one two three four five", delay=0.005))
    async with app.run_test(size=(120, 30)) as pilot:  # at 100 columns the meter takes the figures' details' room
        backend = text_of(app.query_one("#status-backend", Static))
        host = fake_server.base_url.split("//")[1].split("/")[0]  # the host only: never user:password@
        assert host in backend and "gpt-4o-mini" in backend and "tools on" in backend
        await ask(pilot, "count")
        stats = text_of(app.query_one("#status-stats", Static))
        assert re.fullmatch(r"TTFT [\d,]+ ms( \([\d,]+ ms before sending\))? · 5 tok · [\d,.]+ tok/s · [\d.]+ s",
                            stats), stats


async def test_a_prompt_sent_before_the_agent_exists_counts_its_wait_in_the_time_to_first_token(
        app: StreamChatApp, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch,
        turn_events: list[AnyEvent]) -> None:
    release = threading.Event()
    make = agent_loader._create_agent

    def slow_start(settings: Settings) -> Agent:  # a slow start-up: importing the SDK, loading a model
        release.wait(5)
        return make(settings)

    monkeypatch.setattr(agent_loader, "_create_agent", slow_start)
    fake_server.enqueue(text_response("Hello."))
    async with app.run_test(size=(120, 30)) as pilot:  # at 100 columns the meter takes the split's room
        await send(pilot, "hi")
        await pilot.pause(0.3)
        release.set()
        await wait_for(pilot, lambda: not app.turn_running, "the turn to end")
        done = turn_events[-1]
        assert isinstance(done, TurnDone) and done.ttft_ms is not None and done.request_sent_ms is not None
        assert done.request_sent_ms >= 250 and done.ttft_ms > done.request_sent_ms, "the wait was left out"
        stats = text_of(app.query_one("#status-stats", Static))
        assert stats.startswith(f"TTFT {done.ttft_ms:,.0f} ms ({done.request_sent_ms:,.0f} ms before sending)"), stats
        saved = app.history[-1].stats
        assert saved is not None and saved["sent_ms"] == done.request_sent_ms


async def test_the_backend_is_prepared_in_the_background_after_the_first_frame(
        app: StreamChatApp, monkeypatch: pytest.MonkeyPatch) -> None:
    prepared: list[str] = []

    def prepare(backend: OpenAIBackend) -> None:
        prepared.append(threading.current_thread().name)

    monkeypatch.setattr(OpenAIBackend, "prepare", prepare)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: prepared, "the backend to be prepared, with no prompt sent")
        assert prepared != [threading.main_thread().name], "prepared on the event loop's thread"
        assert app.agent is not None and isinstance(app.agent.backend, OpenAIBackend)


async def test_waiting_indicator_shows_until_the_first_token(app: StreamChatApp, fake_server: FakeServer) -> None:
    release = Delay(0.6)
    fake_server.enqueue(Response([release, chunk({"role": "assistant", "content": "Finally"}),
                                  chunk({}, finish_reason="stop")]))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "slow?")
        await wait_for(pilot, lambda: bool(app.query(WaitingIndicator)), "the waiting indicator")
        assert "waiting for the model" in text_of(app.query_one(WaitingIndicator))
        assert "Stop" in footer_labels(app)
        await wait_for(pilot, lambda: not app.turn_running, "the turn to end")
        assert not app.query(WaitingIndicator)
        assert app.query_one(AnswerView).text == "Finally"
        assert "Stop" not in footer_labels(app)


def test_importing_and_making_the_app_does_not_import_openai() -> None:
    code = (
        "import sys\n"
        "from streamchat.config.settings import Settings\n"
        "from streamchat.ui.app import make_app\n"
        "import streamchat.commands.chat\n"
        "make_app(Settings(base_url='http://127.0.0.1:9/v1', api_key='k'))\n"
        "assert 'openai' not in sys.modules, 'openai imported'\n"
        "assert 'streamchat.backends.openai_compat' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_streamchat_with_no_command_runs_the_chat_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    opened: list[Settings] = []

    def fake_run_app(settings: Settings, **options: object) -> int:
        opened.append(settings)
        return 0

    monkeypatch.setattr(chat, "run_app", fake_run_app)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["--model", "some-model", "--no-tools"]) == 0
    assert [(s.model, s.base_url, s.tools_enabled) for s in opened] == [("some-model", "http://127.0.0.1:9/v1", False)]


async def test_an_empty_answer_says_so(app: StreamChatApp, fake_server: FakeServer) -> None:
    from streamchat.ui.widgets.turn import EMPTY_ANSWER

    fake_server.enqueue(text_response([]), text_response("Now something."))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "say nothing")
        assert EMPTY_ANSWER in screen_text(app)
        await ask(pilot, "say something")
        assert screen_text(app).count(EMPTY_ANSWER) == 1  # only under the empty one


async def test_reasoning_streams_in_its_own_labelled_block_above_the_answer(app: StreamChatApp,
                                                                           fake_server: FakeServer) -> None:
    from fake_server import Done

    from streamchat.ui.widgets.turn import REASONING_LABEL

    fake_server.enqueue(Response([chunk({"role": "assistant", "content": ""}),
                                  chunk({"reasoning_content": "First, think "}), chunk({"reasoning_content": "hard."}),
                                  chunk({"content": "The answer."}), chunk({}, finish_reason="stop"), Done()]))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "think")
        reasoning, answer = app.query_one(AssistantTurn).query(AnswerView)
        assert reasoning.has_class("reasoning") and reasoning.text == "First, think hard."
        assert reasoning.border_title == REASONING_LABEL and REASONING_LABEL in screen_text(app)
        assert answer.has_class("answer") and answer.text == "The answer."
        assert app.history[-1].reasoning == "First, think hard." and app.history[-1].content == "The answer."
