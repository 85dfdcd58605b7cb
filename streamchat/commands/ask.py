"""``streamchat ask``: stream one answer to stdout."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from streamchat.config.settings import Settings

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.headless import HeadlessOutput
    from streamchat.messages import Attachment


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``ask`` parser."""
    ask = commands.add_parser("ask", parents=[common], help="stream one answer to stdout (headless)")
    ask.add_argument("prompt", nargs="?",
                     help="the question; text piped in is sent after it (without it, or with -, stdin alone)")
    ask.add_argument("--json", action="store_true", help="one JSON object per event (NDJSON)")
    ask.add_argument("--no-stream", action="store_true", help="one blocking request instead of streaming")
    ask.add_argument("--yes", "-y", action="store_true",
                     help="let file and MCP tools run without approval (otherwise denied, unless always_allow "
                          "in the config file allows them)")
    ask.set_defaults(handler=run)


async def ask_with_servers(agent: Agent, prompt: str, output: HeadlessOutput, *, stream: bool,
                           asked_at: float | None = None, attachments: list[Attachment] | None = None) -> int:
    """``ask`` with the config file's MCP servers started first (a server that fails is said on stderr; the
    time it took goes to ``output.mcp_start_ms``); ``asked_at`` is when the user asked (see ``headless.ask``),
    ``attachments`` go with the prompt."""
    from streamchat.headless import ask
    from streamchat.mcp.servers import describe_server, started_servers

    settings = agent.settings
    if not settings.mcp_servers or not settings.tools_enabled or agent.registry is None:
        return await ask(agent, prompt, output, stream=stream, asked_at=asked_at, attachments=attachments)
    starting = time.perf_counter()
    async with started_servers(settings) as servers:
        output.mcp_start_ms = (time.perf_counter() - starting) * 1000.0  # part of what the user waited: said apart
        for server in servers.servers.values():
            if server.state != "running":
                print(f"streamchat: {describe_server(server)}", file=sys.stderr)
        servers.install(agent.registry)
        return await ask(agent, prompt, output, stream=stream, asked_at=asked_at, attachments=attachments)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Ask once, print the answer as it streams, return the exit status."""
    from streamchat.approval import ApprovalPolicy
    from streamchat.attachments import AttachmentRefused
    from streamchat.backends.errors import BackendError
    from streamchat.factory import make_agent
    from streamchat.headless import (
        EXIT_BROKEN_PIPE,
        EXIT_CONFIG,
        EXIT_INTERRUPTED,
        HeadlessApprover,
        HeadlessOutput,
        read_prompt,
    )
    from streamchat.tools.files import Workspace

    try:
        prompt, attachments = read_prompt(args.prompt, workspace=Workspace(settings.workspace_path))
    except (AttachmentRefused, OSError) as exc:
        print(f"streamchat ask: not asked: {exc}.", file=sys.stderr)
        return EXIT_CONFIG
    if not prompt:
        print("streamchat ask: give a prompt as an argument or on stdin.", file=sys.stderr)
        return EXIT_CONFIG
    output = HeadlessOutput(sys.stdout, sys.stderr, as_json=args.json, sanitize=sys.stdout.isatty(),
                            secret=settings.api_key, dim=sys.stderr.isatty())
    try:
        agent = make_agent(settings)
        agent.approver = HeadlessApprover(ApprovalPolicy(settings.always_allow, yes=args.yes))
        return asyncio.run(ask_with_servers(agent, prompt, output, stream=not args.no_stream,
                                            asked_at=getattr(args, "started_at", None), attachments=attachments))
    except BackendError as exc:
        print(f"streamchat: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\n[stopped]", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a SIGPIPE'd tool would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
