"""Tests of the fake OpenAI server itself, driven by the real ``openai.AsyncOpenAI`` client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fake_server import (
    Chunk,
    Delay,
    Done,
    Drop,
    FakeServer,
    Raw,
    Response,
    SSEError,
    Stall,
    blocking_response,
    chunk,
    error_response,
    split_words,
    text_response,
    tool_call_response,
)
from openai.types.chat import ChatCompletion, ChatCompletionChunk

MESSAGES: list[Any] = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def _no_handler_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test whose fake server hit an unexpected exception in a handler."""
    server: FakeServer | None = None
    if "fake_server" in request.fixturenames:
        server = request.getfixturevalue("fake_server")
    yield
    assert server is None or server.errors == []


def make_client(server: FakeServer, **kwargs: Any) -> openai.AsyncOpenAI:
    options: dict[str, Any] = {"max_retries": 0, **kwargs}
    return openai.AsyncOpenAI(api_key="test-key", base_url=server.base_url, **options)


async def collect(client: openai.AsyncOpenAI, **kwargs: Any) -> list[ChatCompletionChunk]:
    chunks: list[ChatCompletionChunk] = []
    stream = await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True, **kwargs)
    async with stream:
        async for c in stream:
            chunks.append(c)
    return chunks


def tool_deltas(chunks: list[ChatCompletionChunk]) -> list[dict[str, Any]]:
    return [tc.to_dict() for c in chunks for ch in c.choices for tc in ch.delta.tool_calls or []]


# --------------------------------------------------------------------------- helpers (no network)


def test_split_words_keeps_spaces() -> None:
    assert split_words("Hello brave  new world ") == ["Hello", " brave", "  new", " world", " "]
    assert "".join(split_words(" a\nb ")) == " a\nb "
    assert split_words("") == []


def test_chunk_shape() -> None:
    assert chunk({"content": "x"}, finish_reason=None).data == {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": "fake-model",
        "system_fingerprint": None,
        "choices": [{"index": 0, "delta": {"content": "x"}, "logprobs": None, "finish_reason": None}],
    }
    usage_chunk = chunk(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})
    assert usage_chunk.data["choices"] == []
    assert usage_chunk.data["usage"]["total_tokens"] == 3


def test_text_response_steps() -> None:
    resp = text_response(["a", "b"], delay=0.5, first_delay=1.0, usage={"total_tokens": 1}, done=True)
    kinds = [type(s).__name__ for s in resp.steps]
    assert kinds == ["Delay", "Chunk", "Chunk", "Delay", "Chunk", "Chunk", "Chunk", "Done"]
    assert isinstance(resp.steps[1], Chunk)
    assert resp.steps[1].data["choices"][0]["delta"] == {"role": "assistant", "content": ""}


# --------------------------------------------------------------------------- streaming


@pytest.mark.asyncio
async def test_text_streams_in_pieces_and_ends(fake_server: FakeServer) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}
    fake_server.enqueue(text_response("Hello brave new world", delay=0.01, usage=usage))
    async with make_client(fake_server) as client:
        chunks = await collect(client, stream_options={"include_usage": True})

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert deltas[0].role == "assistant" and deltas[0].content == ""
    assert [d.content for d in deltas[1:5]] == ["Hello", " brave", " new", " world"]
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 9

    assert fake_server.wait_for_requests(1)
    rec = fake_server.requests[0]
    assert rec.path == "/v1/chat/completions"
    assert rec.stream is True
    assert rec.messages == MESSAGES
    assert rec.body["model"] == "fake-model" and rec.body["stream_options"] == {"include_usage": True}
    assert rec.headers["Authorization"] == "Bearer test-key" == rec.headers["authorization"]
    assert fake_server.wait_for_finish(0) is not None
    assert rec.disconnected_at is None
    assert rec.finished_at is not None and rec.finished_at >= rec.received_at + 0.03


