"""The conversation as data: messages with their status, tool calls and timing.

``ChatMessage.to_api()`` gives the dict the chat-completions API expects;
everything else on a message (status, timing, model) is ours and is never
sent to the server.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]
"""Who wrote a message."""
TurnStatus = Literal["complete", "stopped", "error", "incomplete", "length"]
"""How an assistant message (and so a turn) ended."""

STOPPED_NOTE = "[stopped by the user]"
"""Appended to the API form of an answer cut short (see ``cut_short``) so the model knows it was cut."""
CONTINUE_PROMPT = "Continue exactly where your previous answer stopped; do not repeat what you already wrote."
"""The user message a "continue answer" turn sends (shown as a label, not as a prompt)."""
COMPACT_PROMPT = ("Summarize our conversation so far for yourself, to go on from: the questions, what was decided "
                  "or found, facts, names, numbers and code that still matter, and what is still open. Be complete "
                  "but brief; the summary will replace the conversation in your context.")
"""The user message of a ``/compact`` turn (shown as a label, not as a prompt): its answer, the summary, is sent
in place of the turns before it."""
CONTINUABLE = frozenset({"stopped", "length"})
"""Statuses of the last answer after which "continue answer" is offered."""
CONTINUABLE_WITH_TEXT = frozenset({"error", "incomplete"})
"""Statuses after which it is offered when the answer has some text: a dropped connection, an error in the
stream, a stream that ended without a finish reason (with no text, retry is the answer)."""


@dataclass
class ToolCall:
    """One complete tool call the model made."""

    id: str
    """The call id; the tool message answers to it."""
    name: str
    """The tool's name."""
    arguments: str
    """The arguments string as the model sent it."""

    def to_api(self) -> dict[str, Any]:
        """The call as the API expects it inside an assistant message."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


def fenced(text: str, info: str = "") -> str:
    """``text`` in a code fence longer than any run of backticks inside it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def line_count(text: str) -> int:
    """How many lines ``text`` has (a last line without a newline counts; "" has none)."""
    return text.count("\n") + (0 if text.endswith("\n") else 1) if text else 0


@dataclass
class Attachment:
    """A file's text sent with a prompt: ``@path`` in the chat, or text piped into ``ask``."""

    name: str
    """Where it came from: its path in the workspace, or ``stdin``."""
    text: str
    """Its text."""
    size: int
    """Its size in bytes."""

    @property
    def lines(self) -> int:
        """How many lines it has."""
        return line_count(self.text)

    def to_prompt(self) -> str:
        """How the model gets it, after the prompt: a line naming it, then its text in a fence."""
        lines = self.lines
        return (f"Attached {self.name} ({self.size:,} bytes, {lines} line{'' if lines == 1 else 's'}):\n"
                f"{fenced(self.text)}")


