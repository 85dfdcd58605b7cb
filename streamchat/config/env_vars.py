"""The environment variables streamchat reads (also the lines of ``.env.example`` and the README's table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnvVar:
    """How one setting is read from the environment."""

    name: str
    """The variable's name."""
    field: str
    """The Settings field it fills."""
    help: str
    """One line for ``.env.example`` and the README."""


ENV_VARS: tuple[EnvVar, ...] = (
    EnvVar("STREAMCHAT_PROFILE", "profile", "Profile of the config file to use (like --profile)"),
    EnvVar("OPENAI_API_KEY", "api_key", "API key for the server (never shown, logged or saved)"),
    EnvVar("OPENAI_BASE_URL", "base_url", "OpenAI-compatible server, e.g. http://localhost:11434/v1"),
    EnvVar("STREAMCHAT_MODEL", "model", "Model name to ask the server for"),
    EnvVar("STREAMCHAT_LOCAL", "local", "1 forces the embedded local model"),
    EnvVar("STREAMCHAT_MODEL_PATH", "model_path", "A GGUF file for the local backend"),
    EnvVar("STREAMCHAT_LOCAL_TOOLS", "local_tools",
           "auto/on/off: offer tools to the local model (auto: when its chat template knows tools)"),
    EnvVar("STREAMCHAT_TIMEOUT", "timeout", "Seconds to wait between chunks before calling it a stall"),
    EnvVar("STREAMCHAT_CONNECT_TIMEOUT", "connect_timeout", "Seconds to wait for a connection"),
    EnvVar("STREAMCHAT_MAX_RETRIES", "max_retries", "Times a request failed before its answer began is sent again"),
    EnvVar("STREAMCHAT_MAX_TOKENS", "max_tokens", "Cap on tokens per answer (empty: server default)"),
    EnvVar("STREAMCHAT_CONTEXT_WINDOW", "context_window",
           "Tokens the model takes in all, for the context meter (empty: asked of the server, or the local model's)"),
    EnvVar("STREAMCHAT_TEMPERATURE", "temperature", "Sampling temperature (empty: server default)"),
    EnvVar("STREAMCHAT_SYSTEM_PROMPT", "system_prompt", "System prompt for new conversations"),
    EnvVar("STREAMCHAT_TOOLS", "tools_enabled", "1/0: offer the built-in tools to the model"),
    EnvVar("STREAMCHAT_MAX_TOOL_ROUNDS", "max_tool_rounds", "Model requests per turn before giving up on tools"),
    EnvVar("STREAMCHAT_TOOL_TIMEOUT", "tool_timeout", "Seconds a tool may run"),
    EnvVar("STREAMCHAT_WORKSPACE", "workspace", "Folder the file tools may read (default: current directory)"),
    EnvVar("STREAMCHAT_DATA_DIR", "data_dir", "Where conversations are saved (default: XDG data dir)"),
)
"""Every environment variable streamchat reads."""
