"""``streamchat ask``: stream one answer to stdout for scripts and pipes.

Text mode writes the answer to stdout as it arrives (flushing each piece)
and tool activity to stderr; ``--json`` writes one JSON object per event.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TextIO

from streamchat.agent import Agent
from streamchat.approval import Approval, ApprovalPolicy
from streamchat.attachments import MAX_ATTACHMENT_BYTES, attachment_of, mentions, read_attachment
from streamchat.backends import tools_sentence
from streamchat.events import (
    SETTINGS_KINDS,
    AnyEvent,
    ErrorEvent,
    MessageAdded,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolApproval,
    ToolCallComplete,
    ToolResult,
    TurnDone,
)
from streamchat.messages import Attachment, ToolCall, new_history
from streamchat.safety import SecretMask, StreamSanitizer, strip_control
from streamchat.tools.files import Workspace

EXIT_OK = 0
"""The answer completed."""
EXIT_FAILED = 1
"""The turn ended with an error or an incomplete stream."""
EXIT_CONFIG = 2
"""Settings or installation problem: nothing was asked, or the server said a setting is wrong
(the address is not the API, the key was rejected, no such model)."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: what had streamed was already printed."""
EXIT_BROKEN_PIPE = 141
"""The reader of stdout went away (as a process killed by SIGPIPE reports)."""


NOT_ASKED = ("streamchat ask cannot ask for approval: run it with --yes, or add the tool (or a pattern such as "
             "files__*) to always_allow in the config file.")
"""Why a headless run denied a tool that needs approval, and what to do (said on stderr; the model is only told
that the tool was not run, needing an approval this run could not ask for)."""


@dataclass
class HeadlessApprover:
    """Decides without asking anyone: allowed by ``--yes`` or the config's ``always_allow``, else denied."""

    policy: ApprovalPolicy
    """What is allowed."""

    async def __call__(self, call: ToolCall) -> Approval:
        """Allow what the policy allows; deny the rest, saying why."""
        return self.policy.decide(call.name) or Approval(False, by="headless", reason=NOT_ASKED)


@dataclass
class HeadlessOutput:
    """Where and how events are written."""

    out: TextIO
    """Answer text (or NDJSON)."""
    err: TextIO
    """Tool activity and errors in text mode."""
    as_json: bool = False
    """One JSON object per event instead of text."""
    sanitize: bool = True
    """Strip escape sequences from model text (on when stdout is a terminal)."""
    secret: str | None = None
    """The API key, masked in the answer and the reasoning (even when the stream cuts it in two)."""
    dim: bool = False
    """Show the reasoning dim (on when stderr is a terminal)."""
    mcp_start_ms: float | None = None
    """How long starting the config file's MCP servers took before the turn (part of its ``request_sent_ms``);
    ``done`` says it in JSON. None when no server was started."""
    _ended_with_newline: bool = True
    _answered: bool = False
    _answer: StreamSanitizer = field(default_factory=StreamSanitizer)
    _mask: SecretMask | None = None
    _reasoning: StreamSanitizer = field(default_factory=StreamSanitizer)
    _reasoning_mask: SecretMask | None = None
    _reasoning_line_open: bool = False

    def write(self, event: AnyEvent) -> None:
        """Show one event."""
        if isinstance(event, ToolApproval) and event.by == "headless":
            self._line(f"⊘ {strip_control(event.name)} denied: {event.reason}")  # on stderr, in both modes
        if isinstance(event, MessageAdded):
            return  # the history, not the output: the other events already said it
        if self.as_json:
            data = event.to_dict()
            if isinstance(event, TurnDone) and self.mcp_start_ms is not None:
                data["mcp_start_ms"] = self.mcp_start_ms
            self.out.write(json.dumps(data) + "\n")
            self.out.flush()
            return
        if self._mask is None or self._reasoning_mask is None:
            self._mask, self._reasoning_mask = SecretMask(self.secret), SecretMask(self.secret)
        if not isinstance(event, ReasoningDelta):
            self._end_reasoning()
        if not isinstance(event, TextDelta):
            self._show(self._mask.flush())
            self._text(self._answer.flush())
        if isinstance(event, TextDelta):
            self._show(self._mask.feed(event.text))
        elif isinstance(event, ReasoningDelta):
            self._think(self._reasoning.feed(self._reasoning_mask.feed(event.text)))
        elif isinstance(event, ToolCallComplete):
            self._line(f"⚙ {event.name}({strip_control(event.arguments)})")
        elif isinstance(event, ToolResult):
            mark = "✗" if event.is_error else "✓"
            content = strip_control(event.content)
            if len(content) > 300:
                content = content[:300] + "…"
            self._line(f"{mark} {event.name} → {content} ({event.elapsed_s:.2f} s)")
        elif isinstance(event, ToolApproval) and event.allowed:
            who = "--yes" if event.by == "yes" else "always_allow in the config file"
            self._line(f"✓ {strip_control(event.name)} allowed by {who}")
        elif isinstance(event, Retrying):
            self._line(f"retrying ({event.kind}): {strip_control(event.message)} "
                       f"attempt {event.attempt} of {event.attempts} in {event.wait_s:.1f} s")
        elif isinstance(event, ErrorEvent):
            self._line(f"error ({event.kind}): {strip_control(event.message)}")
            if event.kind == "context_length":
                self._line("note: shorten the prompt (or the text piped in), or use a model with a larger context")
        elif isinstance(event, TurnDone):
            if not self._ended_with_newline:
                self.out.write("\n")
                self.out.flush()
                self._ended_with_newline = True
            if event.status == "length":
                self._line("note: the answer was cut at the token limit (finish_reason: length)")
            elif event.status == "complete" and not self._answered:
                self._line("note: the model's answer was empty")

    def _think(self, text: str) -> None:
        """Reasoning goes to stderr (dim on a terminal), apart from the answer on stdout."""
        if not text:
            return
        if not self._ended_with_newline:  # both may be the same terminal: start on a line of its own
            self.out.write("\n")
            self.out.flush()
            self._ended_with_newline = True
        self.err.write(f"\x1b[2m{text}\x1b[22m" if self.dim else text)
        self.err.flush()
        self._reasoning_line_open = not text.endswith("\n")

    def _end_reasoning(self) -> None:
        """The reasoning ended: what was held back, then a line break, so the answer starts on its own line."""
        if self._reasoning_mask is not None:
            self._think(self._reasoning.feed(self._reasoning_mask.flush()))
        self._think(self._reasoning.flush())
        if self._reasoning_line_open:
            self.err.write("\n")
            self.err.flush()
            self._reasoning_line_open = False

    def _show(self, text: str) -> None:
        self._text(self._answer.feed(text) if self.sanitize else text)

    def _text(self, text: str) -> None:
        if text.strip():
            self._answered = True
        if text:
            self.out.write(text)
            self.out.flush()
            self._ended_with_newline = text.endswith("\n")

    def _line(self, text: str) -> None:
        if not self._ended_with_newline:
            self.out.write("\n")
            self.out.flush()
            self._ended_with_newline = True
        self.err.write(text + "\n")
        self.err.flush()


