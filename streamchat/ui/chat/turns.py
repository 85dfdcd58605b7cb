"""The turn worker's inner loop: the agent's events, fed to the turn's widgets and the status line.

The app owns one ``TurnRunner``; its turn worker (``StreamChatApp._run_turn``)
runs ``TurnRunner.run``, so cancelling that worker stops the turn.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import aclosing
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from streamchat.backends import tools_sentence
from streamchat.backends.errors import redact
from streamchat.events import ErrorEvent
from streamchat.ui.widgets.conversation import Conversation
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.status import LiveStats, StatusLine
from streamchat.ui.widgets.turn import AssistantTurn

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.ui.app import StreamChatApp

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


class TurnRunner:
    """Feeds one turn's events from the app's agent to its view, its stats and ``app.last_events``."""

    def __init__(self, app: StreamChatApp) -> None:
        self.app = app
        self.told_no_tools = False
        """True once the conversation said the backend cannot call tools (said once, here or by ``/tools on``)."""

    async def run(self, stream: bool, sent_at: float) -> None:
        """One turn in the conversation, in the app's turn worker (``stream=False``: a blocking request).

        Its figures count from ``sent_at``, when the user sent the prompt (on ``app.clock``).
        """
        app = self.app
        turn = app._turn_view = AssistantTurn(app.clock, app.settings.api_key)
        turn.model = app.settings.model_name
        await app.query_one(Conversation).mount(turn)
        await turn.start()
        stats = LiveStats(app.clock, sent_at)
        app.query_one(StatusLine).track(stats)
        app.last_events = []
        saving = app.persistence.turn_started(app.history)
        try:
            await self.stream(turn, stats, stream)
        except asyncio.CancelledError:
            stats.finish("stopped")
            app.call_later(turn.stopped)
            raise
        finally:
            app.persistence.turn_ended(saving)
            if app._turn_worker is get_current_worker():  # not a stopped turn ending after a newer one began
                app.turn_running = False
                app.query_one(StatusLine).refresh_stats()

    async def stream(self, turn: AssistantTurn, stats: LiveStats, stream: bool) -> None:
        """Feed the agent's events to the turn's widgets and the status line."""
        app = self.app
        try:
            agent = await app.get_agent()
        except Exception as exc:  # noqa: BLE001 - the agent could not be made: say so in place
            stats.finish("error")
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            message = redact(str(message), app.settings.api_key)
            await turn.show_error(ErrorEvent("config", message), "ctrl+r to retry")
            turn.add_class("-error")
            return
        agent.approver = app.approver
        app.mcp.install(agent)
        await self.note_tools(agent, turn)
        next_yield = 0.0
        waited = app.clock() - stats.started_at  # making the agent, if the prompt was sent before it existed
        async with aclosing(agent.run_turn(app.history, stream=stream, waited_s=waited)) as events:
            async for event in events:
                app.last_events.append(event)
                stats.observe(event)
                if isinstance(event, ErrorEvent):
                    blocking = stream and stats.first_token_at is None and event.kind in BLOCKING_MAY_HELP
                    app.can_retry_blocking = blocking
                    await turn.show_error(event, error_hint(event, blocking=blocking,
                                                            partial=bool(turn.text.strip())))
                else:
                    await turn.handle(event)
                # When chunks arrive faster than frames the stream never waits on the socket;
                # give the loop (timers, the status line, input) a turn once per frame.
                now = time.perf_counter()
                if now >= next_yield:
                    next_yield = now + YIELD_SECONDS
                    await asyncio.sleep(0)

    async def note_tools(self, agent: Agent, turn: AssistantTurn) -> None:
        """Say once, quietly, before ``turn``, when tools are on but this backend cannot use them."""
        if self.told_no_tools or not self.app.settings.tools_enabled or agent.backend.supports_tools:
            return
        self.told_no_tools = True
        note = Note(f"Answering without tools. {tools_sentence(agent.backend)}", classes="tools-note")
        await self.app.query_one(Conversation).mount(note, before=turn)
