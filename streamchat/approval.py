"""Asking before a tool acts: the decision, the policy that can decide without asking, and who asks.

The calculator and the clock run freely; file tools and every MCP tool need
an ``Approval`` first. The agent asks its ``Approver`` (the chat asks the user
inline; headless ``ask`` cannot ask, so it denies unless ``--yes`` or the
config's ``always_allow`` says yes). A denial's reason goes back to the model
as the tool's result. Approvals and denials are saved with the conversation.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, Protocol

from streamchat.messages import ToolCall

Scope = Literal["once", "chat", "always"]
"""How far an allowance goes: this call, this tool for this chat, this tool from now on (saved)."""

By = Literal["user", "config", "yes", "headless"]
"""Who decided: the user when asked, the config file's ``always_allow``, ``--yes``, or headless ``ask``."""


@dataclass(frozen=True)
class Approval:
    """The answer to "may this tool call run?"."""

    allowed: bool
    """True to run it."""
    by: By = "user"
    """Who decided."""
    scope: Scope = "once"
    """For an allowance, how far it goes."""
    reason: str = ""
    """For a denial, why (sent to the model); may be empty."""
    stopped: bool = False
    """The user stopped the turn (esc) instead of answering."""

    def to_dict(self) -> dict[str, Any]:
        """The decision as saved with the conversation."""
        return asdict(self)

    def describe(self) -> str:
        """``allowed once`` / ``allowed for this chat`` / ``denied: too risky`` — for people."""
        if self.allowed:
            how = {"once": "once", "chat": "for this chat", "always": "always"}[self.scope]
            who = {"user": "", "config": " by always_allow in the config file", "yes": " by --yes",
                   "headless": ""}[self.by]
            return f"allowed {how}{who}"
        if self.stopped:
            return "denied: the user stopped the turn"
        return f"denied: {self.reason}" if self.reason else "denied"

    def result_for_model(self, tool: str) -> str:
        """What the model receives instead of a denied tool's result."""
        if self.stopped:
            return f"The user did not allow {tool} to run and stopped the turn."
        if self.by == "headless":  # the reason is for the user (how to allow it); the model gets a plain fact
            return f"{tool} was not run: it needs the user's approval, and this run could not ask for it."
        text = f"The user did not allow {tool} to run."
        return f"{text} Their reason: {self.reason}" if self.reason else text


class Approver(Protocol):
    """Decides whether a tool call that needs approval may run (may wait for the user)."""

    def __call__(self, call: ToolCall) -> Awaitable[Approval]:
        """The decision for ``call``."""
        ...


@dataclass
class ApprovalPolicy:
    """What is allowed without asking: ``always_allow`` patterns, tools allowed for this chat, ``--yes``."""

    always_allow: tuple[str, ...] = ()
    """Tool names or ``fnmatch`` patterns (``files__*``) from the config file."""
    chat_allowed: set[str] = field(default_factory=set)
    """Tools the user allowed for this chat."""
    yes: bool = False
    """Allow everything (``ask --yes``)."""

    def decide(self, tool: str) -> Approval | None:
        """An approval that needs nobody asked, or None when the user must be asked."""
        if self.yes:
            return Approval(True, by="yes", scope="always")
        if any(fnmatchcase(tool, pattern) for pattern in self.always_allow):
            return Approval(True, by="config", scope="always")
        if tool in self.chat_allowed:
            return Approval(True, by="user", scope="chat")
        return None
