"""GBNF grammars that keep a local model's tool calls well formed, built from the tools' JSON schemas.

Each tool's ``parameters`` schema becomes grammar rules through
llama-cpp-python's ``SchemaConverter`` (what ``json_schema_to_gbnf`` uses),
all tools sharing one converter so common rules (strings, numbers) are
written once. A call is ``{"name": "<one of the tools>", "arguments": <its
schema>}``, wrapped in ``<tool_call>`` tags when the format has them (or bare: small
models taught the tags often write the JSON alone, and it is read as a call all
the same); at most ``max_calls`` of them, one per line.

Three grammars, all with the same ``root`` name:

* ``calls``: only calls (a forced tool choice, or once the model has begun a call);
* ``choose``: calls, or text that does not begin like one (``<`` or ``{``, nor with a
  code fence, where small models like to put a call's JSON; only the first
  token is sampled with it: once the model chose text, generation goes on
  without a grammar, at full speed);
* ``text``: text that does not begin like a call (a round without tools).
"""

from __future__ import annotations

import importlib
import json
import re
from typing import Any, Literal

from streamchat.backends.local.template import ToolFormat

Mode = Literal["calls", "choose", "text"]
"""Which grammar: only calls, calls or text, only text."""


def _literal(text: str) -> str:
    """``text`` as a GBNF string literal."""
    return json.dumps(text, ensure_ascii=False)


def _text_rule(fmt: ToolFormat, *, choosing: bool = False) -> str:
    firsts = dict.fromkeys(fmt.opener[0] + ("{" if fmt.tagged else "") + ("`" if choosing else ""))
    first = "".join(re.sub(r"([\]\\^-])", r"\\\1", char) for char in firsts)
    return f"[^{first}] [^\\x00]*"


def _call_rules(tools: list[dict[str, Any]], fmt: ToolFormat) -> list[str]:
    grammars: Any = importlib.import_module("llama_cpp.llama_grammar")  # untyped
    converter = grammars.SchemaConverter(prop_order={}, allow_fetch=False, dotall=False, raw_pattern=False)
    alternatives = []
    for number, tool in enumerate(tools):
        function = tool.get("function", tool)
        name = f"tool-{number}-args"
        try:
            schema = function.get("parameters") or {"type": "object"}
            args = converter.visit(converter.resolve_refs(schema, name), name)
        except Exception:  # noqa: BLE001 - a schema it cannot convert still takes any JSON object
            args = converter.visit({"type": "object"}, name)
        head = _literal(f'{{"name": {json.dumps(function["name"], ensure_ascii=False)}, "{fmt.args_key}": ')
        alternatives.append(f'{head} {args} "}}"')
    rules = [f"call-json ::= {' | '.join(alternatives)}"]
    if fmt.tagged:
        tagged = f"{_literal(fmt.opener + chr(10))} call-json {_literal(chr(10) + fmt.closer)}"
        rules.append(f"call ::= {tagged} | call-json")
    else:
        rules.append("call ::= call-json")
    rules.append(converter.format_grammar())
    return rules


def tool_grammar(tools: list[dict[str, Any]], fmt: ToolFormat, mode: Mode, max_calls: int = 1) -> str:
    """The grammar for ``mode``: at most ``max_calls`` calls of ``tools`` written in ``fmt``, or text."""
    if mode == "text" or not tools or max_calls < 1:
        return f"root ::= {_text_rule(fmt)}\n"
    more = f' ("\\n" call){{0,{max_calls - 1}}}' if max_calls > 1 else ""
    root = f"call{more}" if mode == "calls" else f"call{more} | {_text_rule(fmt, choosing=True)}"
    return "\n".join([f"root ::= {root}", *_call_rules(tools, fmt)]) + "\n"
