"""The race pane: one prompt sent streaming and blocking at once, side by side, with a timeline and a verdict."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator

import pytest
from app_helpers import make_settings, screen_text, send, wait_for
from fake_server import (
    Delay,
    FakeServer,
    RecordedRequest,
    Response,
    blocking_response,
    chunk,
    error_response,
    text_response,
)
from textual.pilot import Pilot
from textual.widgets import Static

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.events import AnyEvent
from streamchat.race import SideResult
from streamchat.timing import Clock, format_ms
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.race.screen import LOCAL_NOTE, RaceScreen
from streamchat.ui.race.timeline import LABEL_WIDTH, LEVELS, RaceTimeline, timeline
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.prompt import Prompt

SIZE = (120, 36)
"""The race pane is made for a wide terminal."""
ANSWER = ["Streaming ", "puts ", "the ", "first ", "words ", "on ", "screen ", "while ", "the ", "rest ", "is ",
          "still ", "being ", "written."]
TEXT = "".join(ANSWER)


def route(streaming: Response, blocking: Response) -> Callable[[RecordedRequest], Response]:
    """Answer each request by its kind, whatever order the two arrive in."""
    return lambda request: streaming if request.stream else blocking


def late(text: str, seconds: float) -> Response:
    """A blocking answer whose headers (and body) come after ``seconds``."""
    return Response([], body=blocking_response(text).body, headers_delay=seconds)


def scripted(server: FakeServer, *, blocking_after: float = 0.6) -> None:
    """Streaming's first token early (~50 ms), its last about when blocking's whole answer lands."""
    delay = max(0.005, (blocking_after - 0.05) / len(ANSWER))
    server.router = route(text_response(ANSWER, first_delay=0.05, delay=delay), late(TEXT, blocking_after))


async def open_race(pilot: Pilot[None], prompt: str | None = "Explain streaming") -> RaceScreen:
    """Open the pane on ``prompt`` and wait for it to show."""
    app = pilot.app
    assert isinstance(app, StreamChatApp)
    app.action_race(prompt)
    await wait_for(pilot, lambda: isinstance(app.screen, RaceScreen), "the race pane")
    assert isinstance(app.screen, RaceScreen)
    return app.screen


async def finish_race(pilot: Pilot[None], screen: RaceScreen, count: int = 1) -> None:
    """Wait until ``count`` races have ended."""
    await wait_for(pilot, lambda: len(screen.results) >= count and not screen.running, f"race {count} to end")
    await pilot.pause(0.1)  # the answers' last frame


def figures_of(screen: RaceScreen, index: int) -> str:
    return str(screen.sides[index].query_one(".race-side-figures", Static).render())


def column_of(line: str, marker: str) -> int:
    assert marker in line, f"no {marker!r} in {line!r}"
    return line.index(marker)


async def test_both_sides_fill_and_the_verdict_matches_the_script(app: StreamChatApp, fake_server: FakeServer) -> None:
    scripted(fake_server)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        streaming_side, blocking_side = screen.sides
        assert streaming_side.answer is not None and streaming_side.answer.text == TEXT
        assert blocking_side.answer is not None and blocking_side.answer.text == TEXT
        result = screen.results[-1]
        s, b = result.streaming, result.blocking
        assert s.text == b.text == TEXT
        assert s.ttft_ms is not None and 40 <= s.ttft_ms - s.ready_ms < 450  # the server's part, getting ready aside
        assert b.total_ms is not None and b.ttft_ms == b.total_ms and 550 <= b.total_ms - b.ready_ms < 2000
        assert len(s.arrivals_ms) == len(ANSWER) and b.arrivals_ms == [pytest.approx(b.total_ms, abs=50)]
        assert result.verdict is not None
        assert result.verdict.first_text_saved_ms == pytest.approx(b.total_ms - s.ttft_ms)
        assert result.verdict.first_text_ratio is not None and result.verdict.first_text_ratio > 2
        shown = " ".join(screen_text(app).split())
        assert result.verdict.summary in shown and "sooner" in shown
        assert f"first text {format_ms(s.ttft_ms)}" in figures_of(screen, 0)
        assert f"first text {format_ms(b.total_ms)} · total {format_ms(b.total_ms)}" in figures_of(screen, 1)
        assert s.ready_ms == b.ready_ms > 0 and s.ttft_ms > s.ready_ms, "getting ready counts in the figures"
        assert sorted(r.stream for r in fake_server.requests) == [False, True]
        assert all(r.messages[-1] == {"role": "user", "content": "Explain streaming"} and "tools" not in r.body
                   for r in fake_server.requests)

        streaming_row, blocking_row, axis, _ = (line.plain for line in screen.query_one(RaceTimeline).lines())
        assert streaming_row.startswith("Streaming") and blocking_row.startswith("Blocking")
        first = column_of(streaming_row, "┃")
        assert LABEL_WIDTH <= first < column_of(blocking_row, "●") and first < column_of(streaming_row, "●")
        assert any(level in streaming_row for level in LEVELS), "no token arrivals drawn"
        assert set(blocking_row[LABEL_WIDTH:column_of(blocking_row, "●")]) == {"─"}, "blocking showed text early"
        longer = max(b.total_ms, s.total_ms or 0)
        assert axis.rstrip().endswith(format_ms(longer)), "the scale is not the longer side's total"


async def test_esc_stops_both_requests_and_a_second_esc_closes_the_pane(app: StreamChatApp,
                                                                        fake_server: FakeServer) -> None:
    never_ends = Response([chunk({"role": "assistant", "content": ""}), chunk({"content": "Partial "}),
                           chunk({"content": "answer"}), Delay(30), chunk({}, finish_reason="stop")])
    fake_server.router = route(never_ends, late("too late", 30))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        streaming_side, blocking_side = screen.sides
        await wait_for(pilot, lambda: streaming_side.answer is not None and streaming_side.answer.text ==
                       "Partial answer", "the first tokens")
        assert len(fake_server.requests) == 2 and screen.running
        await pilot.press("escape")
        for index in (0, 1):
            disconnected = await asyncio.to_thread(fake_server.wait_for_disconnect, index, 5.0)
            assert disconnected is not None, f"request {index} was not closed"
        await finish_race(pilot, screen)
        result = screen.results[-1]
        assert result.streaming.stopped and result.blocking.stopped and result.verdict is None
        assert result.streaming.text == "Partial answer" and result.blocking.text == ""
        assert streaming_side.has_class("-stopped") and blocking_side.has_class("-stopped")
        shown = screen_text(app)
        assert "Stopped: no verdict" in shown and "stopped before any answer" in shown
        assert "■" in screen.query_one(RaceTimeline).lines()[0].plain

        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RaceScreen), "the chat")
        assert isinstance(app.focused, Prompt)


async def test_an_error_on_one_side_leaves_the_other_to_finish(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.router = route(error_response(500, "stream side [b]broke[/b]"), late(TEXT, 0.3))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        result = screen.results[-1]
        assert result.streaming.error is not None and result.streaming.error.kind == "server"
        assert result.blocking.error is None and result.blocking.text == TEXT
        assert result.blocking.total_ms is not None and result.blocking.total_ms >= 250
        streaming_side, blocking_side = screen.sides
        assert streaming_side.has_class("-error") and blocking_side.has_class("-done")
        assert blocking_side.answer is not None and blocking_side.answer.text == TEXT
        note = streaming_side.query_one(ErrorNote)
        assert "stream side [b]broke[/b]" in str(note.render())  # shown literally, not as markup
        assert result.verdict is None
        assert "No verdict: the streaming side failed" in screen_text(app)
        assert "streaming failed" in str(screen.query_one("#race-history", Static).render())
        assert "✗" in screen.query_one(RaceTimeline).lines()[0].plain


async def test_r_races_again_and_the_list_keeps_both_races(app: StreamChatApp, fake_server: FakeServer) -> None:
    scripted(fake_server, blocking_after=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        await pilot.press("r")
        await finish_race(pilot, screen, 2)
        assert len(screen.results) == 2 and len(fake_server.requests) == 4
        assert screen.sides[0].answer is not None and screen.sides[0].answer.text == TEXT  # not appended twice
        history = str(screen.query_one("#race-history", Static).render())
        rows = history.splitlines()
        assert len(rows) == 3 and rows[1].startswith("#1") and rows[2].startswith("#2")
        second = screen.results[1]
        assert second.verdict is not None
        assert format_ms(second.streaming.ttft_ms) in rows[2] and format_ms(second.blocking.total_ms) in rows[2]
        assert f"{format_ms(second.verdict.first_text_saved_ms)} sooner" in rows[2]


async def test_ctrl_r_in_the_pane_races_again_and_never_retries_the_chat(app: StreamChatApp,
                                                                           fake_server: FakeServer) -> None:
    scripted(fake_server, blocking_after=0.3)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        await pilot.press("ctrl+r")
        await finish_race(pilot, screen, 2)
        assert app.screen is screen and len(screen.results) == 2
        assert len(fake_server.requests) == 4 and not app.history  # both were race requests, no chat turn


async def test_opened_by_slash_race_by_ctrl_t_and_the_palette(app: StreamChatApp, fake_server: FakeServer) -> None:
    scripted(fake_server, blocking_after=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/race Why stream?")
        screen = await wait_race(pilot)
        await finish_race(pilot, screen)
        assert screen.results[-1].prompt == "Why stream?"
        assert fake_server.requests[-1].messages[-1]["content"] == "Why stream?"
        assert "Prompt Why stream?" in screen_text(app)
        await pilot.press("q")
        await wait_for(pilot, lambda: not isinstance(app.screen, RaceScreen), "the chat")

        await send(pilot, "hello there")  # a chat turn: the race's default prompt becomes this one
        await wait_for(pilot, lambda: not app.turn_running and app.last_prompt == "hello there", "the turn")
        await pilot.press("ctrl+t")
        assert await wait_race(pilot) is screen  # the same pane, with its list
        await finish_race(pilot, screen, 2)
        assert screen.results[-1].prompt == "hello there"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, RaceScreen), "the chat")

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"race streaming")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_race(pilot)
        await finish_race(pilot, screen, 3)
        assert screen.results[-1].prompt == "hello there"
        assert "#3" in str(screen.query_one("#race-history", Static).render())


async def wait_race(pilot: Pilot[None]) -> RaceScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RaceScreen), "the race pane")
    assert isinstance(pilot.app.screen, RaceScreen)
    return pilot.app.screen


async def test_with_the_local_backend_the_pane_says_each_side_has_its_own_model(settings: Settings,
                                                                                 fake_server: FakeServer) -> None:
    scripted(fake_server, blocking_after=0.1)
    agents = race_agents(settings)
    for agent in agents:
        agent.backend.name = "local"  # as make_race_agents gives for the embedded model
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        app.install_screen(RaceScreen(agents), RaceScreen.NAME)
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        assert LOCAL_NOTE in str(screen.query_one("#race-about", Static).render())


def race_agents(settings: Settings) -> tuple[Agent, Agent]:
    race = settings.with_overrides(tools_enabled=False)
    return Agent(OpenAIBackend(race), race), Agent(OpenAIBackend(race), race)


def test_timeline_draws_both_sides_to_one_scale() -> None:
    streaming = SideResult("streaming", ttft_ms=100, total_ms=1000, tokens=5,
                           arrivals_ms=[100, 120, 500, 510, 520, 990])
    blocking = SideResult("blocking", ttft_ms=2000, total_ms=2000, tokens=5, arrivals_ms=[2000])
    streaming_row, blocking_row, axis, legend = (line.plain for line in timeline(streaming, blocking, 121))
    assert len(streaming_row) == len(blocking_row) == 121
    bar = 121 - LABEL_WIDTH - 10  # 100 columns, 20 ms each
    assert column_of(streaming_row, "┃") == LABEL_WIDTH + 5
    assert column_of(streaming_row, "●") == LABEL_WIDTH + 50
    assert column_of(blocking_row, "●") == LABEL_WIDTH + bar - 1
    assert streaming_row[LABEL_WIDTH + 25] == LEVELS[-1]  # the column where three tokens arrived
    assert streaming_row[LABEL_WIDTH + 30] == "·"  # a gap between tokens
    assert set(streaming_row[LABEL_WIDTH:LABEL_WIDTH + 5]) == {"─"}
    assert axis.rstrip().endswith("2.00 s") and "1.00 s" in axis
    assert "first text" in legend
    running = timeline(SideResult("streaming"), SideResult("blocking"), 60, now_ms=300, running=True)
    assert running[0].plain.rstrip().endswith("0.3 s…") and "▸" in running[1].plain


# -- how a finished race looks (a 120x36 snapshot; the sides' clocks are scripted so figures are fixed)

SNAPSHOT_ANSWER = ("Streaming sends each token as soon as the model makes it, so the reader starts at once. "
                   "**Blocking** waits for the whole answer and shows it in one piece.")


def stepping(first: float, step: float) -> Clock:
    """A clock that reads ``first``, then ``first + step``, ... one step per reading."""
    readings = itertools.count()
    return lambda: first + step * next(readings)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """The fake server in its own thread (the snapshot plugin runs its own event loop)."""
    with FakeServer() as fake:
        yield fake


def test_a_finished_race(snap_compare: Callable[..., bool], server: FakeServer) -> None:
    server.router = route(text_response(SNAPSHOT_ANSWER, delay=0.002), late(SNAPSHOT_ANSWER, 0.05))
    settings = make_settings(server)
    agents = race_agents(settings)
    for agent in agents:
        agent.backend.description = "openai · fake server"
    app = make_app(settings)
    app.clock = lambda: 0.0
    screen = RaceScreen(agents, clocks={"streaming": stepping(0.12, 0.05), "blocking": lambda: 1.84})

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        app.install_screen(screen, RaceScreen.NAME)
        app.action_race("Why does streaming feel faster?")
        await wait_for(pilot, lambda: bool(screen.results) and not screen.running, "the race", limit=20)
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_the_race_waits_until_the_chat_answer_is_done(fake_server: FakeServer,
                                                            turn_events: list[AnyEvent]) -> None:
    from streamchat.config.settings import Settings
    from streamchat.ui.app import make_app
    from streamchat.ui.race.launch import RACE_WHILE_ANSWERING

    fake_server.enqueue(Response([chunk({"content": "still going"}), Delay(10)]))
    app = make_app(Settings(base_url=fake_server.base_url, api_key="k", max_retries=0, timeout=20))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.send("long answer")
        for _ in range(50):
            await pilot.pause(0.05)
            if turn_events:
                break
        app.action_race("Race me")
        await pilot.pause()
        assert type(app.screen).__name__ != "RaceScreen"
        assert any(RACE_WHILE_ANSWERING in str(n.message) for n in app._notifications)
        assert len(fake_server.requests) == 1
        app.action_stop()
        await pilot.pause(0.2)


async def test_new_settings_make_new_race_agents_and_a_failure_to_make_them_shows_on_both_sides(
        app: StreamChatApp, fake_server: FakeServer, tmp_path: object) -> None:
    from dataclasses import replace

    scripted(fake_server, blocking_after=0.1)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_race(pilot)
        await finish_race(pilot, screen)
        first = screen.agents.current
        app.update_settings(replace(app.settings, model="another-model"))  # as /model does
        await pilot.press("r")
        await finish_race(pilot, screen, 2)
        assert screen.agents.current is not first
        assert {request.body["model"] for request in fake_server.requests[2:]} == {"another-model"}

        missing = f"{tmp_path}/no-such-model.gguf"
        app.update_settings(replace(app.settings, local=True, model_path=missing))
        await pilot.press("r")
        await wait_for(pilot, lambda: not screen.running and all(s.state == "error" for s in screen.sides),
                       "both sides to fail")
        for side in screen.sides:
            assert missing in side.query_one(ErrorNote).message
        assert len(screen.results) == 2 and len(fake_server.requests) == 4  # nothing was sent
