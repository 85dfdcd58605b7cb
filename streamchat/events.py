"""Typed events that flow from the backends through the agent loop to a front end.

Every event is a small frozen dataclass tagged by a ``type`` literal, so a
front end can ``match`` on the class and the headless ``--json`` mode can
write ``to_dict()`` as one NDJSON line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from streamchat.messages import ChatMessage
from streamchat.messages import TurnStatus as TurnStatus  # how a turn ended: its events carry it

ErrorKind = Literal[
    "connection",
    "dns",
    "auth",
    "permission",
    "not_found",
    "rate_limit",
    "server",
    "bad_request",
    "timeout",
    "dropped",
    "stream_error",
    "incomplete",
    "config",
    "context_length",
    "tool_rounds",
    "unknown",
]
"""The kinds of failure a turn can end with."""

SETTINGS_KINDS: frozenset[str] = frozenset({"config", "auth", "not_found"})
"""Error kinds that mean a setting is wrong (the address, the key, the model, the mode): sending the
same request again cannot help; ``ask`` exits 2 for them."""

@dataclass(frozen=True)
class Event:
    """Base of every event; ``to_dict()`` gives its JSON form."""

    def to_dict(self) -> dict[str, Any]:
        """The event as a JSON-ready dict whose first key is ``type``."""
        data = asdict(self)
        kind = data.pop("type")
        return {"type": kind, **data}


@dataclass(frozen=True)
class TextDelta(Event):
    """A piece of visible answer text."""

    text: str
    """The new text, exactly as the model sent it (untrusted)."""
    type: Literal["token"] = "token"
    """Tag: ``token``."""


@dataclass(frozen=True)
class ReasoningDelta(Event):
    """A piece of the model's reasoning (``reasoning_content`` / ``reasoning``)."""

    text: str
    """The new reasoning text (untrusted)."""
    type: Literal["reasoning"] = "reasoning"
    """Tag: ``reasoning``."""


@dataclass(frozen=True)
class ToolCallStarted(Event):
    """The model began a tool call: its id and name are known."""

    id: str
    """The call id the tool result must answer to."""
    name: str
    """The tool's name as the model sent it."""
    index: int
    """Position of the call within the assistant message (0-based)."""
    type: Literal["tool_call_started"] = "tool_call_started"
    """Tag: ``tool_call_started``."""


@dataclass(frozen=True)
class ToolCallArgumentsDelta(Event):
    """More of a tool call's JSON arguments arrived."""

    id: str
    """The call id."""
    name: str
    """The tool's name."""
    delta: str
    """The new fragment of the arguments string."""
    type: Literal["tool_call_delta"] = "tool_call_delta"
    """Tag: ``tool_call_delta``."""


@dataclass(frozen=True)
class ToolCallComplete(Event):
    """A tool call is fully streamed and ready to run."""

    id: str
    """The call id."""
    name: str
    """The tool's name."""
    arguments: str
    """The complete arguments string (normally JSON, but untrusted)."""
    type: Literal["tool_call"] = "tool_call"
    """Tag: ``tool_call``."""


@dataclass(frozen=True)
class UsageReport(Event):
    """Token usage the server reported (``stream_options.include_usage``)."""

    prompt_tokens: int | None
    """Tokens in the prompt, if reported."""
    completion_tokens: int | None
    """Tokens the model generated, if reported."""
    type: Literal["usage"] = "usage"
    """Tag: ``usage``."""


@dataclass(frozen=True)
class StreamFinished(Event):
    """One streamed response ended (there may be several per turn)."""

    finish_reason: str | None
    """The server's finish_reason, or None when the stream ended without one."""
    status: TurnStatus
    """``complete``, ``length`` or ``incomplete`` as judged from the stream."""
    type: Literal["finish"] = "finish"
    """Tag: ``finish``."""


@dataclass(frozen=True)
class ToolRunning(Event):
    """A tool began to run."""

    id: str
    """The call id."""
    name: str
    """The tool's name."""
    arguments: str
    """The arguments it runs with."""
    type: Literal["tool_running"] = "tool_running"
    """Tag: ``tool_running``."""


@dataclass(frozen=True)
class ToolApproval(Event):
    """A tool call that needs approval was allowed or denied (before it ran, or instead of running)."""

    id: str
    """The call id."""
    name: str
    """The tool's name."""
    allowed: bool
    """True when it may run."""
    by: str
    """Who decided: ``user``, ``config`` (always_allow), ``yes`` (--yes) or ``headless`` (ask cannot ask)."""
    scope: str = "once"
    """For an allowance: ``once``, ``chat`` or ``always``."""
    reason: str = ""
    """For a denial: why (the model is told)."""
    type: Literal["tool_approval"] = "tool_approval"
    """Tag: ``tool_approval``."""


