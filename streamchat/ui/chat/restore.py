"""Reopening a saved conversation in the chat, and the "continue answer" turn."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from streamchat.messages import CONTINUE_PROMPT, can_continue
from streamchat.safety import strip_control
from streamchat.ui.widgets.conversation import Conversation
from streamchat.ui.widgets.earlier import EarlierMessages, split_recent
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.saved import ContinuedLabel, conversation_widgets, last_turn

if TYPE_CHECKING:
    from streamchat.store.database import Conversation as SavedConversation
    from streamchat.ui.app import StreamChatApp


async def continue_answer(app: StreamChatApp) -> None:
    """Ask the model to carry on from where its last answer stopped, shown as a continuation."""
    if app.turn_running or not can_continue(app.history):
        return
    conversation = app.query_one(Conversation)
    await conversation.mount(ContinuedLabel())
    conversation.follow()
    app.start_turn(CONTINUE_PROMPT)


async def show_conversation(app: StreamChatApp, saved: SavedConversation) -> None:
    """Replace the chat with a saved conversation: its messages shown and in the history, new turns saved to it."""
    await app.action_new_chat()  # stops a running turn; clears the view and the last turn's state
    app.persistence.adopt(saved)
    app.history = list(saved.messages)
    view = app.query_one(Conversation)
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(saved.updated_at))
    widgets = conversation_widgets(saved.messages, app.clock)
    title = strip_control(saved.title or "Untitled conversation")
    earlier, recent = split_recent(widgets)
    note = Note(f"{title} · {saved.id[:8]} · last saved {when}", classes="history-note")
    await view.mount_all([EarlierMessages([note, *earlier]), *recent] if earlier else [note, *recent])
    app.set_last_turn(*last_turn(app.history, widgets))
    view.follow()
    view.call_after_refresh(view.reveal_earlier)
    app.refresh_bindings()
    from streamchat.ui.chat.switching import reopen_with_its_model

    await reopen_with_its_model(app, app.history)
