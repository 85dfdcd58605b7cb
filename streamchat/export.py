"""A saved conversation as Markdown (to read or share) or JSON (every field, to process).

Pure functions of a ``Conversation``: no I/O, no UI. Neither carries a raw control character out:
the Markdown leaves escape sequences out (as the screen does), the JSON keeps every character, escaped.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from streamchat.messages import COMPACT_PROMPT, CONTINUE_PROMPT, ChatMessage, fenced
from streamchat.safety import escape_raw_controls, strip_control
from streamchat.store.database import Conversation
from streamchat.timing import SPLIT_SHOWN_MS, format_ms

JSON_FORMAT = "streamchat.conversation"
"""The ``format`` tag of a JSON export."""

JSON_VERSION = 1
"""The version of the JSON export's layout."""

UNTITLED = "Untitled conversation"
"""The Markdown title of a conversation without one."""


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M")


_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def closed_fences(text: str) -> str:
    """``text`` with a code fence it leaves open closed, so what follows it is not swallowed as code.

    An answer stopped (or cut off) inside a fenced block leaves the fence open; in an export,
    everything after it would render as code. Fences are read as CommonMark does: up to three
    spaces, three or more backticks or tildes; a closing fence is as long or longer, with nothing after.
    """
    opened: str | None = None
    for line in text.splitlines():
        match = _FENCE_LINE.match(line)
        if match is None:
            continue
        fence, rest = match.groups()
        if opened is None:
            if not (fence[0] == "`" and "`" in rest):  # a backtick fence's info string has no backtick
                opened = fence
        elif fence[0] == opened[0] and len(fence) >= len(opened) and not rest.strip():
            opened = None
    if opened is None:
        return text
    return f"{text.rstrip(chr(10))}\n{opened}"


def quoted(text: str) -> str:
    """``text`` as a Markdown blockquote."""
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines() or [""])


def timing_line(stats: dict[str, Any] | None) -> str:
    """``first token 312 ms · total 1.84 s · 42 tokens · 22.8 tok/s`` from a message's stats ('' if none).

    First token and total count from when the user sent the prompt (``sent_ms`` is added to the
    request's own figures), and say how much came before the request when that is worth saying.
    Stats saved before ``sent_ms`` existed are shown as they were measured, from the request.
    """
    if not stats:
        return ""
    parts = []
    sent = stats.get("sent_ms")
    before = float(sent) if sent is not None else 0.0
    if stats.get("ttft_ms") is not None:
        split = f" ({format_ms(before)} before sending)" if before >= SPLIT_SHOWN_MS else ""
        parts.append(f"first token {format_ms(before + float(stats['ttft_ms']))}{split}")
    if stats.get("total_ms") is not None:
        parts.append(f"total {format_ms(before + float(stats['total_ms']))}")
    if stats.get("tokens"):
        parts.append(f"{int(stats['tokens'])} tokens")
    if stats.get("tokens_per_s") is not None:
        parts.append(f"{float(stats['tokens_per_s']):.1f} tok/s")
    return " · ".join(parts)


def footer_line(model: str | None, stats: dict[str, Any] | None) -> str:
    """A turn's footer: ``gpt-4o-mini · first token 312 ms · total 1.84 s · 42 tokens`` ('' if nothing known)."""
    return " · ".join(part for part in (model, timing_line(stats)) if part)


def describe_approval(saved: dict[str, Any]) -> str:
    """A saved approval (``ChatMessage.approval``) as words: ``allowed once``, ``denied: too risky``."""
    from streamchat.approval import Approval

    known = {key: value for key, value in saved.items() if key in Approval.__dataclass_fields__}
    try:
        return Approval(**known).describe()
    except (TypeError, KeyError):
        return "allowed" if saved.get("allowed") else "denied"


