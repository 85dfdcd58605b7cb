"""The chat's approver: a tool that needs approval asks in its own row, by keyboard.

``y`` allows this call, ``c`` this tool for the rest of the chat, ``a`` always
(saved to ``always_allow`` in the config file), ``n`` denies with an optional
reason the model is told; esc denies and stops the turn. What the config file
already allows runs without asking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from streamchat.approval import Approval, ApprovalPolicy
from streamchat.messages import ToolCall

if TYPE_CHECKING:
    from streamchat.config.settings import Settings
    from streamchat.ui.widgets.tool_call import ToolCallRow


class ChatApprover:
    """Asks the user in the tool's row (the agent's ``approver`` in the app).

    ``settings`` gives the settings in force (``always_allow``), ``row`` the row that shows a call
    (None when there is none), ``always`` remembers a tool the user allowed always, ``asked`` is
    called after each question (to give the prompt its focus back).
    """

    def __init__(self, settings: Callable[[], Settings], row: Callable[[str], ToolCallRow | None],
                 always: Callable[[str], None], asked: Callable[[], object]) -> None:
        self._settings = settings
        self._row = row
        self._always = always
        self._asked = asked
        self.policy = ApprovalPolicy(settings().always_allow)
        """What runs without asking; ``chat_allowed`` empties with each new chat."""

    def new_chat(self) -> None:
        """Forget what was allowed "for this chat"."""
        self.policy.chat_allowed.clear()

    async def __call__(self, call: ToolCall) -> Approval:
        """Allow what the policy allows; otherwise ask in the call's row and wait for the answer."""
        self.policy.always_allow = self._settings().always_allow
        decided = self.policy.decide(call.name)
        row = self._row(call.id)
        if decided is not None:
            if row is not None:
                row.decided(decided.describe())
            return decided
        if row is None:  # nowhere to ask (the turn's view is gone): do not run it
            return Approval(False, reason="the chat could not ask")
        try:
            choice, reason = await row.ask()
        except asyncio.CancelledError:
            row.decided(Approval(False, stopped=True).describe())
            raise
        finally:
            self._asked()
        if choice == "deny":
            approval = Approval(False, reason=reason)
        else:
            approval = Approval(True, scope=choice)
            if choice in ("chat", "always"):
                self.policy.chat_allowed.add(call.name)
            if choice == "always":
                self._always(call.name)
        row.decided(approval.describe())
        return approval
