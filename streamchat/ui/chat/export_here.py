"""``/export md|json``: the conversation shown, written to a private file in the current directory."""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from streamchat.messages import ChatMessage
from streamchat.store.database import Conversation, StoreError, make_title

if TYPE_CHECKING:
    from streamchat.ui.app import StreamChatApp
    from streamchat.ui.chat.persistence import ChatPersistence, SavedConversation


async def export_conversation(app: StreamChatApp, kind: str) -> None:
    """Write the conversation to ``streamchat-<id8>.md`` (or ``.json``) here, private, and say where."""
    from streamchat.export import to_json, to_markdown
    from streamchat.store.files import write_private

    if kind not in ("md", "json"):
        app.notify("Use /export md or /export json.", severity="warning")
        return
    history = list(app.history)
    if not any(message.role != "system" for message in history):
        app.notify("Nothing to export yet.", severity="warning")
        return
    persistence = app.persistence
    conversation = await persistence.call(exportable, persistence, persistence.conversation, history)
    text = to_json(conversation) if kind == "json" else to_markdown(conversation)
    path = Path.cwd() / f"streamchat-{conversation.id[:8]}.{kind}"
    try:
        await asyncio.to_thread(write_private, str(path), text)
    except OSError as exc:
        app.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
        return
    app.notify(f"Exported to {path}", markup=False)


def exportable(persistence: ChatPersistence, target: SavedConversation, history: list[ChatMessage]) -> Conversation:
    """Writer thread, after the writes before it: the conversation as saved, else as shown."""
    store = persistence.store
    if store is not None and target.id is not None and not target.deleted:
        with suppress(StoreError):
            return store.load(target.id)
    first = next((m.content for m in history if m.role == "user" and m.content.strip()), "")
    system = next((m.content for m in history if m.role == "system"), None)
    return Conversation(id=target.id or uuid.uuid4().hex, title=make_title(first) or None,
                        created_at=history[0].created_at, updated_at=time.time(),
                        model=persistence.app.settings.model_name, system_prompt=system, messages=history)
