"""The turn worker's inner loop: the agent's events, fed to the turn's widgets, the status line and the store.

The app owns one ``TurnRunner``; ``start`` runs a turn in a worker of the app
(group ``turn``), which mounts the turn's view with ``begin`` and runs it with
``run``, so cancelling that group stops the turn. This is the one route of a
turn's data: the agent's events, in order, to the widgets and to
``ChatPersistence.saw``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from textual.widget import Widget
from textual.worker import Worker, get_current_worker

from streamchat.agent import stop_events
from streamchat.backends import tools_sentence
from streamchat.events import ErrorEvent, MessageAdded
from streamchat.safety import redact
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.message import Note, UserMessage
from streamchat.ui.widgets.status import LiveStats, StatusLine
from streamchat.ui.widgets.turn import AssistantTurn

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from streamchat.agent import Agent
    from streamchat.config.settings import Settings
    from streamchat.messages import Attachment, ChatMessage
    from streamchat.timing import Clock
    from streamchat.tree import ConversationTree
    from streamchat.ui.chat.persistence import ChatPersistence
    from streamchat.ui.chat.saving import TurnSaving
    from streamchat.ui.widgets.tool_call import ToolCallRow

BLOCKING_MAY_HELP = frozenset({"timeout", "dropped", "stream_error", "incomplete", "server", "bad_request", "unknown"})
"""Error kinds after which a non-streaming retry is worth offering (when no token had arrived)."""

YIELD_SECONDS = 1 / 200
"""How often the turn worker gives the event loop a turn while chunks pour in (keys, frames, Esc's cancel)."""


SETTINGS_HINTS: dict[str, str] = {
    "config": "fix the setting and start streamchat again · ctrl+r retries as it is",
    "auth": "set the right OPENAI_API_KEY and start streamchat again · ctrl+r retries as it is",
    "not_found": "/model NAME asks another model · ctrl+r to retry",
    "context_length": "ctrl+n starts a new chat (this one stays saved) · or make room, then ctrl+r: "
                      "/compact summarizes the older turns, /drop leaves the oldest out",
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
    """The user's message, once the agent added it to the history (a retried or regenerated turn: from the start)."""
    prompt_view: UserMessage | None = None
    """The widget that shows the user's message, when the turn sends a new one."""
    attachments: list[Attachment] = field(default_factory=list)
    """The files sent with the user's message."""
    blocking_may_help: bool = False
    """True when its stream failed before any token in a way a non-streaming retry may get past."""


class TurnHost(Protocol):
    """What a turn needs of the chat: the settings, the history, the clock; it says when a turn runs."""

    history: list[ChatMessage]
    """The conversation the turn continues."""
    clock: Clock
    """Where the turn's timings come from."""
    turn_running: bool
    """True while a turn's worker runs (the runner sets it)."""
    conversation_tree: ConversationTree
    """Every message of the conversation, on every branch: each message a turn adds joins it."""

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        ...


class TurnRunner:
    """Feeds one turn's events from the agent to its view, its stats and the store."""

    def __init__(self, owner: DOMNode, host: TurnHost, agent: Callable[[], Awaitable[Agent]],
                 persistence: ChatPersistence) -> None:
        self.owner = owner
        """Where the turn worker runs, and the conversation and status line are."""
        self.host = host
        """The chat the turns run in."""
        self.agent = agent
        """The agent for a turn, made if need be (raises what making it raised)."""
        self.persistence = persistence
        """Where each turn's events are saved."""
        self.last: Turn | None = None
        """The last turn started (or the reopened conversation's last): what a retry drops."""
        self.told_no_tools = False
        """True once the conversation said the backend cannot call tools (said once, here or by ``/tools on``)."""
        self._worker: Worker[None] | None = None

    def start(self, text: str | None, *, stream: bool, sent_at: float, user: ChatMessage | None = None,
              prompt_view: UserMessage | None = None, attachments: list[Attachment] | None = None) -> Worker[None]:
        """Run a turn for ``text`` in the owner's turn worker (group ``turn``: cancelling it stops the turn).

        ``text`` None answers the history as it is, which ends with ``user`` (a retry, a regenerated answer);
        ``prompt_view`` shows the user's message the turn adds, ``attachments`` the files sent with it."""
        self.host.turn_running = True
        turn = Turn(None, user, prompt_view, attachments=list(attachments or []))
        self._worker = self.owner.run_worker(self._turn(text, stream, sent_at, turn), name="turn", group="turn",
                                             exclusive=True, exit_on_error=False)
        return self._worker

    async def _turn(self, text: str | None, stream: bool, sent_at: float, started: Turn) -> None:
        status = self.owner.query_one(StatusLine)
        try:
            turn = await self.begin(self.owner.query_one(ConversationView), started)
            await self.run(turn, text, status, stream=stream, sent_at=sent_at)
        finally:
            if self._worker is get_current_worker():  # not a stopped turn ending after a newer one began
                self.host.turn_running = False
                status.refresh_stats()

    async def begin(self, conversation: ConversationView, turn: Turn | None = None) -> Turn:
        """Mount a new turn's view at the end of ``conversation``; the turn to ``run`` (``turn``, given its view)."""
        host = self.host
        view = AssistantTurn(host.clock, host.settings.api_key)
        view.model = host.settings.model_name
        await conversation.mount(view)
        await view.start()
        self.last = turn or Turn(None)
        self.last.view = view
        return self.last

    def tool_row(self, call_id: str) -> ToolCallRow | None:
        """The last turn's row for tool call ``call_id`` (where the approver asks), if it has one."""
        view = self.last.view if self.last is not None else None
        return view.tools.get(call_id) if view is not None else None

    async def drop_last(self, history: list[ChatMessage]) -> ChatMessage | None:
        """Before a retry: what the last turn answered leaves ``history`` (the tree, the saved conversation) and its
        view goes; returns its user message, which stays to be answered again (None: the turn never added one)."""
        turn, self.last = self.last, None
        at = next((i for i, m in enumerate(history) if turn and turn.user and m.id == turn.user.id), None)
        if at is not None:
            dropped = history[at + 1:]
            self.persistence.forget(dropped)
            self.host.conversation_tree.remove(dropped)
            del history[at + 1:]
        if turn is not None and turn.view is not None:
            await turn.view.remove()
        return history[at] if at is not None else None

    async def run(self, turn: Turn, text: str | None, status: StatusLine, *, stream: bool, sent_at: float) -> None:
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

    async def _stream(self, turn: Turn, view: AssistantTurn, text: str | None, stats: LiveStats, saving: TurnSaving,
                      stream: bool) -> None:
        """Feed the agent's events to the turn's widgets, the status line and the store."""
        host = self.host
        try:
            agent = await self.agent()
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
        events = agent.run_turn(host.history, text, stream=stream, waited_s=waited, attachments=turn.attachments)
        try:
            async for event in events:
                self.persistence.saw(saving, event)
                stats.observe(event)
                if isinstance(event, MessageAdded):
                    self._added(turn, event.message)
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
                if isinstance(event, MessageAdded):
                    self._added(turn, event.message)
            raise
        finally:
            await events.aclose()

    def _added(self, turn: Turn, message: ChatMessage) -> None:
        """A message the turn added: in the tree, and known to the widget that shows it (with its ``‹ 2/3 ›``)."""
        tree = self.host.conversation_tree
        tree.add(message)
        if message.role == "user":
            turn.user = message
            if turn.prompt_view is not None:
                turn.prompt_view.user_message = message
                turn.prompt_view.set_branch(tree.position(message))
        elif turn.view is not None:
            turn.view.messages.append(message)
            if len(turn.view.messages) == 1:
                turn.view.set_branch(tree.position(message))

    async def note_tools(self, agent: Agent, view: AssistantTurn) -> None:
        """Say once, quietly, before ``view``, when tools are on but this backend cannot use them."""
        if self.told_no_tools or not self.host.settings.tools_enabled or agent.backend.supports_tools:
            return
        self.told_no_tools = True
        note = Note(f"Answering without tools. {tools_sentence(agent.backend)}", classes="tools-note")
        if isinstance(view.parent, Widget):  # the conversation
            await view.parent.mount(note, before=view)
