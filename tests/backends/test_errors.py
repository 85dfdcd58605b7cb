"""Every failure becomes one typed error event, keeps what streamed, and never shows the key."""

from __future__ import annotations

import asyncio
import socket
from contextlib import aclosing
from pathlib import Path
from typing import Any

import pytest
from fake_server import (
    Drop,
    FakeServer,
    Raw,
    Response,
    SSEError,
    Stall,
    chunk,
    error_response,
    text_response,
    web_page,
)

from streamchat.agent import Agent
from streamchat.backends.mistakes import shown_url, suggested_url
from streamchat.backends.openai_compat import OpenAIBackend
from streamchat.config.settings import Settings, SettingsError, load_settings
from streamchat.events import ErrorEvent, Retrying, TurnDone
from streamchat.messages import ChatMessage

KEY = "sk-secret-key-0123456789abcdef"


async def turn(base_url: str, **overrides: Any) -> tuple[list[Any], list[ChatMessage]]:
    values: dict[str, Any] = {"base_url": base_url, "api_key": KEY, "max_retries": 0, "timeout": 2.0}
    values.update(overrides)
    settings = Settings(**values)
    agent = Agent(OpenAIBackend(settings), settings, None)
    history: list[ChatMessage] = []
    async with aclosing(agent.run_turn(history, "hello")) as events:
        return [e async for e in events], history


def partial(*steps: Any) -> Response:
    return Response([chunk({"role": "assistant", "content": ""}), chunk({"content": "kept "}),
                     chunk({"content": "text"}), *steps])


CASES = [
    ("auth", error_response(401, f"Incorrect API key provided: {KEY}"), "API key", ""),
    ("permission", error_response(403, "Project does not have access"), "403", ""),
    ("not_found", error_response(404, "The model `nope` does not exist"), "not found", ""),
    ("rate_limit", error_response(429, "Slow down", retry_after="0"), "Rate limited", ""),
    ("server", error_response(500, "boom"), "server error", ""),
    ("server", error_response(503, "overloaded"), "503", ""),
    ("bad_request", error_response(400, "context too long"), "context too long", ""),
    ("dropped", partial(Drop()), "dropped", "kept text"),
    ("timeout", partial(Stall(5)), "stalled", "kept text"),
    ("stream_error", partial(SSEError({"message": "upstream failed", "type": "server_error"})), "upstream failed",
     "kept text"),
    ("incomplete", partial(), "ended before", "kept text"),
]


@pytest.mark.parametrize(("kind", "script", "phrase", "kept"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
async def test_error_kinds(fake_server: FakeServer, kind: str, script: Response, phrase: str, kept: str) -> None:
    fake_server.enqueue(script)
    events, history = await turn(fake_server.base_url, timeout=0.5)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1
    assert errors[0].kind == kind
    assert phrase.lower() in errors[0].message.lower()
    assert KEY not in errors[0].message
    assert isinstance(events[-1], TurnDone) and events[-1].status in ("error", "incomplete")
    assert history[-1].role == "assistant" and history[-1].content == kept
    assert history[-1].error == errors[0].message


async def test_a_rate_limit_is_retried_after_retry_after_and_says_so(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "slow", retry_after="0.2"), text_response("after retry"))
    events, history = await turn(fake_server.base_url, max_retries=2)
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert (retry.attempt, retry.attempts, retry.wait_s, retry.kind) == (2, 3, 0.2, "rate_limit")
    assert "Rate limited" in retry.message and KEY not in retry.message
    assert events[-1].status == "complete"
    assert history[-1].content == "after retry" and [m.role for m in history] == ["user", "assistant"]
    assert len(fake_server.requests) == 2
    gap = fake_server.requests[1].received_at - fake_server.requests[0].received_at
    assert gap >= 0.2  # the server's Retry-After was honoured


async def test_a_retry_after_over_a_minute_is_not_waited_for(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "come back tomorrow", retry_after="86400"))
    events, _ = await turn(fake_server.base_url, max_retries=2)
    assert not [e for e in events if isinstance(e, Retrying)] and len(fake_server.requests) == 1
    assert events[-1].status == "error"


