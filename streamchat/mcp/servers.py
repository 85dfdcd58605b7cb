"""MCP tool servers (``[mcp.NAME]`` in the config file), through the official ``mcp`` SDK.

``McpManager.start()`` connects to every server in the background; each one's
tools become ``Tool``s named ``NAME__tool`` that ask before they run and go
through the same registry and agent loop as the built-ins. A server that
fails to start, or dies, is marked so (``on_change`` is told) and its tools
leave the registry at the next ``install``; a call cut off by its death gets
a clear error as its result, and the chat goes on. The SDK is imported in a
thread, so the event loop never waits on it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from streamchat.config.schema import McpServerConfig
from streamchat.config.settings import Settings
from streamchat.safety import strip_control
from streamchat.store.files import default_data_dir
from streamchat.tools.registry import Tool, ToolOutcome, ToolRegistry

ServerState = Literal["starting", "running", "failed", "stopped"]
"""Where a server is: connecting, serving its tools, could not start or died, closed by us."""

START_TIMEOUT_S = 20.0
"""How long a server may take to start and list its tools."""


def tool_name(server: str, tool: str) -> str:
    """``server__tool``, cut to what chat-completions allows (64 of ``A-Za-z0-9_-``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:64]


def result_text(result: Any) -> str:
    """A ``CallToolResult``'s content as text for the model (images and resources named, not inlined)."""
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            parts.append(str(block.text))
        elif kind in ("image", "audio"):
            parts.append(f"[{kind}: {getattr(block, 'mime_type', '') or 'binary'}]")
        elif kind == "resource":
            resource = block.resource
            parts.append(str(getattr(resource, "text", None) or f"[resource: {resource.uri}]"))
        elif kind == "resource_link":
            parts.append(f"[resource: {block.uri}]")
    if not parts and getattr(result, "structured_content", None) is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False))
    return "\n".join(parts)


