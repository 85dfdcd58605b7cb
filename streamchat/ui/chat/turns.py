"""The turn worker's inner loop: the agent's events, fed to the turn's widgets, the status line and the store.

The app owns one ``TurnRunner``; its turn worker (``StreamChatApp._run_turn``)
mounts a turn with ``begin`` and runs it with ``run``, so cancelling that worker
stops the turn. This is the one route of a turn's data: the agent's events, in
order, to the widgets and to ``ChatPersistence.saw``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from textual.widget import Widget

from streamchat.agent import stop_events
from streamchat.backends import tools_sentence
from streamchat.backends.errors import redact
from streamchat.events import ErrorEvent, MessageAdded
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.status import LiveStats
from streamchat.ui.widgets.turn import AssistantTurn

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.config.settings import Settings
    from streamchat.messages import ChatMessage
    from streamchat.timing import Clock
    from streamchat.ui.chat.persistence import ChatPersistence, TurnSaving
    from streamchat.ui.widgets.conversation import ConversationView
    from streamchat.ui.widgets.status import StatusLine

BLOCKING_MAY_HELP = frozenset({"timeout", "dropped", "stream_error", "incomplete", "server", "bad_request", "unknown"})
"""Error kinds after which a non-streaming retry is worth offering (when no token had arrived)."""

YIELD_SECONDS = 1 / 200
"""How often the turn worker gives the event loop a turn while chunks pour in (keys, frames, Esc's cancel)."""


SETTINGS_HINTS: dict[str, str] = {
    "config": "fix the setting and start streamchat again · ctrl+r retries as it is",
    "auth": "set the right OPENAI_API_KEY and start streamchat again · ctrl+r retries as it is",
    "not_found": "/model NAME asks another model · ctrl+r to retry",
    "context_length": "ctrl+n starts a new chat (this one stays saved) · a shorter question may still fit",
}
"""What to do after an error that retrying as it is cannot mend."""


def error_hint(error: ErrorEvent, *, blocking: bool, partial: bool) -> str:
    """The keys that can help after ``error``: retry (``blocking``: also without streaming), ``partial``: continue."""
    if error.kind in SETTINGS_HINTS:
        return SETTINGS_HINTS[error.kind]
    hint = "ctrl+r to retry" + (" · ctrl+b to retry without streaming" if blocking else "")
    if partial:  # a partial answer broke off: it can be carried on
        hint += " · ctrl+e to continue"
    return hint


@dataclass(eq=False)
class Turn:
    """One turn of the chat: its view and its user message, what a retry drops and runs again."""

    view: AssistantTurn | None
    """The widget that shows the answer (None: nothing to drop)."""
    user: ChatMessage | None = None
    """The user's message, once the agent added it to the history."""
    blocking_may_help: bool = False
    """True when its stream failed before any token in a way a non-streaming retry may get past."""


class TurnHost(Protocol):
    """What a turn needs of the chat: the settings, the history, the clock, and the agent."""

    history: list[ChatMessage]
    """The conversation the turn continues."""
    clock: Clock
    """Where the turn's timings come from."""

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        ...

    async def turn_agent(self) -> Agent:
        """The agent, made if need be, ready for a turn (the chat's approver and MCP tools)."""
        ...


class TurnRunner:
    """Feeds one turn's events from the agent to its view, its stats and the store."""

    def __init__(self, host: TurnHost, persistence: ChatPersistence) -> None:
        self.host = host
        """The chat the turns run in."""
        self.persistence = persistence
        """Where each turn's events are saved."""
        self.told_no_tools = False
        """True once the conversation said the backend cannot call tools (said once, here or by ``/tools on``)."""

    async def begin(self, conversation: ConversationView) -> Turn:
        """Mount a new turn's view at the end of ``conversation``; the turn to ``run``."""
        host = self.host
        view = AssistantTurn(host.clock, host.settings.api_key)
        view.model = host.settings.model_name
        await conversation.mount(view)
        await view.start()
        return Turn(view)

    async def run(self, turn: Turn, text: str, status: StatusLine, *, stream: bool, sent_at: float) -> None:
        """Run ``turn`` for the user's ``text``, in the app's turn worker (``stream=False``: a blocking request).

        Its figures count from ``sent_at``, when the user sent the prompt (on the host's clock).
        """
        assert turn.view is not None
        stats = LiveStats(self.host.clock, sent_at)
        status.track(stats)
        saving = self.persistence.turn_started(self.host.history)
        try:
            await self._stream(turn, turn.view, text, stats, saving, stream)
        except asyncio.CancelledError:
            stats.finish("stopped")
            turn.view.call_later(turn.view.stopped)
            raise
        finally:
            self.persistence.turn_ended(saving)

    async def _stream(self, turn: Turn, view: AssistantTurn, text: str, stats: LiveStats, saving: TurnSaving,
                      stream: bool) -> None:
        """Feed the agent's events to the turn's widgets, the status line and the store."""
        host = self.host
        try:
            agent = await host.turn_agent()
        except Exception as exc:  # noqa: BLE001 - the agent could not be made: say so in place
            stats.finish("error")
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            await view.show_error(ErrorEvent("config", redact(str(message), host.settings.api_key)), "ctrl+r to retry")
            view.add_class("-error")
            return
        saving.model, saving.backend = agent.settings.model_name, agent.backend.name
        await self.note_tools(agent, view)
        next_yield = 0.0
        waited = host.clock() - stats.started_at  # making the agent, if the prompt was sent before it existed
        events = agent.run_turn(host.history, text, stream=stream, waited_s=waited)
        try:
            async for event in events:
                self.persistence.saw(saving, event)
                stats.observe(event)
                if isinstance(event, MessageAdded):
                    if event.message.role == "user":
                        turn.user = event.message
                elif isinstance(event, ErrorEvent):
                    turn.blocking_may_help = blocking = (stream and stats.first_token_at is None
                                                         and event.kind in BLOCKING_MAY_HELP)
                    await view.show_error(event, error_hint(event, blocking=blocking, partial=bool(view.text.strip())))
                else:
                    await view.handle(event)
                # When chunks arrive faster than frames the stream never waits on the socket;
                # give the loop (timers, the status line, input) a turn once per frame.
                now = time.perf_counter()
                if now >= next_yield:
                    next_yield = now + YIELD_SECONDS
                    await asyncio.sleep(0)
        except asyncio.CancelledError:  # stopped while handling an event: the turn records its end, saved here
            for event in await stop_events(events):
                self.persistence.saw(saving, event)
            raise
        finally:
            await events.aclose()

    async def note_tools(self, agent: Agent, view: AssistantTurn) -> None:
        """Say once, quietly, before ``view``, when tools are on but this backend cannot use them."""
        if self.told_no_tools or not self.host.settings.tools_enabled or agent.backend.supports_tools:
            return
        self.told_no_tools = True
        note = Note(f"Answering without tools. {tools_sentence(agent.backend)}", classes="tools-note")
        if isinstance(view.parent, Widget):  # the conversation
            await view.parent.mount(note, before=view)
