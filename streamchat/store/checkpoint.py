"""Checkpoints of a streaming answer, so a crash loses at most about ``interval_s`` of it.

The partial text is saved at a bounded rate with status ``incomplete``;
``finish()`` then puts the final message in its place (its position in the
conversation). Calls touch the disk: make them off the UI's hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from streamchat.messages import ChatMessage

if TYPE_CHECKING:
    from streamchat.store.database import ConversationStore


class StreamCheckpointer:
    """Saves a streaming answer at most every ``interval_s``, so a crash loses little of it.

    Typical use from a UI timer::

        if agent.current is not None:
            checkpointer.maybe_checkpoint(checkpointer.snapshot(agent.current.text))
        ...
        checkpointer.finish(final_message)   # when the answer lands in the history
    """

    def __init__(self, store: ConversationStore, conversation_id: str, interval_s: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        """Where checkpoints are written."""
        self.conversation_id = conversation_id
        """The conversation the answer belongs to."""
        self.interval_s = interval_s
        """The least time between two writes by ``maybe_checkpoint``."""
        self.clock = clock
        """Monotonic seconds."""
        self.pending_id: str | None = None
        """The id of the partial message saved and not yet finished, if any."""
        self.writes = 0
        """How many checkpoints were written."""
        self._last_write: float | None = None
        self._last_saved: tuple[str, str, str] | None = None
        self._snapshot: ChatMessage | None = None

    def snapshot(self, text: str, *, reasoning: str = "", model: str | None = None,
                 backend: str | None = None) -> ChatMessage:
        """An ``incomplete`` assistant message with ``text``, keeping one id until ``finish()``."""
        if self._snapshot is None:
            self._snapshot = ChatMessage(role="assistant", status="incomplete")
        self._snapshot = replace(self._snapshot, content=text, reasoning=reasoning, model=model, backend=backend)
        return self._snapshot

    def maybe_checkpoint(self, message: ChatMessage) -> bool:
        """Write ``message`` if ``interval_s`` passed since the last write and it changed; True if written."""
        now = self.clock()
        if self._last_write is not None and now - self._last_write < self.interval_s:
            return False
        if self._last_saved == (message.id, message.content, message.reasoning):
            return False
        self._write(message, now)
        return True

    def flush(self, message: ChatMessage) -> None:
        """Write ``message`` now."""
        self._write(message, self.clock())

    def finish(self, message: ChatMessage) -> None:
        """Save the final ``message`` in place of the partial one, then start afresh for the next answer."""
        if self.pending_id is None:
            self.store.save_message(self.conversation_id, message)
        else:
            self.store.replace_message(self.conversation_id, self.pending_id, message)
        self.pending_id = None
        self._last_write = None
        self._last_saved = None
        self._snapshot = None

    def _write(self, message: ChatMessage, now: float) -> None:
        self.store.checkpoint(self.conversation_id, message)
        self.pending_id = message.id
        self._last_write = now
        self._last_saved = (message.id, message.content, message.reasoning)
        self.writes += 1
