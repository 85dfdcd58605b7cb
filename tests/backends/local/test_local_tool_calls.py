"""Reading tool calls out of a local model's stream, the grammars that shape them, and the guard rails (pure)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamchat.backends.local.template import TAGGED, ToolFormat
from streamchat.backends.local.tool_calls import ArgsDelta, CallEnd, CallOpened, CallParser, CallStart, Piece, Text
from streamchat.backends.local.tool_rounds import (
    LAST_ROUND_NOTE,
    MAX_CALLS,
    RepeatGate,
    compact,
    plan_round,
    repeat_exchange,
)

BARE = ToolFormat("{", "", "parameters")


def parse(fmt: ToolFormat, text: str, step: int = 2) -> list[Piece]:
    parser = CallParser(fmt)
    pieces: list[Piece] = []
    for at in range(0, len(text), step):
        pieces += parser.feed(text[at:at + step])
    return pieces + parser.finish()


def test_a_tagged_call_after_text_streams_its_arguments_in_fragments() -> None:
    text = 'Let me compute. <tool_call>\n{"name": "calculator", "arguments": {"expression": "2**64/7"}}\n</tool_call>'
    pieces = parse(TAGGED, text)
    assert "".join(p.text for p in pieces if isinstance(p, Text)) == "Let me compute. "
    kinds = [type(p).__name__ for p in pieces if not isinstance(p, Text)]
    assert kinds[:2] == ["CallOpened", "CallStart"] and kinds[-1] == "CallEnd"
    deltas = [p.text for p in pieces if isinstance(p, ArgsDelta)]
    assert len(deltas) >= 5 and json.loads("".join(deltas)) == {"expression": "2**64/7"}
    assert pieces[-1] == CallEnd("calculator", '{"expression": "2**64/7"}')
    assert CallOpened(text.index("<tool_call>")) in pieces


def test_several_calls_nested_arguments_and_arguments_before_the_name() -> None:
    text = ('<tool_call>\n{"arguments": {"a": [1, {"b": "}\\""}]}, "name": "f"}\n</tool_call>\n'
            '<tool_call>\n{"name": "g", "arguments": {}}\n</tool_call>\n')
    ends = [p for p in parse(TAGGED, text, step=3) if isinstance(p, CallEnd)]
    assert ends == [CallEnd("f", '{"a": [1, {"b": "}\\""}]}'), CallEnd("g", "{}")]
    assert json.loads(ends[0].arguments) == {"a": [1, {"b": '}"'}]}
    assert not [p for p in parse(TAGGED, text) if isinstance(p, Text)]  # tags and newlines are not text


def test_a_partial_opening_tag_is_held_back_then_shown_when_it_is_not_one() -> None:
    parser = CallParser(TAGGED)
    assert parser.feed("a <tool") == [Text("a ")] and parser.holding_opener
    assert parser.feed("box>") == [Text("<toolbox>")]
    assert parser.feed("<tool_") == [] and parser.finish() == [Text("<tool_")]


def test_an_opening_tag_without_json_is_text() -> None:
    pieces = parse(TAGGED, "<tool_call>oops")
    assert "".join(p.text for p in pieces if isinstance(p, Text)) == "<tool_call>oops"


def test_a_tagged_format_reads_calls_written_without_their_tags_before_any_text() -> None:
    text = ('\n{"name": "calculator", "arguments": {"expression": "2**64/7"}}\n'
            '<tool_call>\n{"name": "g", "arguments": {}}\n</tool_call>')
    pieces = parse(TAGGED, text)
    assert [p for p in pieces if isinstance(p, CallEnd)] == [CallEnd("calculator", '{"expression": "2**64/7"}'),
                                                             CallEnd("g", "{}")]
    assert not [p for p in pieces if isinstance(p, Text)] and CallOpened(1) in pieces
    assert len([p for p in pieces if isinstance(p, ArgsDelta)]) >= 5, "the arguments stream"
    after_text = parse(TAGGED, 'Use {"name": "f"} like this.')
    assert all(isinstance(p, Text) for p in after_text), "after text, JSON is text"
    assert "".join(p.text for p in after_text if isinstance(p, Text)) == 'Use {"name": "f"} like this.'


def test_bare_json_calls_with_parameters_then_text_is_only_text() -> None:
    pieces = parse(BARE, '{"name": "f", "parameters": {"x": 1}}\n{"name": "g", "arguments": "{\\"y\\": 2}"}\nok {x}')
    ends = [p for p in pieces if isinstance(p, CallEnd)]
    assert ends == [CallEnd("f", '{"x": 1}'), CallEnd("g", '{"y": 2}')]  # arguments sent as a string are unwrapped
    assert "".join(p.text for p in pieces if isinstance(p, Text)) == "ok {x}"
    assert [p for p in parse(BARE, "The answer is {1}.") if not isinstance(p, Text)] == []


def test_the_calls_grammar_names_every_tool_and_caps_the_calls() -> None:
    pytest.importorskip("llama_cpp", reason="the grammar is built with llama-cpp-python's schema converter")
    from streamchat.backends.local.grammar import tool_grammar

    tools = [{"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}}} for name in ("f", "g")]
    three = tool_grammar(tools, TAGGED, "calls", 3)
    assert three.startswith('root ::= call ("\\n" call){0,2}\n')
    assert '"{\\"name\\": \\"f\\", \\"arguments\\": "' in three and '"{\\"name\\": \\"g\\", ' in three
    assert tool_grammar(tools, TAGGED, "calls", 1).startswith("root ::= call\n")
    choose = tool_grammar(tools, TAGGED, "choose", 2)  # text may begin with no tag, bare call or fence
    assert choose.startswith('root ::= call ("\\n" call){0,1} | [^<{`] ')
    assert tool_grammar(tools, TAGGED, "text", 2) == "root ::= [^<{] [^\\x00]*\n"
    assert 'call ::= "<tool_call>\\n" call-json "\\n</tool_call>" | call-json\n' in choose
    assert tool_grammar(tools, BARE, "text", 2) == "root ::= [^{] [^\\x00]*\n"
    assert '"parameters\\": "' in tool_grammar(tools, BARE, "calls", 1)


# -- guard rails -------------------------------------------------------------------


def call(cid: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": arguments}}


def turn_with_calls(count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "old"}, {"role": "assistant", "content": "x"},
                                      {"role": "user", "content": "q"}]
    for n in range(count):
        messages.append({"role": "assistant", "content": "", "tool_calls": [call(f"c{n}", "f", f'{{"n": {n}}}')]})
        messages.append({"role": "tool", "tool_call_id": f"c{n}", "content": str(n)})
    return messages


TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {}}}]


def test_a_round_may_make_only_the_calls_left_for_this_question() -> None:
    plan = plan_round(turn_with_calls(2), TOOLS, max_rounds=8)
    assert plan.tools == TOOLS and plan.max_calls == MAX_CALLS - 2 and plan.note is None
    assert plan.previous == (("f", '{"n":1}'),)  # only the round just before, spacing ignored


def test_after_the_cap_the_round_is_text_only_and_the_model_is_told() -> None:
    plan = plan_round(turn_with_calls(MAX_CALLS), TOOLS, max_rounds=99)
    assert plan.tools == [] and plan.max_calls == 0 and plan.note == LAST_ROUND_NOTE
    assert plan.messages[-1]["content"] == f"{MAX_CALLS - 1}\n\n{LAST_ROUND_NOTE}"
    assert plan.messages[:-1] == turn_with_calls(MAX_CALLS)[:-1]


def test_the_agents_last_allowed_round_is_text_only() -> None:
    assert plan_round(turn_with_calls(2), TOOLS, max_rounds=3).tools == []
    assert plan_round(turn_with_calls(1), TOOLS, max_rounds=3).tools == TOOLS
    assert plan_round([{"role": "user", "content": "q"}], [], max_rounds=8).tools == []


def test_a_call_identical_to_the_last_rounds_is_held_back_and_judged_a_repeat() -> None:
    gate = RepeatGate([("f", '{"n":1}')])
    assert gate.feed(CallStart("f")) == ([], None)
    assert gate.feed(ArgsDelta('{"n": ')) == ([], None)
    assert gate.feed(ArgsDelta("1}")) == ([], None)
    assert gate.feed(CallEnd("f", '{"n": 1}')) == ([], "repeat")


def test_a_call_that_differs_is_released_as_soon_as_it_does() -> None:
    gate = RepeatGate([("f", '{"n":1}')])
    gate.feed(CallStart("f"))
    gate.feed(ArgsDelta('{"n": '))
    assert gate.feed(ArgsDelta("2")) == ([CallStart("f"), ArgsDelta('{"n": '), ArgsDelta("2")], None)
    assert gate.feed(ArgsDelta("}")) == ([ArgsDelta("}")], None)
    assert gate.feed(CallEnd("f", '{"n": 2}')) == ([CallEnd("f", '{"n": 2}')], "new")
    assert gate.feed(CallStart("g")) == ([CallStart("g")], None)  # another tool streams at once


def test_the_same_call_twice_in_one_answer_is_dropped() -> None:
    gate = RepeatGate([])
    for piece in (CallStart("f"), ArgsDelta("{}")):
        gate.feed(piece)
    assert gate.feed(CallEnd("f", "{}"))[1] == "new"
    assert gate.feed(CallStart("f")) == ([], None)
    assert gate.feed(CallEnd("f", "{ }")) == ([], "again")


def test_the_model_is_told_in_a_tool_result_that_its_repeat_was_not_run() -> None:
    told = repeat_exchange("abc123def", "f", '{"n": 1}')
    assert told[0]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"n": 1}'}
    assert told[1]["role"] == "tool" and told[1]["tool_call_id"] == "abc123def"
    assert "Not run again" in told[1]["content"] and "f" in told[1]["content"]


def test_compact_ignores_spacing_outside_strings_only() -> None:
    assert compact('{ "a" : "x y",\n "b": [1, 2] }') == '{"a":"x y","b":[1,2]}'
    assert compact('{"a": "say \\"hi there\\""}') == '{"a":"say \\"hi there\\""}'