@pytest.mark.asyncio
async def test_keep_alive_sequential_and_concurrent_streams(fake_server: FakeServer) -> None:
    fake_server.enqueue(*(text_response(["one", " two"]) for _ in range(3)))
    fake_server.default = text_response(["one", " two"], delay=0.15)
    async with make_client(fake_server) as client:
        for _ in range(3):  # sequential requests on the keep-alive connection
            chunks = await collect(client)
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == "one two"
        started = time.monotonic()
        results = await asyncio.gather(collect(client), collect(client))
        elapsed = time.monotonic() - started
    assert all(len(r) == 4 for r in results)
    assert elapsed < 0.28, "two streams must be served concurrently"
    assert len(fake_server.requests) == 5
    assert all(r.finished_at is not None and r.disconnected_at is None for r in fake_server.requests)


@pytest.mark.asyncio
async def test_stream_without_done_ends_cleanly(fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("just text", done=False))
    async with make_client(fake_server) as client:
        chunks = await collect(client)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "just text"


@pytest.mark.asyncio
async def test_raw_bytes_and_sse_comments(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        Response([Raw(b": keep-alive\n\n"), chunk({"content": "ok"}), Raw(b"data: [DONE]\n\n")]),
    )
    async with make_client(fake_server) as client:
        chunks = await collect(client)
    assert [c.choices[0].delta.content for c in chunks] == ["ok"]


# --------------------------------------------------------------------------- tool-call dialects

CALLS: list[tuple[str, str, dict[str, Any] | str]] = [
    ("call_1", "get_weather", {"city": "Paris"}),
    ("call_2", "get_time", '{"tz":"UTC"}'),
]
ARGS = ['{"city": "Paris"}', '{"tz":"UTC"}']


async def stream_tools(server: FakeServer, **kwargs: Any) -> list[ChatCompletionChunk]:
    server.enqueue(tool_call_response(CALLS, **kwargs))
    async with make_client(server) as client:
        return await collect(client)


@pytest.mark.asyncio
async def test_tools_openai_dialect(fake_server: FakeServer) -> None:
    chunks = await stream_tools(fake_server, pieces=2)
    deltas = tool_deltas(chunks)
    assert deltas[0] == {
        "index": 0,
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": ""},
    }
    assert deltas[1:3] == [{"index": 0, "function": {"arguments": a}} for a in ('{"city": ', '"Paris"}')]
    assert deltas[3]["index"] == 1 and deltas[3]["id"] == "call_2"
    assert "".join(d["function"]["arguments"] for d in deltas if d["index"] == 1) == ARGS[1]
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content is None
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


