"""The GGUF's chat template: read from the file, asked about tools, rendered with tools and tool results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jinja2", reason="jinja2 comes with llama-cpp-python (pip install 'streamchat[local]')")

from chat_templates import LLAMA3_STYLE, MISTRAL_STRICT, QWEN_STYLE

from streamchat.backends.local.model import packaged_model_path
from streamchat.backends.local.template import (
    TAGGED,
    ChatTemplates,
    TemplateError,
    knows_tools,
    native_messages,
    read_chat_templates,
    render_prompt,
    text_messages,
    tool_format,
)
from streamchat.messages import ChatMessage, ToolCall, api_messages

CALC = {"type": "function", "function": {"name": "calculator", "description": "Evaluate <arithmetic> & more.",
                                         "parameters": {"type": "object",
                                                        "properties": {"expression": {"type": "string"}}}}}


def conversation() -> list[dict[str, Any]]:
    """A question, a call whose arguments hold characters HTML would escape, its result."""
    return api_messages([
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="What is 2**64/7?"),
        ChatMessage(role="assistant",
                    tool_calls=[ToolCall("a1b2c3d4e", "calculator", '{"expression": "2**64/7 < 3e18"}')]),
        ChatMessage(role="tool", tool_call_id="a1b2c3d4e", name="calculator", content="2635249153387078802.28"),
    ])


def test_the_template_is_rendered_with_the_tools_the_call_and_its_result() -> None:
    prompt = render_prompt(QWEN_STYLE, native_messages(conversation()), tools=[CALC])
    assert prompt.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n")
    assert json.dumps(CALC) in prompt  # the schema as JSON: < and & are not HTML-escaped
    assert '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2**64/7 < 3e18"}}\n</tool_call>' in prompt
    assert "<|im_start|>user\n<tool_response>\n2635249153387078802.28\n</tool_response><|im_end|>" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_without_tools_the_same_template_still_renders_past_calls_and_results() -> None:
    prompt = render_prompt(QWEN_STYLE, native_messages(conversation()))
    assert "# Tools" not in prompt and "<tool_response>\n2635249153387078802.28" in prompt


def test_tool_messages_get_the_name_of_the_call_they_answer() -> None:
    tool = native_messages(conversation())[-1]
    assert tool == {"role": "tool", "content": "2635249153387078802.28", "tool_call_id": "a1b2c3d4e",
                    "name": "calculator"}


def test_a_template_that_knows_no_tools_gets_them_described_and_calls_written_as_text() -> None:
    messages = text_messages(conversation(), TAGGED, [CALC])
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[0]["content"].startswith("Be brief.\n\nYou can call these tools:\n")
    written = '<tool_call>\n{"name": "calculator", "arguments": {"expression": "2**64/7 < 3e18"}}'
    assert written in messages[2]["content"]
    assert messages[3]["content"] == "<tool_response>\ncalculator: 2635249153387078802.28\n</tool_response>"


def test_which_templates_know_tools_and_how_their_models_write_calls() -> None:
    packaged = packaged_model_path()
    if packaged is not None:  # SmolLM2's ChatML template knows no tools: forced on, calls go in tags
        smol = read_chat_templates(packaged).default
        assert smol and not knows_tools(smol) and tool_format(smol) == TAGGED
    assert knows_tools(QWEN_STYLE) and tool_format(QWEN_STYLE) == TAGGED
    llama3 = tool_format(LLAMA3_STYLE)
    assert knows_tools(LLAMA3_STYLE) and not llama3.tagged and llama3.args_key == "parameters"
    assert ChatTemplates("a", "b").for_tools() == "b" and ChatTemplates("a").for_tools() == "a"


def test_a_file_that_is_not_a_gguf_has_no_template(tmp_path: Path) -> None:
    path = tmp_path / "x.gguf"
    path.write_bytes(b"not a model")
    assert read_chat_templates(path) == ChatTemplates(None)
    assert read_chat_templates(tmp_path / "missing.gguf") == ChatTemplates(None)


def test_a_template_that_raises_is_a_template_error_with_its_words() -> None:
    with pytest.raises(TemplateError, match="alphanumeric strings with length 9"):
        render_prompt(MISTRAL_STRICT, [{"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": {}}}]}])
    assert "[TOOLS]" in render_prompt(MISTRAL_STRICT, native_messages(conversation()), tools=[CALC])
