"""The chat's MCP servers: started after the first frame, their tools kept in the agent's registry.

A server that comes up says how many tools it brought; one that fails to start
or dies says why in the conversation, and its tools disappear from the next
request on. The chat goes on either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from streamchat.mcp.servers import McpManager, McpServer, describe_server

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.config.settings import Settings


class McpLink:
    """Owns the chat's ``McpManager``: gives ``agent()`` the servers' tools, ``tell``s what the servers do."""

    def __init__(self, settings: Settings, agent: Callable[[], Agent | None], tell: Callable[[str], object]) -> None:
        self._agent = agent
        self._tell = tell
        self.manager = McpManager.for_settings(settings, on_change=self.changed)
        """The servers."""

    def start(self) -> None:
        """Connect to the servers in the background (after the first frame)."""
        if self.manager.servers:
            self.manager.start()

    def install(self, agent: Agent) -> None:
        """Give ``agent`` the running servers' tools (and take away those of servers gone)."""
        if agent.registry is not None:
            self.manager.install(agent.registry)

    def changed(self, server: McpServer) -> None:
        """A server came up, failed or died: update the tools and say so (not for our own shutdown)."""
        agent = self._agent()
        if agent is not None:
            self.install(agent)
        if server.state in ("running", "failed"):
            self._tell(describe_server(server))

    async def aclose(self) -> None:
        """Disconnect (stdio servers are shut down)."""
        await self.manager.aclose()
