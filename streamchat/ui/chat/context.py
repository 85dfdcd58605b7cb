"""The context window in the chat: the meter in the status line, the offer before a request that would not fit,
``/compact`` (the model summarizes the older turns, which are then left out) and ``/drop`` (the oldest turns left
out).

The window comes from the settings (``context_window``: the profile, the config file, the environment), else
from the backend (the server's model list, the local model's ``n_ctx``), asked once the agent is made. Turns
summarized or dropped stay in the history and on screen, marked; requests leave them out
(``ChatMessage.cut_at``). Every turn started here runs in the turn worker like any other, so esc stops it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from textual.worker import WorkerCancelled, WorkerFailed

from streamchat.context import (
    Fill,
    cut,
    estimate_text,
    fill,
    fits,
    oldest_kept,
    reserve,
    short_count,
    unsettled_summary,
)
from streamchat.messages import COMPACT_PROMPT, Attachment, ChatMessage, cut_index
from streamchat.tree import ConversationTree
from streamchat.ui.chat.host import STILL_ANSWERING
from streamchat.ui.screens.choice import Choice, ChoiceScreen
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.message import MessageEntry, Note
from streamchat.ui.widgets.saved import CUT_NOTE, CompactLabel, conversation_widgets
from streamchat.ui.widgets.status import StatusLine

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.ui.chat.host import ChatHost

Send = Callable[[], Awaitable[None]]
"""Sends the prompt waiting in the box (as typed, with its files)."""

WAYS_OUT = [
    Choice("new", "Start a new chat from a summary of this one (the model writes it; this one stays saved)", "n"),
    Choice("drop", "Drop the oldest turns: they stay here, marked, but are no longer sent", "d"),
    Choice("send", "Send anyway (the server will probably refuse it)", "s"),
]
"""The three ways out offered before a request that would not fit."""


class ContextWatch:
    """How full the context of ``chat``'s model is, and the ways to make room."""

    def __init__(self, chat: ChatHost) -> None:
        self.chat = chat
        """The chat whose context is watched."""
        self.learned: int | None = None
        """The window the backend said (None: it did not, or was not asked yet)."""

    @property
    def window(self) -> int | None:
        """Tokens the model takes in all: the settings' ``context_window``, else what the backend said."""
        return self.chat.settings.context_window or self.learned

    def fill(self) -> Fill | None:
        """How full it is now (None before the first message)."""
        history = self.chat.history
        now = fill(history, self.window)
        return now if now.used else None  # nothing sent yet (or only failed requests)

    def changed(self) -> None:
        """The history changed (a turn ended, a branch, a reopened conversation): a summary that completed is a
        compaction made, however it was asked for (``/compact``, ctrl+r or ctrl+e after it was stopped); then the
        meter shows how full the context is."""
        prompt = unsettled_summary(self.chat.history) if not self.chat.turn_running else None
        if prompt is not None:
            cut(prompt)
            self.chat.persistence.resave(prompt)
            labels = list(self.chat.app.query(CompactLabel))
            if labels:
                labels[-1].done()
        self.refresh()

    def refresh(self) -> None:
        """Show the meter as the history now is."""
        for status in self.chat.app.query(StatusLine):  # none before the app is composed
            status.show_context(self.fill())

    def learn(self, agent: Agent) -> None:
        """Ask ``agent``'s backend for its window in the background, then show it."""
        self.learned = None

        async def ask() -> None:
            asking = getattr(agent.backend, "context_window", None)
            self.learned = await asking() if asking is not None else None
            self.refresh()

        self.chat.app.run_worker(ask(), group="context-window", exclusive=True, exit_on_error=False)

    # -- before a request

    def fits(self, text: str, attachments: list[Attachment]) -> bool:
        """True when a request with this prompt leaves room for the answer (or the window is not known)."""
        extra = estimate_text(ChatMessage(role="user", content=text, attachments=attachments).to_api()["content"])
        return fits(self.chat.history, extra, self.window, self.chat.settings.max_tokens)

    def offer(self, text: str, attachments: list[Attachment], send: Send, cancelled: Send | None = None) -> None:
        """Say the prompt would not fit and offer the ways out; ``send`` sends it once there is room (or anyway),
        ``cancelled`` runs when none is chosen."""
        window = self.window
        now = self.fill()
        assert window is not None and now is not None
        extra = estimate_text(ChatMessage(role="user", content=text, attachments=attachments).to_api()["content"])
        kept = reserve(window, self.chat.settings.max_tokens)
        why = (f"This would not fit: the conversation takes {'about ' if now.estimated else ''}{short_count(now.used)}"
               f" tokens and the prompt about {short_count(extra)}; the model takes {short_count(window)}, "
               f"{short_count(kept)} of them kept for the answer. The prompt stays in the box until you choose.")

        async def chosen(way: str | None) -> None:
            if way is None and cancelled is not None:
                await cancelled()
            elif way == "send":
                await send()
            elif way == "drop":
                if await self.drop(window - kept - extra):
                    await send()
            elif way == "new":
                self.chat.app.run_worker(self._new_chat_then(send), group="compact", exclusive=True,
                                         exit_on_error=False)

        self.chat.app.push_screen(ChoiceScreen("Too long for the model", WAYS_OUT, why), chosen)

    # -- dropping the oldest turns

    async def drop(self, budget: int | None = None) -> bool:
        """Leave the oldest turns out of the requests so what is sent takes at most ``budget`` tokens (default:
        half the window, else half the turns); True if some were."""
        chat = self.chat
        history = chat.history
        window = self.window
        if budget is None:
            sent_now = fill(history, window).used
            budget = window // 2 if window else sent_now // 2
        index = oldest_kept(history, max(budget, 0))
        if index is None:
            chat.notify("Nothing to drop: the conversation is down to its last turn.", severity="warning")
            return False
        dropped = sum(1 for m in history[cut_index(history) or 0:index] if m.role == "user")
        kept = history[index]
        cut(kept)
        chat.persistence.resave(kept)
        await self._mark_cut(kept)
        self.refresh()
        chat.notify(f"Left out the {dropped} oldest turn{'' if dropped == 1 else 's'}: they stay here, but requests "
                    "start further down now.", markup=False)
        return True

    async def _mark_cut(self, kept: ChatMessage) -> None:
        view = self.chat.app.query_one(ConversationView)
        shown = next((w for w in view.children if isinstance(w, MessageEntry) and w.message is not None
                      and w.message.id == kept.id), None)
        if shown is not None:
            await view.mount(Note(CUT_NOTE, classes="cut-note"), before=shown)

    # -- /compact

    def compact(self) -> None:
        """``/compact``: the model summarizes the conversation (streamed like any answer), then the turns before the
        summary are left out of the requests."""
        self.chat.app.run_worker(self._compact(), group="compact", exclusive=True, exit_on_error=False)

    async def _compact(self) -> ChatMessage | None:
        """Run the summary turn; the summary answer once it completed (the cut made), else None (said why)."""
        chat = self.chat
        if chat.turn_running:
            chat.notify(STILL_ANSWERING, severity="warning")
            return None
        if not any(m.role != "system" for m in chat.history):
            chat.notify("Nothing to compact yet.", severity="warning")
            return None
        window = self.window
        if window and not self.fits(COMPACT_PROMPT, []):  # the summary request itself must fit: the oldest go
            await self.drop(window - reserve(window, chat.settings.max_tokens) - estimate_text(COMPACT_PROMPT))
        view = chat.app.query_one(ConversationView)
        await view.mount(CompactLabel(done=False))
        view.follow()
        worker = chat.start_turn(COMPACT_PROMPT)
        try:
            await worker.wait()
        except (WorkerCancelled, WorkerFailed):
            pass
        history = chat.history
        summary = history[-1] if history else None
        prompt = history[-2] if len(history) > 1 else None
        if (summary is None or prompt is None or summary.role != "assistant" or summary.status != "complete"
                or prompt.content != COMPACT_PROMPT or not summary.content.strip()):
            chat.notify("The summary did not complete: nothing was compacted (ctrl+r asks for it again).",
                        severity="warning")
            return None
        self.changed()  # the cut, unless the end of the turn made it already
        return summary

    async def _new_chat_then(self, send: Send) -> None:
        """Summarize this conversation, start a new one from the summary, then send the prompt waiting."""
        chat = self.chat
        summary = await self._compact()
        if summary is None:
            return  # said why; the prompt is still in the box
        prompt = next(m for m in reversed(chat.history) if m.content == COMPACT_PROMPT and m.role == "user")
        origin = chat.persistence.current_id
        system = [replace(m) for m in chat.history if m.role == "system"]
        pair = [replace(prompt, parent_id=None), replace(summary)]
        await chat.action_new_chat()
        chat.history = [*system, *pair]
        chat.conversation_tree = ConversationTree(pair)
        chat.persistence.save_all(chat.history)
        view = chat.app.query_one(ConversationView)
        where = f"conversation {origin[:8]}" if origin else "the conversation before"
        await view.mount(Note(f"A new chat from a summary of {where}, which stays saved.", classes="history-note"))
        await view.mount_all(conversation_widgets(pair, chat.clock))
        self.refresh()
        await send()