@pytest.mark.asyncio
async def test_tools_ollama_dialect(fake_server: FakeServer) -> None:
    chunks = await stream_tools(fake_server, dialect="ollama")
    deltas = tool_deltas(chunks)
    assert deltas == [
        {"index": 0, "id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        for (cid, name, _), args in zip(CALLS, ARGS, strict=True)
    ]
    per_chunk = [len(c.choices[0].delta.tool_calls or []) for c in chunks]
    assert per_chunk.count(1) == 2 and max(per_chunk) == 1
    assert chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.asyncio
async def test_tools_llamacpp_dialect(fake_server: FakeServer) -> None:
    chunks = await stream_tools(fake_server, dialect="llamacpp", pieces=3)
    deltas = tool_deltas(chunks)
    assert len(deltas) == 6
    for d in deltas:
        assert set(d) == {"index", "id", "type", "function"} and set(d["function"]) == {"name", "arguments"}
    assert [d["id"] for d in deltas] == ["call_1"] * 3 + ["call_2"] * 3
    assert "".join(d["function"]["arguments"] for d in deltas[:3]) == ARGS[0]


@pytest.mark.asyncio
async def test_tools_no_index_dialect(fake_server: FakeServer) -> None:
    deltas = tool_deltas(await stream_tools(fake_server, dialect="no_index"))
    assert all("index" not in d for d in deltas)
    assert deltas[0] == {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}


@pytest.mark.asyncio
async def test_tools_one_chunk_dialect(fake_server: FakeServer) -> None:
    chunks = await stream_tools(fake_server, dialect="one_chunk")
    with_tools = [c for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert len(with_tools) == 1
    assert tool_deltas(with_tools) == [
        {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": args}}
        for i, ((cid, name, _), args) in enumerate(zip(CALLS, ARGS, strict=True))
    ]


@pytest.mark.asyncio
async def test_tools_index_from_1_and_text_before(fake_server: FakeServer) -> None:
    chunks = await stream_tools(fake_server, dialect="index_from_1", text_before="Let me check.")
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Let me check."
    assert sorted({d["index"] for d in tool_deltas(chunks)}) == [1, 2]


# --------------------------------------------------------------------------- non-streaming


@pytest.mark.asyncio
async def test_blocking_response(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        blocking_response("Hi there", delay=0.02),
        blocking_response("", tool_calls=[("call_9", "f", {"x": 1})]),
        text_response("aggregated from chunks"),
    )
    async with make_client(fake_server) as client:
        started = time.monotonic()
        first = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
        assert time.monotonic() - started >= 0.02
        second = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
        third = await client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert isinstance(first, ChatCompletion)
    assert first.choices[0].message.content == "Hi there"
    assert first.choices[0].finish_reason == "stop"
    assert first.usage is not None and first.usage.completion_tokens == 2
    calls = second.choices[0].message.tool_calls
    assert calls is not None
    assert calls[0].to_dict() == {
        "id": "call_9",
        "type": "function",
        "function": {"name": "f", "arguments": '{"x": 1}'},
    }
    assert second.choices[0].message.content is None and second.choices[0].finish_reason == "tool_calls"
    assert third.choices[0].message.content == "aggregated from chunks"
    assert [r.stream for r in fake_server.requests] == [False] * 3


@pytest.mark.asyncio
async def test_body_only_script_answers_a_streaming_request_with_json(fake_server: FakeServer) -> None:
    # A server that ignores "stream": true and answers with plain JSON.
    fake_server.enqueue(blocking_response("plain", delay=0.01))
    async with make_client(fake_server) as client:
        raw = await client.chat.completions.with_raw_response.create(model="fake-model", messages=MESSAGES, stream=True)
    assert raw.headers["content-type"] == "application/json"
    assert fake_server.requests[0].stream is True


@pytest.mark.asyncio
async def test_models_list(fake_server: FakeServer) -> None:
    async with make_client(fake_server) as client:
        page = await client.models.list()
    assert [m.id for m in page.data] == ["fake-model"]


# --------------------------------------------------------------------------- errors


@pytest.mark.asyncio
async def test_error_status_raises_not_found(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(404, "The model `nope` does not exist", code="model_not_found"))
    async with make_client(fake_server) as client:
        with pytest.raises(openai.NotFoundError) as info:
            await client.chat.completions.create(model="nope", messages=MESSAGES, stream=True)
    assert info.value.status_code == 404
    assert info.value.code == "model_not_found"
    assert "does not exist" in info.value.message


@pytest.mark.asyncio
async def test_rate_limit_with_retry_after(fake_server: FakeServer) -> None:
    fake_server.enqueue(error_response(429, "slow down", retry_after_ms="1"), text_response("ok"))
    async with make_client(fake_server, max_retries=1) as client:
        started = time.monotonic()
        chunks = await collect(client)  # the SDK retries the 429 once, after 1 ms
        assert time.monotonic() - started < 0.3
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "ok"
    assert len(fake_server.requests) == 2

    fake_server.enqueue(error_response(429, "slow down", retry_after="7"))
    async with make_client(fake_server) as client:
        with pytest.raises(openai.RateLimitError) as info:
            await client.chat.completions.create(model="fake-model", messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "7"


@pytest.mark.asyncio
async def test_empty_queue_gives_500(fake_server: FakeServer) -> None:
    async with make_client(fake_server) as client:
        with pytest.raises(openai.InternalServerError) as info:
            await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
    assert info.value.code == "fake_server_queue_empty"


@pytest.mark.asyncio
@pytest.mark.parametrize("rst", [False, True], ids=["fin", "rst"])
async def test_drop_mid_stream_raises_connection_error(fake_server: FakeServer, rst: bool) -> None:
    fake_server.enqueue(
        Response(
            [chunk({"role": "assistant", "content": ""}), chunk({"content": "partial"}), Delay(0.02), Drop(rst=rst)]
        )
    )
    received: list[str] = []
    async with make_client(fake_server) as client:
        stream = await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError) as info:
            async with stream:
                async for c in stream:
                    received.append(c.choices[0].delta.content or "")
    assert received == ["", "partial"]
    assert not isinstance(info.value, openai.APITimeoutError)
    rec = fake_server.requests[0]
    for _ in range(100):  # the client can see the reset before the server thread has recorded it
        if rec.finished_at is not None:
            break
        await asyncio.sleep(0.01)
    assert rec.finished_at is not None and rec.disconnected_at is None


@pytest.mark.asyncio
async def test_sse_error_raises_api_error(fake_server: FakeServer) -> None:
    error = {"message": "upstream overloaded", "type": "server_error", "code": 502}
    fake_server.enqueue(
        Response([chunk({"role": "assistant", "content": ""}), chunk({"content": "a"}), SSEError(error), Done()])
    )
    received: list[ChatCompletionChunk] = []
    async with make_client(fake_server) as client:
        with pytest.raises(openai.APIError) as info:
            async for c in await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True):
                received.append(c)
    assert len(received) == 2
    assert info.value.message == "upstream overloaded"
    assert info.value.body == error


@pytest.mark.asyncio
async def test_stall_hits_client_read_timeout(fake_server: FakeServer) -> None:
    fake_server.enqueue(Response([chunk({"content": "a"}), Stall(5.0), Done()]))
    async with make_client(fake_server, timeout=0.15) as client:
        stream = await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APITimeoutError):
            async with stream:
                async for _ in stream:
                    pass
    # The timed-out client closes the connection, which the server notices.
    assert fake_server.wait_for_disconnect(0, timeout=0.5) is not None


# --------------------------------------------------------------------------- disconnects / stop


@pytest.mark.asyncio
async def test_early_close_is_recorded_as_disconnect(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        Response([chunk({"role": "assistant", "content": ""}), chunk({"content": "x"}), Delay(10.0), Done()])
    )
    async with make_client(fake_server) as client:
        stream = await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        async with stream:
            async for c in stream:
                if c.choices[0].delta.content == "x":
                    break
        closed_at = time.monotonic()
    disconnected_at = await asyncio.to_thread(fake_server.wait_for_disconnect, 0, 1.0)
    assert disconnected_at is not None
    assert disconnected_at - closed_at < 0.2
    assert fake_server.requests[0].finished_at is None


@pytest.mark.asyncio
async def test_wait_for_disconnect_returns_none_when_finished(fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("done"))
    async with make_client(fake_server) as client:
        await collect(client)
    started = time.monotonic()
    assert fake_server.wait_for_disconnect(0, timeout=1.0) is None
    assert time.monotonic() - started < 0.5


@pytest.mark.asyncio
async def test_stop_does_not_hang_mid_delay() -> None:
    server = FakeServer(default=Response([chunk({"content": "x"}), Delay(30.0), Done()]))
    server.start()
    async with make_client(server) as client:
        stream = await client.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError):
            async with stream:
                async for _ in stream:
                    started = time.monotonic()
                    await asyncio.to_thread(server.stop)
                    assert time.monotonic() - started < 0.5


def test_context_manager_and_wait_for_requests() -> None:
    with FakeServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        assert server.wait_for_requests(1, timeout=0.05) is False
    with pytest.raises(RuntimeError):
        _ = server.base_url
