"""The race pane's two agents: made in a thread, their local models loaded, kept until the settings change.

The local backend loads a model instance per side, so making them is slow:
the pane makes them once, on its first race, and reuses them for every race
after until the app's settings change.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import WorkerFailed

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from streamchat.agent import Agent
    from streamchat.config.settings import Settings

Agents = tuple["Agent", "Agent"]
"""The streaming side's agent, then the blocking side's."""


def _make_agents(settings: Settings) -> Agents:
    from streamchat.factory import make_race_agents

    return make_race_agents(settings)


async def _load(agents: Agents) -> None:
    """Load local models before the clock starts (remote backends have nothing to load)."""
    loads = [getattr(agent.backend, "load", None) for agent in agents]
    await asyncio.gather(*(load() for load in loads if callable(load)))


class RaceAgents:
    """The two agents a race runs on, made by a thread worker of ``owner`` (group ``race-agents``).

    Agents given up front are kept whatever the settings; agents made here are
    made again (and the old ones closed) when the settings change.
    """

    def __init__(self, owner: DOMNode, agents: Agents | None = None) -> None:
        self.owner = owner
        """The node whose worker makes the agents (cancelling its workers abandons the making)."""
        self.current = agents
        """The agents last made (or given); None until the first race makes them."""
        self._made_for: Settings | None = None  # None: given, keep them whatever the settings

    async def ready(self, settings: Settings) -> Agents:
        """The agents for ``settings``, made if need be and their local models loaded (raises what failed)."""
        agents = await self._get(settings)
        await _load(agents)
        return agents

    async def _get(self, settings: Settings) -> Agents:
        if self.current is not None and (self._made_for is None or self._made_for == settings):
            return self.current
        old = self.current
        worker = self.owner.run_worker(partial(_make_agents, settings), thread=True, group="race-agents",
                                       exit_on_error=False)
        try:
            agents = await worker.wait()
        except WorkerFailed as failed:
            raise failed.error from None
        self.current, self._made_for = agents, settings
        for agent in old or ():
            await agent.backend.aclose()
        return agents

    async def aclose(self) -> None:
        """Close both agents' backends."""
        for agent in self.current or ():
            await agent.backend.aclose()

    def is_local(self, settings: Settings) -> bool:
        """True when the embedded model serves the race (the agents say; before they exist, the settings)."""
        return self.current[0].backend.name == "local" if self.current else settings.use_local

    def where(self, settings: Settings) -> str:
        """The backend and model the race runs on, as the pane names them."""
        from streamchat.backends import describe_backend

        if self.current:
            return describe_backend(self.current[0].settings, self.current[0].backend)
        return describe_backend(settings)
