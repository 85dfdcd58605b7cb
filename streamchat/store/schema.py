"""The history database: its records, schema, SQL, migrations, errors and how it is opened.

Kept apart from ``streamchat.store.database`` so that module reads as the API (which
re-exports the public names here). Nothing here imports a UI or a network
library.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS`` is an
ordered list; migration *n* (1-based) takes the schema from version n-1 to
n. All pending migrations run in one ``BEGIN IMMEDIATE`` transaction, so a
half-migrated file cannot exist and two processes opening a new file at once
do not both migrate it. A file whose version is newer than ``SCHEMA_VERSION``
is refused before anything is written to it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamchat.messages import ChatMessage
from streamchat.safety import one_line, redact
from streamchat.store.files import create_private_dir, create_private_file, describe_error, make_private

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""


TITLE_LENGTH = 60
"""Default titles (the first user message) are cut to about this many characters."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: conversations and their messages.
    (
        """CREATE TABLE conversations (
            id TEXT PRIMARY KEY,
            title TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            model TEXT,
            backend TEXT,
            system_prompt TEXT
        )""",
        """CREATE TABLE messages (
            id TEXT NOT NULL,
            conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            content TEXT NOT NULL DEFAULT '',
            status TEXT,
            data TEXT NOT NULL DEFAULT '{}',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            PRIMARY KEY (conversation_id, id),
            UNIQUE (conversation_id, seq)
        )""",
        "CREATE INDEX conversations_by_update ON conversations(updated_at)",
    ),
    # 2: a conversation is a tree (an edited prompt, a regenerated answer: a sibling of the one it replaces).
    # Each message follows the one saved before it (the system prompt aside); the branch shown ends at the last.
    (
        "ALTER TABLE messages ADD COLUMN parent_id TEXT",
        "ALTER TABLE conversations ADD COLUMN active_leaf TEXT",
        """UPDATE messages SET parent_id = (
            SELECT p.id FROM messages p WHERE p.conversation_id = messages.conversation_id AND p.role != 'system'
                AND p.seq < messages.seq ORDER BY p.seq DESC LIMIT 1)
        WHERE role != 'system'""",
        """UPDATE conversations SET active_leaf = (
            SELECT m.id FROM messages m WHERE m.conversation_id = conversations.id AND m.role != 'system'
            ORDER BY m.seq DESC LIMIT 1)""",
        "CREATE INDEX messages_by_parent ON messages(conversation_id, parent_id)",
    ),
)
"""Ordered schema migrations; entry n-1 brings the schema to version n."""

SCHEMA_VERSION = len(MIGRATIONS)
"""The schema version this streamchat writes."""

MESSAGE_COLUMNS = ("id", "role", "content", "status", "created_at", "parent_id")
# A message saved without a parent follows the end of the branch shown (none: it starts the conversation);
# saved again, it keeps the parent it has unless given another.
UPSERT_MESSAGE = """
INSERT INTO messages (id, conversation_id, seq, role, content, status, data, created_at, updated_at, parent_id)
VALUES (:id, :cid, (SELECT COALESCE(MAX(seq), 0) + 1 FROM messages WHERE conversation_id = :cid),
        :role, :content, :status, :data, :created_at, :now,
        CASE WHEN :role = 'system' THEN NULL
             ELSE COALESCE(:parent_id, (SELECT active_leaf FROM conversations WHERE id = :cid)) END)
ON CONFLICT (conversation_id, id) DO UPDATE SET role = excluded.role, content = excluded.content,
    status = excluded.status, data = excluded.data, created_at = excluded.created_at,
    updated_at = excluded.updated_at, parent_id = COALESCE(:parent_id, messages.parent_id)
"""
INSERT_FIRST_MESSAGE = """
INSERT INTO messages (id, conversation_id, seq, role, content, status, data, created_at, updated_at, parent_id)
VALUES (:id, :cid, (SELECT COALESCE(MIN(seq), 1) - 1 FROM messages WHERE conversation_id = :cid),
        :role, :content, :status, :data, :created_at, :now, NULL)
"""
CHECKPOINT_GUARD = " WHERE messages.status IS 'incomplete'"
TOUCH_CONVERSATION = """
UPDATE conversations SET updated_at = :now, title = COALESCE(title, :title),
    system_prompt = COALESCE(system_prompt, :system), model = COALESCE(:model, model),
    backend = COALESCE(:backend, backend)
WHERE id = :cid
"""
BRANCH_SHOWN = """
WITH RECURSIVE branch(id, parent, depth) AS (
    SELECT m.id, m.parent_id, 0 FROM messages m WHERE m.conversation_id = c.id AND m.id = c.active_leaf
    UNION ALL
    SELECT m.id, m.parent_id, branch.depth + 1 FROM messages m, branch
    WHERE m.conversation_id = c.id AND m.id = branch.parent AND branch.depth < 1000000)
"""
"""The messages of the branch shown of conversation ``c`` (for a subquery), the leaf at depth 0."""
LIST_CONVERSATIONS = f"""
SELECT c.id, c.title, c.created_at, c.updated_at,
    (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.role = 'system')
        + ({BRANCH_SHOWN} SELECT COUNT(*) FROM branch),
    ({BRANCH_SHOWN} SELECT substr(m.content, 1, 200) FROM branch JOIN messages m
        ON m.conversation_id = c.id AND m.id = branch.id
        WHERE m.role IN ('user', 'assistant') AND m.content != '' ORDER BY branch.depth LIMIT 1)
FROM conversations c
WHERE :pattern IS NULL OR streamchat_fold(c.title) LIKE :pattern ESCAPE '\\'
    OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id
               AND streamchat_fold(m.content) LIKE :pattern ESCAPE '\\')
ORDER BY c.updated_at DESC, c.rowid DESC LIMIT :limit
"""


