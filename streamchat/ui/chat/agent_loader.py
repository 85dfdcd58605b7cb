"""Creating the app's agent in a thread after the first frame, so start-up never waits on it.

Once made, its backend is prepared in another thread (``Backend.prepare``: the SDK's chat
resources imported, or the local model loaded and warmed up), so the first question is answered
as fast as the ones after it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerFailed, WorkerState

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.config.settings import Settings
    from streamchat.ui.app import StreamChatApp


def _create_agent(settings: Settings) -> Agent:
    from streamchat.factory import make_agent

    return make_agent(settings)


class AgentLoader:
    """Makes ``app.agent`` when the app was not given one (a thread worker in the ``agent`` group)."""

    def __init__(self, app: StreamChatApp) -> None:
        self.app = app
        self._worker: Worker[Agent] | None = None

    def load(self) -> None:
        """Start creating the agent, unless it exists or is being created."""
        if self.app.agent is None and self._worker is None:
            settings = self.app.settings
            self._worker = self.app.run_worker(
                lambda: _create_agent(settings), thread=True, group="agent", exit_on_error=False
            )

    def reset(self) -> None:
        """Forget the agent being made (the settings changed): the next ``load`` makes a new one."""
        self._worker = None

    async def get(self) -> Agent:
        """The agent, waiting for it to be created if need be (raises what creating it raised)."""
        app = self.app
        if app.agent is None:
            self.load()
            assert self._worker is not None
            try:
                await self._worker.wait()
            except WorkerFailed as failed:
                self._worker = None  # the next turn tries again
                raise failed.error from None
            self.loaded()
        assert app.agent is not None
        return app.agent

    def loaded(self) -> None:
        """Take the agent as soon as its worker is done (and show its backend)."""
        app, worker = self.app, self._worker
        if app.agent is None and worker is not None and worker.state == WorkerState.SUCCESS:
            app.agent = agent = worker.result
            assert agent is not None
            agent.settings = app.settings
            app.mcp.install(agent)
            app.describe()
            app.run_worker(agent.backend.prepare, thread=True, group="agent-prepare", exit_on_error=False)
