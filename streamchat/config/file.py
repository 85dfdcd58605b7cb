"""The config file, ``$XDG_CONFIG_HOME/streamchat/config.toml``: read, checked, never fatal.

Read with the standard library's ``tomllib``. Every key is checked against
the table below; an unknown key or a value of the wrong type becomes a
``ConfigIssue`` (file, line, key, what is wrong) and that key is left out, so
the program starts on the default for it. A file that is not valid TOML is
ignored whole, with one issue saying where it breaks. Writing back (keeping
the user's comments) is ``config_write``'s job.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamchat.config.schema import (
    LOCAL_PROFILE_KEYS,
    MCP_KEYS,
    PROFILE_KEYS,
    TOP_LEVEL_KEYS,
    Check,
    McpServerConfig,
    Profile,
    checked,
)

CONFIG_NAME = "config.toml"
"""The file's name inside the config folder."""

LOCAL_PROFILE = Profile(name="local", local=True)
"""The built-in profile that runs the embedded llama.cpp model."""


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/streamchat``, else ``~/.config/streamchat``."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "streamchat"


def config_path() -> Path:
    """Where the config file is (whether or not it exists)."""
    return config_dir() / CONFIG_NAME


@dataclass(frozen=True)
class ConfigIssue:
    """Something in the config file that was not used, and why."""

    path: Path
    """The file."""
    line: int | None
    """Its line (1-based), when it could be found."""
    key: str
    """The key, dotted (``profiles.work.temperature``); empty for the file as a whole."""
    message: str
    """What is wrong and what happens instead."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


@dataclass(frozen=True)
class ConfigFile:
    """What the config file says, once checked."""

    path: Path
    """Where it was read from."""
    exists: bool = False
    """False when there is no file (everything is then a default)."""
    values: dict[str, Any] = field(default_factory=dict)
    """Top-level settings by ``Settings`` field name (``tools`` -> ``tools_enabled``...)."""
    default_profile: str | None = None
    """The profile used when none is named."""
    theme: str | None = None
    """The colour theme."""
    always_allow: tuple[str, ...] = ()
    """Tools that run without asking (names or ``fnmatch`` patterns such as ``files__*``)."""
    profiles: dict[str, Profile] = field(default_factory=lambda: {"local": LOCAL_PROFILE})
    """Profiles by name, the built-in ``local`` included."""
    mcp: dict[str, McpServerConfig] = field(default_factory=dict)
    """MCP servers by name."""
    issues: tuple[ConfigIssue, ...] = ()
    """What was wrong; each such key was left out."""


def is_private(path: Path) -> bool:
    """True when only the owner may read or write ``path`` (mode 0600 or stricter)."""
    try:
        return stat.S_IMODE(path.stat().st_mode) & 0o077 == 0
    except OSError:
        return False


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.\-" ]+?)\s*=""")


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in re.split(r"\.(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", dotted))


def find_line(text: str, key: tuple[str, ...]) -> int | None:
    """The line where ``key`` (a path of names) is written: a ``[table]`` header or a ``name =`` line."""
    table: tuple[str, ...] = ()
    fallback = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _parts(header.group(1))
            if table == key:
                return number
            continue
        match = _KEY.match(line)
        if match:
            full = table + _parts(match.group(1))
            if full == key or (len(key) > len(full) and key[: len(full)] == full):  # inside an inline table
                return number
            if fallback is None and full[-1:] == key[-1:]:
                fallback = number
    return fallback


class _Reader:
    """Checks one parsed file, collecting issues."""

    def __init__(self, path: Path, text: str) -> None:
        self.path, self.text = path, text
        self.issues: list[ConfigIssue] = []

    def issue(self, key: tuple[str, ...], message: str) -> None:
        self.issues.append(ConfigIssue(self.path, find_line(self.text, key), ".".join(key), message))

    def table(self, data: Mapping[str, Any], where: tuple[str, ...], known: Mapping[str, Check]) -> dict[str, Any]:
        """The keys of ``data`` that are known and well typed, converted; issues for the rest."""
        good: dict[str, Any] = {}
        for key, value in data.items():
            check = known.get(key)
            if check is None:
                names = ", ".join(known)
                self.issue((*where, key), f"unknown key (ignored); known keys here: {names}")
                continue
            problem, converted = checked(check, value)
            if problem:
                self.issue((*where, key), f"{problem} (ignored; the default is used)")
            else:
                good[key] = converted
        return good

    def named_tables(self, data: Mapping[str, Any], where: str) -> dict[str, Mapping[str, Any]]:
        tables: dict[str, Mapping[str, Any]] = {}
        for name, value in data.items():
            if isinstance(value, dict):
                tables[name] = value
            else:
                self.issue((where, name), f"should be a table ([{where}.{name}]) (ignored)")
        return tables


