"""The list of saved conversations: listing and searching them, finding one by id or prefix, renaming and
deleting one (the history screen's and the ``history`` command's side of ``ConversationStore``)."""

from __future__ import annotations

import sqlite3
from contextlib import AbstractContextManager

from streamchat.safety import one_line, redact
from streamchat.store import schema
from streamchat.store.schema import ConversationNotFound, ConversationSummary, StoreError


class ConversationIndex:
    """The conversations as a list; ``ConversationStore`` gives it its database."""

    _secret: str | None

    def _db(self, begin: str | None = None) -> AbstractContextManager[sqlite3.Connection]:
        """The connection under the store's lock, in a ``BEGIN <begin>`` transaction if given."""
        raise NotImplementedError

    def list_conversations(self, limit: int = 50, search: str | None = None) -> list[ConversationSummary]:
        """The most recently updated conversations first; ``search`` keeps those whose title or
        any message contains it (case-insensitive, literal: ``%`` and ``_`` are not wildcards)."""
        pattern = schema.like_pattern(search) if search else None
        with self._db() as conn:
            rows = conn.execute(schema.LIST_CONVERSATIONS, {"pattern": pattern, "limit": max(0, int(limit))}).fetchall()
        return [ConversationSummary(id=r[0], title=r[1], created_at=r[2], updated_at=r[3],
                                    message_count=int(r[4]), preview=one_line(r[5] or "", markdown=True))
                for r in rows]

    def last_conversation_id(self) -> str | None:
        """The id of the most recently updated conversation, or None if there is none."""
        with self._db() as conn:
            row = conn.execute("SELECT id FROM conversations ORDER BY updated_at DESC, rowid DESC LIMIT 1"
                               ).fetchone()
        return str(row[0]) if row else None

    def rename(self, conversation_id: str, title: str) -> None:
        """Give the conversation a new title (one line; must not be empty)."""
        title = " ".join(title.split())
        if not title:
            raise StoreError("a title cannot be empty")
        if self._secret:
            title = redact(title, self._secret)
        with self._db("IMMEDIATE") as conn:
            if conn.execute("UPDATE conversations SET title = ? WHERE id = ?",
                            (title, conversation_id)).rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")

    def delete(self, conversation_id: str) -> None:
        """Delete the conversation and all its messages."""
        with self._db("IMMEDIATE") as conn:
            if conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")

    def find(self, wanted: str) -> str | None:
        """The conversation ``wanted`` names: ``last`` (the one saved last; None when there is none), an id, or
        a unique prefix of one (``StoreError`` when it names none, or several)."""
        wanted = wanted.strip()
        return self.last_conversation_id() if wanted == "last" else self.resolve_id(wanted)

    def resolve_id(self, prefix: str) -> str:
        """The full id of the one conversation whose id starts with ``prefix``."""
        wanted = prefix.strip().lower()
        if not wanted:
            raise ConversationNotFound("no conversation id given")
        pattern = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        with self._db() as conn:
            rows = [str(r[0]) for r in conn.execute(
                "SELECT id FROM conversations WHERE id LIKE ? ESCAPE '\\' LIMIT 6", (pattern,))]
        if wanted in rows:
            return wanted
        if not rows:
            raise ConversationNotFound(f"no conversation with id {prefix.strip()!r}")
        if len(rows) > 1:
            more = "+" if len(rows) > 5 else ""
            raise StoreError(f"{prefix.strip()!r} matches {min(len(rows), 5)}{more} conversations "
                             f"({', '.join(r[:8] for r in rows[:5])}); give more of the id")
        return rows[0]
