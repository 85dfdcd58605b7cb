"""One place that turns Settings into working parts, shared by the CLI, the app and tests."""

from __future__ import annotations

from streamchat.agent import Agent
from streamchat.backends import make_backend
from streamchat.config.settings import Settings


def make_agent(settings: Settings) -> Agent:
    """An agent with the configured backend and, when tools are on, the built-in tools."""
    from streamchat.tools import default_registry

    backend = make_backend(settings)
    registry = default_registry(settings.workspace_path, timeout_s=settings.tool_timeout)
    return Agent(backend, settings, registry)


def make_race_agents(settings: Settings) -> tuple[Agent, Agent]:
    """Two agents for the two sides of a race, without tools.

    With the local backend each side gets its own model instance with one
    thread, so the two really run at the same time on two cores.
    """
    race_settings = settings.with_overrides(tools_enabled=False)
    if race_settings.use_local:
        from streamchat.backends.local.backend import LocalBackend

        streaming = LocalBackend(race_settings, n_threads=1, instance="race-streaming")
        blocking = LocalBackend(race_settings, n_threads=1, instance="race-blocking")
        return Agent(streaming, race_settings), Agent(blocking, race_settings)
    return Agent(make_backend(race_settings), race_settings), Agent(make_backend(race_settings), race_settings)