def _profile(reader: _Reader, name: str, data: Mapping[str, Any], private: bool) -> Profile:
    if name == "local":  # the built-in profile: only what the embedded model can use
        known = {key: check for key, check in PROFILE_KEYS.items() if key in LOCAL_PROFILE_KEYS}
        return Profile(name="local", local=True, **reader.table(data, ("profiles", name), known))
    values = reader.table(data, ("profiles", name), PROFILE_KEYS)
    if "api_key" in values and not private:
        reader.issue(("profiles", name, "api_key"),
                     f"ignored: the file can be read by others; make it private with chmod 600 {reader.path}")
        del values["api_key"]
    if "local_tools" in values and "model_path" not in values:
        reader.issue(("profiles", name, "local_tools"), "only applies to a profile with model_path (ignored)")
        del values["local_tools"]
    return Profile(name=name, local="model_path" in values, **values)


def _mcp(reader: _Reader, name: str, data: Mapping[str, Any]) -> McpServerConfig | None:
    values = reader.table(data, ("mcp", name), MCP_KEYS)
    if "command" in values and "url" in values:
        reader.issue(("mcp", name), "has both command and url: give one, command (a program to run) or url "
                                    "(streamable HTTP) (server ignored)")
        return None
    if "command" not in values and "url" not in values:
        reader.issue(("mcp", name), "needs command (a program to run) or url (streamable HTTP) (server ignored)")
        return None
    return McpServerConfig(name=name, **values)


def load_config(path: Path | None = None) -> ConfigFile:
    """Read and check the config file (default: ``config_path()``); never raises for its content."""
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        return ConfigFile(path, exists=True, issues=(ConfigIssue(path, None, "", f"cannot be read ({reason}); "
                                                                                  "using defaults"),))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        return ConfigFile(path, exists=True, issues=(ConfigIssue(path, line, "", f"not valid TOML ({exc}); the whole "
                                                                                   "file is ignored"),))
    reader = _Reader(path, text)
    top = reader.table({k: v for k, v in data.items() if k not in ("profiles", "mcp")}, (), TOP_LEVEL_KEYS)
    private = is_private(path)
    profiles: dict[str, Profile] = {}
    for name, table in reader.named_tables(_as_table(reader, data, "profiles"), "profiles").items():
        profiles[name] = _profile(reader, name, table, private)
    profiles["local"] = profiles.pop("local", LOCAL_PROFILE)
    servers = {}
    for name, table in reader.named_tables(_as_table(reader, data, "mcp"), "mcp").items():
        server = _mcp(reader, name, table)
        if server is not None:
            servers[name] = server
    default = top.pop("default_profile", None)
    if default is not None and default not in profiles:
        reader.issue(("default_profile",), f"there is no profile {default!r} (ignored); profiles: "
                                           f"{', '.join(profiles)}")
        default = None
    theme = top.pop("theme", None)
    always = tuple(top.pop("always_allow", ()))
    values = {TOP_LEVEL_KEYS[key].field or key: value for key, value in top.items()}
    issues = sorted(reader.issues, key=lambda issue: issue.line or 0)  # in the file's order (stable)
    return ConfigFile(path, exists=True, values=values, default_profile=default, theme=theme, always_allow=always,
                      profiles=profiles, mcp=servers, issues=tuple(issues))


def _as_table(reader: _Reader, data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if isinstance(value, dict):
        return value
    reader.issue((key,), f"should be a table ([{key}.NAME]) (ignored)")
    return {}