@dataclass(frozen=True)
class ToolResult(Event):
    """A tool finished (or failed, or was refused); its content goes back to the model."""

    id: str
    """The call id this result answers."""
    name: str
    """The tool's name."""
    content: str
    """What the model receives (untrusted when shown)."""
    is_error: bool
    """True when the tool failed, was unknown, or its arguments were bad."""
    elapsed_s: float = 0.0
    """How long the tool ran, in seconds."""
    type: Literal["tool_result"] = "tool_result"
    """Tag: ``tool_result``."""


@dataclass(frozen=True)
class ErrorEvent(Event):
    """The turn failed; whatever streamed before stays in the history."""

    kind: ErrorKind
    """What went wrong, for code: ``connection``, ``auth``, ``timeout``..."""
    message: str
    """A short human sentence; never contains the API key."""
    status_code: int | None = None
    """The HTTP status, when there was one."""
    retryable: bool = False
    """True when trying again may well succeed (rate limit, timeout, drop, 5xx)."""
    type: Literal["error"] = "error"
    """Tag: ``error``."""


@dataclass(frozen=True)
class Retrying(Event):
    """A request failed before its answer began and will be sent again after ``wait_s``."""

    attempt: int
    """The attempt about to be made (2 for the first retry)."""
    attempts: int
    """How many attempts there will be at most (1 + ``max_retries``)."""
    wait_s: float
    """Seconds until it is sent (the server's ``Retry-After`` when it gave one)."""
    kind: ErrorKind
    """What went wrong with the last attempt."""
    message: str
    """What went wrong, as a short sentence (never contains the API key)."""
    type: Literal["retry"] = "retry"
    """Tag: ``retry``."""


@dataclass(frozen=True)
class RequestStats:
    """Timing of one request, in milliseconds from when it was sent (``sent_ms`` aside)."""

    sent_ms: float | None = None
    """When the request left, in ms after the user sent the prompt: the time spent before it (making the
    backend, loading a model, waiting out a retry, earlier tool rounds). None when not known."""
    headers_ms: float | None = None
    """Time until the response headers arrived."""
    ttft_ms: float | None = None
    """Time until the first visible token (text, reasoning or tool call)."""
    total_ms: float | None = None
    """Time until the response ended."""
    tokens: int = 0
    """Completion tokens: the server's usage figure if reported, else chunks counted."""
    tokens_per_s: float | None = None
    """Tokens per second from the first token to the end."""
    gap_p50_ms: float | None = None
    """Median gap between visible chunks."""
    gap_p95_ms: float | None = None
    """95th percentile gap between visible chunks."""
    prompt_tokens: int | None = None
    """Tokens of the request's prompt, as the server's usage reported them (None: not reported)."""


@dataclass(frozen=True)
class TurnDone(Event):
    """The last event of every turn, whatever happened."""

    status: TurnStatus
    """How the turn ended."""
    finish_reason: str | None
    """The last response's finish_reason, if any."""
    ttft_ms: float | None
    """Time from the moment the user sent the prompt to the first visible token (what the user waited)."""
    total_ms: float
    """Time from the moment the user sent the prompt to the end of the turn."""
    tokens: int
    """Completion tokens over all the turn's requests."""
    tokens_per_s: float | None = None
    """Tokens per second over the streaming part of the turn."""
    rounds: int = 0
    """How many model requests the turn made."""
    requests: list[RequestStats] = field(default_factory=list)
    """Per-request timing, in order."""
    request_sent_ms: float | None = None
    """When the request that brought the first token left, in ms after the user sent the prompt: the part
    of ``ttft_ms`` spent before the request (making the backend, loading a model, retries); the rest is
    the server's. None without a first token."""
    type: Literal["done"] = "done"
    """Tag: ``done``."""


@dataclass(frozen=True)
class MessageAdded(Event):
    """A turn appended a message to the history: the user's prompt, an answer (whole, failed or stopped), a
    tool's result. The one way a front end learns what the history holds (the chat saves these); ``ask --json``
    leaves them out, its other events already say it."""

    message: ChatMessage
    """The message, as appended."""
    type: Literal["message"] = "message"
    """Tag: ``message``."""

AnyEvent = (
    TextDelta
    | ReasoningDelta
    | ToolCallStarted
    | ToolCallArgumentsDelta
    | ToolCallComplete
    | UsageReport
    | StreamFinished
    | ToolRunning
    | ToolApproval
    | ToolResult
    | ErrorEvent
    | Retrying
    | TurnDone
    | MessageAdded
)
"""Every event a turn can yield."""
