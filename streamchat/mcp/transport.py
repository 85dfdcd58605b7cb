"""How streamchat reaches an MCP server: the SDK's stdio or streamable HTTP transport, watched.

The read stream is wrapped so that its end (the server process exited, or
closed its output) is noticed at once, not only at the next call. Nothing
here is imported before it is needed: it pulls in the ``mcp`` SDK.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from streamchat.config.schema import McpServerConfig


class WatchedReadStream:
    """A transport's read stream that calls ``on_end`` once when the server's messages end."""

    def __init__(self, stream: Any, on_end: Callable[[], None]) -> None:
        self._stream = stream
        self._on_end = on_end
        self._ended = False

    @property
    def last_context(self) -> Any:
        """The sender's context of the last message, when the wrapped stream keeps one."""
        return getattr(self._stream, "last_context", None)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self._on_end()

    async def receive(self) -> Any:
        """The next message; notes the end of the stream."""
        import anyio

        try:
            return await self._stream.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._end()
            raise

    def __aiter__(self) -> WatchedReadStream:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Close the wrapped stream."""
        await self._stream.aclose()

    async def __aenter__(self) -> WatchedReadStream:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()


@asynccontextmanager
async def open_transport(config: McpServerConfig, log_path: Path, on_end: Callable[[], None]
                         ) -> AsyncIterator[tuple[Any, Any]]:
    """The (read, write) streams to ``config``'s server; a stdio server's stderr goes to ``log_path``."""
    async with AsyncExitStack() as stack:
        if config.url:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = await stack.enter_async_context(httpx2.AsyncClient(
                headers=dict(config.headers), timeout=httpx2.Timeout(30.0, read=300.0)))
            read, write = await stack.enter_async_context(streamable_http_client(config.url, http_client=http))
        else:
            from mcp import StdioServerParameters, stdio_client

            log_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            log = stack.enter_context(open(log_path, "a", encoding="utf-8"))
            log_path.chmod(0o600)
            params = StdioServerParameters(command=config.command or "", args=list(config.args), env=dict(config.env))
            read, write = await stack.enter_async_context(stdio_client(params, errlog=log))
        yield WatchedReadStream(read, on_end), write
