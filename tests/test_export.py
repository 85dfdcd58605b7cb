"""Markdown and JSON export of a conversation."""

from __future__ import annotations

import json
import re
from dataclasses import replace

from streamchat.export import (
    JSON_FORMAT,
    closed_fences,
    fenced,
    timing_line,
    to_json,
    to_markdown,
    turn_stats,
)
from streamchat.messages import CONTINUE_PROMPT, ChatMessage, ToolCall
from streamchat.store.database import Conversation

STATS = {"ttft_ms": 312.4, "total_ms": 1840.0, "tokens": 42, "tokens_per_s": 22.81}


def conversation() -> Conversation:
    """A conversation with every kind of message, fixed ids and times."""
    messages = [
        ChatMessage(role="system", content="Be brief.", id="m0", created_at=1.0),
        ChatMessage(role="user", content="What is 2+2?", id="m1", created_at=2.0),
        ChatMessage(role="assistant", status="complete", model="gpt-test", backend="openai", stats=STATS,
                    tool_calls=[ToolCall("call_1", "calculator", '{"expression":"2+2"}')], id="m2",
                    reasoning="Arithmetic: use the tool.", created_at=3.0),
        ChatMessage(role="tool", content="4", tool_call_id="call_1", name="calculator", id="m3", created_at=4.0),
        ChatMessage(role="tool", content="no clock here", tool_call_id="call_2", name="clock", is_error=True,
                    id="m4", created_at=4.5),
        ChatMessage(role="assistant", content="It is 4. Code:\n```py\nprint(4)\n```", status="stopped",
                    model="gpt-test", stats={"ttft_ms": 90.0, "total_ms": 400.0, "tokens": 5}, id="m5",
                    created_at=5.0),
        ChatMessage(role="user", content="And now?", id="m6", created_at=6.0),
        ChatMessage(role="assistant", content="Partial", status="error", error="Connection refused\nretry later",
                    model="gpt-test", id="m7", created_at=7.0),
    ]
    return Conversation(id="0123456789abcdef0123456789abcdef", title="Sums", created_at=1.0, updated_at=7.0,
                        model="gpt-test", backend="openai", system_prompt="Be brief.", messages=messages)


def test_markdown_layout() -> None:
    text = to_markdown(conversation())
    lines = text.splitlines()
    assert lines[0] == "# Sums"
    assert lines[2].startswith("*conversation 01234567 · started ") and lines[2].endswith(" · model gpt-test (openai)*")
    assert "**System prompt:**\n\n> Be brief." in text
    assert text.count("Be brief.") == 1  # the system message is not repeated
    assert "## You\n\nWhat is 2+2?" in text
    assert "## Assistant\n\n*gpt-test*\n\n<details><summary>Reasoning</summary>" in text
    assert '**Tool call:** `calculator` (call_1)\n\n```json\n{\n  "expression": "2+2"\n}\n```' in text
    assert "*first token 312 ms · total 1.84 s · 42 tokens · 22.8 tok/s*" in text
    assert "**Tool result:** `calculator` (call_1)\n\n```\n4\n```" in text
    assert "**Tool error:** `clock` (call_2)\n\n```\nno clock here\n```" in text
    assert "## Assistant\n\n*gpt-test · stopped*\n\nIt is 4. Code:\n```py\nprint(4)\n```" in text
    assert "*first token 90 ms · total 400 ms · 5 tokens*" in text
    assert "## Assistant\n\n*gpt-test · error*\n\nPartial\n\n> **Error:** Connection refused\n> retry later" in text
    assert lines.index("**System prompt:**") < lines.index("## You")
    assert text.endswith("\n") and "\n\n\n" not in text


def test_markdown_without_title_or_stats() -> None:
    bare = Conversation(id="ff" * 16, title=None, created_at=0.0, updated_at=0.0,
                        messages=[ChatMessage(role="assistant", content="hi", status="complete")])
    text = to_markdown(bare)
    assert text.startswith("# Untitled conversation\n")
    assert "## Assistant\n\nhi\n" in text and "tok/s" not in text and "System prompt" not in text


def test_fences_and_timing_helpers() -> None:
    assert fenced("a ```` b", "json") == "`````json\na ```` b\n`````"
    assert timing_line(None) == ""
    assert timing_line({"total_ms": 2500.0, "tokens": 0}) == "total 2.50 s"