class StoreError(Exception):
    """The history store cannot do what was asked; the message says why, for a human."""


class ConversationNotFound(StoreError):
    """No conversation has the id (or prefix) given."""


@dataclass
class Conversation:
    """A saved conversation with all its messages, in order."""

    id: str
    """The conversation's id (32 hex digits)."""
    title: str | None
    """Its title: set by ``rename()``, else the first user message; None before there is one."""
    created_at: float
    """When it was created (Unix time)."""
    updated_at: float
    """When a message was last saved in it (Unix time)."""
    model: str | None = None
    """The model of the last saved answer (or the one given at creation)."""
    backend: str | None = None
    """The backend of the last saved answer (or the one given at creation)."""
    system_prompt: str | None = None
    """The system prompt, given at creation or taken from the first system message."""
    messages: list[ChatMessage] = field(default_factory=list)
    """The branch shown: the system prompt, then each message from the first to the end of the branch."""
    branches: list[ChatMessage] = field(default_factory=list)
    """Every message of every branch (the system prompt aside), in the order first saved; empty when not loaded."""


@dataclass(frozen=True)
class ConversationSummary:
    """One line of the conversation list."""

    id: str
    """The conversation's id."""
    title: str | None
    """Its title, or None if it has none yet."""
    created_at: float
    """When it was created (Unix time)."""
    updated_at: float
    """When a message was last saved in it (Unix time)."""
    message_count: int
    """How many messages its branch shown holds (tool messages and the system prompt included)."""
    preview: str
    """The start of the last non-empty user or assistant message of its branch shown, as one line of its
    words: Markdown marks, control characters and line breaks gone ('' if none)."""


def make_title(text: str, limit: int = TITLE_LENGTH) -> str:
    """A one-line title from ``text``: its words (Markdown marks and control characters gone, whitespace
    collapsed), cut at a word near ``limit`` characters."""
    line = one_line(text, markdown=True)
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] if " " in line[limit // 2 : limit] else line[:limit]
    return cut.rstrip(" ,.;:-") + "…"


def redact_tree(value: Any, secret: str) -> Any:
    """``value`` (strings, dicts, lists) with ``redact(..., secret)`` applied to every string but ids."""
    if isinstance(value, str):
        return redact(value, secret)
    if isinstance(value, dict):
        return {key: value[key] if key in ("id", "tool_call_id") else redact_tree(value[key], secret)
                for key in value}
    if isinstance(value, list):
        return [redact_tree(item, secret) for item in value]
    return value


def fold(value: object) -> str | None:
    """Unicode case folding for SQL (``streamchat_fold``); None stays None."""
    return value.casefold() if isinstance(value, str) else None


def like_pattern(search: str) -> str:
    """A ``LIKE ... ESCAPE '\\'`` pattern matching ``search`` literally anywhere, folded like ``fold``."""
    escaped = search.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def check_header(path: Path) -> None:
    """Raise StoreError if ``path`` is neither empty nor an SQLite database."""
    with path.open("rb") as handle:
        head = handle.read(len(SQLITE_HEADER))
    if head and head != SQLITE_HEADER:
        raise StoreError(f"the history database {path} is not an SQLite database (damaged or some other file); "
                         "move it away to start a new history")


def refuse_newer(version: int, path: Path) -> None:
    """Raise StoreError if ``version`` is newer than the schema we know."""
    if version > SCHEMA_VERSION:
        raise StoreError(f"the history database {path} was written by a newer streamchat "
                         f"(schema {version}, this version knows {SCHEMA_VERSION}); not touching it")


def probe(path: Path, timeout: float) -> None:
    """Read-only checks before we write anything: header, schema version, ``PRAGMA quick_check``."""
    check_header(path)
    if path.stat().st_size == 0:
        return
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)
    try:
        refuse_newer(int(conn.execute("PRAGMA user_version").fetchone()[0]), path)
        problems = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    finally:
        conn.close()
    if problems != ["ok"]:
        raise StoreError(f"the history database {path} is damaged ({'; '.join(problems[:3])}); "
                         "move it away to start a new history")


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Bring the schema to ``SCHEMA_VERSION`` in one transaction; refuse a newer file untouched.

    ``conn`` must be in autocommit mode (``isolation_level=None``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        refuse_newer(version, path)
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION:d}")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def connect(path: Path, timeout: float) -> sqlite3.Connection:
    """Open the database at ``path`` for the store: private files, checks, migrations, WAL.

    Raises StoreError (never a bare sqlite3 or OS error).
    """
    try:
        create_private_dir(path.parent)
        create_private_file(path)
        probe(path, timeout)
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000):d}")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn, path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: safe against a process crash, cheap commits
            conn.create_function("streamchat_fold", 1, fold, deterministic=True)
        except BaseException:
            conn.close()
            raise
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(describe_error(exc, path, timeout)) from exc
    make_private(path)
    return conn
