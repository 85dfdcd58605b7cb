"""Settings: CLI flags > environment > ``.env`` > config file > defaults.

The ``.env`` file (in the current directory) is read with python-dotenv
without touching ``os.environ``, so a variable already set always wins. The
config file (``config_file``) gives top-level settings and profiles; a
profile named on purpose (``--profile``, ``STREAMCHAT_PROFILE``) is a choice
of endpoint, so its values win over the connection variables of the
environment, while ``default_profile`` sits at the config file's level.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from streamchat.config.env_vars import ENV_VARS
from streamchat.config.file import ConfigFile, load_config
from streamchat.config.schema import (
    PROFILE_KEYS,
    TOP_LEVEL_KEYS,
    Check,
    McpServerConfig,
    Profile,
    checked,
)

DEFAULT_REMOTE_MODEL = "gpt-4o-mini"
"""The model asked for when a server is configured and no model is named."""

LOCAL_MODEL_NAME = "SmolLM2-135M-Instruct"
"""The name shown for the embedded model."""


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once at start-up."""

    api_key: str | None = field(default=None, repr=False)
    """The API key. Never printed: excluded from repr."""
    base_url: str | None = None
    """The server's base URL; None means the SDK's default (api.openai.com)."""
    model: str | None = None
    """The model to ask for; None picks a default for the backend."""
    local: bool = False
    """Force the embedded llama.cpp model."""
    model_path: str | None = None
    """A GGUF file for the local backend; None uses the packaged SmolLM2."""
    local_tools: str = "auto"
    """Tools for the local model: ``auto`` when its chat template knows tools, ``on`` always, ``off`` never."""
    timeout: float = 60.0
    """Stall timeout: seconds without a byte before the request fails."""
    connect_timeout: float = 10.0
    """Seconds to wait for the connection."""
    max_retries: int = 2
    """Times a request that failed before its answer began (429, 5xx, timeout, connection) is sent again."""
    max_tokens: int | None = None
    """Cap on completion tokens, or None for the server's default."""
    context_window: int | None = None
    """Tokens the model takes in all (prompt and answer), for the context meter; None: asked of the server (its
    model list), or the local model's own."""
    temperature: float | None = None
    """Sampling temperature, or None for the server's default."""
    system_prompt: str | None = None
    """System prompt put first in new conversations."""
    tools_enabled: bool = True
    """Offer the built-in tools to the model."""
    max_tool_rounds: int = 8
    """Model requests in one turn before the turn ends with a message."""
    tool_timeout: float = 10.0
    """Seconds each tool call may run."""
    workspace: str = "."
    """The folder ``list_files`` and ``read_file`` are confined to."""
    data_dir: str | None = None
    """Where the history database lives; None means the XDG data dir."""
    profile: str | None = None
    """The config file's profile in use, or None when the settings come from elsewhere."""
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    """Extra HTTP headers for the server (from the profile; may hold secrets, never shown)."""
    theme: str | None = None
    """The colour theme remembered in the config file."""
    always_allow: tuple[str, ...] = ()
    """Tools that run without asking first (names or patterns such as ``files__*``)."""
    profiles: tuple[Profile, ...] = field(default=(), repr=False)
    """Every profile of the config file, the built-in ``local`` included (for the model picker)."""
    mcp_servers: tuple[McpServerConfig, ...] = field(default=(), repr=False)
    """The MCP tool servers of the config file."""
    config_issues: tuple[str, ...] = ()
    """What in the config file was not used, and why (one sentence each, with file, line and key)."""

    @property
    def use_local(self) -> bool:
        """True when the embedded model serves: forced, or no profile and nothing else configured."""
        return self.local or (self.profile is None and not self.api_key and not self.base_url)

    @property
    def profile_in_use(self) -> str | None:
        """The profile in use: ``profile``, or the built-in ``local`` when the embedded model serves without
        one named (None: the settings come from elsewhere, such as ``OPENAI_BASE_URL``)."""
        return self.profile or ("local" if self.use_local else None)

    @property
    def model_name(self) -> str:
        """The model actually asked for."""
        if self.model:
            return self.model
        if self.use_local:
            return Path(self.model_path).name if self.model_path else LOCAL_MODEL_NAME
        return DEFAULT_REMOTE_MODEL

    @property
    def workspace_path(self) -> Path:
        """The workspace as an absolute path."""
        return Path(self.workspace).expanduser().resolve()

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given fields changed (None values are ignored)."""
        return replace(self, **{key: value for key, value in overrides.items() if value is not None})

    def with_profile(self, profile: Profile) -> Settings:
        """A copy that talks to ``profile``'s endpoint, as ``--profile NAME`` would."""
        values = profile_values(profile)
        current = next((p for p in self.profiles if p.name == self.profile), None)
        if profile.local and not profile.model_path and current and current.model_path == self.model_path:
            values["model_path"] = None  # from another profile's GGUF back to the built-in model
        if profile.system is None and current and current.system is not None and current.system == self.system_prompt:
            values["system_prompt"] = None  # the last profile's system prompt goes with it
        return replace(self, **values)


