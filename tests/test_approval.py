"""Approval outside the chat: the policy, and headless ``ask``, which never waits for an answer."""

from __future__ import annotations

import io
import json
from pathlib import Path

from fake_server import FakeServer, text_response, tool_call_response

from streamchat.approval import Approval, ApprovalPolicy
from streamchat.config.settings import Settings
from streamchat.factory import make_agent
from streamchat.headless import HeadlessApprover, HeadlessOutput, ask

READ = [("call_1", "read_file", {"path": "notes.txt"})]


def test_policy_allows_yes_patterns_and_chat_choices_and_asks_for_the_rest() -> None:
    policy = ApprovalPolicy(("files__*", "read_file"))
    assert policy.decide("files__read") == Approval(True, by="config", scope="always")
    assert policy.decide("read_file") is not None and policy.decide("list_files") is None
    policy.chat_allowed.add("list_files")
    assert policy.decide("list_files") == Approval(True, by="user", scope="chat")
    assert ApprovalPolicy(yes=True).decide("anything") == Approval(True, by="yes", scope="always")
    assert Approval(False, reason="no").result_for_model("t") == "The user did not allow t to run. Their reason: no"


async def run_ask(server: FakeServer, tmp_path: Path, policy: ApprovalPolicy, *, as_json: bool = False
                  ) -> tuple[int, str, str]:
    (tmp_path / "notes.txt").write_text("the plan")
    settings = Settings(base_url=server.base_url, api_key="sk-test", max_retries=0, workspace=str(tmp_path))
    agent = make_agent(settings)
    agent.approver = HeadlessApprover(policy)
    out, err = io.StringIO(), io.StringIO()
    status = await ask(agent, "read my notes", HeadlessOutput(out, err, as_json=as_json, sanitize=False))
    return status, out.getvalue(), err.getvalue()


async def test_headless_ask_denies_without_waiting_says_so_on_stderr_and_tells_the_model(
        fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response(READ), text_response("I was not allowed to read it."))
    status, out, err = await run_ask(fake_server, tmp_path, ApprovalPolicy(), as_json=True)
    assert status == 0 and "⊘ read_file denied: streamchat ask cannot ask for approval: run it with --yes" in err
    events = [json.loads(line) for line in out.splitlines()]
    approval = next(e for e in events if e["type"] == "tool_approval")
    assert (approval["allowed"], approval["by"]) == (False, "headless")
    told = [m["content"] for m in fake_server.requests[1].messages if m["role"] == "tool"]
    assert told == ["read_file was not run: it needs the user's approval, and this run could not ask for it."]
    assert "--yes" not in told[0] and "always_allow" not in told[0], "the user's instructions are not the model's"
    assert not any(e["type"] == "tool_running" for e in events), "the tool never ran"


async def test_headless_ask_runs_a_tool_allowed_by_yes_or_by_the_config(fake_server: FakeServer,
                                                                        tmp_path: Path) -> None:
    fake_server.enqueue(tool_call_response(READ), text_response("It says the plan."),
                        tool_call_response(READ), text_response("Again."))
    status, _, err = await run_ask(fake_server, tmp_path, ApprovalPolicy(yes=True))
    assert status == 0 and "✓ read_file allowed by --yes" in err and "the plan" in err
    status, _, err = await run_ask(fake_server, tmp_path, ApprovalPolicy(("read_*",)))
    assert status == 0 and "allowed by always_allow in the config file" in err
    told = [m["content"] for m in fake_server.requests[3].messages if m["role"] == "tool"]
    assert told == ["the plan"]
