"""The context meter (the server's usage over the model's window, amber then red), the three ways out offered
before a prompt that would not fit, and /compact."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, ask, finish_turn, make_settings, screen_text, send, wait_for
from fake_server import FakeServer, text_response
from textual.widgets import Static

from streamchat.config.settings import Settings
from streamchat.messages import COMPACT_PROMPT
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.screens.choice import ChoiceScreen
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.saved import COMPACTED, CUT_NOTE


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def meter(app: StreamChatApp) -> Static:
    return app.query_one("#status-context", Static)


def sent(server: FakeServer, index: int = -1) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[index].messages]


@pytest.fixture
def settings(fake_server: FakeServer, tmp_path: Path) -> Settings:
    return make_settings(fake_server, data_dir=str(tmp_path / "data"))


async def test_the_meter_shows_the_servers_usage_over_the_window_it_lists_amber_then_red(
        settings: Settings, fake_server: FakeServer) -> None:
    fake_server.models = ["gpt-4o-mini"]
    fake_server.model_info = {"gpt-4o-mini": {"max_model_len": 4000}}  # as vLLM lists it
    fake_server.enqueue(text_response("Short.", usage=usage(1200, 20)), text_response("Long.", usage=usage(3100, 40)),
                        text_response("Longer.", usage=usage(3700, 50)))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        assert not meter(app).display, "nothing to show before the first request"
        await ask(pilot, "one")
        await wait_for(pilot, lambda: app.context.window == 4000, "the window from the model list")
        assert str(meter(app).render()) == "ctx 1.2k/4k 30%" and not meter(app).has_class("-amber")
        await ask(pilot, "two")
        assert str(meter(app).render()) == "ctx 3.1k/4k 78%" and meter(app).has_class("-amber")
        await ask(pilot, "three")
        assert str(meter(app).render()) == "ctx 3.8k/4k 93%" and meter(app).has_class("-red")
        assert "ctx 3.8k/4k 93%" in screen_text(app)
        await pilot.resize_terminal(44, 30)  # narrow: the meter shortens, the model stays whole
        await wait_for(pilot, lambda: str(meter(app).render()) == "ctx 93%", "the meter to shorten")
        row = app.query_one("#status-backend", Static).render()
        assert meter(app).has_class("-red") and str(row) == "gpt-4o-mini"
        await pilot.resize_terminal(36, 30)  # narrower still: the meter steps aside
        await wait_for(pilot, lambda: not meter(app).display, "the meter to step aside")
        assert str(app.query_one("#status-backend", Static).render()) == "gpt-4o-mini"


async def test_a_prompt_that_would_not_fit_is_offered_three_ways_out(settings: Settings,
                                                                      fake_server: FakeServer) -> None:
    app = make_app(settings.with_overrides(context_window=1000))  # from the profile or the config file
    fake_server.enqueue(text_response("A1", usage=usage(300, 10)), text_response("A2", usage=usage(820, 10)),
                        text_response("A3, sent anyway", usage=usage(900, 10)), text_response("A4 after the drop"),
                        text_response("The summary."), text_response("A5 in the new chat"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        prompt = app.query_one(Prompt)
        await send(pilot, "q3")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the offer")
        said = str(app.screen.query_one("#choice-text", Static).render())
        assert "would not fit" in said and "takes 1k" in said and len(fake_server.requests) == 2
        assert prompt.text == "q3", "the prompt waits in the box"
        shown = screen_text(app)
        assert "(the model writes it;" in shown and "this one stays saved)" in shown, "each way out said in full"
        await pilot.press("s")  # send anyway
        await finish_turn(pilot)
        assert sent(fake_server)[-1] == ("user", "q3") and len(sent(fake_server)) == 5

        await send(pilot, "q4")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the offer again")
        await pilot.press("d")  # drop the oldest turns
        await finish_turn(pilot)
        kept = sent(fake_server)
        assert kept[0] != ("user", "q1") and kept[0][0] == "user" and kept[-1] == ("user", "q4") and len(kept) < 7
        assert CUT_NOTE in screen_text(app) and len(app.history) == 8, "dropped turns stay in the history"
        assert str(meter(app).render()).startswith("ctx ~")

        app.context.learned = None
        app.settings = app.settings.with_overrides(context_window=60)  # now nothing fits: a new chat is offered
        origin = app.persistence.current_id
        await send(pilot, "q5")
        await wait_for(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the offer a third time")
        await pilot.press("n")  # a new chat from a summary
        await wait_for(pilot, lambda: len(fake_server.requests) == 6 and not app.turn_running, "the new chat's answer")
        await finish_turn(pilot)
        assert sent(fake_server, 4)[-1] == ("user", COMPACT_PROMPT)
        assert sent(fake_server) == [("user", COMPACT_PROMPT), ("assistant", "The summary."), ("user", "q5")]
        assert app.persistence.current_id != origin and "A new chat from a summary" in screen_text(app)


async def test_compact_replaces_the_older_turns_with_a_summary_kept_in_history(settings: Settings,
                                                                                fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A2"), text_response("We talked about q1 and q2."),
                        text_response("A3"), text_response("A4"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await send(pilot, "/compact")
        await finish_turn(pilot)
        await wait_for(pilot, lambda: COMPACTED in screen_text(app), "the summary's label")
        assert sent(fake_server)[-1] == ("user", COMPACT_PROMPT) and len(sent(fake_server)) == 5
        await ask(pilot, "q3")
        assert sent(fake_server) == [("user", COMPACT_PROMPT), ("assistant", "We talked about q1 and q2."),
                                     ("user", "q3")]
        assert [m.content for m in app.history][:2] == ["q1", "A1"], "the older turns stay in the history"
        await app.persistence.call(lambda: None)
    reopened = make_app(settings, continue_last=True)
    async with reopened.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: COMPACTED in screen_text(reopened), "the reopened summary")
        await ask(pilot, "q4")
        assert sent(fake_server)[:2] == [("user", COMPACT_PROMPT), ("assistant", "We talked about q1 and q2.")]
        assert sent(fake_server)[-1] == ("user", "q4")


async def test_a_summary_regenerated_or_retried_summarizes_the_turns_again(settings: Settings,
                                                                           fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A2"), text_response("Summary one."),
                        text_response("Summary two."), text_response("Summary three."), text_response("A3"))
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await send(pilot, "/compact")
        await finish_turn(pilot)
        await wait_for(pilot, lambda: COMPACTED in screen_text(app), "the summary's label")
        whole = [("user", "q1"), ("assistant", "A1"), ("user", "q2"), ("assistant", "A2"), ("user", COMPACT_PROMPT)]
        await pilot.press("alt+up", "r")  # regenerate the summary: the turns it summarizes go with it again
        await finish_turn(pilot)
        assert sent(fake_server) == whole
        await pilot.press("escape", "ctrl+r")  # retry it: the same
        await finish_turn(pilot)
        assert sent(fake_server) == whole
        await ask(pilot, "q3")
        assert sent(fake_server) == [("user", COMPACT_PROMPT), ("assistant", "Summary three."), ("user", "q3")]


async def test_a_summary_stopped_then_asked_again_with_ctrl_r_compacts(settings: Settings,
                                                                      fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("A1"), text_response("A2"),
                        text_response(["We talked", " about", " q1"] + [" and more"] * 50, delay=0.05),
                        text_response("We talked about q1 and q2."), text_response("A3"))
    app = make_app(settings)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, "q1")
        await ask(pilot, "q2")
        await send(pilot, "/compact")
        await wait_for(pilot, lambda: "We talked about" in screen_text(app), "the summary to stream")
        await pilot.press("escape")
        await wait_for(pilot, lambda: any("nothing was compacted (ctrl+r asks for it again)" in str(n.message)
                                          for n in app._notifications), "the summary said to be cut short")
        assert COMPACTED not in screen_text(app)
        await pilot.press("ctrl+r")  # as the note says: the summary again, and this time it completes
        await finish_turn(pilot)
        await wait_for(pilot, lambda: COMPACTED in screen_text(app), "the summary's label")
        await ask(pilot, "q3")
        assert sent(fake_server) == [("user", COMPACT_PROMPT), ("assistant", "We talked about q1 and q2."),
                                     ("user", "q3")]
