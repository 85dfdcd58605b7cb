"""Reopening saved conversations in the chat (the history screen, ``--continue``), and the "continue answer" turn."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from streamchat.messages import CONTINUE_PROMPT, can_continue
from streamchat.safety import strip_control
from streamchat.store.database import StoreError
from streamchat.tree import ConversationTree
from streamchat.ui.chat.switching import reopen_with_its_model
from streamchat.ui.screens.history import HistoryScreen
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.earlier import EarlierMessages, split_recent
from streamchat.ui.widgets.message import MessageEntry, Note
from streamchat.ui.widgets.saved import ContinuedLabel, conversation_widgets, last_turn

if TYPE_CHECKING:
    from streamchat.store.database import Conversation
    from streamchat.ui.chat.host import ChatHost


async def continue_answer(chat: ChatHost) -> None:
    """Ask the model to carry on from where its last answer stopped, shown as a continuation."""
    if chat.turn_running or not can_continue(chat.history):
        return
    conversation = chat.app.query_one(ConversationView)
    await conversation.mount(ContinuedLabel())
    conversation.follow()
    chat.start_turn(CONTINUE_PROMPT)


async def show_conversation(chat: ChatHost, saved: Conversation) -> None:
    """Replace the chat with a saved conversation: its messages shown and in the history, new turns saved to it."""
    await chat.action_new_chat()  # stops a running turn; clears the view and the last turn's state
    chat.persistence.adopt(saved)
    chat.history = list(saved.messages)
    chat.conversation_tree = ConversationTree(saved.branches or saved.messages)
    chat.conversation_tree.path(saved.messages[-1].id if saved.messages else None)  # the branch shown
    view = chat.app.query_one(ConversationView)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(saved.updated_at))
    widgets = conversation_widgets(saved.messages, chat.clock)
    title = strip_control(saved.title or "Untitled conversation")
    tree = chat.conversation_tree
    for widget in widgets:  # ‹ 2/3 › on a message that has other versions
        if isinstance(widget, MessageEntry) and widget.message is not None:
            widget.set_branch(tree.position(widget.message))
    earlier, recent = split_recent(widgets)
    note = Note(f"{title} · {saved.id[:8]} · last saved {when}", classes="history-note")
    await view.mount_all([EarlierMessages([note, *earlier]), *recent] if earlier else [note, *recent])
    chat.set_last_turn(*last_turn(chat.history, widgets))
    chat.context_changed()
    view.follow()
    view.call_after_refresh(view.reveal_earlier)
    chat.app.refresh_bindings()
    await reopen_with_its_model(chat, chat.history)


def open_history(chat: ChatHost) -> None:
    """Open the history screen over the chat (or say why there is no history)."""
    persistence = chat.persistence
    if persistence.store is None:
        why = persistence.problem or "the history store is still opening"
        chat.notify(f"No history: {why}", severity="warning", markup=False)
        return

    async def closed(chosen: str | None) -> None:
        if persistence.target.deleted:
            await chat.action_new_chat()
            await persistence.say("The conversation shown was deleted: this is a new one.")
        if chosen is not None:
            await open_saved(chat, chosen)

    chat.app.push_screen(HistoryScreen(persistence), closed)


STOPPED_TO_OPEN = "The answer that was streaming was stopped to open this conversation; it is saved as stopped."
"""Said when opening another conversation stopped a running turn."""


async def open_saved(chat: ChatHost, conversation_id: str) -> None:
    """Load a saved conversation and continue it here.

    The one shown already is left as it is (an answer streaming in it goes on). Opening another while an
    answer streams stops that answer first, as esc does, and waits until it is saved as stopped.
    """
    if conversation_id == chat.persistence.current_id:
        return
    stopped = chat.turn_running
    if stopped:
        chat.action_stop()
        await chat.persistence.settled()
    try:
        conversation = await chat.persistence.with_store(lambda store: store.load(conversation_id))
    except StoreError as exc:
        chat.notify(str(exc), severity="error", markup=False)
        return
    await show_conversation(chat, conversation)
    if stopped:
        chat.notify(STOPPED_TO_OPEN, severity="warning", markup=False)
