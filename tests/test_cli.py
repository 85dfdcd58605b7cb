"""``streamchat ask`` end to end, as a subprocess talking HTTP to the fake server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fake_server import (
    Delay,
    FakeServer,
    Response,
    blocking_response,
    chunk,
    error_response,
    text_response,
    tool_call_response,
    web_page,
)

KEY = "sk-cli-test-key-987654321"


def cli_env(server: FakeServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env.update(OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY=KEY, STREAMCHAT_MAX_RETRIES="0",
               STREAMCHAT_TIMEOUT="3", STREAMCHAT_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    return env


def ask(server: FakeServer, tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    feed: dict[str, Any] = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    return subprocess.run([sys.executable, "-m", "streamchat", "ask", *args], capture_output=True, text=True,
                          env=cli_env(server, tmp_path), cwd=tmp_path, timeout=60, **feed)


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_events_for_a_tool_turn(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("call_1", "calculator", {"expression": "12*12"})]),
                        text_response("It is 144.", usage={"prompt_tokens": 1, "completion_tokens": 5,
                                                           "total_tokens": 6}))
    result = ask(fake_server, tmp_path, "--json", "what is 12*12?")
    assert result.returncode == 0, result.stderr
    events = ndjson(result.stdout)
    call = next(e for e in events if e["type"] == "tool_call")
    assert call == {"type": "tool_call", "id": "call_1", "name": "calculator", "arguments": '{"expression": "12*12"}'}
    tool_result = next(e for e in events if e["type"] == "tool_result")
    assert tool_result["id"] == "call_1" and tool_result["content"] == "144" and tool_result["is_error"] is False
    assert "".join(e["text"] for e in events if e["type"] == "token") == "It is 144."
    done = events[-1]
    assert done["type"] == "done" and done["finish_reason"] == "stop" and done["rounds"] == 2
    assert done["requests"][1]["tokens"] == 5, "the server's usage figure replaces the chunk count"
    assert done["tokens"] == done["requests"][0]["tokens"] + 5
    assert done["ttft_ms"] > 0 and done["total_ms"] >= done["ttft_ms"]
    # Counted from the command's start (importing the SDK takes well over 50 ms), split in two:
    first = done["requests"][0]
    assert done["request_sent_ms"] == first["sent_ms"] > 50
    assert done["ttft_ms"] == pytest.approx(first["sent_ms"] + first["ttft_ms"], abs=0.01)
    assert "mcp_start_ms" not in done, "no MCP server was started"


def test_text_mode_streams_answer_to_stdout_and_tools_to_stderr(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("c", "calculator", {"expression": "1+1"})]), text_response("Two."))
    result = ask(fake_server, tmp_path, "add")
    assert result.returncode == 0
    assert result.stdout == "Two.\n"
    assert "calculator" in result.stderr and "2" in result.stderr


def test_prompt_from_stdin_and_no_stream(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(blocking_response("blocked answer"))
    result = ask(fake_server, tmp_path, "--no-stream", stdin="question from a pipe\n")
    assert result.returncode == 0
    assert result.stdout.strip() == "blocked answer"
    assert fake_server.requests[0].stream is False
    assert fake_server.requests[0].messages[-1]["content"] == "question from a pipe"


def test_piped_text_goes_with_the_prompt_as_an_attachment_and_so_does_an_at_path(
        fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(text_response("It prints hi."))
    (tmp_path / "notes.md").write_text("# Notes\nbuy milk\n")
    result = ask(fake_server, tmp_path, "explain this, see @notes.md", stdin="    print('hi')\n")
    assert result.returncode == 0, result.stderr
    assert fake_server.requests[0].messages[-1]["content"] == (
        "explain this, see @notes.md\n\nAttached stdin (16 bytes, 1 line):\n```\n    print('hi')\n```\n\n"
        "Attached notes.md (17 bytes, 2 lines):\n```\n# Notes\nbuy milk\n```")


def test_binary_or_huge_piped_input_is_refused_saying_why_and_the_limit(fake_server: FakeServer,
                                                                        tmp_path: Path) -> None:
    binary = subprocess.run([sys.executable, "-m", "streamchat", "ask", "what is this?"], capture_output=True,
                            env=cli_env(fake_server, tmp_path), cwd=tmp_path, timeout=60, input=b"\x7fELF\x00\x01")
    assert binary.returncode == 2 and b"stdin looks like a binary file" in binary.stderr
    huge = ask(fake_server, tmp_path, "summarize", stdin="x" * 200_000)
    assert huge.returncode == 2 and "stdin is over the 100 KB limit" in huge.stderr
    assert fake_server.requests == []


def test_with_stdout_closed_ask_says_so_and_asks_nothing(fake_server: FakeServer, tmp_path: Path) -> None:
    result = subprocess.run(["sh", "-c", 'exec "$0" -m streamchat ask hi >&-', sys.executable],
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=cli_env(fake_server, tmp_path),
                            cwd=tmp_path, timeout=60, text=True)
    assert result.returncode == 2
    assert result.stderr == ("streamchat: standard output is closed: there is nowhere to write "
                             "(redirect it to a file, or to /dev/null)\n")
    assert fake_server.requests == []


def test_full_screen_commands_refuse_without_a_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env["STREAMCHAT_DATA_DIR"] = str(tmp_path / "data")
    for command, alternative in (([], "streamchat ask"), (["race", "x"], "streamchat race --json"),
                                 (["demo", "1"], "streamchat ask")):
        result = subprocess.run([sys.executable, "-m", "streamchat", *command], capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, env=env, cwd=tmp_path, timeout=30)
        assert result.returncode == 2, command
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
        assert "needs a terminal" in result.stderr and alternative in result.stderr


@pytest.mark.parametrize(("typed", "why"), [("x", "'x' is not a demo number; choose 1 to 4"),
                                            ("7", "There is no demo 7; choose 1 to 4")])
def test_an_invalid_demo_choice_says_why(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         typed: str, why: str) -> None:
    from streamchat.cli import main
    from streamchat.commands import chat

    monkeypatch.setattr(chat, "on_a_terminal", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt: typed)
    monkeypatch.setattr(chat, "run_app", lambda *a, **k: pytest.fail("no demo should open"))
    assert main(["demo"]) == 2
    assert capsys.readouterr().err == f"streamchat: {why}.\n"


def test_error_gives_nonzero_exit_an_error_event_and_no_key(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(error_response(401, f"Incorrect API key provided: {KEY}"))
    result = ask(fake_server, tmp_path, "--json", "hi")
    assert result.returncode == 2, "a rejected key is a bad setting"
    events = ndjson(result.stdout)
    assert [e["type"] for e in events] == ["error", "done"]
    assert events[0]["kind"] == "auth"
    assert KEY not in result.stdout + result.stderr


def test_an_address_that_is_not_the_api_is_named_and_exits_2(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(web_page())
    result = ask(fake_server, tmp_path, "hi")
    assert result.returncode == 2
    assert "answers with a web page, not the OpenAI API" in result.stderr and "Traceback" not in result.stderr
    env = {**cli_env(fake_server, tmp_path), "OPENAI_BASE_URL": "notaurl", "STREAMCHAT_MAX_RETRIES": "2"}
    result = subprocess.run([sys.executable, "-m", "streamchat", "ask", "hi"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "OPENAI_BASE_URL='notaurl' is not a URL" in result.stderr
    assert len(fake_server.requests) == 1


def test_a_prompt_too_long_for_the_model_says_what_to_shorten(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(error_response(400, "maximum context length is 4096 tokens", code="context_length_exceeded"))
    result = ask(fake_server, tmp_path, "hi")
    assert result.returncode == 1
    assert "too long for the model's context window" in result.stderr and "shorten the prompt" in result.stderr


def test_incomplete_stream_exits_nonzero_keeping_text(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(Response([chunk({"content": "half an ans"})]))
    result = ask(fake_server, tmp_path, "hi")
    assert result.returncode == 1
    assert result.stdout.startswith("half an ans")
    assert "incomplete" in result.stderr


def test_ctrl_c_exits_130_and_keeps_printed_text(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(Response([chunk({"content": "first words "}), Delay(30)]))
    proc = subprocess.Popen([sys.executable, "-m", "streamchat", "ask", "tell me"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env(fake_server, tmp_path), cwd=tmp_path,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    seen = ""
    while "first words" not in seen and time.monotonic() < deadline:
        seen += proc.stdout.read(1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert "first words" in seen + out
    assert fake_server.wait_for_disconnect(0, 2.0) is not None


def test_help_and_version_do_not_import_openai_or_textual() -> None:
    code = ("import sys\nfrom streamchat.cli import main\n"
            "for args in (['--help'], ['--version'], ['ask', '--help']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "assert 'openai' not in sys.modules and 'textual' not in sys.modules, sorted(sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "streamchat" in result.stdout


def test_bad_setting_value_is_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "STREAMCHAT_TIMEOUT": "soon"}
    result = subprocess.run([sys.executable, "-m", "streamchat", "ask", "x"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=30, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "STREAMCHAT_TIMEOUT" in result.stderr and "Traceback" not in result.stderr


def test_reader_closing_the_pipe_early_is_quiet(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(text_response([f"line {i}\n" for i in range(2000)]))
    proc = subprocess.Popen([sys.executable, "-m", "streamchat", "ask", "--json", "lots"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli_env(fake_server, tmp_path), cwd=tmp_path,
                            stdin=subprocess.DEVNULL)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 141
    assert "Traceback" not in err


async def test_on_a_terminal_escape_sequences_cut_across_chunks_are_removed_whole(fake_server: FakeServer) -> None:
    import io

    from streamchat.config.settings import Settings
    from streamchat.factory import make_agent
    from streamchat.headless import HeadlessOutput
    from streamchat.headless import ask as ask_headless

    text = "red \x1b[31mRED\x1b[0m title \x1b]0;PWNED-TITLE\x07 clip \x1b]52;c;aGVsbG8=\x07 end \x1b]0;cut-off"
    fake_server.enqueue(text_response([text[i:i + 4] for i in range(0, len(text), 4)]))
    settings = Settings(base_url=fake_server.base_url, api_key="k-not-a-secret", max_retries=0, tools_enabled=False)
    out, err = io.StringIO(), io.StringIO()
    status = await ask_headless(make_agent(settings), "go", HeadlessOutput(out, err, sanitize=True))
    assert status == 0
    assert out.getvalue() == "red RED title  clip  end \n"  # the unfinished last one is dropped at the end too


async def test_on_a_terminal_reasoning_is_dim_on_stderr_and_the_answer_starts_on_its_own_line(
        fake_server: FakeServer) -> None:
    import io

    from streamchat.config.settings import Settings
    from streamchat.factory import make_agent
    from streamchat.headless import HeadlessOutput
    from streamchat.headless import ask as ask_headless

    key = "sk-reasoning-key-123456"
    fake_server.enqueue(Response([chunk({"role": "assistant", "content": ""}), chunk({"reasoning_content": "Two "}),
                                  chunk({"reasoning_content": f"plus two; key {key[:8]}"}),
                                  chunk({"reasoning_content": key[8:]}), chunk({"content": "Four."}),
                                  chunk({}, finish_reason="stop")]))
    settings = Settings(base_url=fake_server.base_url, api_key=key, max_retries=0, tools_enabled=False)
    out, err = io.StringIO(), io.StringIO()
    status = await ask_headless(make_agent(settings), "2+2?", HeadlessOutput(out, err, secret=key, dim=True))
    assert status == 0
    assert out.getvalue() == "Four.\n", "the answer alone on stdout"
    shown = err.getvalue()
    assert shown.startswith("\x1b[2mTwo \x1b[22m") and shown.endswith("\x1b[22m\n"), repr(shown)
    assert key not in shown and "***" in shown
    plain = shown.replace("\x1b[2m", "").replace("\x1b[22m", "")
    assert plain == "Two plus two; key ***\n"


def test_an_empty_answer_is_noted_on_stderr(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(text_response([]))
    result = ask(fake_server, tmp_path, "--no-tools", "say nothing")
    assert result.returncode == 0 and result.stdout == ""
    assert "the model's answer was empty" in result.stderr


def test_the_key_echoed_by_the_model_is_masked_in_the_answer(fake_server: FakeServer, tmp_path: Path) -> None:
    text = f"Your key is {KEY}."
    fake_server.enqueue(text_response([text[i:i + 3] for i in range(0, len(text), 3)]))
    result = ask(fake_server, tmp_path, "--no-tools", "echo my key")
    assert result.returncode == 0 and result.stdout == "Your key is ***.\n"


async def test_a_retry_is_reported_on_stderr_and_as_a_json_event(fake_server: FakeServer) -> None:
    import io

    from streamchat.config.settings import Settings
    from streamchat.factory import make_agent
    from streamchat.headless import HeadlessOutput
    from streamchat.headless import ask as ask_headless

    settings = Settings(base_url=fake_server.base_url, api_key=KEY, max_retries=1, tools_enabled=False)
    fake_server.enqueue(error_response(503, "busy", retry_after="0"), text_response("fine"))
    out, err = io.StringIO(), io.StringIO()
    assert await ask_headless(make_agent(settings), "go", HeadlessOutput(out, err)) == 0
    assert out.getvalue() == "fine\n" and "retrying (server):" in err.getvalue() and "attempt 2 of 2" in err.getvalue()

    fake_server.enqueue(error_response(503, "busy", retry_after="0"), text_response("fine"))
    out = io.StringIO()
    assert await ask_headless(make_agent(settings), "go", HeadlessOutput(out, err, as_json=True)) == 0
    [retry] = [event for event in ndjson(out.getvalue()) if event["type"] == "retry"]
    assert (retry["attempt"], retry["attempts"], retry["kind"]) == (2, 2, "server") and KEY not in retry["message"]
