"""``streamchat mcp list``: the config file's MCP servers, their state and their tools."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from streamchat.config.settings import Settings

EXIT_FAILED = 1
"""Some server could not be started."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``mcp`` parser."""
    mcp = commands.add_parser("mcp", parents=[common], help="MCP tool servers: start them and list their tools")
    mcp.add_argument("action", choices=("list",), help="list: each server, its state and its tools")
    mcp.add_argument("--json", action="store_true", help="print a JSON array")
    mcp.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Start every server, list what each offers, stop them; return the exit status."""
    from streamchat.mcp.servers import started_servers
    from streamchat.safety import escape_raw_controls, strip_control

    if not settings.mcp_servers:
        print("No MCP servers in the config file ([mcp.NAME]; see `streamchat config edit`).")
        return 0

    async def collect() -> list[dict[str, Any]]:
        async with started_servers(settings) as servers:
            return [{"name": s.name, "transport": s.config.describe(), "state": s.state, "problem": s.problem,
                     "tools": [{"name": t.name, "description": t.description} for t in s.tools]}
                    for s in servers.servers.values()]

    try:
        listing = asyncio.run(collect())
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(escape_raw_controls(json.dumps(listing, indent=2, ensure_ascii=False)))
    else:
        for server in listing:
            state = server["state"] if server["state"] == "running" else f"{server['state']}: {server['problem']}"
            print(strip_control(f"{server['name']}  {state}  ({server['transport']})"))
            for tool in server["tools"]:
                summary = " ".join(str(tool["description"]).split())[:100]
                print(strip_control(f"  {tool['name']}  {summary}"))
    return EXIT_FAILED if any(server["state"] != "running" for server in listing) else 0
