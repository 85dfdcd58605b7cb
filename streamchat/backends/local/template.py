"""A GGUF's own chat template: read from the file, asked whether it knows tools, rendered with Jinja2.

* ``read_chat_templates`` finds ``tokenizer.chat_template`` (and the
  ``tokenizer.chat_template.tool_use`` variant some GGUFs carry) in the file's
  metadata without loading the model: a search of the file's first bytes,
  done once per file.
* ``ToolFormat`` is how the model writes a call: ``<tool_call>{…}</tool_call>``
  when its template uses those tags (Qwen, Hermes and other ChatML-style
  templates), bare JSON ``{"name": …, "arguments": …}`` otherwise.
* ``render_prompt`` renders the conversation as llama.cpp's server does: the
  template gets ``messages`` and ``tools``, past calls with their arguments as
  objects and tool results as ``role: tool`` messages. A template that knows
  no tools (tools forced on) gets the tools described in its system message
  and calls and results written as text instead.
* ``sanitize_messages`` is the plain path's history (no tools offered): role
  and text only, calls as a short note, results as user messages.
"""

from __future__ import annotations

import functools
import json
import mmap
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

SEARCH_BYTES = 64 * 1024 * 1024
"""How far into a GGUF the template is looked for (metadata comes first; a big vocabulary is a few MB)."""
_STRING = 8  # GGUF's value type for a string


@dataclass(frozen=True)
class ChatTemplates:
    """The chat templates a GGUF carries."""

    default: str | None
    """``tokenizer.chat_template``, or None when the file has none."""
    tool_use: str | None = None
    """``tokenizer.chat_template.tool_use``, the variant for requests with tools, when there is one."""

    def for_tools(self) -> str | None:
        """The template to render a request with tools."""
        return self.tool_use or self.default


def _find_string(data: mmap.mmap, key: str, limit: int) -> str | None:
    raw = key.encode()
    needle = struct.pack("<Q", len(raw)) + raw + struct.pack("<I", _STRING)
    at = data.find(needle, 0, limit)
    if at < 0:
        return None
    start = at + len(needle)
    (length,) = struct.unpack_from("<Q", data, start)
    return data[start + 8:start + 8 + length].decode("utf-8", "replace")


@functools.lru_cache(maxsize=8)
def _read(path: str, size: int, mtime: float) -> ChatTemplates:
    with open(path, "rb") as file:
        if file.read(4) != b"GGUF":
            return ChatTemplates(None)
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            limit = min(len(data), SEARCH_BYTES)
            return ChatTemplates(_find_string(data, "tokenizer.chat_template", limit),
                                 _find_string(data, "tokenizer.chat_template.tool_use", limit))


def read_chat_templates(path: Path) -> ChatTemplates:
    """The chat templates in a GGUF's metadata (none when the file cannot be read or has none)."""
    try:
        stat = path.stat()
        return _read(str(path), stat.st_size, stat.st_mtime)
    except (OSError, ValueError, struct.error):
        return ChatTemplates(None)


def knows_tools(template: str | None) -> bool:
    """True when the template uses a ``tools`` variable (it can describe tools to the model)."""
    return bool(template and re.search(r"\btools\b", template))


@dataclass(frozen=True)
class ToolFormat:
    """How a model writes a tool call."""

    opener: str
    """What starts a call: ``<tool_call>``, or ``{`` for bare JSON."""
    closer: str
    """What ends one after its JSON: ``</tool_call>``, or "" for bare JSON."""
    args_key: str = "arguments"
    """The key of the arguments in the call's JSON (``parameters`` for Llama 3's templates)."""

    @property
    def tagged(self) -> bool:
        """True for ``<tool_call>`` tags (a call may follow some text), False for bare JSON."""
        return bool(self.closer)

    def write(self, name: str, arguments: Any) -> str:
        """One call as the model would write it."""
        body = json.dumps({"name": name, self.args_key: arguments}, ensure_ascii=False)
        return f"{self.opener}\n{body}\n{self.closer}" if self.tagged else body


TAGGED = ToolFormat("<tool_call>", "</tool_call>")
"""``<tool_call>{"name": …, "arguments": …}</tool_call>``."""


def tool_format(template: str | None) -> ToolFormat:
    """The call format a template teaches: tags when it names them or speaks ChatML, bare JSON otherwise."""
    text = template or ""
    if "<tool_call>" in text or (not knows_tools(text) and "<|im_start|>" in text):
        return TAGGED
    return ToolFormat("{", "", "parameters" if '"parameters"' in text else "arguments")