def profile_values(profile: Profile) -> dict[str, Any]:
    """The Settings fields a profile sets: its endpoint always, the rest when it gives them."""
    values: dict[str, Any] = {"profile": profile.name, "base_url": profile.base_url, "api_key": profile.api_key,
                              "headers": dict(profile.headers), "local": profile.local, "model": profile.model}
    if profile.model_path:
        values["model_path"] = profile.model_path
    given = {"temperature": profile.temperature, "max_tokens": profile.max_tokens, "system_prompt": profile.system,
             "local_tools": profile.local_tools, "context_window": profile.context_window}
    values.update({key: value for key, value in given.items() if value is not None})
    return values


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


_FIELD_CHECKS: dict[str, Check] = {check.field or key: check
                                   for key, check in {**PROFILE_KEYS, **TOP_LEVEL_KEYS}.items()}
"""What the config file checks a setting against, by ``Settings`` field: the environment gets the same checks."""


def _convert(name: str, field_name: str, raw: str) -> Any:
    """Turn a string from the environment into the field's type, checked as the config file's value would be."""
    value = _typed(name, field_name, raw)
    check = _FIELD_CHECKS.get(field_name)
    if value is not None and check is not None:
        problem, value = checked(check, value)
        if problem is not None:
            raise SettingsError(f"{name}={raw!r} {problem}")
    return value


