"""``streamchat ask``: stream one answer to stdout for scripts and pipes.

Text mode writes the answer to stdout as it arrives (flushing each piece)
and tool activity to stderr; ``--json`` writes one JSON object per event.
"""

from __future__ import annotations

import json
import sys
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TextIO

from streamchat.agent import Agent
from streamchat.approval import Approval, ApprovalPolicy
from streamchat.backends import tools_sentence
from streamchat.events import (
    AnyEvent,
    ErrorEvent,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolApproval,
    ToolCallComplete,
    ToolResult,
    TurnDone,
)
from streamchat.messages import ChatMessage, ToolCall
from streamchat.safety import SecretMask, StreamSanitizer, strip_control

EXIT_OK = 0
"""The answer completed."""
EXIT_FAILED = 1
"""The turn ended with an error or an incomplete stream."""
EXIT_CONFIG = 2
"""Settings or installation problem: nothing was asked."""
EXIT_INTERRUPTED = 130
"""Ctrl-C: what had streamed was already printed."""
EXIT_BROKEN_PIPE = 141
"""The reader of stdout went away (as a process killed by SIGPIPE reports)."""


NOT_ASKED = ("streamchat ask cannot ask for approval: run it with --yes, or add the tool (or a pattern such as "
             "files__*) to always_allow in the config file.")
"""Why a headless run denied a tool that needs approval (the model is told, stderr says so)."""


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
    """The API key, masked in the answer text (even when the stream cuts it in two)."""
    _ended_with_newline: bool = True
    _answered: bool = False
    _answer: StreamSanitizer = field(default_factory=StreamSanitizer)
    _mask: SecretMask | None = None
    _reasoning: StreamSanitizer = field(default_factory=StreamSanitizer)

    def write(self, event: AnyEvent) -> None:
        """Show one event."""
        if isinstance(event, ToolApproval) and event.by == "headless":
            self._line(f"⊘ {strip_control(event.name)} denied: {event.reason}")  # on stderr, in both modes
        if self.as_json:
            self.out.write(json.dumps(event.to_dict()) + "\n")
            self.out.flush()
            return
        if not isinstance(event, ReasoningDelta):
            self.err.write(self._reasoning.flush())
        if self._mask is None:
            self._mask = SecretMask(self.secret)
        if not isinstance(event, TextDelta):
            self._show(self._mask.flush())
            self._text(self._answer.flush())
        if isinstance(event, TextDelta):
            self._show(self._mask.feed(event.text))
        elif isinstance(event, ReasoningDelta):
            self.err.write(self._reasoning.feed(event.text))
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
        elif isinstance(event, TurnDone):
            if not self._ended_with_newline:
                self.out.write("\n")
                self.out.flush()
                self._ended_with_newline = True
            if event.status == "length":
                self._line("note: the answer was cut at the token limit (finish_reason: length)")
            elif event.status == "complete" and not self._answered:
                self._line("note: the model's answer was empty")

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


async def ask(agent: Agent, prompt: str, output: HeadlessOutput, *, stream: bool = True) -> int:
    """Run one turn and write its events; returns the exit status."""
    history: list[ChatMessage] = []
    if agent.settings.system_prompt:
        history.append(ChatMessage(role="system", content=agent.settings.system_prompt))
    if agent.settings.tools_enabled and not agent.backend.supports_tools and not output.as_json:
        output.err.write(f"note: answering without tools. {tools_sentence(agent.backend)}\n")
    status = EXIT_FAILED
    try:
        async with aclosing(agent.run_turn(history, prompt, stream=stream)) as events:
            async for event in events:
                output.write(event)
                if isinstance(event, TurnDone):
                    status = EXIT_OK if event.status in ("complete", "length") else EXIT_FAILED
    finally:
        await agent.backend.aclose()
    return status


def read_prompt(argument: str | None, stdin: TextIO = sys.stdin) -> str | None:
    """The prompt from the argument, or from stdin when it is absent or ``-``."""
    if argument is not None and argument != "-":
        return argument
    if stdin.isatty():
        return None
    text = stdin.read().strip()
    return text or None
