"""Checkpoints of a streaming answer, so a crash loses little of it.

The partial text is saved with status ``incomplete`` whenever the caller
decides (the chat: every half second while a turn runs); ``finish()`` then
puts the final message in its place (its position in the conversation).
Calls touch the disk: make them off the UI's hot path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from streamchat.messages import ChatMessage

if TYPE_CHECKING:
    from streamchat.store.database import ConversationStore


class StreamCheckpointer:
    """Saves a streaming answer in place, checkpoint after checkpoint, then its final form.

    Typical use, from the writer thread::

        checkpointer.checkpoint(checkpointer.snapshot(text_so_far))   # as often as the caller likes
        ...
        checkpointer.finish(final_message)   # when the answer lands in the history
    """

    def __init__(self, store: ConversationStore, conversation_id: str) -> None:
        self.store = store
        """Where checkpoints are written."""
        self.conversation_id = conversation_id
        """The conversation the answer belongs to."""
        self.pending_id: str | None = None
        """The id of the partial message saved and not yet finished, if any."""
        self.writes = 0
        """How many checkpoints were written."""
        self._last_saved: tuple[str, str, str] | None = None
        self._snapshot: ChatMessage | None = None

    def snapshot(self, text: str, *, reasoning: str = "", model: str | None = None,
                 backend: str | None = None) -> ChatMessage:
        """An ``incomplete`` assistant message with ``text``, keeping one id until ``finish()``."""
        if self._snapshot is None:
            self._snapshot = ChatMessage(role="assistant", status="incomplete")
        self._snapshot = replace(self._snapshot, content=text, reasoning=reasoning, model=model, backend=backend)
        return self._snapshot

    def checkpoint(self, message: ChatMessage) -> bool:
        """Write ``message`` unless it is what was written last; True if written."""
        if self._last_saved == (message.id, message.content, message.reasoning):
            return False
        self.store.checkpoint(self.conversation_id, message)
        self.pending_id = message.id
        self._last_saved = (message.id, message.content, message.reasoning)
        self.writes += 1
        return True

    def finish(self, message: ChatMessage) -> None:
        """Save the final ``message`` in place of the partial one, then start afresh for the next answer."""
        if self.pending_id is None:
            self.store.save_message(self.conversation_id, message)
        else:
            self.store.replace_message(self.conversation_id, self.pending_id, message)
        self.pending_id = None
        self._last_saved = None
        self._snapshot = None