async def ask(agent: Agent, prompt: str, output: HeadlessOutput, *, stream: bool = True,
              asked_at: float | None = None, attachments: list[Attachment] | None = None) -> int:
    """Run one turn and write its events; returns the exit status.

    ``asked_at`` (on ``time.perf_counter``) is when the user asked, the command's start: the turn's
    figures count from then, start-up included, since that is what the user waited. ``attachments`` go
    with the prompt (text piped in, ``@path``).
    """
    history = new_history(agent.settings.system_prompt)
    if agent.settings.tools_enabled and not agent.backend.supports_tools and not output.as_json:
        output.err.write(f"note: answering without tools. {tools_sentence(agent.backend)}\n")
    status = EXIT_FAILED
    failed: ErrorEvent | None = None
    try:
        waited = 0.0 if asked_at is None else time.perf_counter() - asked_at
        async with aclosing(agent.run_turn(history, prompt, stream=stream, waited_s=waited,
                                           attachments=attachments)) as events:
            async for event in events:
                output.write(event)
                if isinstance(event, ErrorEvent):
                    failed = event
                if isinstance(event, TurnDone):
                    status = EXIT_OK if event.status in ("complete", "length") else EXIT_FAILED
                    if failed is not None and failed.kind in SETTINGS_KINDS:
                        status = EXIT_CONFIG  # a wrong address, key or model: asking again as is cannot help
    finally:
        await agent.backend.aclose()
    return status



def _piped(stdin: TextIO, limit: int = -1) -> bytes:
    """What was piped in (up to ``limit`` bytes; -1: all), nothing when stdin is a terminal."""
    if stdin.isatty():
        return b""
    return stdin.buffer.read(limit) if hasattr(stdin, "buffer") else stdin.read(limit).encode()


def read_prompt(argument: str | None, stdin: TextIO | None = None, workspace: Workspace | None = None
                ) -> tuple[str | None, list[Attachment]]:
    """The prompt, and the files that go with it: what was piped in (stdin is not a terminal), as the
    attachment ``stdin``, and each file of ``workspace`` the prompt names with ``@path``.

    Without an argument, or with ``-``, what was piped in is the prompt itself. The prompt is None when
    there is neither. ``AttachmentRefused`` (saying why and the limit) when piped input or a file named is
    binary or too large, as in the chat.
    """
    stdin = sys.stdin if stdin is None else stdin
    if argument is None or argument == "-":
        return _piped(stdin).decode("utf-8-sig", errors="replace").strip() or None, []
    raw = _piped(stdin, MAX_ATTACHMENT_BYTES + 1)  # an attachment: no more than one byte past its limit is read
    attachments = []
    if raw.strip():
        piped = attachment_of("stdin", raw, read_whole=False)
        attachments.append(Attachment(piped.name, piped.text.strip("\n").rstrip(), piped.size))
    for path in mentions(argument):
        if workspace is None:
            break
        try:
            attachments.append(read_attachment(workspace, path))
        except FileNotFoundError:
            continue  # not a path: plain text
    return argument, attachments
