"""The event stream read off the wire: the forms of server-sent events servers send, through the real SDK request."""

from __future__ import annotations

import json
from contextlib import aclosing

from fake_server import FakeServer, Raw, Response

from streamchat.config.settings import Settings
from streamchat.events import ErrorEvent, TextDelta, TurnDone
from streamchat.factory import make_agent
from streamchat.messages import ChatMessage


def event(delta: dict[str, object], finish: str | None = None) -> dict[str, object]:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def answer(server: FakeServer) -> tuple[str, list[object]]:
    agent = make_agent(Settings(base_url=server.base_url, api_key="k", tools_enabled=False, max_retries=0))
    async with aclosing(agent.run_turn([ChatMessage(role="user", content="hi")])) as events:
        seen = [e async for e in events]
    await agent.backend.aclose()
    return "".join(e.text for e in seen if isinstance(e, TextDelta)), seen


async def test_comments_named_events_split_data_and_a_last_event_without_a_blank_line(fake_server: FakeServer) -> None:
    first = json.dumps(event({"role": "assistant", "content": "Hello"}))
    split = json.dumps(event({"content": ", wire"}), indent=1).split("\n")  # one event over several data: lines
    body = (": a comment the server sends to keep the line open\n\n"
            f"event: message\nid: 1\ndata: {first}\n\n"
            + "".join(f"data:{line}\n" for line in split) + "\n"
            + f"data: {json.dumps(event({'content': '!'}, 'stop'))}\r\n\r\n"
            + "data: [DONE]")  # and no blank line after the last event
    fake_server.enqueue(Response([Raw(body.encode())]))
    text, events = await answer(fake_server)
    assert text == "Hello, wire!"
    assert isinstance(events[-1], TurnDone) and events[-1].status == "complete"


async def test_an_event_carrying_an_error_is_the_server_s_error_mid_stream(fake_server: FakeServer) -> None:
    body = (f"data: {json.dumps(event({'role': 'assistant', 'content': 'kept'}))}\n\n"
            'data: {"error": {"message": "upstream exploded", "type": "server_error"}}\n\n')
    fake_server.enqueue(Response([Raw(body.encode())]))
    text, events = await answer(fake_server)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert text == "kept" and [e.kind for e in errors] == ["stream_error"] and "upstream exploded" in errors[0].message


async def test_reasoning_fields_are_read_as_the_sdk_keeps_them(fake_server: FakeServer) -> None:
    from streamchat.events import ReasoningDelta

    body = (f"data: {json.dumps(event({'role': 'assistant', 'reasoning_content': 'thinking'}))}\n\n"
            f"data: {json.dumps(event({'reasoning': ' more'}))}\n\n"
            f"data: {json.dumps(event({'content': 'answer'}, 'stop'))}\n\ndata: [DONE]\n\n")
    fake_server.enqueue(Response([Raw(body.encode())]))
    text, events = await answer(fake_server)
    assert text == "answer" and "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == "thinking more"
