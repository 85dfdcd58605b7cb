"""A real MCP tool server for the tests, written with the official SDK: one slow tool, one that fails.

Run over stdio (``python tests/mcp_server.py``) or streamable HTTP
(``python tests/mcp_server.py --http PORT``). ``slow`` with ``then_exit``
kills the process mid-call, as a crashing server would.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("test-tools")


@server.tool()
async def slow(seconds: float = 0.3, then_exit: bool = False) -> str:
    """Wait a while, then say how long it waited.

    Args:
        seconds: How long to wait.
        then_exit: Crash (exit the server process) instead of answering.
    """
    await asyncio.sleep(seconds)
    if then_exit:
        print("test server: exiting mid-call as asked", file=sys.stderr, flush=True)
        os._exit(3)
    return f"waited {seconds} s"


@server.tool()
def fail(why: str) -> str:
    """Always fails, with the reason given.

    Args:
        why: What the error says.
    """
    raise ToolError(f"failed on purpose: {why}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
