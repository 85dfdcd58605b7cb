"""Creating the chat's agent in a thread after the first frame, so start-up never waits on it.

Once made, its backend is prepared in another thread (``Backend.prepare``: the SDK's chat
resources imported, or the local model loaded and warmed up), so the first question is answered
as fast as the ones after it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerFailed, WorkerState

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from streamchat.agent import Agent
    from streamchat.config.settings import Settings


def _create_agent(settings: Settings) -> Agent:
    from streamchat.factory import make_agent

    return make_agent(settings)


class AgentLoader:
    """Holds the chat's agent, making it in a thread worker of ``owner`` (group ``agent``) when there is none.

    ``settings`` gives the settings in force; ``on_made`` is called with the agent once it is made here,
    ``for_turn`` with the agent before each turn (to give it what the chat lends it: an approver, tools).
    """

    def __init__(self, owner: DOMNode, settings: Callable[[], Settings], on_made: Callable[[Agent], None],
                 for_turn: Callable[[Agent], None], agent: Agent | None = None) -> None:
        self.agent = agent
        """The agent, or None until it is made."""
        self._owner = owner
        self._settings = settings
        self._on_made = on_made
        self._for_turn = for_turn
        self._worker: Worker[Agent] | None = None

    def load(self) -> None:
        """Start creating the agent, unless it exists or is being created."""
        if self.agent is None and self._worker is None:
            settings = self._settings()
            self._worker = self._owner.run_worker(
                lambda: _create_agent(settings), thread=True, group="agent", exit_on_error=False
            )

    async def replace(self, change_settings: Callable[[], None]) -> None:
        """The settings change (``change_settings`` changes them): close the agent, make a new one."""
        old, self.agent, self._worker = self.agent, None, None
        change_settings()
        if old is not None:
            await old.backend.aclose()
        self.load()

    async def for_turn(self) -> Agent:
        """The agent, made if need be, ready for a turn."""
        agent = await self.get()
        self._for_turn(agent)
        return agent

    async def get(self) -> Agent:
        """The agent, waiting for it to be created if need be (raises what creating it raised)."""
        if self.agent is None:
            self.load()
            assert self._worker is not None
            try:
                await self._worker.wait()
            except WorkerFailed as failed:
                self._worker = None  # the next turn tries again
                raise failed.error from None
            self.loaded()
        assert self.agent is not None
        return self.agent

    def loaded(self) -> bool:
        """Take the agent as soon as its worker is done; True when it was taken now."""
        worker = self._worker
        if self.agent is not None or worker is None or worker.state != WorkerState.SUCCESS:
            return False
        self.agent = agent = worker.result
        assert agent is not None
        agent.settings = self._settings()
        self._on_made(agent)
        self._owner.run_worker(agent.backend.prepare, thread=True, group="agent-prepare", exit_on_error=False)
        return True
