"""Saved conversations: a small SQLite store, free of any UI (no textual, no openai).

One file, ``history.db``, in the data folder (``--data-dir``, else
``$STREAMCHAT_DATA_DIR``, else ``$XDG_DATA_HOME/streamchat`` or
``~/.local/share/streamchat``). The folder is created 0700 and the files
are 0600. WAL mode and a busy timeout let several streamchat processes
write at once without losing anything.

Every method is synchronous and quick (one small transaction), but it does
touch the disk: a UI should call it off its hot path (a worker thread, a
timer), never once per streamed token. One store may be shared by threads.
Every failure is raised as ``StoreError`` with a sentence fit to show.

For a streaming answer, ``store.checkpoint.StreamCheckpointer`` saves the
partial text at a bounded rate (status ``incomplete``), then puts the final
message in its place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from streamchat.messages import COMPACT_PROMPT, CONTINUE_PROMPT, ChatMessage
from streamchat.store import schema
from streamchat.store.files import DB_NAME, database_path, default_data_dir, describe_error
from streamchat.store.listing import ConversationIndex
from streamchat.store.schema import (
    SCHEMA_VERSION,
    Conversation,
    ConversationNotFound,
    ConversationSummary,
    StoreError,
    make_title,
)
from streamchat.tree import ConversationTree

UNTYPED_PROMPTS = frozenset({COMPACT_PROMPT, CONTINUE_PROMPT})
"""User messages the app sends itself: never a conversation's title."""

__all__ = [
    "DB_NAME", "SCHEMA_VERSION", "Conversation", "ConversationNotFound", "ConversationStore",
    "ConversationSummary", "StoreError", "database_path", "default_data_dir",
    "make_title", "open_store",
]


