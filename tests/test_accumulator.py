"""The accumulator on every server dialect, fed SDK-shaped chunks without any network."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_server import Chunk, chunk, text_response, tool_call_response
from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk

from streamchat.accumulator import StreamAccumulator
from streamchat.events import (
    ReasoningDelta,
    StreamFinished,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallComplete,
    ToolCallStarted,
    UsageReport,
)

CALLS = [("call_a", "calculator", {"expression": "2+2"}), ("call_b", "current_time", {"timezone": "Asia/Tokyo"})]


def sdk_chunk(data: dict[str, Any]) -> Any:
    """Build the chunk object exactly as the SDK does (no validation, extras kept)."""
    return construct_type(type_=ChatCompletionChunk, value=data)


def feed_all(steps: list[Any]) -> tuple[StreamAccumulator, list[Any]]:
    acc = StreamAccumulator()
    events: list[Any] = []
    for step in steps:
        if isinstance(step, Chunk):
            events += acc.feed(sdk_chunk(step.data))
    events += acc.finish()
    return acc, events


def test_text_deltas_build_the_answer_and_finish_complete() -> None:
    acc, events = feed_all(text_response(["Hel", "lo ", "world"]).steps)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo ", "world"]
    assert acc.text == "Hello world"
    assert events[-1] == StreamFinished("stop", "complete")
    assert acc.visible_chunks == 3


@pytest.mark.parametrize("dialect", ["openai", "ollama", "llamacpp", "no_index", "one_chunk", "index_from_1"])
def test_every_dialect_yields_two_separate_complete_calls(dialect: str) -> None:
    acc, events = feed_all(tool_call_response(CALLS, dialect=dialect, pieces=4).steps)  # type: ignore[arg-type]
    calls = acc.tool_calls
    assert [(c.id, c.name) for c in calls] == [("call_a", "calculator"), ("call_b", "current_time")]
    assert [json.loads(c.arguments) for c in calls] == [CALLS[0][2], CALLS[1][2]]
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(s.id, s.name, s.index) for s in started] == [("call_a", "calculator", 0), ("call_b", "current_time", 1)]
    complete = [e for e in events if isinstance(e, ToolCallComplete)]
    assert [c.arguments for c in complete] == [c.arguments for c in calls]
    assert acc.wants_tools


def test_ollama_finish_reason_stop_with_tool_calls_still_wants_tools() -> None:
    acc, _ = feed_all(tool_call_response(CALLS, dialect="ollama").steps)
    assert acc.finish_reason == "stop"
    assert acc.wants_tools


def test_llamacpp_repeated_id_and_name_are_kept_once() -> None:
    acc, events = feed_all(tool_call_response(CALLS[:1], dialect="llamacpp", pieces=5).steps)
    assert acc.tool_calls[0].name == "calculator"
    assert acc.tool_calls[0].id == "call_a"
    assert len([e for e in events if isinstance(e, ToolCallStarted)]) == 1


def test_argument_deltas_follow_the_start_and_add_up() -> None:
    _, events = feed_all(tool_call_response(CALLS[:1], pieces=3).steps)
    kinds = [type(e) for e in events if isinstance(e, (ToolCallStarted, ToolCallArgumentsDelta))]
    assert kinds[0] is ToolCallStarted and set(kinds[1:]) == {ToolCallArgumentsDelta}
    joined = "".join(e.delta for e in events if isinstance(e, ToolCallArgumentsDelta))
    assert json.loads(joined) == CALLS[0][2]


def test_usage_chunk_with_empty_choices_reports_tokens() -> None:
    usage = {"prompt_tokens": 9, "completion_tokens": 42, "total_tokens": 51}
    acc, events = feed_all(text_response("a b", usage=usage).steps)
    assert UsageReport(9, 42) in events
    assert acc.completion_tokens == 42


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_deltas_are_separate_from_text(field: str) -> None:
    steps = [chunk({field: "think "}), chunk({field: "hard"}), chunk({"content": "42"}),
             chunk({}, finish_reason="stop")]
    acc, events = feed_all(steps)
    assert [e.text for e in events if isinstance(e, ReasoningDelta)] == ["think ", "hard"]
    assert acc.reasoning == "think hard"
    assert acc.text == "42"


def test_stream_without_finish_reason_is_incomplete() -> None:
    acc, events = feed_all([chunk({"content": "partial"})])
    assert acc.status == "incomplete"
    assert events[-1] == StreamFinished(None, "incomplete")


def test_length_finish_reason_is_reported_as_length() -> None:
    acc, _ = feed_all(text_response("cut", finish_reason="length").steps)
    assert acc.status == "length"


def test_call_without_id_gets_a_stable_synthetic_id() -> None:
    steps = [
        chunk({"tool_calls": [{"index": 0, "function": {"name": "calculator", "arguments": "{\"expression\""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": \"1+1\"}"}}]}),
        chunk({}, finish_reason="tool_calls"),
    ]
    acc, events = feed_all(steps)
    assert acc.tool_calls[0].id == "call_0"
    assert json.loads(acc.tool_calls[0].arguments) == {"expression": "1+1"}
    assert [e.id for e in events if isinstance(e, ToolCallStarted)] == ["call_0"]
