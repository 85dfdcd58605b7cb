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
from streamchat.store.schema import redact_tree

if TYPE_CHECKING:
    from streamchat.store.database import ConversationStore
    from streamchat.ui.chat.host import ChatHost
    from streamchat.ui.chat.saving import SaveTarget


async def export_conversation(chat: ChatHost, kind: str) -> None:
    """Write the conversation to ``streamchat-<id8>.md`` (or ``.json``) here, private, and say where."""
    from streamchat.export import to_json, to_markdown
    from streamchat.store.files import write_private

    if kind not in ("md", "json"):
        chat.notify("Use /export md or /export json.", severity="warning")
        return
    history = list(chat.history)
    if not any(message.role != "system" for message in history):
        chat.notify("Nothing to export yet.", severity="warning")
        return
    persistence = chat.persistence
    settings = chat.settings
    conversation = await persistence.call(lambda: exportable(persistence.store, persistence.target, history,
                                                             settings.model_name, settings.api_key))
    text = to_json(conversation) if kind == "json" else to_markdown(conversation)
    path = Path.cwd() / f"streamchat-{conversation.id[:8]}.{kind}"
    try:
        await asyncio.to_thread(write_private, str(path), text)
    except OSError as exc:
        chat.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
        return
    chat.notify(f"Exported to {path}", markup=False)


def exportable(store: ConversationStore | None, target: SaveTarget, history: list[ChatMessage],
               model: str, secret: str | None = None) -> Conversation:
    """Writer thread, after the writes before it: the conversation as saved, else as shown (asking ``model``),
    the key ``secret`` masked as the store would."""
    if store is not None and target.id is not None and not target.deleted:
        with suppress(StoreError):
            return store.load(target.id)
    if secret:
        history = [ChatMessage.from_dict(redact_tree(message.to_dict(), secret)) for message in history]
    first = next((m.content for m in history if m.role == "user" and m.content.strip()), "")
    system = next((m.content for m in history if m.role == "system"), None)
    return Conversation(id=target.id or uuid.uuid4().hex, title=make_title(first) or None,
                        created_at=history[0].created_at, updated_at=time.time(),
                        model=model, system_prompt=system, messages=history)