def _typed(name: str, field_name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[field_name]
    text = raw.strip()
    if field_name == "local_tools":
        return text.lower()
    try:
        if kind == "bool":
            if text.lower() in _TRUE:
                return True
            if text.lower() in _FALSE:
                return False
            raise ValueError(text)
        if text == "" and "None" in str(kind):
            return None
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid value") from None
    return text or None


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message says which."""


def read_dotenv(path: Path | None = None) -> dict[str, str]:
    """The variables of a ``.env`` file (default: ``./.env``), or {} if there is none."""
    dotenv_path = path or Path.cwd() / ".env"
    if not dotenv_path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(dotenv_path).items() if value is not None}


def missing_key(profile: Profile, variables: Mapping[str, str]) -> str | None:
    """Why ``profile`` has no key in ``variables`` though it names one (its ``api_key_env`` is not set), or None."""
    if profile.api_key or not profile.api_key_env or variables.get(profile.api_key_env):
        return None
    return (f"profile {profile.name}: api_key_env names {profile.api_key_env}, which is not set "
            "(requests go without a key)")


def _with_key(profile: Profile, variables: Mapping[str, str], issues: list[str] | None = None) -> Profile:
    """``profile`` with its key: the one in the file, else the variable ``api_key_env`` names."""
    if profile.api_key or not profile.api_key_env:
        return profile
    missing = missing_key(profile, variables)
    if missing and issues is not None:
        issues.append(missing)
    return replace(profile, api_key=variables.get(profile.api_key_env) or None)


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    dotenv: Mapping[str, str] | None = None,
    config: ConfigFile | None = None,
) -> Settings:
    """Resolve settings: flags > environ > dotenv > config file > defaults.

    ``environ`` defaults to ``os.environ``, ``dotenv`` to ``./.env`` and
    ``config`` to the config file; flags whose value is None are treated as
    not given. A profile named by ``flags["profile"]`` or ``STREAMCHAT_PROFILE``
    that the file does not have is a ``SettingsError``.
    """
    env = dict(os.environ if environ is None else environ)
    file_values = read_dotenv() if dotenv is None else dict(dotenv)
    cfg = load_config() if config is None else config
    issues = [str(issue) for issue in cfg.issues]
    flags = {key: value for key, value in (flags or {}).items() if value is not None}
    env_values: dict[str, Any] = {}
    for var in ENV_VARS:
        raw = env.get(var.name, file_values.get(var.name))
        if raw is not None and raw.strip() and var.field != "profile":  # set but empty: as if not set
            env_values[var.field] = _convert(var.name, var.field, raw)
    chosen = flags.pop("profile", None) or env.get("STREAMCHAT_PROFILE") or file_values.get("STREAMCHAT_PROFILE")
    if chosen and chosen not in cfg.profiles:
        where = cfg.path if cfg.exists else f"{cfg.path} (there is no such file yet)"
        raise SettingsError(f"no profile {chosen!r} in {where}; profiles: {', '.join(cfg.profiles)}")
    name = chosen or cfg.default_profile
    profile = _with_key(cfg.profiles[name], {**file_values, **env}, issues) if name else None
    values: dict[str, Any] = dict(cfg.values)
    if profile is not None and not chosen:
        values.update(profile_values(profile))
        if "base_url" not in env_values and not env_values.get("local"):
            env_values.pop("api_key", None)  # the key goes with its endpoint: the profile's server gets its own
    values.update(env_values)
    if profile is not None and chosen:
        chosen_values = profile_values(profile)
        if chosen_values["model"] is None:
            del chosen_values["model"]  # a profile that names no model leaves STREAMCHAT_MODEL its say
        values.update(chosen_values)
    values.update(flags)
    profiles = tuple(_with_key(p, {**file_values, **env}) for p in cfg.profiles.values())
    values.update(theme=cfg.theme, always_allow=cfg.always_allow, profiles=profiles,
                  mcp_servers=tuple(cfg.mcp.values()), config_issues=tuple(issues))
    if values.get("base_url"):
        chosen_url = profile is not None and chosen and profile.base_url
        origin = ("--base-url" if "base_url" in flags else f"the base_url of profile {chosen!r}" if chosen_url
                  else "OPENAI_BASE_URL" if "base_url" in env_values else f"the base_url of profile {name!r}")
        check_url(origin, str(values["base_url"]))
    return Settings(**values)


def check_url(name: str, url: str) -> None:
    """Raise ``SettingsError`` unless ``url`` is an http(s) URL with a host (``name`` says where it was set)."""
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.hostname:
        return
    secret = "@" in url or url.strip().startswith(("sk-", "pk-", "rk-"))  # never echo a credential
    shown = "" if secret else f"={url!r}"
    host = re.match(r"([\w.-]+)(:\d+)?(/|$)", url.strip())  # an address without its scheme?
    looks_like_host = host is not None and ("." in host[1] or host[2] or host[1] == "localhost")
    local = host is not None and (host[2] or host[1] == "localhost" or host[1].replace(".", "").isdigit())
    scheme = "http" if local else "https"
    hint = f" (did you mean {scheme}://{url.strip()}?)" if looks_like_host and not secret else ""
    raise SettingsError(f"{name}{shown} is not a URL{hint}: give the server's address with http:// or https://, "
                        f"e.g. http://localhost:11434/v1")
