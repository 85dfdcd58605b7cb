"""``streamchat config check|edit|path`` through ``cli.main``: what they say, in what order, with what status."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streamchat.cli import main


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the config file goes; no settings from the developer's environment or ``.env``."""
    for name in list(os.environ):
        if name.startswith(("STREAMCHAT_", "OPENAI_")) or name in ("VISUAL", "EDITOR"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "xdg" / "streamchat" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_check_lists_the_problems_in_the_files_order_each_saying_what_is_wrong(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text('default_profile = "nope"\n[profiles.work]\nbase_url = "http://w.example/v1"\n'
                      'bogus = 1\n[mcp.empty]\n[mcp.both]\ncommand = "x"\nurl = "http://x"\n')
    status, out, err = run(capsys, "config", "check")
    lines = err.splitlines()
    assert status == 1 and out == "" and len(lines) == 4
    where = [line.split(": ")[2:4] for line in lines]  # streamchat: config: FILE:LINE: KEY: what
    assert where == [[f"{config}:1", "default_profile"], [f"{config}:4", "profiles.work.bogus"],
                     [f"{config}:5", "mcp.empty"], [f"{config}:6", "mcp.both"]]
    assert "needs command (a program to run) or url (streamable HTTP) (server ignored)" in lines[2]
    assert "not both" not in lines[2] and "has both command and url: give one" in lines[3]


def test_check_notes_a_key_variable_that_is_not_set_as_the_app_warns(
        config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('default_profile = "work"\n[profiles.work]\nbase_url = "http://w.example/v1"\n'
                      'api_key_env = "WORK_KEY"\n[profiles.other]\nbase_url = "http://o.example/v1"\n'
                      'api_key_env = "OTHER_KEY"\n')
    monkeypatch.setenv("OTHER_KEY", "sk-other-1234567")
    status, out, err = run(capsys, "config", "check")
    assert status == 0 and "OK (1 note above)" in out
    assert err == ("streamchat: config: note: profile work: api_key_env names WORK_KEY, which is not set "
                   "(requests go without a key)\n")
    monkeypatch.setenv("WORK_KEY", "sk-work-1234567")
    status, out, err = run(capsys, "config", "check")
    assert (status, err) == (0, "") and ": OK · profiles: work, other, local" in out


def test_a_profile_url_that_stops_every_command_is_checked_and_config_still_runs(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text('default_profile = "work"\n[profiles.work]\nbase_url = "localhost:11434/v1"\n')
    status, _, err = run(capsys, "history")
    assert status == 2 and "did you mean http://localhost:11434/v1?" in err
    assert run(capsys, "config", "path") == (0, f"{config}\n", "")
    status, out, err = run(capsys, "config", "check")
    assert status == 1 and out == ""
    assert err.startswith(f"streamchat: config: {config}:3: profiles.work.base_url: base_url='localhost:11434/v1' "
                          "is not a URL (did you mean http://localhost:11434/v1?)")


def test_edit_fails_when_the_editor_fails(config: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('theme = "nord"\n')
    monkeypatch.setenv("EDITOR", "false")
    status, out, err = run(capsys, "config", "edit")
    assert status == 1 and "the editor 'false' failed (exit status 1)" in err and ": OK" in out
    monkeypatch.setenv("EDITOR", "true")
    assert run(capsys, "config", "edit")[0] == 0