@dataclass(eq=False)
class McpServer:
    """One configured server and what we know of it."""

    config: McpServerConfig
    """How to reach it."""
    state: ServerState = "starting"
    """Where it is."""
    problem: str | None = None
    """Why it failed, for people."""
    tools: list[Tool] = field(default_factory=list)
    """Its tools, named ``NAME__tool`` (empty unless running)."""
    client: Any = None
    """The connected ``mcp.Client`` while running."""
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when its messages end (the process exited)."""
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    """Set to disconnect."""
    task: asyncio.Task[None] | None = None
    """The task that holds the connection."""

    @property
    def name(self) -> str:
        """Its name in the config file."""
        return self.config.name


class McpManager:
    """Starts the configured servers, keeps their tools, and says when one comes or goes."""

    def __init__(self, configs: tuple[McpServerConfig, ...], *, log_dir: Path, timeout_s: float = 10.0,
                 on_change: Callable[[McpServer], None] | None = None) -> None:
        self.servers = {config.name: McpServer(config) for config in configs}
        """The servers by name."""
        self.log_dir = log_dir
        """Where each stdio server's stderr is written (``NAME.log``)."""
        self.timeout_s = timeout_s
        """Seconds each tool call may run."""
        self.on_change = on_change
        """Called with a server whenever its state changes."""

    @classmethod
    def for_settings(cls, settings: Settings, on_change: Callable[[McpServer], None] | None = None) -> McpManager:
        """The config file's servers, their logs in the data folder's ``mcp/``, each call ``tool_timeout`` long."""
        return cls(settings.mcp_servers, log_dir=default_data_dir(settings.data_dir) / "mcp",
                   timeout_s=settings.tool_timeout, on_change=on_change)

    def start(self) -> None:
        """Connect to every server in the background (call from the event loop)."""
        for server in self.servers.values():
            if server.task is None:
                server.task = asyncio.create_task(self._serve(server), name=f"mcp-{server.name}")

    async def wait_started(self, timeout: float = START_TIMEOUT_S) -> None:
        """Wait until no server is still starting (or ``timeout`` passes)."""
        with suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(server.state == "starting" for server in self.servers.values()):
                    await asyncio.sleep(0.02)

    def install(self, registry: ToolRegistry) -> None:
        """Make ``registry`` hold exactly the tools of the running servers (besides its own)."""
        live = {tool.name: tool for server in self.servers.values() if server.state == "running"
                for tool in server.tools}
        for name in registry.names:
            tool = registry.get(name)
            if tool is not None and tool.server is not None and live.get(name) is not tool:
                registry.remove(name)
        for name, tool in live.items():
            if registry.get(name) is None:
                registry.add(tool)

    async def aclose(self) -> None:
        """Disconnect from every server (stdio servers are shut down)."""
        tasks = [server.task for server in self.servers.values() if server.task is not None]
        for server in self.servers.values():
            server.stop.set()
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=5.0)
            for task in late:
                task.cancel()

    def _set(self, server: McpServer, state: ServerState, problem: str | None = None) -> None:
        server.state, server.problem = state, problem
        if state != "running":
            server.client = None
        if self.on_change is not None:
            self.on_change(server)

    def log_path(self, server: McpServer) -> Path:
        """Where a stdio server's stderr goes."""
        return self.log_dir / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', server.name)}.log"

    async def _serve(self, server: McpServer) -> None:
        try:
            await asyncio.to_thread(__import__, "mcp")  # the SDK is heavy: import it off the event loop
            from mcp import Client

            from streamchat.mcp.transport import open_transport

            async with asyncio.timeout(START_TIMEOUT_S):
                transport = open_transport(server.config, self.log_path(server), server.closed.set)
                client = await Client(transport).__aenter__()
            try:
                async with asyncio.timeout(START_TIMEOUT_S):
                    server.tools = await self._list_tools(server, client)
                server.client = client
                self._set(server, "running")
                waits = [asyncio.create_task(server.stop.wait()), asyncio.create_task(server.closed.wait())]
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for waiting in waits:
                    waiting.cancel()
            finally:
                server.client = None
                with suppress(Exception):
                    await client.__aexit__(None, None, None)
            if server.stop.is_set():
                self._set(server, "stopped")
            else:
                self._set(server, "failed", f"the server exited{self._last_words(server)}")
        except asyncio.CancelledError:
            self._set(server, "stopped")
            raise
        except Exception as exc:  # noqa: BLE001 - any failure to start is shown, never raised
            why = "it exited while starting" if server.closed.is_set() else _describe(exc)
            self._set(server, "failed", f"{why}{self._last_words(server)}")

    def _last_words(self, server: McpServer) -> str:
        """``: <the last line it wrote to stderr> (log: PATH)`` for a stdio server, else ''."""
        if server.config.url:
            return ""
        path = self.log_path(server)
        try:
            lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        last = f": {lines[-1][:200]}" if lines else ""
        return f"{last} (log: {path})"

    async def _list_tools(self, server: McpServer, client: Any) -> list[Tool]:
        tools: list[Tool] = []
        cursor = None
        while True:
            listed = await client.list_tools(cursor=cursor)
            for tool in listed.tools:
                name = tool_name(server.name, tool.name)
                if any(known.name == name for known in tools):
                    continue
                schema = dict(tool.input_schema or {"type": "object", "properties": {}})
                tools.append(Tool(name, tool.description or tool.title or tool.name, schema,
                                  self._caller(server, tool.name), self.timeout_s, needs_approval=True,
                                  raw_arguments=True, server=server.name))
            cursor = listed.next_cursor
            if not cursor:
                return tools

    def _caller(self, server: McpServer, name: str) -> Callable[..., Any]:
        async def call(arguments: dict[str, Any]) -> ToolOutcome:
            client = server.client
            if client is None:
                return ToolOutcome(f"The MCP server '{server.name}' is not running ({server.problem or server.state}).",
                                   True)
            try:
                result = await client.call_tool(name, arguments)
            except Exception as exc:  # noqa: BLE001 - a broken server is a tool error, not a crash
                await asyncio.sleep(0.05)  # let the end of its output be seen
                if server.closed.is_set() or "closed" in str(exc).lower():
                    return ToolOutcome(f"The MCP server '{server.name}' closed the connection during the call "
                                       "(it crashed or exited); its tools are no longer available.", True)
                return ToolOutcome(f"The MCP server '{server.name}' failed: {_describe(exc)}", True)
            text = result_text(result)
            return ToolOutcome(text or ("(the tool failed without a message)" if result.is_error else "(no output)"),
                               bool(result.is_error))

        return call


@asynccontextmanager
async def started_servers(settings: Settings) -> AsyncIterator[McpManager]:
    """The config file's servers, started (or failed) before the block; disconnected after it. For headless
    commands."""
    manager = McpManager.for_settings(settings)
    manager.start()
    try:
        await manager.wait_started()
        yield manager
    finally:
        await manager.aclose()


def describe_server(server: McpServer) -> str:
    """One line about a server's state, for notes in the chat and ``streamchat mcp list``."""
    if server.state == "running":
        names = ", ".join(tool.name for tool in server.tools) or "none"
        return f"MCP {server.name}: {len(server.tools)} tool{'' if len(server.tools) == 1 else 's'} ({names})"
    if server.state == "failed":
        why = " ".join(strip_control(server.problem or "it failed").split())
        return f"MCP {server.name} is not available: {why}; its tools are not offered"
    return f"MCP {server.name}: {server.state}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"it did not answer within {START_TIMEOUT_S:.0f} s"
    if isinstance(exc, FileNotFoundError):
        return f"the program was not found ({exc.filename or exc})"
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions[:3])
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
