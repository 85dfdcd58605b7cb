"""How full the model's context window is, and what to leave out so a request fits (pure, no I/O).

The tokens a conversation takes are those its last request used, as the server's usage reported them
(the prompt and the answer), plus an estimate for what came after it; without a report (or when the
report is from before a cut), an estimate of what a request now sends. The estimate is rough on
purpose (about four characters a token, a few tokens a message): enough to warn before a request
that would not fit.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from streamchat.messages import COMPACT_PROMPT, CONTINUE_PROMPT, ChatMessage, api_messages, cut_index, sent_part

CHARS_PER_TOKEN = 4
"""Characters a token stands for, in the estimate."""
TOKENS_PER_MESSAGE = 4
"""Tokens a message costs beyond its text (its role, the template's marks), in the estimate."""
AMBER = 0.75
"""From this share of the window the meter turns amber."""
RED = 0.9
"""From this share it turns red."""


@dataclass(frozen=True)
class Fill:
    """How full the context is."""

    used: int
    """Tokens the conversation takes."""
    window: int | None
    """Tokens the model takes in all (None: not known)."""
    estimated: bool
    """True when ``used`` is an estimate rather than the server's own count."""

    @property
    def share(self) -> float | None:
        """``used`` over ``window`` (None without a window)."""
        return self.used / self.window if self.window else None

    @property
    def level(self) -> str:
        """``ok``, ``amber`` or ``red``."""
        share = self.share or 0.0
        return "red" if share >= RED else "amber" if share >= AMBER else "ok"

    def describe(self, *, compact: bool = False) -> str:
        """``ctx 3.2k/8k 40%``, ``ctx ~3.2k/8k 40%`` (estimated), ``ctx ~3.2k`` (window not known);
        ``compact``: ``ctx 40%`` when the window is known."""
        used = ("~" if self.estimated else "") + short_count(self.used)
        if not self.window:
            return f"ctx {used}"
        if compact:
            return f"ctx {self.used * 100 // self.window}%"
        return f"ctx {used}/{short_count(self.window)} {self.used * 100 // self.window}%"


def short_count(tokens: int) -> str:
    """``812``, ``3.2k``, ``128k``."""
    if tokens < 1000:
        return str(tokens)
    value = tokens / 1000
    return (f"{value:.1f}".removesuffix(".0") if value < 100 else f"{value:.0f}") + "k"


def estimate(messages: list[dict[str, Any]]) -> int:
    """About how many tokens these API messages take."""
    chars = sum(len(json.dumps(m.get("tool_calls"))) if m.get("tool_calls") else 0 for m in messages)
    chars += sum(len(str(m.get("content") or "")) for m in messages)
    return -(-chars // CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(messages)


def estimate_text(text: str) -> int:
    """About how many tokens one new message of ``text`` adds."""
    return estimate([{"content": text}])


def fill(history: list[ChatMessage], window: int | None) -> Fill:
    """How full ``window`` is with ``history``: the last request's usage, else an estimate (see the module)."""
    sent = sent_part(history)
    cut = next((m.cut_at for m in reversed(sent) if m.cut_at is not None), None)
    for index in range(len(sent) - 1, -1, -1):
        message = sent[index]
        stats = message.stats or {}
        if message.role != "assistant" or not isinstance(stats.get("prompt_tokens"), int):
            continue
        if cut is not None and message.created_at <= cut:
            break  # asked before the cut: its count includes what is no longer sent
        after = api_messages(sent[index + 1:])
        used = int(stats["prompt_tokens"]) + int(stats.get("tokens") or 0) + (estimate(after) if after else 0)
        return Fill(used, window, estimated=bool(after))
    return Fill(estimate(api_messages(history)), window, estimated=True)


def reserve(window: int, max_tokens: int | None) -> int:
    """Tokens to keep free for the answer: ``max_tokens`` when set, else an eighth of the window (256 to 2,048)."""
    return max_tokens if max_tokens else max(256, min(2048, window // 8))


def fits(history: list[ChatMessage], extra: int, window: int | None, max_tokens: int | None) -> bool:
    """True when a request with ``extra`` more tokens (a new prompt) leaves room for the answer (or the window is
    not known)."""
    if not window:
        return True
    return fill(history, window).used + extra + reserve(window, max_tokens) <= window


def oldest_kept(history: list[ChatMessage], budget: int) -> int | None:
    """Where to cut ``history`` so what is sent takes at most ``budget`` tokens: the index of the oldest user
    message to keep (the newest one when even its turn takes more); None when there is nothing to leave out.

    Estimates are scaled by how the server's last count compares with the estimate of the same messages."""
    now = fill(history, None)
    guessed = estimate(api_messages(history))
    scale = now.used / guessed if guessed and not now.estimated else 1.0
    system = [m for m in history if m.role == "system"]
    start = cut_index(history)
    if start is None:
        start = next((i for i, m in enumerate(history) if m.role != "system"), len(history))
    candidates = [i for i, m in enumerate(history)  # a turn, not the middle of an answer carried on
                  if m.role == "user" and i > start and m.content != CONTINUE_PROMPT]
    for index in candidates:
        if estimate(api_messages([*system, *history[index:]])) * scale <= budget:
            return index
    return candidates[-1] if candidates else None


def cut(message: ChatMessage) -> None:
    """Requests leave out the turns before ``message`` from now on."""
    message.cut_at = time.time()


def unsettled_summary(history: list[ChatMessage]) -> ChatMessage | None:
    """The ``/compact`` prompt at the end of ``history`` whose summary is complete but whose cut was not made yet (the
    summary was stopped, then asked again with ctrl+r or carried on with ctrl+e); None when there is none."""
    prompts = [m for m in history if m.role == "user" and m.content != CONTINUE_PROMPT]
    if not prompts or prompts[-1].content != COMPACT_PROMPT or prompts[-1].cut_at is not None:
        return None
    last = history[-1]
    done = last.role == "assistant" and last.status == "complete" and bool(last.content.strip())
    return prompts[-1] if done else None