@dataclass
class ChatMessage:
    """One message of a conversation, with what we know about how it came to be."""

    role: Role
    """``system``, ``user``, ``assistant`` or ``tool``."""
    content: str = ""
    """The text (for a tool message: the tool's result)."""
    tool_calls: list[ToolCall] = field(default_factory=list)
    """Tool calls of an assistant message."""
    tool_call_id: str | None = None
    """For a tool message: the call it answers."""
    name: str | None = None
    """For a tool message: the tool's name."""
    reasoning: str = ""
    """Reasoning text the model streamed, kept but never sent back."""
    status: TurnStatus | None = None
    """For an assistant message: how it ended (``complete``, ``stopped``...)."""
    error: str | None = None
    """The error message, when ``status`` is ``error``."""
    error_kind: str | None = None
    """What kind of failure it was (``ErrorEvent.kind``: ``rate_limit``, ``timeout``...), with ``error``."""
    attachments: list[Attachment] = field(default_factory=list)
    """For a user message: the files sent with it (the model gets their text after the prompt's)."""
    cut_at: float | None = None
    """For a user message: when the turns before it stopped being sent to the model (Unix time), summarized by
    ``/compact`` (this is its prompt) or dropped to fit the context window; they stay in the history and on
    screen. None for a message no cut starts at."""
    is_error: bool = False
    """For a tool message: the tool failed or was refused."""
    approval: dict[str, Any] | None = None
    """For a tool message of a tool that needs approval: the decision (``Approval.to_dict()``)."""
    model: str | None = None
    """The model that wrote an assistant message."""
    backend: str | None = None
    """The backend that served it (``openai``, ``local``)."""
    profile: str | None = None
    """The config file's profile it was asked through, if any."""
    stats: dict[str, Any] | None = None
    """Timing: for an assistant message, the request that produced it (``RequestStats`` as a dict);
    for a tool message, ``{"elapsed_ms": ...}``, how long the tool ran."""
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    """A stable id, used by the history store."""
    parent_id: str | None = None
    """The id of the message this one follows: a conversation is a tree of them (an edited prompt, a regenerated
    answer is a sibling of the one it replaces). None for a first message, and for the system prompt, which is
    apart from the tree; the store reads None on a message it has not saved as "after the branch shown"."""
    created_at: float = field(default_factory=time.time)
    """When the message was created (Unix time)."""

    def to_api(self) -> dict[str, Any]:
        """The message as the chat-completions API expects it."""
        if self.role == "tool":
            return {"role": "tool", "tool_call_id": self.tool_call_id, "content": self.content}
        message: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.role == "user" and self.attachments:
            message["content"] = "\n\n".join([self.content, *(a.to_prompt() for a in self.attachments)])
        if self.role == "assistant":
            if cut_short(self) and not self.tool_calls:
                message["content"] = f"{self.content}\n{STOPPED_NOTE}" if self.content else STOPPED_NOTE
            if self.tool_calls:
                message["tool_calls"] = [call.to_api() for call in self.tool_calls]
        return message

    def to_dict(self) -> dict[str, Any]:
        """Everything about the message, for saving and export."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChatMessage:
        """Rebuild a message saved with ``to_dict()``."""
        fields = dict(data)
        fields["tool_calls"] = [ToolCall(**call) for call in fields.get("tool_calls") or []]
        fields["attachments"] = [Attachment(**item) for item in fields.get("attachments") or []]
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in fields.items() if key in known})


def cut_short(message: ChatMessage) -> bool:
    """True for an answer ended before the model finished, by no error: stopped by the user, or saved only by a
    checkpoint (the app was killed mid-answer). Both are sent back the same way, live or reopened."""
    return message.status == "stopped" or (message.status == "incomplete" and not message.error)


def produced_nothing(message: ChatMessage) -> bool:
    """True for an assistant message of a failed request that got no text and no tool calls."""
    return (message.role == "assistant" and message.status in ("error", "incomplete")
            and not message.content and not message.tool_calls)


def api_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """The API form of a whole conversation.

    A request that failed before producing anything is left out with the user message it
    answered: an empty assistant turn is refused by strict servers and chat templates, and
    would teach the model that it said nothing. (It stays in the history, shown as it failed.)
    From the last cut on (``ChatMessage.cut_at``): the turns before it go unsent, the system prompt aside.
    """
    sent: list[dict[str, Any]] = []
    for message in sent_part(messages):
        if produced_nothing(message):
            if sent and sent[-1]["role"] == "user":
                sent.pop()
            continue
        sent.append(message.to_api())
    return sent


def cut_index(messages: list[ChatMessage]) -> int | None:
    """Where the cut in force is (``ChatMessage.cut_at``): requests leave out the turns before it; None: no cut.

    A cut at a ``/compact`` prompt stands for its summary: while no summary follows it (the summary asked for
    again, regenerated, or deleted), it does not count, so the turns to summarize are sent."""
    return next((i for i in range(len(messages) - 1, -1, -1) if messages[i].cut_at is not None
                 and not _summary_missing(messages, i)), None)


def sent_part(messages: list[ChatMessage]) -> list[ChatMessage]:
    """The messages a request sends: the system prompt, then everything from the cut in force on (all, without
    one)."""
    start = cut_index(messages)
    if start is None:
        return messages
    return [m for m in messages[:start] if m.role == "system"] + messages[start:]


def _summary_missing(messages: list[ChatMessage], index: int) -> bool:
    if messages[index].content != COMPACT_PROMPT:
        return False
    answer = messages[index + 1] if index + 1 < len(messages) else None
    return answer is None or answer.role != "assistant" or answer.status != "complete"


def can_continue(history: list[ChatMessage]) -> bool:
    """True when the conversation ends with an answer that was stopped, cut off at the token limit, or broke off."""
    last = history[-1] if history else None
    if last is None or last.role != "assistant":
        return False
    return last.status in CONTINUABLE or (last.status in CONTINUABLE_WITH_TEXT and bool(last.content))


def new_history(system_prompt: str | None) -> list[ChatMessage]:
    """A conversation's history before its first turn: the system prompt, when there is one."""
    return [ChatMessage(role="system", content=system_prompt)] if system_prompt else []


def replace_system(history: list[ChatMessage], system_prompt: str | None) -> tuple[ChatMessage | None,
                                                                                   ChatMessage | None]:
    """Put ``system_prompt`` first in ``history`` in place of the system message there (None or "" removes it);
    returns the old message and the new one."""
    old = history.pop(0) if history and history[0].role == "system" else None
    new = ChatMessage(role="system", content=system_prompt) if system_prompt else None
    if new is not None:
        history.insert(0, new)
    return old, new
