"""A conversation as a tree: an edited prompt or a regenerated answer is a sibling of the one it replaces.

Pure data, no I/O: every message but the system prompt, linked by ``ChatMessage.parent_id``. A
branch is the path from a first message down to a leaf; the one on screen is what the model is
sent. Each parent remembers the child last on screen, so going back to a sibling brings back
the branch that was below it.
"""

from __future__ import annotations

from collections.abc import Iterable

from streamchat.messages import ChatMessage

__all__ = ["ConversationTree"]


class ConversationTree:
    """Every message of one conversation (the system prompt aside), by id, with its children in the order added."""

    def __init__(self, messages: Iterable[ChatMessage] = ()) -> None:
        self._by_id: dict[str, ChatMessage] = {}
        self._children: dict[str | None, list[str]] = {}
        self._shown: dict[str | None, str] = {}  # per parent, the child last on the branch on screen
        for message in messages:
            self.add(message)

    def __contains__(self, message_id: object) -> bool:
        return message_id in self._by_id

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, message_id: str) -> ChatMessage | None:
        """The message with this id, if the tree has it."""
        return self._by_id.get(message_id)

    def add(self, message: ChatMessage) -> None:
        """Add ``message`` under its parent (a system prompt is left out); it is on the branch on screen."""
        if message.role == "system":
            return
        known = message.id in self._by_id
        self._by_id[message.id] = message
        if not known:
            self._children.setdefault(message.parent_id, []).append(message.id)
        self._shown[message.parent_id] = message.id

    def children(self, message_id: str | None) -> list[ChatMessage]:
        """The messages that follow ``message_id`` (None: the first messages), oldest first."""
        return [self._by_id[child] for child in self._children.get(message_id, ())]

    def siblings(self, message: ChatMessage) -> list[ChatMessage]:
        """``message`` and the other messages with its parent, oldest first."""
        return self.children(message.parent_id)

    def position(self, message: ChatMessage) -> tuple[int, int] | None:
        """``(2, 3)`` for the second of three siblings; None when it has none."""
        siblings = self._children.get(message.parent_id, [])
        if len(siblings) < 2 or message.id not in siblings:
            return None
        return siblings.index(message.id) + 1, len(siblings)

    def path(self, leaf_id: str | None) -> list[ChatMessage]:
        """The branch that ends at ``leaf_id``, first message first ([] for None); it becomes the one on screen."""
        path: list[ChatMessage] = []
        seen: set[str] = set()
        current = self._by_id.get(leaf_id) if leaf_id is not None else None
        while current is not None and current.id not in seen:
            seen.add(current.id)
            path.append(current)
            current = self._by_id.get(current.parent_id) if current.parent_id is not None else None
        path.reverse()
        for message in path:
            self._shown[message.parent_id] = message.id
        return path

    def leaf_under(self, message: ChatMessage) -> ChatMessage:
        """The end of the branch below ``message``: the child last on screen at each step, else the newest."""
        current = message
        seen = {current.id}
        while children := self._children.get(current.id):
            chosen = self._shown.get(current.id)
            following = self._by_id[chosen if chosen in children else children[-1]]
            if following.id in seen:
                break
            seen.add(following.id)
            current = following
        return current

    def subtree(self, message: ChatMessage) -> list[ChatMessage]:
        """``message`` and every message below it, on any branch."""
        found: dict[str, ChatMessage] = {}
        waiting = [message.id]
        while waiting:
            current = waiting.pop()
            if current in self._by_id and current not in found:
                found[current] = self._by_id[current]
                waiting.extend(self._children.get(current, ()))
        return list(found.values())

    def remove(self, messages: Iterable[ChatMessage]) -> None:
        """Take these messages out of the tree (their children are left to the caller: take them out too)."""
        for message in messages:
            if self._by_id.pop(message.id, None) is None:
                continue
            siblings = self._children.get(message.parent_id, [])
            if message.id in siblings:
                siblings.remove(message.id)
            if self._shown.get(message.parent_id) == message.id:
                if siblings:
                    self._shown[message.parent_id] = siblings[-1]
                else:
                    del self._shown[message.parent_id]
            self._children.pop(message.id, None)
            self._shown.pop(message.id, None)
