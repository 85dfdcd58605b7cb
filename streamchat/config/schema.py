"""The keys the config file may hold, their types, and the records they make (profiles, MCP servers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from streamchat.safety import host_of

Kind = Literal["str", "bool", "int", "number", "strings", "string_table"]
"""The value types a key can have."""

_KIND_WORDS = {"str": "a string", "bool": "true or false", "int": "a whole number", "number": "a number",
               "strings": "a list of strings", "string_table": "a table of strings"}


@dataclass(frozen=True)
class Check:
    """How one key is checked."""

    kind: Kind
    """Its type."""
    field: str | None = None
    """The ``Settings`` field it fills when that is not its own name (top-level keys only)."""
    minimum: float | None = None
    """The smallest value allowed (numbers only)."""
    positive: bool = False
    """Numbers only: must be above zero."""
    choices: tuple[str, ...] = ()
    """Strings only: the values allowed (any when empty)."""


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def checked(check: Check, value: Any) -> tuple[str | None, Any]:
    """``(None, value)`` if ``value`` fits ``check`` (converted), else ``(problem, None)``."""
    wanted = _KIND_WORDS[check.kind]
    problem = f"should be {wanted}, not {_type_name(value)}"
    if check.kind == "str":
        if isinstance(value, str) and check.choices and value not in check.choices:
            return f"should be one of {', '.join(check.choices)}, not {value!r}", None
        return (None, value) if isinstance(value, str) else (problem, None)
    if check.kind == "bool":
        return (None, value) if isinstance(value, bool) else (problem, None)
    if check.kind == "strings":
        ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        return (None, list(value)) if ok else (problem, None)
    if check.kind == "string_table":
        ok = isinstance(value, dict) and all(isinstance(item, str) for item in value.values())
        return (None, dict(value)) if ok else (problem, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return problem, None
    if check.kind == "int" and not isinstance(value, int):
        return problem, None
    if check.positive and value <= 0:
        return "should be above 0", None
    if check.minimum is not None and value < check.minimum:
        return f"should be at least {check.minimum:g}", None
    return None, float(value) if check.kind == "number" else value


LOCAL_TOOLS_CHOICES = ("auto", "on", "off")
"""Values of ``local_tools``: tools for a local model when its chat template knows them, always, never."""

TOP_LEVEL_KEYS: dict[str, Check] = {
    "default_profile": Check("str"),
    "theme": Check("str"),
    "tools": Check("bool", field="tools_enabled"),
    "always_allow": Check("strings"),
    "timeout": Check("number", positive=True),
    "connect_timeout": Check("number", positive=True),
    "max_retries": Check("int", minimum=0),
    "max_tool_rounds": Check("int", minimum=1),
    "tool_timeout": Check("number", positive=True),
    "local_tools": Check("str", choices=LOCAL_TOOLS_CHOICES),
    "workspace": Check("str"),
    "data_dir": Check("str"),
    "context_window": Check("int", minimum=1),
}
"""Keys allowed at the top of the file (``profiles`` and ``mcp`` are tables of tables)."""

PROFILE_KEYS: dict[str, Check] = {
    "base_url": Check("str"),
    "model": Check("str"),
    "api_key_env": Check("str"),
    "api_key": Check("str"),
    "headers": Check("string_table"),
    "temperature": Check("number", minimum=0),
    "max_tokens": Check("int", minimum=1),
    "system": Check("str"),
    "model_path": Check("str"),
    "local_tools": Check("str", choices=LOCAL_TOOLS_CHOICES),
    "context_window": Check("int", minimum=1),
}
"""Keys of a ``[profiles.NAME]`` table (``model_path`` makes it run a GGUF in-process)."""

LOCAL_PROFILE_KEYS = ("model_path", "local_tools", "temperature", "max_tokens", "system")
"""The keys ``[profiles.local]`` may set: the built-in profile stays the embedded model."""

MCP_KEYS: dict[str, Check] = {
    "command": Check("str"),
    "args": Check("strings"),
    "env": Check("string_table"),
    "url": Check("str"),
    "headers": Check("string_table"),
}
"""Keys of an ``[mcp.NAME]`` table."""


@dataclass(frozen=True)
class Profile:
    """A named endpoint: where to send requests, which model to ask, and how."""

    name: str
    """Its name (``[profiles.NAME]``)."""
    base_url: str | None = None
    """The server; None is OpenAI's."""
    model: str | None = None
    """The model to ask for."""
    api_key_env: str | None = None
    """The name of the environment variable that holds the key."""
    api_key: str | None = field(default=None, repr=False)
    """A key written in the file itself (only taken from a private file); never shown."""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """Extra HTTP headers sent with every request (may hold secrets: never shown)."""
    temperature: float | None = None
    """Sampling temperature."""
    max_tokens: int | None = None
    """Cap on tokens per answer."""
    system: str | None = None
    """System prompt for new conversations."""
    local: bool = False
    """True for a profile that runs a GGUF in-process (the built-in ``local``, or one with ``model_path``)."""
    model_path: str | None = None
    """The GGUF a local profile runs (None: the packaged SmolLM2)."""
    local_tools: str | None = None
    """``auto``, ``on`` or ``off``: whether its model is offered tools (see ``Settings.local_tools``)."""
    context_window: int | None = None
    """Tokens its model takes in all, for the context meter (None: asked of the server)."""

    def describe(self) -> str:
        """``gpt-4o-mini · api.openai.com`` — model and server, for lists."""
        if self.local:
            where = "embedded llama.cpp model"
            return f"{self.model_path.replace(chr(92), '/').rsplit('/', 1)[-1]} · {where}" if self.model_path else where
        return f"{self.model or 'default model'} · {host_of(self.base_url)}"


@dataclass(frozen=True)
class McpServerConfig:
    """An MCP tool server: a program spoken to over stdio, or a streamable HTTP URL."""

    name: str
    """Its name (``[mcp.NAME]``); its tools are called ``NAME__tool``."""
    command: str | None = None
    """The program to run (stdio)."""
    args: list[str] = field(default_factory=list)
    """Its arguments."""
    env: dict[str, str] = field(default_factory=dict, repr=False)
    """Variables added to its (minimal) environment; may hold secrets, never shown."""
    url: str | None = None
    """The server's URL (streamable HTTP)."""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """HTTP headers for ``url`` (may hold secrets, never shown)."""

    def describe(self) -> str:
        """``stdio: uvx mcp-server-filesystem .`` or ``http: https://…``."""
        if self.url:
            return f"http: {self.url}"
        return "stdio: " + " ".join([self.command or "", *self.args])
