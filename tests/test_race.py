"""The race core and ``race --json``: streaming vs blocking on the fake server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_server import FakeServer, RecordedRequest, Response, blocking_response, error_response, text_response

from streamchat.agent import Agent
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings
from streamchat.race import SideResult, run_race, run_side, verdict

ANSWER = ["Streaming ", "shows ", "text ", "early."]


def route(streaming: Response, blocking: Response) -> Any:
    """Answer each request by its kind, whatever order the two arrive in."""
    def pick(request: RecordedRequest) -> Response:
        return streaming if request.stream else blocking
    return pick


def agents(server: FakeServer) -> tuple[Agent, Agent]:
    settings = Settings(base_url=server.base_url, api_key="sk-race", max_retries=0, timeout=5, tools_enabled=False)
    return Agent(OpenAIBackend(settings), settings), Agent(OpenAIBackend(settings), settings)


def scripted(server: FakeServer, *, blocking_delay: float = 0.6) -> None:
    server.router = route(text_response(ANSWER, first_delay=0.05, delay=0.05),
                          Response([], body=blocking_response("".join(ANSWER), delay=blocking_delay).body,
                                   headers_delay=blocking_delay))


async def test_race_measures_both_sides_and_gives_the_verdict(fake_server: FakeServer) -> None:
    scripted(fake_server)
    result = await run_race(*agents(fake_server), "Explain streaming")
    s, b = result.streaming, result.blocking
    assert s.text == b.text == "".join(ANSWER)
    assert s.ttft_ms is not None and 40 <= s.ttft_ms < 400
    assert b.total_ms is not None and b.ttft_ms == b.total_ms and 550 <= b.total_ms < 1500
    assert len(s.arrivals_ms) == len(ANSWER) and s.arrivals_ms == sorted(s.arrivals_ms)
    assert result.verdict is not None
    assert result.verdict.first_text_saved_ms == pytest.approx(b.total_ms - s.ttft_ms)
    assert result.verdict.first_text_ratio is not None and result.verdict.first_text_ratio > 2
    assert "sooner" in result.verdict.summary
    assert {r.stream for r in fake_server.requests} == {True, False}


async def test_an_error_on_one_side_leaves_the_other_running(fake_server: FakeServer) -> None:
    fake_server.router = route(error_response(500, "stream side broke"),
                               Response([], body=blocking_response("blocking fine").body, headers_delay=0.2))
    result = await run_race(*agents(fake_server), "x")
    assert result.streaming.error is not None and result.streaming.error.kind == "server"
    assert result.blocking.error is None and result.blocking.text == "blocking fine"
    assert result.verdict is None


async def test_cancelling_stops_both_and_the_server_sees_both_disconnects(fake_server: FakeServer) -> None:
    fake_server.router = route(text_response(ANSWER, first_delay=10),
                               Response([], body=blocking_response("late").body, headers_delay=10))
    task = asyncio.create_task(run_race(*agents(fake_server), "x"))
    assert await asyncio.to_thread(fake_server.wait_for_requests, 2, 5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for index in (0, 1):
        assert await asyncio.to_thread(fake_server.wait_for_disconnect, index, 2.0) is not None


def side(mode: str, ttft: float, total: float) -> SideResult:
    return SideResult(mode, ttft_ms=ttft, total_ms=total)  # type: ignore[arg-type]


def test_verdict_says_when_totals_are_the_same_and_when_they_are_not() -> None:
    same = verdict(side("streaming", 100, 3000), side("blocking", 3100, 3100))
    assert same is not None and same.totals_similar and "about the same" in same.summary
    assert same.first_text_ratio == pytest.approx(31)
    assert "31× sooner" in same.summary
    serial = verdict(side("streaming", 100, 6000), side("blocking", 3000, 3000))
    assert serial is not None and not serial.totals_similar
    assert "one request at a time" in serial.summary
    assert verdict(side("streaming", 100, 3000), SideResult("blocking")) is None


async def test_side_stopped_is_marked(fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response(ANSWER, first_delay=10))
    streaming, _ = agents(fake_server)
    results: list[SideResult] = []

    async def go() -> None:
        results.append(await run_side(streaming, "x", "streaming"))

    task = asyncio.create_task(go())
    assert await asyncio.to_thread(fake_server.wait_for_requests, 1, 5.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not results


def test_race_json_prints_one_object(fake_server: FakeServer, tmp_path: Path) -> None:
    scripted(fake_server, blocking_delay=0.4)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env.update(OPENAI_BASE_URL=fake_server.base_url, OPENAI_API_KEY="sk-race", STREAMCHAT_MAX_RETRIES="0")
    result = subprocess.run([sys.executable, "-m", "streamchat", "race", "--json", "Explain streaming"],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["streaming"]["ttft_ms"] < data["blocking"]["ttft_ms"] == data["blocking"]["total_ms"]
    ready = data["streaming"]["ready_ms"]  # from the command's start: importing the SDK, making both agents
    assert ready == data["blocking"]["ready_ms"] > 0 and data["streaming"]["ttft_ms"] > ready
    assert data["blocking"]["total_ms"] >= 350
    assert data["verdict"]["first_text_saved_ms"] > 0
    assert data["prompt"] == "Explain streaming"
