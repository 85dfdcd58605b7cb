"""A conversation as a tree in the store: branches kept, the branch shown saved, and databases of before still open."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from streamchat.messages import ChatMessage
from streamchat.store.database import SCHEMA_VERSION, ConversationStore
from streamchat.tree import ConversationTree

SCHEMA_1 = (  # the history database as streamchat wrote it before conversations were trees
    """CREATE TABLE conversations (id TEXT PRIMARY KEY, title TEXT, created_at REAL NOT NULL,
        updated_at REAL NOT NULL, model TEXT, backend TEXT, system_prompt TEXT)""",
    """CREATE TABLE messages (id TEXT NOT NULL,
        conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', status TEXT,
        data TEXT NOT NULL DEFAULT '{}', created_at REAL NOT NULL, updated_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, id), UNIQUE (conversation_id, seq))""",
    "CREATE INDEX conversations_by_update ON conversations(updated_at)",
)


def old_database(folder: Path) -> Path:
    """A schema-1 database with two conversations: a linear one (system prompt first) and an empty one."""
    folder.mkdir(parents=True)
    path = folder / "history.db"
    conn = sqlite3.connect(path)
    for statement in SCHEMA_1:
        conn.execute(statement)
    conn.execute("INSERT INTO conversations VALUES ('c1', 'Quokkas', 1.0, 9.0, 'gpt-old', 'openai', 'Be brief.')")
    conn.execute("INSERT INTO conversations VALUES ('c2', NULL, 2.0, 2.0, NULL, NULL, NULL)")
    rows = [("s", "system", "Be brief.", None), ("u1", "user", "what is a quokka?", None),
            ("a1", "assistant", "A small wallaby.", "complete"), ("u2", "user", "where do they live?", None),
            ("a2", "assistant", "Rottnest Island.", "complete")]
    for seq, (mid, role, content, status) in enumerate(rows, start=1):
        data = json.dumps({"model": "gpt-old"} if role == "assistant" else {})
        conn.execute("INSERT INTO messages VALUES (?, 'c1', ?, ?, ?, ?, ?, ?, ?)",
                     (mid, seq, role, content, status, data, float(seq), float(seq)))
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    return folder


def test_an_old_database_opens_as_trees_with_each_message_after_the_one_before(tmp_path: Path) -> None:
    with ConversationStore(old_database(tmp_path / "data")) as store:
        loaded = store.load("c1")
        assert [(m.id, m.parent_id) for m in loaded.messages] == [
            ("s", None), ("u1", None), ("a1", "u1"), ("u2", "a1"), ("a2", "u2")]
        assert loaded.messages[2].model == "gpt-old" and loaded.title == "Quokkas"
        [c1, c2] = sorted(store.list_conversations(), key=lambda row: row.id)
        assert (c1.message_count, c1.preview, c2.message_count, c2.preview) == (5, "Rottnest Island.", 0, "")
        assert store.load("c2").messages == []
        store.save_message("c1", ChatMessage(role="user", content="and what do they eat?"))
        assert store.load("c1").messages[-1].parent_id == "a2"
    conn = sqlite3.connect(tmp_path / "data" / "history.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 2
    conn.close()
    with ConversationStore(tmp_path / "data") as store:  # opened again: nothing to migrate
        assert len(store.load("c1").messages) == 6


def chain(*texts: str) -> list[ChatMessage]:
    """User and assistant messages in turn, each after the one before."""
    messages: list[ChatMessage] = []
    for index, text in enumerate(texts):
        messages.append(ChatMessage(role="user" if index % 2 == 0 else "assistant", content=text,
                                    parent_id=messages[-1].id if messages else None))
    return messages


def test_an_edited_prompt_is_a_sibling_and_the_store_keeps_the_branch_shown(tmp_path: Path) -> None:
    u1, a1, u2, a2 = chain("one?", "One.", "two?", "Two.")
    edited = ChatMessage(role="user", content="two, really?", parent_id=a1.id)
    with ConversationStore(tmp_path / "data") as store:
        cid = store.create_conversation()
        store.save_messages(cid, [u1, a1, u2, a2, edited])
        loaded = store.load(cid)
        assert [m.content for m in loaded.messages] == ["one?", "One.", "two, really?"]
        assert [m.content for m in loaded.branches] == ["one?", "One.", "two?", "Two.", "two, really?"]
        assert (store.list_conversations()[0].message_count, store.list_conversations()[0].preview) == (
            3, "two, really?")
        store.set_active_leaf(cid, a2.id)  # the user flips back to the first branch
        assert [m.content for m in store.load(cid).messages] == ["one?", "One.", "two?", "Two."]
        assert store.list_conversations()[0].preview == "Two."
        assert store.delete_messages(cid, [u2.id, a2.id]) == 2  # the branch shown goes: it ends above it now
        assert [m.content for m in store.load(cid).messages] == ["one?", "One."]
        store.set_active_leaf(cid, None)  # a new first prompt: a sibling of the first one
        store.save_message(cid, ChatMessage(role="user", content="zero?"))
        loaded = store.load(cid)
        assert [m.content for m in loaded.messages] == ["zero?"] and loaded.messages[0].parent_id is None
        assert len(loaded.branches) == 4


def test_the_tree_remembers_the_branch_last_shown_below_each_message() -> None:
    u1, a1, u2, a2 = chain("one?", "One.", "two?", "Two.")
    again = ChatMessage(role="assistant", content="Two again.", parent_id=u2.id)
    edited = ChatMessage(role="user", content="two, really?", parent_id=a1.id)
    tree = ConversationTree([u1, a1, u2, a2, again, edited])
    assert tree.position(u2) == (1, 2) and tree.position(edited) == (2, 2) and tree.position(a1) is None
    assert tree.position(again) == (2, 2) and tree.siblings(a2) == [a2, again]
    assert tree.leaf_under(u2) is again  # the newest, never shown: the last added
    assert [m.content for m in tree.path(a2.id)] == ["one?", "One.", "two?", "Two."]
    assert tree.leaf_under(a1) is a2, "back to the branch last shown below it"
    assert {m.id for m in tree.subtree(u2)} == {u2.id, a2.id, again.id}
    tree.remove(tree.subtree(u2))
    assert tree.children(a1.id) == [edited] and tree.leaf_under(u1) is edited and len(tree) == 3
