"""What the chat saves to: the conversation shown (``SaveTarget``) and a running turn (``TurnSaving``)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from streamchat.messages import ChatMessage
    from streamchat.store.checkpoint import StreamCheckpointer


@dataclass(eq=False)
class SaveTarget:
    """Where the chat writes: the conversation shown, created in the store with its first message."""

    id: str | None = None
    """Its id in the store (set by the writer thread), None until created."""
    started: bool = False
    """True once its messages so far were handed to the writer (UI thread only)."""
    checkpointer: StreamCheckpointer | None = None
    """Checkpoints of its streaming answers (writer thread only)."""
    deleted: bool = False
    """Deleted from the history screen: nothing more is written to it."""


@dataclass(eq=False)
class TurnSaving:
    """One running turn, as saved: where to, and the answer streaming since its last message."""

    target: SaveTarget
    """Where its messages go (a new chat during the turn does not change that)."""
    before: list[ChatMessage]
    """The history the turn started from, written first if the target has nothing yet (the system prompt)."""
    model: str | None = None
    """The model answering (for checkpoints), once known."""
    backend: str | None = None
    """The backend answering, once known."""
    text: list[str] = field(default_factory=list)
    """The answer streaming, in pieces."""
    reasoning: list[str] = field(default_factory=list)
    """Its reasoning, in pieces."""
    changed: bool = False
    """True when the answer streaming changed since its last checkpoint."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the turn ended and its last messages were handed to the writer."""
