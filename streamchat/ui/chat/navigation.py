"""Moving between the conversation's messages by keyboard, and copying one (as Markdown, or one of its code blocks).

A key (alt+up) takes the focus from the prompt to the last message; up/down (j/k) step from one
to the next, reaching back into a reopened conversation's earlier messages; esc, down past the
last one, or typing goes back to the prompt. The focused message's actions are the app's
bindings, shown in the footer only while a message has the focus (``MessageNavigator.focused``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamchat.markdown.code import CodeBlock, code_blocks, may_hold_code
from streamchat.safety import one_line
from streamchat.ui.chat.branches import ACTIONS as BRANCH_ACTIONS
from streamchat.ui.chat.branches import BranchActions
from streamchat.ui.chat.clipboard import line_count, send_to_clipboard
from streamchat.ui.screens.choice import Choice, ChoiceScreen
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.earlier import EarlierMessages
from streamchat.ui.widgets.message import MessageEntry, UserMessage
from streamchat.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from streamchat.ui.chat.host import ChatHost

NO_MESSAGES = "No messages yet: ask something first."
"""Said when the user moves to the messages of an empty conversation."""


class MessageNavigator:
    """The message with the focus, moving it, and copying from it, in ``chat``."""

    def __init__(self, chat: ChatHost, branches: BranchActions) -> None:
        self.chat = chat
        """The chat whose conversation is walked."""
        self.branches = branches
        """The actions that change the branch shown (edit, regenerate, fork, delete, ←/→)."""

    @property
    def conversation(self) -> ConversationView:
        """The conversation on screen."""
        return self.chat.app.query_one(ConversationView)

    def entries(self) -> list[MessageEntry]:
        """The messages mounted, oldest first."""
        return [child for child in self.conversation.children if isinstance(child, MessageEntry)]

    @property
    def focused(self) -> MessageEntry | None:
        """The message with the focus, if one has it."""
        focused = self.chat.app.focused
        return focused if isinstance(focused, MessageEntry) else None

    def allows(self, name: str) -> bool | None:
        """Whether action ``name`` applies now (the footer shows only those that do; None: shown, not now)."""
        entry = self.focused
        if name == "enter":
            return entry is None
        if name == "cancel_edit":
            return entry is None and self.branches.editing is not None
        if entry is not None and name in BRANCH_ACTIONS:
            return self.branches.allows(name, entry)
        if entry is not None and name == "copy_code":
            return may_hold_code(entry.markdown)
        return entry is not None

    async def run(self, name: str) -> None:
        """Run action ``name`` (``enter``, ``up``, ``down``, ``back``, ``copy``, ``copy_code``...)."""
        entry = self.focused
        if name == "enter":
            self.enter()
        elif name == "cancel_edit":
            self.branches.cancel_edit()
        elif entry is None:
            return
        elif name in BRANCH_ACTIONS:
            await self.branches.run(name, entry)
        elif name in ("up", "down"):
            await self.step(-1 if name == "up" else 1)
        elif name == "back":
            if self.chat.turn_running:
                self.chat.action_stop()  # esc stops an answer that streams, wherever the focus is
            self.back()
        elif name == "copy":
            self.copy(entry)
        elif name == "copy_code":
            self.copy_code(entry)

    def show(self, entry: MessageEntry) -> None:
        """Give ``entry`` the focus at once (keys that follow in the same burst, a held ``up``, step on from it) and
        bring it into view (its top, if it is taller than the view)."""
        entry.screen.set_focus(entry, scroll_visible=False)
        self.conversation.scroll_to_center(entry, animate=False, origin_visible=True)

    def enter(self) -> None:
        """From the prompt to the last message."""
        entries = self.entries()
        if entries:
            self.show(entries[-1])
        else:
            self.chat.notify(NO_MESSAGES, severity="warning")

    async def step(self, delta: int) -> None:
        """To the message ``delta`` away; past the last one, back to the prompt."""
        current = self.focused
        entries = self.entries()
        if current is None or current not in entries:
            return
        index = entries.index(current) + delta
        if index < 0:
            first = self.conversation.children[0] if self.conversation.children else None
            if not isinstance(first, EarlierMessages):
                return  # the first message: stay on it
            await first.show_more()
            entries = self.entries()
            index = entries.index(current) - 1
            if index < 0:
                return
        if index >= len(entries):
            self.back()
            return
        self.show(entries[index])

    def back(self, character: str = "") -> None:
        """Back to the prompt, typing ``character`` there if given."""
        prompt = self.chat.app.query_one(Prompt)
        prompt.screen.set_focus(prompt)  # at once: the keys typed after this one land there too
        if character:
            prompt.insert(character)

    def copy(self, entry: MessageEntry) -> None:
        """Copy ``entry`` as Markdown (a prompt as sent, an answer's text)."""
        text = entry.markdown
        if not text.strip():
            self.chat.notify("Nothing to copy: this answer has no text.", severity="warning")
            return
        send_to_clipboard(self.chat, text, "the prompt" if isinstance(entry, UserMessage) else "the answer")

    def copy_code(self, entry: MessageEntry) -> None:
        """Copy a code block of ``entry``: its only one, or the one picked from a list."""
        blocks = code_blocks(entry.markdown)
        if not blocks:
            self.chat.notify("No code block in this message.", severity="warning")
            return
        if len(blocks) == 1:
            send_to_clipboard(self.chat, blocks[0].body, "the code block")
            return
        choices = [Choice(str(index), _describe(block), str(index + 1) if index < 9 else "")
                   for index, block in enumerate(blocks)]

        def picked(chosen: str | None) -> None:
            if chosen is not None:
                send_to_clipboard(self.chat, blocks[int(chosen)].body, f"code block {int(chosen) + 1}")

        self.chat.app.push_screen(ChoiceScreen(f"Copy which code block? ({len(blocks)})", choices), picked)


def _describe(block: CodeBlock) -> str:
    """``python · 12 lines · def answer(x):`` for the picker."""
    first = next((line for line in block.body.splitlines() if line.strip()), "")
    return " · ".join(part for part in (block.language, line_count(block.body), one_line(first)[:60]) if part)
