"""MCP servers from the command line: ``ask`` denies an MCP tool without --yes, ``mcp list``; tool naming."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fake_server import FakeServer, text_response, tool_call_response

from streamchat.cli import build_parser
from streamchat.mcp.servers import tool_name

SERVER = Path(__file__).resolve().parents[1] / "mcp_server.py"


def test_tool_names_show_the_server_and_fit_the_api() -> None:
    assert tool_name("files", "read_text") == "files__read_text"
    assert tool_name("my server", "a.b/c") == "my_server__a_b_c"
    assert len(tool_name("s" * 40, "t" * 40)) == 64


def cli(tmp_path: Path, server: FakeServer, *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "xdg" / "streamchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f"""\
[mcp.demo]
command = {json.dumps(sys.executable)}
args = [{json.dumps(str(SERVER))}]

[mcp.broken]
command = "no-such-mcp-server-program"
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), OPENAI_BASE_URL=server.base_url, OPENAI_API_KEY="sk-test-1234",
               STREAMCHAT_MAX_RETRIES="0", STREAMCHAT_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run([sys.executable, "-m", "streamchat", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60)


def test_ask_denies_an_mcp_tool_without_yes_and_says_so(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response([("call_1", "demo__slow", {"seconds": 0.1})]),
                        text_response("I could not run it."))
    result = cli(tmp_path, fake_server, "ask", "wait please")
    assert result.returncode == 0, result.stderr
    assert "⊘ demo__slow denied: streamchat ask cannot ask for approval" in result.stderr
    assert "MCP broken is not available: the program was not found" in result.stderr
    assert result.stdout.strip() == "I could not run it."
    offered = [tool["function"]["name"] for tool in fake_server.requests[0].body["tools"]]
    assert "demo__slow" in offered and not any(name.startswith("broken__") for name in offered)
    told = [m["content"] for m in fake_server.requests[1].messages if m["role"] == "tool"]
    assert told[0].startswith("demo__slow was not run: it needs the user's approval")


def test_ask_json_says_how_much_of_the_wait_was_starting_the_mcp_servers(fake_server: FakeServer,
                                                                         tmp_path: Path) -> None:
    fake_server.enqueue(text_response("Hello."))
    result = cli(tmp_path, fake_server, "ask", "--json", "hello")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["type"] == "done"
    assert 0 < done["mcp_start_ms"] < done["request_sent_ms"] < done["ttft_ms"], done
    assert done["mcp_start_ms"] > 100, "a Python MCP server takes a while to start: that is what it says apart"


def test_ask_takes_yes_and_profile_flags() -> None:
    """``--yes`` reaches ask's approver (its effect is tested in process, in test_approval.py)."""
    args = build_parser().parse_args(["ask", "--yes", "-p", "work", "hi"])
    assert args.yes is True and args.profile == "work" and args.prompt == "hi"
    assert build_parser().parse_args(["ask", "hi"]).yes is False


def test_mcp_list_shows_servers_states_and_tools(fake_server: FakeServer, tmp_path: Path) -> None:
    result = cli(tmp_path, fake_server, "mcp", "list", "--json")
    assert result.returncode == 1, "a server failed to start"
    listing = {server["name"]: server for server in json.loads(result.stdout)}
    assert listing["demo"]["state"] == "running"
    assert [tool["name"] for tool in listing["demo"]["tools"]] == ["demo__slow", "demo__fail"]
    assert listing["broken"]["state"] == "failed" and "not found" in listing["broken"]["problem"]