def turn_stats(messages: list[ChatMessage]) -> dict[str, Any] | None:
    """The timing of a whole turn from its requests' stats (in their form): first token, total, tokens, and the
    rate over the streamed parts (as ``timing.turn_done`` works it out live).

    ``sent_ms`` is that of the request that brought the first token, so ``timing_line`` counts the first
    token from the user's send; the total runs to the end of the last request.
    """
    stats = [message.stats for message in messages if message.role == "assistant" and message.stats]
    if not stats:
        return None
    if len(stats) == 1:
        return stats[0]
    first = next((s for s in stats if s.get("ttft_ms") is not None), stats[0])
    tokens = sum(int(s.get("tokens") or 0) for s in stats)
    streamed = [s for s in stats if s.get("tokens_per_s")]
    seconds = sum(int(s.get("tokens") or 0) / float(s["tokens_per_s"]) for s in streamed)
    rate = sum(int(s.get("tokens") or 0) for s in streamed) / seconds if seconds > 0 else None
    last = stats[-1]
    if first.get("sent_ms") is not None and last.get("sent_ms") is not None and last.get("total_ms") is not None:
        end = float(last["sent_ms"]) + float(last["total_ms"])  # from the user's send
        return {"sent_ms": first["sent_ms"], "ttft_ms": first.get("ttft_ms"),
                "total_ms": end - float(first["sent_ms"]), "tokens": tokens, "tokens_per_s": rate}
    return {  # saved before sent_ms existed: the requests' own figures
        "ttft_ms": first.get("ttft_ms"),
        "total_ms": sum(float(s.get("total_ms") or 0.0) for s in stats),
        "tokens": tokens, "tokens_per_s": rate,
    }


def _arguments(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments


def _assistant(message: ChatMessage) -> list[str]:
    meta = [part for part in (message.model, message.status if message.status != "complete" else None) if part]
    blocks = ["## Assistant"]
    if meta:
        blocks.append(f"*{' · '.join(meta)}*")
    if message.reasoning:
        blocks.append(f"<details><summary>Reasoning</summary>\n\n{closed_fences(message.reasoning.strip())}"
                      f"\n\n</details>")
    if message.content:
        blocks.append(closed_fences(message.content.strip("\n")))
    for call in message.tool_calls:
        blocks.append(f"**Tool call:** `{call.name}` ({call.id})")
        blocks.append(fenced(_arguments(call.arguments), "json"))
    if message.status == "error" or message.error:
        blocks.append(quoted(f"**Error:** {message.error or 'the request failed'}"))
    timing = timing_line(message.stats)
    if timing:
        blocks.append(f"*{timing}*")
    return blocks


def _message(message: ChatMessage, system_shown: str | None) -> list[str]:
    if message.role == "user":
        if message.content == CONTINUE_PROMPT:  # sent by "continue answer", not typed
            return ["*↳ continued*"]
        if message.content == COMPACT_PROMPT:  # sent by /compact
            return ["*⇣ compacted: the summary below was sent to the model instead of the turns above*"]
        if message.cut_at is not None:
            return ["*✂ the turns above were no longer sent to the model*", *_message(replace(message, cut_at=None),
                                                                                         system_shown)]
        attached = [block for a in message.attachments
                    for block in (f"**Attached:** `{a.name}` ({a.size:,} bytes, {a.lines} lines)", fenced(a.text))]
        return ["## You", closed_fences(message.content.strip("\n")), *attached]
    if message.role == "assistant":
        return _assistant(message)
    if message.role == "tool":
        label = "Tool error" if message.is_error else "Tool result"
        decision = f" · {describe_approval(message.approval)}" if message.approval else ""
        return [f"**{label}:** `{message.name or 'tool'}` ({message.tool_call_id}){decision}", fenced(message.content)]
    if message.content == system_shown:
        return []
    return ["## System", closed_fences(message.content.strip("\n"))]


def to_markdown(conversation: Conversation) -> str:
    """The conversation as Markdown: title, system prompt, then each message in order.

    Model output is untrusted: escape sequences and control characters are left out, as on the screen,
    so the file cannot clear a terminal, set its title or fill its clipboard when it is shown there.
    """
    system = conversation.system_prompt or next(
        (m.content for m in conversation.messages if m.role == "system" and m.content), None)
    about = [f"conversation {conversation.id[:8]}", f"started {_when(conversation.created_at)}"]
    if conversation.model:
        about.append(f"model {conversation.model}" + (f" ({conversation.backend})" if conversation.backend else ""))
    blocks = [f"# {conversation.title or UNTITLED}", f"*{' · '.join(about)}*"]
    if system:
        blocks += ["**System prompt:**", quoted(system)]
    for message in conversation.messages:
        blocks += _message(message, system)
    return strip_control("\n\n".join(block for block in blocks if block) + "\n")


def to_json(conversation: Conversation) -> str:
    """The conversation with every field as JSON: stable (sorted) key order, indent 2; every control
    character escaped (``\\u001b``), none raw."""
    document = {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "id": conversation.id,
        "title": conversation.title,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
        "model": conversation.model,
        "backend": conversation.backend,
        "system_prompt": conversation.system_prompt,
        "messages": [message.to_dict() for message in conversation.messages],
    }
    return escape_raw_controls(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"
