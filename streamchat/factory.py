"""One place that turns Settings into working parts, shared by the CLI, the app and tests."""

from __future__ import annotations

from streamchat.agent import Agent
from streamchat.backends import make_backend
from streamchat.config import Settings


def make_agent(settings: Settings) -> Agent:
    """An agent with the configured backend and, when tools are on, the built-in tools."""
    from streamchat.tools import default_registry

    backend = make_backend(settings)
    registry = default_registry(settings.workspace_path, timeout_s=settings.tool_timeout)
    return Agent(backend, settings, registry)