def test_the_timing_line_counts_from_when_the_user_sent_the_prompt() -> None:
    stats = {"sent_ms": 600.0, "ttft_ms": 150.0, "total_ms": 900.0, "tokens": 3}
    assert timing_line(stats) == "first token 750 ms (600 ms before sending) · total 1.50 s · 3 tokens"
    assert timing_line({**stats, "sent_ms": 20.0}) == "first token 170 ms · total 920 ms · 3 tokens"
    old = {"ttft_ms": 150.0, "total_ms": 900.0}  # saved before sent_ms existed: as measured
    assert timing_line(old) == "first token 150 ms · total 900 ms"
    tool_round = ChatMessage(role="assistant", tool_calls=[ToolCall("c", "calculator", "{}")],
                             stats={"sent_ms": 500.0, "ttft_ms": 100.0, "total_ms": 300.0, "tokens": 4})
    answer = ChatMessage(role="assistant", content="2",
                         stats={"sent_ms": 1000.0, "ttft_ms": 50.0, "total_ms": 200.0, "tokens": 1})
    whole = turn_stats([tool_round, ChatMessage(role="tool", tool_call_id="c", content="2"), answer])
    assert timing_line(whole) == "first token 600 ms (500 ms before sending) · total 1.20 s · 5 tokens"
    rated = turn_stats([replace(tool_round, stats={**(tool_round.stats or {}), "tokens_per_s": 40.0}),
                        replace(answer, stats={**(answer.stats or {}), "tokens_per_s": 10.0})])
    assert rated is not None and rated["tokens_per_s"] == 5 / 0.2, "the rate over the streamed parts, as live"
    assert timing_line(rated).endswith("· 5 tokens · 25.0 tok/s")


def test_an_answer_stopped_inside_a_code_fence_exports_well_formed_markdown() -> None:
    from markdown_it import MarkdownIt

    conversation = Conversation(id="c" * 32, title="Fences", created_at=0.0, updated_at=0.0, messages=[
        ChatMessage(role="user", content="show code"),
        ChatMessage(role="assistant", content="Here:\n\n````python\nprint('```')\nx = 1", status="stopped",
                    reasoning="Plan:\n~~~\nsteps"),
        ChatMessage(role="user", content="thanks"),
        ChatMessage(role="assistant", content="Done:\n```\nok\n```\nafter", status="complete"),
    ])
    text = to_markdown(conversation)
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Fences", "You", "Assistant", "You", "Assistant"], "a fence left open swallowed the rest"
    code = [t.content for t in tokens if t.type == "fence"]
    assert code == ["steps\n", "print('```')\nx = 1\n", "ok\n"]
    assert closed_fences("a\n```\nb\n```\n") == "a\n```\nb\n```\n", "a closed fence is left alone"
    assert closed_fences("```js\nx\n``` not a close") == "```js\nx\n``` not a close\n```"


def test_json_has_every_field_in_a_stable_order() -> None:
    source = conversation()
    text = to_json(source)
    assert text == to_json(source)
    assert text.splitlines()[1].startswith('  "') and text.endswith("}\n")
    document = json.loads(text)
    assert list(document) == sorted(document)
    assert document["format"] == JSON_FORMAT and document["version"] == 1
    assert {key: document[key] for key in ("id", "title", "created_at", "updated_at", "model", "backend",
                                           "system_prompt")} == {
        "id": source.id, "title": "Sums", "created_at": 1.0, "updated_at": 7.0, "model": "gpt-test",
        "backend": "openai", "system_prompt": "Be brief."}
    assert document["messages"] == [message.to_dict() for message in source.messages]
    assert [ChatMessage.from_dict(item) for item in document["messages"]] == source.messages
    tool_call = document["messages"][2]["tool_calls"][0]
    assert list(tool_call) == ["arguments", "id", "name"]
    assert document["messages"][4]["is_error"] is True
    assert document["messages"][7]["error"] == "Connection refused\nretry later"


HOSTILE = ("before\x1b[2Jafter OSC52 \x1b]52;c;SGVsbG8=\x07 title \x1b]0;PWNED\x07 bell\x07 a\x08b nul\x00 "
           "csi8 \x9b2J del\x7f end")


def test_markdown_carries_no_escape_sequence_out_and_json_escapes_every_control() -> None:
    messages = [ChatMessage(role="user", content=f"quote: {HOSTILE}"),
                ChatMessage(role="assistant", content=HOSTILE, reasoning=HOSTILE, status="complete",
                            tool_calls=[ToolCall("c1", "read_file", '{"path": "x\x1b[2J"}')]),
                ChatMessage(role="tool", content=HOSTILE, tool_call_id="c1", name="read_file")]
    source = Conversation(id="ee" * 16, title="t\x1b]0;T\x07", created_at=0.0, updated_at=0.0, messages=messages)
    text = to_markdown(source)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", text), "a control character got out"
    assert "beforeafter OSC52  title  bell ab nul csi8  del end" in text and "SGVsbG8" not in text
    document = to_json(source)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", document)
    assert "\\u009b2J" in document and "\\u001b]52" in document
    assert [ChatMessage.from_dict(item) for item in json.loads(document)["messages"]] == messages, "JSON keeps all"


def test_a_continuation_is_marked_not_shown_as_a_prompt_the_user_typed() -> None:
    messages = [ChatMessage(role="user", content="Tell a story"),
                ChatMessage(role="assistant", content="Once upon", status="stopped"),
                ChatMessage(role="user", content=CONTINUE_PROMPT),
                ChatMessage(role="assistant", content="a time.", status="complete")]
    text = to_markdown(Conversation(id="ab" * 16, title="Story", created_at=0.0, updated_at=0.0, messages=messages))
    assert CONTINUE_PROMPT not in text and text.count("## You") == 1
    assert "Once upon\n\n*↳ continued*\n\n## Assistant\n\na time." in text
