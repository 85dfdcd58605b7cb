"""The chat's side of the history store: the conversation is saved as it happens.

Every store call runs in one background thread (``StoreThread``), in the
order it was asked for, so the UI never waits on the disk and no write
overtakes another. What is written, and when:

- the conversation itself, lazily, with its first message;
- when a turn starts, the user's message; while it runs, every
  ``CHECKPOINT_INTERVAL_S``, the messages the agent has completed since
  (answers with tool calls, tool results) and a checkpoint of the answer still
  streaming (status ``incomplete``, see ``StreamCheckpointer``); when it ends
  however it ends (done, error, stopped), the rest, each final answer taking
  the place of its checkpoint.

Nothing runs per token. If the store cannot be opened (damaged, locked, newer
schema) the chat runs unsaved and says so once, in the conversation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from textual.css.query import NoMatches
from textual.timer import Timer

from streamchat.messages import ChatMessage
from streamchat.store.checkpoint import StreamCheckpointer
from streamchat.store.database import (
    Conversation,
    ConversationStore,
    StoreError,
    open_store,
)
from streamchat.store.writer import StoreThread
from streamchat.ui.chat.restore import show_conversation
from streamchat.ui.widgets.conversation import Conversation as ConversationView
from streamchat.ui.widgets.message import Note

if TYPE_CHECKING:
    from streamchat.ui.app import StreamChatApp

T = TypeVar("T")

CHECKPOINT_INTERVAL_S = 0.5
"""How often a running turn is saved: completed messages and the streaming answer so far."""

CLOSE_WAIT_S = 3.0
"""At exit, how long to wait for a stopping turn to record its partial answer."""


@dataclass(eq=False)
class SavedConversation:
    """The conversation the chat writes to; created in the store with its first message."""

    id: str | None = None
    """Its id in the store (set by the writer thread), None until created."""
    saved: set[str] = field(default_factory=set)
    """Ids of the messages already handed to the writer (UI thread only)."""
    checkpointer: StreamCheckpointer | None = None
    """Checkpoints of its streaming answers (writer thread only)."""
    deleted: bool = False
    """Deleted from the history screen: nothing more is written to it."""


@dataclass(eq=False)
class TurnSaving:
    """One running turn: the history list it appends to, and where that is saved."""

    conversation: SavedConversation
    """Where its messages go (a new chat during the turn does not change that)."""
    history: list[ChatMessage]
    """The list the agent appends to."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the turn's last messages were handed to the writer."""