class ConversationStore(ConversationIndex):
    """Conversations and their messages in ``history.db`` (see the module docstring)."""

    def __init__(self, data_dir: str | os.PathLike[str] | None = None, *, secret: str | None = None,
                 timeout: float = 5.0) -> None:
        """Open (creating and migrating if needed) the store; raise ``StoreError`` if it cannot be used.

        ``secret`` (the API key) is masked out of everything written; ``timeout``
        is how long to wait for another process's lock, in seconds.
        """
        self.path = database_path(data_dir)
        """The database file."""
        self._secret = secret or None
        self._timeout = timeout
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = schema.connect(self.path, timeout)

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (safe to call twice)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    @contextmanager
    def _db(self, begin: str | None = None) -> Iterator[sqlite3.Connection]:
        """The connection under the lock, in a ``BEGIN <begin>`` transaction if given; errors become StoreError."""
        with self._lock:
            if self._conn is None:
                raise StoreError("the history store is closed")
            conn = self._conn
            try:
                if begin is not None:
                    conn.execute(f"BEGIN {begin}")
                yield conn
                if begin is not None:
                    conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(describe_error(exc, self.path, self._timeout)) from exc
                raise

    def create_conversation(self, title: str | None = None, model: str | None = None,
                            backend: str | None = None, system_prompt: str | None = None) -> str:
        """Start a conversation and return its id. Without a title, the first user message gives one."""
        conversation_id = uuid.uuid4().hex
        now = time.time()
        if self._secret:
            title, system_prompt = schema.redact_tree([title, system_prompt], self._secret)
        with self._db("IMMEDIATE") as conn:
            conn.execute("INSERT INTO conversations (id, title, created_at, updated_at, model, backend, "
                         "system_prompt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (conversation_id, title or None, now, now, model, backend, system_prompt))
        return conversation_id

    def _row(self, conversation_id: str, message: ChatMessage, now: float) -> dict[str, Any]:
        data = message.to_dict()
        if self._secret:
            data = schema.redact_tree(data, self._secret)
        row = {key: data.pop(key) for key in schema.MESSAGE_COLUMNS}
        row.update(cid=conversation_id, now=now,
                   data=json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
        return row

    def _save(self, conn: sqlite3.Connection, conversation_id: str, messages: Iterable[ChatMessage]) -> None:
        now = time.time()
        for message in messages:
            row = self._row(conversation_id, message, now)
            new = not _saved(conn, conversation_id, message.id)
            typed = message.role == "user" and row["content"].strip() and row["content"] not in UNTYPED_PROMPTS
            title = make_title(row["content"]) if typed else None
            touched = conn.execute(schema.TOUCH_CONVERSATION, {
                "now": now, "title": title, "cid": conversation_id,
                "system": row["content"] if message.role == "system" and row["content"] else None,
                "model": message.model if message.role == "assistant" else None,
                "backend": message.backend if message.role == "assistant" else None,
            })
            if touched.rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")
            conn.execute(schema.UPSERT_MESSAGE, row)
            if new and message.role != "system":  # a new message ends the branch shown
                _set_leaf(conn, conversation_id, message.id)

    def save_message(self, conversation_id: str, message: ChatMessage) -> None:
        """Insert or update ``message`` (by its id); a message keeps the position of its first save."""
        with self._db("IMMEDIATE") as conn:
            self._save(conn, conversation_id, [message])

    def save_messages(self, conversation_id: str, messages: Iterable[ChatMessage]) -> None:
        """``save_message`` for each, in order, in one transaction (e.g. the whole history after a turn)."""
        with self._db("IMMEDIATE") as conn:
            self._save(conn, conversation_id, messages)

    def checkpoint(self, conversation_id: str, message: ChatMessage) -> None:
        """Save a partial answer while it streams: one upsert, status forced to ``incomplete``.

        It never overwrites a message already saved with a final status, so a
        late checkpoint cannot undo ``save_message``. The conversation's
        ``updated_at`` is left alone (the final save sets it).
        """
        row = self._row(conversation_id, replace(message, status="incomplete"), time.time())
        with self._db("IMMEDIATE") as conn:
            new = not _saved(conn, conversation_id, message.id)
            try:
                conn.execute(schema.UPSERT_MESSAGE + schema.CHECKPOINT_GUARD, row)
            except sqlite3.IntegrityError as exc:
                raise ConversationNotFound(f"no conversation with id {conversation_id}") from exc
            if new:
                _set_leaf(conn, conversation_id, message.id)

    def replace_message(self, conversation_id: str, old_id: str, message: ChatMessage) -> None:
        """Save ``message`` in the place (position) of the message ``old_id``, which goes away.

        Used to swap a streamed checkpoint for the final message, which has its
        own id. If ``old_id`` is not saved, this is ``save_message``.
        """
        with self._db("IMMEDIATE") as conn:
            if old_id != message.id:
                clash = conn.execute("SELECT 1 FROM messages WHERE conversation_id = ? AND id = ?",
                                     (conversation_id, message.id)).fetchone()
                if clash:  # the final message is saved already: drop the partial one
                    conn.execute("DELETE FROM messages WHERE conversation_id = ? AND id = ?",
                                 (conversation_id, old_id))
                else:  # take over the partial one's row, hence its position (and its place on the branch)
                    conn.execute("UPDATE messages SET id = ? WHERE conversation_id = ? AND id = ?",
                                 (message.id, conversation_id, old_id))
                    conn.execute("UPDATE messages SET parent_id = ? WHERE conversation_id = ? AND parent_id = ?",
                                 (message.id, conversation_id, old_id))
                conn.execute("UPDATE conversations SET active_leaf = ? WHERE id = ? AND active_leaf = ?",
                             (message.id, conversation_id, old_id))
            self._save(conn, conversation_id, [message])

    def set_system_message(self, conversation_id: str, old_id: str | None, message: ChatMessage | None) -> None:
        """The system prompt changed: ``old_id`` (if any) goes, ``message`` (None: no prompt now) comes first."""
        with self._db("IMMEDIATE") as conn:
            if old_id is not None:
                conn.execute("DELETE FROM messages WHERE conversation_id = ? AND id = ?", (conversation_id, old_id))
            prompt = None
            if message is not None:
                row = self._row(conversation_id, message, time.time())
                prompt = row["content"]
                conn.execute(schema.INSERT_FIRST_MESSAGE, row)
            conn.execute("UPDATE conversations SET system_prompt = ? WHERE id = ?", (prompt, conversation_id))

    def delete_messages(self, conversation_id: str, message_ids: Iterable[str]) -> int:
        """Delete these messages of the conversation (ids not saved are ignored); how many went.

        Only the ids given go: a caller deleting a message gives the messages below it too (they would be left on
        no branch). When the branch shown ended
        in one of them, it now ends at the nearest message above that is left."""
        doomed = set(message_ids)
        with self._db("IMMEDIATE") as conn:
            parents = dict(conn.execute("SELECT id, parent_id FROM messages WHERE conversation_id = ?",
                                        (conversation_id,)).fetchall())
            leaf = conn.execute("SELECT active_leaf FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if leaf is not None and leaf[0] in doomed:
                above = leaf[0]
                while above is not None and above in doomed:
                    above = parents.get(above)
                _set_leaf(conn, conversation_id, above)
            before = conn.total_changes
            conn.executemany("DELETE FROM messages WHERE conversation_id = ? AND id = ?",
                             [(conversation_id, message_id) for message_id in doomed])
            return conn.total_changes - before

    def set_active_leaf(self, conversation_id: str, message_id: str | None) -> None:
        """The branch shown now ends at ``message_id`` (None: at no message, so the next one saved starts a branch
        of its own, a sibling of the first prompt)."""
        with self._db("IMMEDIATE") as conn:
            if conn.execute("UPDATE conversations SET active_leaf = ? WHERE id = ?",
                            (message_id, conversation_id)).rowcount == 0:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")

    def load(self, conversation_id: str) -> Conversation:
        """The conversation: its branch shown, and every message of every branch; ``ConversationNotFound`` if
        there is none."""
        with self._db("DEFERRED") as conn:
            head = conn.execute("SELECT id, title, created_at, updated_at, model, backend, system_prompt, "
                                "active_leaf FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if head is None:
                raise ConversationNotFound(f"no conversation with id {conversation_id}")
            rows = conn.execute(f"SELECT {', '.join(schema.MESSAGE_COLUMNS)}, data FROM messages "
                                "WHERE conversation_id = ? ORDER BY seq", (conversation_id,)).fetchall()
        messages = []
        for *columns, data in rows:
            fields = json.loads(data)
            fields.update(zip(schema.MESSAGE_COLUMNS, columns, strict=True))
            messages.append(ChatMessage.from_dict(fields))
        system = [message for message in messages if message.role == "system"]
        every = [message for message in messages if message.role != "system"]
        tree = ConversationTree(every)
        leaf = head[7] if head[7] in tree else every[-1].id if every else None  # a leaf lost: the newest message
        return Conversation(id=head[0], title=head[1], created_at=head[2], updated_at=head[3], model=head[4],
                            backend=head[5], system_prompt=head[6], messages=[*system, *tree.path(leaf)],
                            branches=every)


def _saved(conn: sqlite3.Connection, conversation_id: str, message_id: str) -> bool:
    return conn.execute("SELECT 1 FROM messages WHERE conversation_id = ? AND id = ?",
                        (conversation_id, message_id)).fetchone() is not None


def _set_leaf(conn: sqlite3.Connection, conversation_id: str, message_id: str | None) -> None:
    conn.execute("UPDATE conversations SET active_leaf = ? WHERE id = ?", (message_id, conversation_id))


def open_store(data_dir: str | os.PathLike[str] | None = None, *,
               secret: str | None = None) -> tuple[ConversationStore | None, str | None]:
    """``(store, None)``, or ``(None, reason)`` when it cannot be opened, so the app can run unsaved."""
    try:
        return ConversationStore(data_dir, secret=secret), None
    except StoreError as exc:
        return None, str(exc)