async def test_a_header_stall_is_retried_with_backoff_then_reported_with_the_attempts(fake_server: FakeServer) -> None:
    fake_server.enqueue(Response([Stall(5)], headers_delay=5), Response([Stall(5)], headers_delay=5))
    events, _ = await turn(fake_server.base_url, max_retries=1, timeout=0.3)
    [retry] = [e for e in events if isinstance(e, Retrying)]
    assert retry.kind == "timeout" and 0.3 <= retry.wait_s <= 0.5  # backoff: 0.5 s less up to a quarter
    [error] = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.message.endswith("(2 attempts)") and len(fake_server.requests) == 2


async def test_stopping_during_the_wait_keeps_a_valid_history_and_sends_nothing_more(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "slow", retry_after="5"))
    settings = Settings(base_url=fake_server.base_url, api_key=KEY, max_retries=2, timeout=2.0)
    agent = Agent(OpenAIBackend(settings), settings, None)
    history: list[ChatMessage] = []

    async def consume() -> None:
        async with aclosing(agent.run_turn(history, "hello")) as events:
            async for event in events:
                if isinstance(event, Retrying):
                    task.cancel()

    task = asyncio.create_task(consume())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [(m.role, m.status) for m in history] == [("user", None), ("assistant", "stopped")]
    await asyncio.sleep(0.2)
    assert len(fake_server.requests) == 1


async def test_an_error_after_retrying_says_how_many_attempts_were_made(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "Try again in 20s.", retry_after="0"),
                        error_response(429, "Try again in 20s.", retry_after="0"))
    events, _ = await turn(fake_server.base_url, max_retries=1)
    [error] = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(fake_server.requests) == 2
    assert error.message.endswith("Try again in 20s. Retry after 0 s. (2 attempts)")  # one period, and the count


def web_page_error(status: int) -> Response:
    return web_page(status, b"<html><body><h1>Bad Gateway</h1></body></html>")


SETUP_MISTAKES = [
    (web_page(), {}, "config", "answers with a web page, not the OpenAI API. Check the base URL"),
    (web_page(404), {}, "config", "There is no chat-completions API at http://127.0.0.1"),
    (error_response(404, "FakeServer: no route"), {"cut": "/v1"}, "config", "(404). Did you mean http://127.0.0.1:"),
    (Response(raw_body=b'{"id": "x", "choices": []}', headers={"Content-Type": "application/json"}), {}, "config",
     "one JSON body instead of a stream"),
    (Response(text_response("streamed anyway").steps, always_stream=True), {"stream": False}, "config",
     "streamed its answer although streaming was off"),
    (web_page(), {"stream": False}, "config", "answers with a web page"),
    (partial(Raw(b"data: {not json\n\n")), {}, "stream_error", "not valid JSON"),
    (error_response(400, "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
                    code="context_length_exceeded"), {}, "context_length", "too long for the model's context window"),
    (error_response(400, "the request exceeds the available context size, try increasing it",
                    error_type="exceed_context_size_error"), {}, "context_length", "context window"),
    (web_page_error(502), {"max_retries": 0}, "server", "answered with a web page"),
]


@pytest.mark.parametrize(("script", "how", "kind", "phrase"), SETUP_MISTAKES,
                         ids=[f"{c[2]}-{i}" for i, c in enumerate(SETUP_MISTAKES)])
async def test_a_setup_mistake_says_what_is_wrong(fake_server: FakeServer, script: Response, how: dict[str, Any],
                                                  kind: str, phrase: str) -> None:
    fake_server.enqueue(script, script, script)
    base_url = fake_server.base_url.removesuffix(how.get("cut", ""))
    settings = Settings(base_url=base_url, api_key=KEY, max_retries=how.get("max_retries", 2), timeout=2.0)
    agent = Agent(OpenAIBackend(settings), settings, None)
    history: list[ChatMessage] = []
    async with aclosing(agent.run_turn(history, "hello", stream=how.get("stream", True))) as stream:
        events = [e async for e in stream]
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == kind, error
    assert phrase in error.message and "<" not in error.message and "Traceback" not in error.message
    if kind != "server":
        assert not any(isinstance(e, Retrying) for e in events), "retried"


