"""Tool registry: JSON schemas derived from Python functions, and safe execution.

A tool is an ordinary Python function (sync or async) with type hints and a
Google-style docstring.  :class:`ToolRegistry` turns it into the
``tools=`` entry expected by ``chat.completions`` and runs it with the raw
argument string produced by the model, converting every failure into a
:class:`ToolOutcome` the model can read.  This module never imports UI or
network libraries.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from streamchat.tools.schema import (
    ArgumentError,
    decode_arguments,
    parameters_schema,
    parse_arguments,
    parse_docstring,
)

MAX_RESULT_CHARS = 20_000
"""Result text longer than this is truncated before it is handed to the model."""

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class ToolOutcome:
    """The result of running a tool: the text the model receives and whether it failed."""

    content: str
    is_error: bool


@dataclass
class Tool:
    """A callable exposed to the model, with its JSON-schema description."""

    name: str
    description: str
    parameters: dict[str, Any]
    function: Callable[..., Any]
    timeout_s: float
    needs_approval: bool = False
    """True when the user must allow each call first (file tools, MCP tools)."""
    raw_arguments: bool = False
    """True when ``function`` takes the decoded arguments as one dict (checked by whoever runs it)."""
    server: str | None = None
    """The MCP server it comes from, if any."""

    def schema(self) -> dict[str, Any]:
        """Return the OpenAI ``tools=`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        timeout_s: float = 10.0,
        needs_approval: bool = False,
    ) -> Tool:
        """Build a tool whose schema comes from ``function``'s signature and docstring."""
        tool_name = name if name is not None else getattr(function, "__name__", "")
        if not _NAME_RE.match(tool_name):
            raise ValueError(
                f"Invalid tool name {tool_name!r}: use 1-64 letters, digits, _ or - (pass name= if needed)"
            )
        if not timeout_s > 0:
            raise ValueError(f"Tool timeout must be positive, got {timeout_s!r}")
        description, arg_docs = parse_docstring(inspect.getdoc(function) or "")
        parameters = parameters_schema(function, arg_docs)
        return cls(tool_name, description, parameters, function, float(timeout_s), needs_approval)


def format_result(result: Any) -> str:
    """Turn a tool's return value into text for the model, truncated to the cap."""
    text = result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        dropped = len(text) - MAX_RESULT_CHARS
        text = (
            f"{text[:MAX_RESULT_CHARS]}\n[truncated: result was {len(text)} characters; "
            f"the last {dropped} were dropped (cap {MAX_RESULT_CHARS})]"
        )
    return text


def _is_async(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    # A callable object whose __call__ is a coroutine function.
    return inspect.iscoroutinefunction(type(function).__call__)


async def _invoke(tool: Tool, kwargs: dict[str, Any]) -> ToolOutcome:
    try:
        if _is_async(tool.function):
            result = await tool.function(**kwargs)
        else:
            result = await asyncio.to_thread(tool.function, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, ToolOutcome):  # a tool that knows whether it failed (an MCP tool)
            return ToolOutcome(format_result(result.content), result.is_error)
        return ToolOutcome(format_result(result), False)
    except Exception as exc:  # noqa: BLE001 - every tool failure becomes an outcome
        message = str(exc)
        text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
        return ToolOutcome(text, True)


class ToolRegistry:
    """A named collection of tools that can describe and run them for the model."""

    def __init__(self, *, timeout_s: float = 10.0) -> None:
        """Create an empty registry; ``timeout_s`` is the default per-call time limit."""
        if not timeout_s > 0:
            raise ValueError(f"Tool timeout must be positive, got {timeout_s!r}")
        self.timeout_s = float(timeout_s)
        self._tools: dict[str, Tool] = {}

    def register(
        self,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        timeout_s: float | None = None,
        needs_approval: bool = False,
    ) -> Tool:
        """Add ``function`` as a tool (schema from its signature and docstring) and return it."""
        tool = Tool.from_function(
            function,
            name=name,
            timeout_s=self.timeout_s if timeout_s is None else timeout_s,
            needs_approval=needs_approval,
        )
        return self.add(tool)

    def add(self, tool: Tool) -> Tool:
        """Add a tool made elsewhere (an MCP server's); its name must be free."""
        if tool.name in self._tools:
            raise ValueError(f"A tool named '{tool.name}' is already registered")
        self._tools[tool.name] = tool
        return tool

    def remove(self, name: str) -> None:
        """Take a tool away (its MCP server stopped); unknown names are ignored."""
        self._tools.pop(name, None)

    def needs_approval(self, name: str) -> bool:
        """True when a call of ``name`` must be allowed first (unknown tools need not: they fail anyway)."""
        tool = self._tools.get(name)
        return tool is not None and tool.needs_approval

    def get(self, name: str) -> Tool | None:
        """Return the tool called ``name``, or ``None``."""
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        """Names of the registered tools, in registration order."""
        return list(self._tools)

    def schemas(self) -> list[dict[str, Any]]:
        """Return the ``tools=`` parameter for ``chat.completions``."""
        return [tool.schema() for tool in self._tools.values()]

    async def run(self, name: str, arguments: str) -> ToolOutcome:
        """Run tool ``name`` with the model's raw JSON ``arguments``.

        Every failure (unknown tool, bad arguments, exception, timeout) becomes an
        error outcome; cancellation of the caller propagates.  A sync tool that
        times out keeps running in its worker thread until it returns, but its
        result is discarded.
        """
        tool = self._tools.get(name)
        if tool is None:
            available = ", ".join(self._tools) or "(none)"
            return ToolOutcome(f"Unknown tool '{name}'. Available tools: {available}", True)
        try:
            if tool.raw_arguments:
                kwargs = {"arguments": decode_arguments(arguments)}
            else:
                kwargs = parse_arguments(tool.name, tool.parameters, tool.function, arguments)
        except ArgumentError as exc:
            return ToolOutcome(str(exc), True)
        except Exception as exc:  # noqa: BLE001 - e.g. a hand-written schema we cannot interpret
            return ToolOutcome(f"Could not check the arguments: {type(exc).__name__}: {exc}", True)
        try:
            return await asyncio.wait_for(_invoke(tool, kwargs), timeout=tool.timeout_s)
        except TimeoutError:
            return ToolOutcome(f"Tool '{name}' timed out after {tool.timeout_s:g} s", True)
