"""The conversation store: round trips, listing, safety of the file, concurrency and crashes."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from streamchat.messages import ChatMessage, ToolCall
from streamchat.store.checkpoint import StreamCheckpointer
from streamchat.store.database import (
    SCHEMA_VERSION,
    ConversationNotFound,
    ConversationStore,
    StoreError,
    database_path,
    default_data_dir,
    make_title,
    open_store,
)

REPO = Path(__file__).resolve().parents[2]
KEY = "plain-hunter2-Zx8QwErTy7UiOp"  # not key-shaped: only the configured secret can mask it


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start ``python -c code args...`` with the repo importable, stdout piped."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env, text=True,
                            stdout=subprocess.PIPE)


def every_kind() -> list[ChatMessage]:
    """One message of each kind the app produces."""
    stats = {"headers_ms": 80.5, "ttft_ms": 312.25, "total_ms": 1840.0, "tokens": 42, "tokens_per_s": 27.6,
             "gap_p50_ms": 10.0, "gap_p95_ms": 31.5}
    calls = [ToolCall("call_1", "calculator", '{"expression": "2+2"}'), ToolCall("call_2", "clock", "{}")]
    return [
        ChatMessage(role="system", content="Be brief."),
        ChatMessage(role="user", content="What is 2+2?\nAnd the time? 100% sure_ok? «été» 🎉"),
        ChatMessage(role="assistant", tool_calls=calls, status="complete", model="gpt-test", backend="openai",
                    stats=stats, reasoning="Use the tools."),
        ChatMessage(role="tool", content="4", tool_call_id="call_1", name="calculator"),
        ChatMessage(role="tool", content="clock refused", tool_call_id="call_2", name="clock", is_error=True),
        ChatMessage(role="assistant", content="It is 4 and half past", status="stopped", model="gpt-test",
                    backend="openai", stats={**stats, "total_ms": 900.0}),
        ChatMessage(role="assistant", content="Partial", status="error", error="Connection reset by peer",
                    model="gpt-test", backend="openai"),
        ChatMessage(role="assistant", content="Cut at the cap", status="length", model="local-model",
                    backend="local"),
        ChatMessage(role="assistant", content="The stream ended", status="incomplete", error="ended early"),
    ]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    """A fresh store in ``tmp_path/data``."""
    with ConversationStore(tmp_path / "data") as opened:
        yield opened


def test_every_message_kind_round_trips(store: ConversationStore) -> None:
    messages = every_kind()
    for before, message in itertools.pairwise(messages[1:]):
        message.parent_id = before.id  # as the agent links them
    cid = store.create_conversation(model="gpt-test", backend="openai")
    for message in messages:
        store.save_message(cid, message)
    loaded = store.load(cid)
    assert loaded.messages == messages
    assert loaded.branches == messages[1:]
    assert loaded.title == "What is 2+2? And the time? 100% sure_ok? «été» 🎉"
    assert loaded.system_prompt == "Be brief."
    assert (loaded.model, loaded.backend) == ("local-model", "local")  # the last answer that named one
    assert loaded.created_at <= loaded.updated_at


def test_upsert_keeps_first_position_and_save_messages_batches(store: ConversationStore) -> None:
    cid = store.create_conversation(title="Kept")
    first, second = ChatMessage(role="user", content="one"), ChatMessage(role="user", content="two")
    store.save_messages(cid, [first, second])
    first.content = "one, edited"
    store.save_message(cid, first)
    loaded = store.load(cid)
    assert [m.content for m in loaded.messages] == ["one, edited", "two"]
    assert loaded.title == "Kept"


def test_checkpoints_then_finish_in_place(store: ConversationStore) -> None:
    cid = store.create_conversation()
    store.save_message(cid, ChatMessage(role="user", content="hi"))
    cp = StreamCheckpointer(store, cid)
    assert cp.checkpoint(cp.snapshot("He", model="m")) is True
    assert cp.checkpoint(cp.snapshot("Hello")) is True
    assert cp.checkpoint(cp.snapshot("Hello")) is False  # nothing new
    partial = store.load(cid).messages[-1]
    assert (partial.content, partial.status, partial.id) == ("Hello", "incomplete", cp.pending_id)
    assert len(store.load(cid).messages) == 2  # one partial, rewritten in place
    cp.checkpoint(cp.snapshot("Hello, wor"))
    assert cp.writes == 3
    final = ChatMessage(role="assistant", content="Hello, world", status="complete")
    store.save_message(cid, ChatMessage(role="user", content="later"))
    cp.finish(final)
    loaded = store.load(cid).messages
    assert [m.content for m in loaded] == ["hi", "Hello, world", "later"]  # the partial's place
    assert loaded[1] == replace(final, parent_id=loaded[0].id) and cp.pending_id is None
    store.checkpoint(cid, final)  # a late checkpoint never undoes a final save
    assert store.load(cid).messages[1].status == "complete"


def test_list_search_rename_delete(store: ConversationStore) -> None:
    ids = []
    for title, text in [("Paris trip", "Où dormir à PARIS ?"), (None, "École: 100% of_it"), (None, "weather")]:
        cid = store.create_conversation(title=title)
        store.save_message(cid, ChatMessage(role="user", content=text))
        store.save_message(cid, ChatMessage(role="assistant", content=f"answer to {text}", status="complete"))
        ids.append(cid)
    rows = store.list_conversations()
    assert [r.id for r in rows] == ids[::-1]
    assert rows[0].message_count == 2 and rows[0].preview == "answer to weather" and rows[0].title == "weather"
    assert [r.id for r in store.list_conversations(limit=1)] == [ids[2]]
    assert [r.id for r in store.list_conversations(search="paris")] == [ids[0]]
    assert [r.id for r in store.list_conversations(search="éCOLE")] == [ids[1]]  # Unicode case folding
    assert [r.id for r in store.list_conversations(search="100%")] == [ids[1]]
    assert store.list_conversations(search="100%%") == []  # % is literal, not a wildcard
    assert [r.id for r in store.list_conversations(search="of_it")] == [ids[1]]
    assert store.list_conversations(search="o_it") == []  # _ too
    assert store.last_conversation_id() == ids[2]
    store.rename(ids[0], "  Lyon\n instead ")
    assert store.load(ids[0]).title == "Lyon instead"
    store.delete(ids[0])
    with pytest.raises(ConversationNotFound):
        store.load(ids[0])
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (ids[0],)).fetchone() == (0,)
    with pytest.raises(ConversationNotFound):
        store.rename(ids[0], "x")
    with pytest.raises(ConversationNotFound):
        store.delete(ids[0])
    with pytest.raises(ConversationNotFound):
        store.save_message(ids[0], ChatMessage(role="user", content="x"))
    with pytest.raises(ConversationNotFound):
        store.checkpoint(ids[0], ChatMessage(role="assistant"))
    with pytest.raises(StoreError, match="empty"):
        store.rename(ids[1], "  ")


def test_resolve_id(store: ConversationStore) -> None:
    ids = [store.create_conversation() for _ in range(17)]  # 17 ids: two share a first hex digit
    assert store.resolve_id(ids[3]) == ids[3]
    assert store.resolve_id(ids[3][:12].upper()) == ids[3]
    shared = next(i[0] for i in ids if sum(j[0] == i[0] for j in ids) > 1)
    with pytest.raises(StoreError, match="matches"):
        store.resolve_id(shared)
    for missing in ("zz", "", "%"):
        with pytest.raises(ConversationNotFound):
            store.resolve_id(missing)


def test_titles_and_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert make_title("  short\n title ") == "short title"
    long = make_title("word " * 40)
    assert long.endswith("…") and len(long) <= 61 and "  " not in long
    monkeypatch.delenv("STREAMCHAT_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    assert default_data_dir(None) == tmp_path / ".local/share/streamchat"
    monkeypatch.setenv("XDG_DATA_HOME", "relative/ignored")
    assert default_data_dir(None) == tmp_path / ".local/share/streamchat"
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_data_dir(None) == tmp_path / "xdg/streamchat"
    monkeypatch.setenv("STREAMCHAT_DATA_DIR", str(tmp_path / "env"))
    assert default_data_dir(None) == tmp_path / "env"
    assert database_path("~/given") == tmp_path / "given/history.db"


def test_private_file_modes(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        with ConversationStore(tmp_path / "deep" / "data") as store:
            store.save_message(store.create_conversation(), ChatMessage(role="user", content="x"))
            modes = {p.name: p.stat().st_mode & 0o777 for p in store.path.parent.iterdir()}
            folder_mode = store.path.parent.stat().st_mode & 0o777
    finally:
        os.umask(old)
    assert folder_mode == 0o700
    assert modes["history.db"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ConversationStore(data) as store:
        store.save_message(store.create_conversation(), ChatMessage(role="user", content="from the future"))
        path = store.path
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    raw.close()
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    time.sleep(0.01)
    message = f"newer streamchat (schema {SCHEMA_VERSION + 5}, this version knows {SCHEMA_VERSION}); not touching"
    with pytest.raises(StoreError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ConversationStore(data)
    store_or_none, reason = open_store(data)
    assert store_or_none is None and reason and "not touching it" in reason
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_corrupt_files_give_store_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "history.db").write_bytes(os.urandom(8192))
    with pytest.raises(StoreError, match="not an SQLite database"):
        ConversationStore(garbage)
    store, reason = open_store(garbage)
    assert store is None and reason and "history.db" in reason

    damaged = tmp_path / "damaged"
    with ConversationStore(damaged) as good:
        cid = good.create_conversation()
        good.save_messages(cid, [ChatMessage(role="user", content="x" * 3000) for _ in range(40)])
        path = good.path
    blob = bytearray(path.read_bytes())
    page = 4096
    blob[2 * page : 4 * page] = os.urandom(2 * page)
    path.write_bytes(bytes(blob))
    with pytest.raises(StoreError, match="damaged"):
        ConversationStore(damaged)


def test_locked_database_gives_store_error(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path, timeout=0.2)
    cid = store.create_conversation()
    blocker = sqlite3.connect(store.path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked by another program"):
            ConversationStore(tmp_path, timeout=0.2)
        with pytest.raises(StoreError, match="locked by another program"):
            store.save_message(cid, ChatMessage(role="user", content="waits"))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.save_message(cid, ChatMessage(role="user", content="fine now"))
    assert [m.content for m in store.load(cid).messages] == ["fine now"]
    store.close()


def test_closed_store_refuses(tmp_path: Path) -> None:
    store, reason = open_store(tmp_path)
    assert store is not None and reason is None
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_conversations()


def test_the_key_is_never_written(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path, secret=KEY)
    cid = store.create_conversation(title=f"about {KEY}", system_prompt=f"key {KEY}")
    store.save_message(cid, ChatMessage(role="user", content=f"my key is {KEY}, keep it"))
    cp = StreamCheckpointer(store, cid)
    cp.checkpoint(cp.snapshot(f"You said {KEY[:12]}", reasoning=f"they pasted {KEY}"))
    cp.finish(ChatMessage(role="assistant", content=f"You said {KEY}", error=f"401 for {KEY}", status="error",
                          tool_calls=[ToolCall("c1", "read_file", f'{{"path": "{KEY}"}}')]))
    store.save_message(cid, ChatMessage(role="tool", content=f"echo {KEY}", tool_call_id="c1", name="read_file"))
    store.rename(cid, f"renamed {KEY}")
    files = [p for p in tmp_path.iterdir() if p.name.startswith("history.db")]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:  # while open: the recent writes are in the -wal file
        assert KEY.encode() not in path.read_bytes(), path
    loaded = store.load(cid)
    assert loaded.messages[0].content == "my key is ***, keep it"
    store.close()
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert KEY.encode() not in data and KEY[8:].encode() not in data, path


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path)
    cid = store.create_conversation()
    go = tmp_path / "go"
    writer = """
        import os, sys, time
        from streamchat.messages import ChatMessage
        from streamchat.store.database import ConversationStore
        data, cid, tag, go = sys.argv[1:]
        store = ConversationStore(data)
        print("ready", flush=True)
        while not os.path.exists(go):
            time.sleep(0.001)
        for i in range(200):
            store.save_message(cid, ChatMessage(role="user", content=f"{tag}-{i}"))
        store.close()
    """
    procs = [run_python(writer, str(tmp_path), cid, tag, str(go)) for tag in "ab"]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    go.touch()
    for proc in procs:
        assert proc.wait(timeout=30) == 0
    contents = [m.content for m in store.load(cid).messages]
    assert len(contents) == 400
    for tag in "ab":
        assert [c for c in contents if c.startswith(tag)] == [f"{tag}-{i}" for i in range(200)]
    store.close()


def test_sigkill_mid_stream_keeps_a_recent_prefix(tmp_path: Path) -> None:
    streamer = """
        import sys, time
        from streamchat.messages import ChatMessage
        from streamchat.store.database import ConversationStore
        from streamchat.store.checkpoint import StreamCheckpointer
        store = ConversationStore(sys.argv[1])
        cid = store.create_conversation()
        cp = StreamCheckpointer(store, cid)
        message = ChatMessage(role="assistant")
        print("ready", cid, message.id, flush=True)
        text, i, last = "", 0, 0.0
        while True:
            text += f"{i:06d} "
            message.content = text
            print(len(text), time.monotonic(), flush=True)
            if time.monotonic() - last >= 0.1:  # the caller's throttle, as the chat's timer
                cp.checkpoint(message)
                last = time.monotonic()
            i += 1
            time.sleep(0.002)
    """
    proc = run_python(streamer, str(tmp_path))
    assert proc.stdout is not None
    _, cid, message_id = proc.stdout.readline().split()
    lines = []
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        lines.append(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    lines += proc.stdout.read().splitlines()
    proc.stdout.close()
    progress = [(int(parts[0]), float(parts[1])) for parts in (line.split() for line in lines) if len(parts) == 2]
    last_length, last_time = progress[-1]
    produced = "".join(f"{i:06d} " for i in range(last_length // 7))
    assert len(produced) == last_length
    floor = max((length for length, at in progress if at <= last_time - 0.2), default=0)
    assert floor > 0, "the stream ran long enough to checkpoint several times"

    with ConversationStore(tmp_path) as store:
        messages = store.load(cid).messages
    assert len(messages) == 1
    saved = messages[0]
    assert (saved.id, saved.role, saved.status) == (message_id, "assistant", "incomplete")
    assert produced.startswith(saved.content)
    assert floor <= len(saved.content) <= last_length


def test_store_imports_no_ui_or_network_library() -> None:
    code = ("import sys, streamchat.store.database, streamchat.export\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'openai', 'httpx', 'rich')]\n"
            "assert not bad, bad\n")
    proc = run_python(code)
    assert proc.wait(timeout=30) == 0