def content_text(content: Any) -> str:
    """Message content as plain text: None becomes "", content parts are joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return str(content)


def _arguments(raw: Any) -> Any:
    """A call's arguments as an object (templates write them with ``tojson``); unparsable text stays text."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _calls(message: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(id, name, arguments) of an assistant message's tool calls."""
    calls = []
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        calls.append((str(call.get("id") or ""), str(function.get("name") or ""),
                      _arguments(function.get("arguments") or "{}")))
    return calls


def native_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation for a template that knows tools: calls as objects, results as ``role: tool``."""
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        text = content_text(message.get("content"))
        if role == "assistant":
            item: dict[str, Any] = {"role": "assistant", "content": text}
            calls = _calls(message)
            if calls:
                names.update((cid, name) for cid, name, _ in calls)
                item["tool_calls"] = [{"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
                                      for cid, name, args in calls]
            out.append(item)
        elif role in ("tool", "function"):
            cid = str(message.get("tool_call_id") or "")
            out.append({"role": "tool", "content": text, "tool_call_id": cid,
                        "name": message.get("name") or names.get(cid, "")})
        else:
            out.append({"role": "system" if role == "developer" else str(role), "content": text})
    return out


def sanitize_messages(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The conversation in a form the GGUF's chat template accepts: role and text only.

    Content None becomes "" (None crashes the template); an assistant's tool
    calls become a note in its text; a tool result becomes a user message.
    """
    clean: list[dict[str, str]] = []
    for message in messages:
        role = message.get("role")
        text = content_text(message.get("content"))
        if role == "tool" or role == "function":
            clean.append({"role": "user", "content": f"Tool result: {text}"})
            continue
        if role == "assistant":
            calls = [call.get("function") or {} for call in message.get("tool_calls") or [] if isinstance(call, dict)]
            notes = [f"[called {call.get('name', '?')}({call.get('arguments', '')})]" for call in calls]
            text = "\n".join(part for part in [text, *notes] if part)
        elif role == "developer":
            role = "system"
        elif role not in ("system", "user"):
            role = "user"
        clean.append({"role": str(role), "content": text})
    return clean


def tools_instruction(tools: list[dict[str, Any]], fmt: ToolFormat) -> str:
    """The tools described for a template that cannot describe them itself."""
    listed = "\n".join(json.dumps(tool.get("function", tool), ensure_ascii=False) for tool in tools)
    example = fmt.write("tool_name", {"argument": "value"})
    return (f"You can call these tools:\n{listed}\nTo call one, reply with only {example} (one per call); "
            "its result comes back to you. When no tool is needed, answer in plain text.")


def text_messages(messages: list[dict[str, Any]], fmt: ToolFormat,
                  tools: list[dict[str, Any]] | None = None) -> list[dict[str, str]]:
    """The conversation as role and text only: calls written out in ``fmt``, results as user messages.

    With ``tools``, their description joins (or becomes) the system message.
    """
    clean: list[dict[str, str]] = []
    for message in native_messages(messages):
        role, text = message["role"], message["content"]
        if role == "tool":
            name = message["name"] or "tool"
            clean.append({"role": "user", "content": f"<tool_response>\n{name}: {text}\n</tool_response>"
                          if fmt.tagged else f"Tool result ({name}): {text}"})
            continue
        if role == "assistant":
            calls = [fmt.write(call["function"]["name"], call["function"]["arguments"])
                     for call in message.get("tool_calls", [])]
            text = "\n".join(part for part in [text, *calls] if part)
        elif role not in ("system", "user"):
            role = "user"
        clean.append({"role": role, "content": text})
    if tools:
        instruction = tools_instruction(tools, fmt)
        if clean and clean[0]["role"] == "system":
            clean[0] = {"role": "system", "content": f"{clean[0]['content']}\n\n{instruction}".strip()}
        else:
            clean.insert(0, {"role": "system", "content": instruction})
    return clean


class TemplateError(ValueError):
    """The chat template could not be compiled or rendered; the message says why."""


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False, sort_keys: bool = False,
            separators: Any = None) -> str:
    # Jinja's own tojson escapes <, >, & and ' for HTML: a model must see its arguments as JSON.
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=separators)


def _raise(message: str) -> None:
    raise TemplateError(message)


@functools.lru_cache(maxsize=4)
def _compiled(template: str) -> Any:
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals.update(raise_exception=_raise, strftime_now=lambda fmt: datetime.now().strftime(fmt))
    return env.from_string(template)


def render_prompt(template: str, messages: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None,
                  bos_token: str = "", eos_token: str = "") -> str:
    """The prompt for the next assistant message; ``TemplateError`` when the template fails."""
    try:
        return str(_compiled(template).render(messages=messages, tools=tools or None, add_generation_prompt=True,
                                              bos_token=bos_token, eos_token=eos_token))
    except TemplateError:
        raise
    except Exception as exc:  # Jinja raises many kinds; all mean "this template failed"
        raise TemplateError(" ".join(str(exc).split())[:160] or type(exc).__name__) from exc