async def test_a_base_url_that_is_not_a_url_is_named_and_not_retried() -> None:
    events, history = await turn("notaurl", max_retries=2)
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == "config" and "'notaurl' is not a URL" in error.message
    assert not any(isinstance(e, Retrying) for e in events)
    assert history[-1].error_kind == "config"


async def test_https_to_a_plain_http_server_suggests_http(fake_server: FakeServer) -> None:
    events, _ = await turn(fake_server.base_url.replace("http://", "https://"), max_retries=2)
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == "config" and f"Did you mean {fake_server.base_url}?" in error.message
    assert not any(isinstance(e, Retrying) for e in events)


def test_suggested_base_urls() -> None:
    assert suggested_url("http://localhost:11434") == "http://localhost:11434/v1"
    assert suggested_url("http://localhost:8000/v1/chat/completions") == "http://localhost:8000/v1"
    assert suggested_url("https://openrouter.ai/api/v1") is None
    assert shown_url("http://user:hunter2@host:8080/v1/") == "http://host:8080/v1"


def test_a_base_url_setting_that_is_not_a_url_is_refused_with_its_source() -> None:
    with pytest.raises(SettingsError, match=r"OPENAI_BASE_URL='notaurl' is not a URL"):
        load_settings(environ={"OPENAI_BASE_URL": "notaurl"}, dotenv={})
    with pytest.raises(SettingsError, match=r"--base-url='localhost:11434/v1' .*did you mean http://localhost:11434"):
        load_settings({"base_url": "localhost:11434/v1"}, environ={}, dotenv={})
    with pytest.raises(SettingsError) as caught:
        load_settings(environ={"OPENAI_BASE_URL": KEY}, dotenv={})
    assert KEY not in str(caught.value)
    assert load_settings(environ={"OPENAI_BASE_URL": "http://localhost:11434/v1"}, dotenv={}).base_url


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused() -> None:
    events, history = await turn(f"http://127.0.0.1:{closed_port()}/v1")
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == "connection" and "refused" in error.message
    assert history[-1].status == "error"


async def test_dns_failure() -> None:
    events, _ = await turn("http://no-such-host.invalid/v1", connect_timeout=3.0)
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == "dns" and "no-such-host.invalid" in error.message


def test_redact_masks_key_shaped_text() -> None:
    from streamchat.safety import redact

    assert "abcdef" not in redact("key sk-proj-abcdef123456 here")
    assert redact("my token-of-trust", "token-of-trust") == "my ***"


def test_a_placeholder_key_too_short_to_be_a_secret_leaves_text_alone() -> None:
    from streamchat.safety import redact

    assert redact("Asia/Tokyo and ollama", "k") == "Asia/Tokyo and ollama"
    assert redact("served by ollama", "ollama") == "served by ollama"
    assert redact("served by 8charkey", "8charkey") == "served by ***"


def test_settings_repr_never_shows_the_key(tmp_path: Path) -> None:
    assert KEY not in repr(Settings(api_key=KEY))


async def test_a_key_that_does_not_look_like_one_is_still_masked(fake_server: FakeServer) -> None:
    plain = "plain-hunter2-XYZ"
    fake_server.enqueue(error_response(403, f"key {plain} has no access"))
    events, _ = await turn(fake_server.base_url, api_key=plain)
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert error.kind == "permission" and plain not in error.message and "***" in error.message


async def test_credentials_in_the_base_url_are_never_shown() -> None:
    events, _ = await turn(f"http://user:hunter2@127.0.0.1:{closed_port()}/v1")
    error = next(e for e in events if isinstance(e, ErrorEvent))
    assert "hunter2" not in error.message and "127.0.0.1" in error.message


def test_credentials_in_the_base_url_never_reach_a_description() -> None:
    from streamchat.backends import describe_backend
    from streamchat.config.schema import Profile

    url = "https://user:hunter2@host.example:8443/v1"
    assert Profile(name="p", base_url=url, model="m").describe() == "m · host.example:8443"
    shown = describe_backend(Settings(base_url=url, model="m"))
    assert "hunter2" not in shown and "host.example:8443" in shown
