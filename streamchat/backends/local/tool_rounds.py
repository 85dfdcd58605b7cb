"""Guard rails for a small local model's tool calls: pure, no model, no I/O.

* A cap on calls for one user message (``MAX_CALLS``): a round may make no
  more calls than are left, and once none are left (or the agent's last
  allowed round has come) the round is text only and the model is told to
  answer.
* An identical call is not run twice in a row: a call equal to one of the
  previous round's (same tool, same arguments once spacing is ignored) is held
  back while it is written and, if it turns out identical, never reaches the
  agent; the model is told instead. A call repeated within one answer is
  dropped, and ends the answer (the model is looping).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from streamchat.backends.local.tool_calls import ArgsDelta, CallEnd, CallStart, Piece

MAX_CALLS = 6
"""Tool calls the local model may make for one user message; then it answers without tools."""

LAST_ROUND_NOTE = "(No more tool calls now: answer the user with the results you have.)"
"""Added to the last tool result when the next round is text only."""

REPEAT_NOTE = ("Not run again: you just called {name} with exactly these arguments and its result is above. "
               "Do not call it again; answer the user with the results you have.")
"""The tool result the model sees in place of a repeated call."""

CallKey = tuple[str, str]
"""A call's tool name and its arguments without spacing."""


def compact(arguments: str) -> str:
    """JSON text without the spacing outside strings (works on a part of a document too)."""
    out: list[str] = []
    in_string = escape = False
    for char in arguments:
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char.isspace():
            continue
        out.append(char)
    return "".join(out)


def _call_keys(message: dict[str, Any]) -> list[CallKey]:
    keys = []
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {} if isinstance(call, dict) else {}
        keys.append((str(function.get("name") or ""), compact(str(function.get("arguments") or "{}"))))
    return keys


@dataclass(frozen=True)
class RoundPlan:
    """What one request to the local model may do with tools."""

    tools: list[dict[str, Any]]
    """The tools offered this round (empty: text only)."""
    max_calls: int
    """Calls allowed in this answer."""
    previous: tuple[CallKey, ...] = ()
    """The calls of the round just before (an identical one is not run again)."""
    note: str | None = None
    """Told to the model, after the last tool result, when this round is text only."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    """The conversation to render (the request's, with ``note`` added)."""


def plan_round(messages: list[dict[str, Any]], tools: list[dict[str, Any]], *, max_rounds: int,
               max_calls: int = MAX_CALLS) -> RoundPlan:
    """What the next request may do, from the conversation since the last user message.

    ``max_rounds`` is the agent's limit of requests per turn: the last one is
    text only, so a small model answers instead of the turn ending in an error.
    """
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    since = messages[last_user + 1:]
    answers = [m for m in since if m.get("role") == "assistant"]
    made = sum(len(_call_keys(m)) for m in answers)
    previous: tuple[CallKey, ...] = ()
    if answers and all(m.get("role") == "tool" for m in since[since.index(answers[-1]) + 1:]):
        previous = tuple(_call_keys(answers[-1]))
    left = max_calls - made
    if not tools:
        return RoundPlan([], 0, previous, None, list(messages))
    if left > 0 and len(answers) + 1 < max_rounds:
        return RoundPlan(tools, left, previous, None, list(messages))
    told = list(messages)
    if told and told[-1].get("role") == "tool":
        told[-1] = {**told[-1], "content": f"{told[-1].get('content') or ''}\n\n{LAST_ROUND_NOTE}"}
    return RoundPlan([], 0, previous, LAST_ROUND_NOTE, told)


def repeat_exchange(call_id: str, name: str, arguments: str) -> list[dict[str, Any]]:
    """The messages that tell the model its repeated call was not run."""
    return [
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": REPEAT_NOTE.format(name=name)},
    ]


Verdict = Literal["new", "again", "repeat"]
"""A finished call is ``new``, the same as one ``again`` in this answer, or a ``repeat`` of the last round's."""


class RepeatGate:
    """Passes a call's pieces on, holding them back while the call could still be a repeat."""

    def __init__(self, previous: Sequence[CallKey]) -> None:
        self.previous = list(previous)
        """The last round's calls."""
        self.made: list[CallKey] = []
        """The calls passed on in this answer."""
        self._name = ""
        self._args = ""
        self._held: list[Piece] | None = None

    def _could_repeat(self) -> bool:
        written = compact(self._args)
        return any(name == self._name and args.startswith(written) for name, args in [*self.previous, *self.made])

    def feed(self, piece: Piece) -> tuple[list[Piece], Verdict | None]:
        """The pieces to pass on now, and the verdict once ``piece`` ends a call."""
        if isinstance(piece, CallStart):
            self._name, self._args = piece.name, ""
            self._held = [piece] if self._could_repeat() else None
            return ([] if self._held is not None else [piece]), None
        if isinstance(piece, ArgsDelta):
            self._args += piece.text
            if self._held is None:
                return [piece], None
            self._held.append(piece)
            if self._could_repeat():
                return [], None
            flushed, self._held = self._held, None
            return flushed, None
        if isinstance(piece, CallEnd):
            key = (piece.name, compact(piece.arguments))
            held: list[Piece] | None = self._held
            self._held = None
            if held is not None and key in self.previous:
                return [], "repeat"
            if held is not None and key in self.made:
                return [], "again"
            self.made.append(key)
            return [*(held or []), piece], "new"
        return [piece], None
