"""The chat's approver: a tool that needs approval asks in its own row, by keyboard.

``y`` allows this call, ``c`` this tool for the rest of the chat, ``a`` always
(saved to ``always_allow`` in the config file), ``n`` denies with an optional
reason the model is told; esc denies and stops the turn. What the config file
already allows runs without asking.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING

from streamchat.approval import Approval, ApprovalPolicy
from streamchat.messages import ToolCall
from streamchat.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from streamchat.ui.app import StreamChatApp


class ChatApprover:
    """Asks the user in the tool's row (the agent's ``approver`` in the app)."""

    def __init__(self, app: StreamChatApp) -> None:
        self.app = app
        """The app whose turn view holds the rows."""
        self.policy = ApprovalPolicy(app.settings.always_allow)
        """What runs without asking; ``chat_allowed`` empties with each new chat."""

    def new_chat(self) -> None:
        """Forget what was allowed "for this chat"."""
        self.policy.chat_allowed.clear()

    async def __call__(self, call: ToolCall) -> Approval:
        """Allow what the policy allows; otherwise ask in the call's row and wait for the answer."""
        self.policy.always_allow = self.app.settings.always_allow
        decided = self.policy.decide(call.name)
        row = self.app.turn_view.tools.get(call.id) if self.app.turn_view is not None else None
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
            self.app.query_one(Prompt).focus()
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

    def _always(self, name: str) -> None:
        from streamchat.ui.chat.switching import remember

        settings = self.app.settings
        if name not in settings.always_allow:
            self.app.update_settings(replace(settings, always_allow=(*settings.always_allow, name)))
        remember(self.app, {}, add={"always_allow": name})