class ChatPersistence:
    """Opens the store off the UI thread and saves the app's conversation as it happens."""

    def __init__(self, app: StreamChatApp) -> None:
        self.app = app
        """The app whose conversation is saved."""
        self.store: ConversationStore | None = None
        """The store once open (None before, or when it cannot be used)."""
        self.problem: str | None = None
        """Why the conversation is not saved, if it is not."""
        self.reopen: str | None = None
        """At start-up, reopen this conversation: an id (or unique prefix), or ``last``."""
        self.conversation = SavedConversation()
        """The conversation shown, as saved."""
        self._writer = StoreThread(self._say_problem)
        self._turns: list[TurnSaving] = []
        self._timer: Timer | None = None
        self._said_problem = False

    # -- the writer thread

    async def call(self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job(*args)`` in the writer thread, after every write asked for before it."""
        return await self._writer.call(job, *args)

    def _say_problem(self, reason: str) -> None:
        if not self._said_problem:
            self._said_problem = True
            self.app.call_later(self.say, f"History is not saved: {reason}")

    async def say(self, text: str) -> None:
        """A dim note at the end of the conversation (a notification if a modal screen hides it)."""
        try:
            view = self.app.screen_stack[0].query_one(ConversationView)
        except (NoMatches, IndexError):
            self.app.notify(text, severity="warning", markup=False)
            return
        running = view.query(".-running")  # an answer streaming: the note goes above it
        await view.mount(Note(text, classes="history-note"), before=running.first() if running else None)
        view.follow()

    # -- start and stop

    def start(self) -> None:
        """Open the store in the background, then the conversation to reopen, if any."""
        self._writer.bind(asyncio.get_running_loop())
        self.app.run_worker(self._start(), group="history", exit_on_error=False)

    def _open(self) -> None:
        settings = self.app.settings
        self.store, self.problem = open_store(settings.data_dir, secret=settings.api_key)

    async def _start(self) -> None:
        await self.call(self._open)
        if self.problem is not None:
            self._said_problem = True
            await self.say(f"History is not saved: {self.problem}")
            return
        if self.reopen is not None:
            try:
                conversation = await self.call(self._find, self.reopen)
            except StoreError as exc:
                await self.say(f"Cannot reopen the conversation: {exc}")
                return
            if conversation is None:
                await self.say("No earlier conversation to continue: this is a new one.")
            else:
                await show_conversation(self.app, conversation)

    def _find(self, wanted: str) -> Conversation | None:
        assert self.store is not None
        conversation_id = self.store.last_conversation_id() if wanted == "last" else self.store.resolve_id(wanted)
        return None if conversation_id is None else self.store.load(conversation_id)

    async def close(self) -> None:
        """At exit: let stopping turns record their partial answers, write everything, close the store."""
        for turn in list(self._turns):
            with suppress(TimeoutError):
                await asyncio.wait_for(turn.ended.wait(), CLOSE_WAIT_S)
        for turn in list(self._turns):  # still not ended: save what it has
            self._sync(turn)
        await self._writer.close(self._close_store)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()

    # -- saving turns (UI thread: decide what to write; writer thread: write it)

    def new_conversation(self) -> None:
        """New chat: the next message starts a new conversation in the store."""
        self.conversation = SavedConversation()

    def turn_started(self, history: list[ChatMessage]) -> TurnSaving:
        """A turn starts on ``history``: save its user message now, and the turn as it runs."""
        turn = TurnSaving(self.conversation, history)
        self._turns.append(turn)
        self._sync(turn)
        if self._timer is None:
            self._timer = self.app.set_interval(CHECKPOINT_INTERVAL_S, self._tick, name="history-checkpoint")
        return turn

    def turn_ended(self, turn: TurnSaving) -> None:
        """The turn ended (done, failed or stopped): save the messages it left."""
        self._sync(turn)
        if turn in self._turns:
            self._turns.remove(turn)
        turn.ended.set()
        if not self._turns and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def forget(self, messages: list[ChatMessage]) -> None:
        """These messages left the conversation (a retry drops the last turn): delete them from the store too."""
        target = self.conversation
        ids = [message.id for message in messages if message.id in target.saved]
        if ids:
            target.saved.difference_update(ids)
            self._writer.write_later(self._delete, target, ids)

    def system_changed(self, old: ChatMessage | None, new: ChatMessage | None) -> None:
        """``/system`` replaced the system message (first in the history): the saved conversation follows now."""
        target = self.conversation
        if not target.saved:
            return  # nothing saved yet: the first turn saves the history in order, system prompt first
        old_id = old.id if old is not None and old.id in target.saved else None
        if old_id is not None:
            target.saved.discard(old_id)
        if new is not None:
            target.saved.add(new.id)
        self._writer.write_later(self._set_system, target, old_id, new)

    def _set_system(self, target: SavedConversation, old_id: str | None, new: ChatMessage | None) -> None:
        if self.store is not None and target.id is not None and not target.deleted:
            self.store.set_system_message(target.id, old_id, new)

    def _delete(self, target: SavedConversation, ids: list[str]) -> None:
        if self.store is not None and target.id is not None and not target.deleted:
            self.store.delete_messages(target.id, ids)

    def _tick(self) -> None:
        """Every ``CHECKPOINT_INTERVAL_S`` while a turn runs: completed messages, then the answer so far."""
        for turn in self._turns:
            self._sync(turn)
        agent = self.app.agent
        current = agent.current if agent is not None else None
        if agent is None or current is None or not self._turns:
            return
        text, reasoning = current.text, current.reasoning
        if text or reasoning:
            self._writer.write_later(self._checkpoint, self._turns[-1].conversation, text, reasoning,
                              agent.settings.model_name, agent.backend.name)

    def _sync(self, turn: TurnSaving) -> None:
        target = turn.conversation
        new = [message for message in turn.history if message.id not in target.saved]
        if new:
            target.saved.update(message.id for message in new)
            self._writer.write_later(self._save, target, new)

    def _ensure(self, target: SavedConversation) -> tuple[ConversationStore, StreamCheckpointer] | None:
        """Writer thread: the store and the target's checkpointer, creating the conversation if need be."""
        store = self.store
        if store is None or target.deleted:
            return None
        if target.id is None:
            target.id = store.create_conversation(model=self.app.settings.model_name)
        if target.checkpointer is None:
            target.checkpointer = StreamCheckpointer(store, target.id, interval_s=CHECKPOINT_INTERVAL_S * 0.8)
        return store, target.checkpointer

    def _save(self, target: SavedConversation, messages: list[ChatMessage]) -> None:
        ready = self._ensure(target)
        if ready is None:
            return
        store, checkpointer = ready
        for message in messages:
            if message.role == "assistant":  # the answer a checkpoint stood for, if any
                checkpointer.finish(message)
            else:
                store.save_message(checkpointer.conversation_id, message)

    def _checkpoint(self, target: SavedConversation, text: str, reasoning: str, model: str | None,
                    backend: str | None) -> None:
        ready = self._ensure(target)
        if ready is not None:
            checkpointer = ready[1]
            checkpointer.maybe_checkpoint(checkpointer.snapshot(text, reasoning=reasoning, model=model,
                                                                backend=backend))

    # -- opening, listing, renaming, deleting, exporting

    def adopt(self, conversation: Conversation) -> None:
        """New turns go to this saved conversation (its messages are saved already)."""
        self.conversation = SavedConversation(id=conversation.id, saved={m.id for m in conversation.messages})

    async def with_store(self, job: Callable[[ConversationStore], T]) -> T:
        """``job(store)`` in the writer thread; ``StoreError`` if there is no store."""

        def run() -> T:
            if self.store is None:
                raise StoreError(self.problem or "the history store is not open")
            return job(self.store)

        return await self.call(run)

    async def open_conversation(self, conversation_id: str) -> None:
        """Load a saved conversation and continue it here."""
        try:
            conversation = await self.with_store(lambda store: store.load(conversation_id))
        except StoreError as exc:
            self.app.notify(str(exc), severity="error", markup=False)
            return
        await show_conversation(self.app, conversation)

    async def delete(self, conversation_id: str) -> None:
        """Delete a saved conversation (if it is the one shown, a new chat starts when the history closes)."""
        await self.with_store(lambda store: store.delete(conversation_id))
        if conversation_id == self.conversation.id:
            self.conversation.deleted = True
