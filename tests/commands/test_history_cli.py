"""``streamchat history`` and ``streamchat export`` end to end through ``cli.main``."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from streamchat.cli import main
from streamchat.messages import ChatMessage
from streamchat.store.database import ConversationStore


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No settings from the developer's environment or ``.env``."""
    for name in list(os.environ):
        if name.startswith(("STREAMCHAT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def saved(tmp_path: Path) -> dict[str, str]:
    """Two saved conversations in ``tmp_path``: title -> id."""
    with ConversationStore(tmp_path) as store:
        trip = store.create_conversation(model="gpt-test")
        store.save_messages(trip, [
            ChatMessage(role="user", content="Plan a trip to Lyon"),
            ChatMessage(role="assistant", content="Day 1: Vieux \x1b[31mLyon\x1b[0m", status="complete",
                        model="gpt-test"),
        ])
        sums = store.create_conversation(title="Sums")
        store.save_message(sums, ChatMessage(role="user", content="2+2?"))
    return {"trip": trip, "sums": sums}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """``streamchat argv...``: (exit status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_history_lists_newest_first(tmp_path: Path, saved: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "history", "--data-dir", str(tmp_path))
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "UPDATED", "MSGS", "TITLE"]
    assert lines[1].startswith(saved["sums"][:8] + "  ") and lines[1].endswith("     1  Sums")
    assert lines[2].startswith(saved["trip"][:8] + "  ") and lines[2].endswith("     2  Plan a trip to Lyon")
    assert len(lines) == 3


def test_history_search_limit_json(tmp_path: Path, saved: dict[str, str],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--data-dir", str(tmp_path), "history", "--search", "VIEUX")
    assert status == 0 and saved["trip"][:8] in out and saved["sums"][:8] not in out
    status, out, _ = run(capsys, "history", "--data-dir", str(tmp_path), "--limit", "1", "--json")
    rows = json.loads(out)
    assert status == 0 and [row["id"] for row in rows] == [saved["sums"]]
    assert rows[0]["title"] == "Sums" and rows[0]["message_count"] == 1
    status, out, _ = run(capsys, "history", "--data-dir", str(tmp_path), "--search", "nowhere")
    assert status == 0 and out == "No conversations match 'nowhere'.\n"


def test_history_without_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "history", "--data-dir", str(tmp_path / "none"))
    assert status == 0 and out.startswith("No saved conversations yet")
    assert not (tmp_path / "none").exists()  # listing creates nothing
    status, out, _ = run(capsys, "history", "--data-dir", str(tmp_path / "none"), "--json")
    assert json.loads(out) == []


def test_history_refuses_a_corrupt_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "history.db").write_bytes(b"definitely not sqlite" * 100)
    status, out, err = run(capsys, "history", "--data-dir", str(tmp_path))
    assert status == 2 and out == ""
    assert err.startswith("streamchat history: the history database ") and "not an SQLite database" in err
    assert "Traceback" not in err


def test_export_markdown_by_prefix(tmp_path: Path, saved: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "export", saved["trip"][:6], "--data-dir", str(tmp_path))
    assert status == 0 and err == ""
    assert out.startswith("# Plan a trip to Lyon\n")
    assert "## You\n\nPlan a trip to Lyon\n" in out
    assert "## Assistant\n\n*gpt-test*\n\nDay 1: Vieux Lyon\n" in out  # to a pipe too: `cat chat.md` is safe


def test_export_json_to_a_file(tmp_path: Path, saved: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.json"
    status, out, err = run(capsys, "export", "last", "--format", "json", "--output", str(target),
                           "--data-dir", str(tmp_path))
    assert status == 0 and out == "" and err == f"Wrote {target}\n"
    assert target.stat().st_mode & 0o777 == 0o600
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["id"] == saved["sums"] and document["title"] == "Sums"
    assert [m["content"] for m in document["messages"]] == ["2+2?"]


def test_json_out_of_the_cli_carries_no_raw_control_character(tmp_path: Path, saved: dict[str, str],
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    with ConversationStore(tmp_path) as store:
        store.save_message(saved["sums"], ChatMessage(role="assistant", content="8-bit CSI \x9b2J, DEL \x7f, ESC \x1b"))
    for argv in (("history", "--json"), ("export", saved["sums"], "--format", "json")):
        status, out, _ = run(capsys, *argv, "--data-dir", str(tmp_path))
        assert status == 0 and not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", out)
    assert "\\u009b2J" in out and "\\u007f" in out and "\\u001b" in out  # the export's
    document = json.loads(run(capsys, "export", saved["sums"], "--format", "json", "--data-dir", str(tmp_path))[1])
    assert document["messages"][-1]["content"] == "8-bit CSI \x9b2J, DEL \x7f, ESC \x1b", "every character kept"


def test_export_errors_are_short(tmp_path: Path, saved: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "export", "zzzz", "--data-dir", str(tmp_path))
    assert (status, out) == (2, "") and err == "streamchat export: no conversation with id 'zzzz'\n"
    status, _, err = run(capsys, "export", "abc", "--data-dir", str(tmp_path / "empty"))
    assert status == 2 and "no saved conversations" in err
    status, _, err = run(capsys, "export", saved["sums"], "--output", str(tmp_path / "no" / "dir.md"),
                         "--data-dir", str(tmp_path))
    assert status == 1 and err.startswith("streamchat export: cannot write ") and "Traceback" not in err


def test_a_markdown_title_is_listed_as_its_words(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with ConversationStore(tmp_path) as store:
        store.create_conversation(title="## Compare **two** `files` in [the repo](http://x)")
    status, out, _ = run(capsys, "history", "--data-dir", str(tmp_path))
    assert status == 0 and out.splitlines()[1].endswith("  Compare two files in the repo")
