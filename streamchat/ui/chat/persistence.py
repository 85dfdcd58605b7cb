"""The chat's side of the history store: the conversation is saved as it happens, from the turn's events.

Every store call runs in one background thread (``StoreThread``), in the
order it was asked for, so the UI never waits on the disk and no write
overtakes another. The turn worker hands each event of a turn to ``saw``:

- a ``MessageAdded`` is written at once (the user's prompt, answers with tool
  calls, tool results, the final answer in place of its checkpoint); the
  conversation itself is created with its first message, the system prompt
  before it;
- the answer streaming is kept, and every ``CHECKPOINT_INTERVAL_S`` while a
  turn runs a checkpoint of it is written (status ``incomplete``, see
  ``StreamCheckpointer``) if it changed.

Nothing touches the disk per token. If the store cannot be opened (damaged,
locked, newer schema) the chat runs unsaved and says so once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, TypeVar

from streamchat.events import AnyEvent, MessageAdded, ReasoningDelta, TextDelta
from streamchat.messages import ChatMessage
from streamchat.store.checkpoint import StreamCheckpointer
from streamchat.store.database import Conversation, ConversationStore, StoreError, open_store
from streamchat.store.writer import StoreThread
from streamchat.ui.chat.saving import SaveTarget, TurnSaving

if TYPE_CHECKING:
    from textual.dom import DOMNode
    from textual.timer import Timer

    from streamchat.config.settings import Settings

T = TypeVar("T")

CHECKPOINT_INTERVAL_S = 0.5
"""How often the answer streaming is saved while a turn runs (the one throttle: nothing is written in between)."""

CLOSE_WAIT_S = 3.0
"""At exit, how long to wait for a stopping turn to record its partial answer."""


class ChatPersistence:
    """Opens the store off the UI thread and saves the chat's conversation from its turns' events.

    ``owner`` runs the workers and the checkpoint timer; ``settings`` gives the settings in force;
    ``say`` puts a dim note in the conversation.
    """

    def __init__(self, owner: DOMNode, settings: Callable[[], Settings],
                 say: Callable[[str], Awaitable[None]]) -> None:
        self.store: ConversationStore | None = None
        """The store once open (None before, or when it cannot be used)."""
        self.problem: str | None = None
        """Why the conversation is not saved, if it is not."""
        self.target = SaveTarget()
        """The conversation shown, as saved."""
        self._owner = owner
        self._settings = settings
        self._say = say
        self._writer = StoreThread(self._say_problem)
        self._turns: list[TurnSaving] = []
        self._timer: Timer | None = None
        self._said_problem = False

    @property
    def current_id(self) -> str | None:
        """The id of the conversation shown, once saved."""
        return self.target.id

    # -- the writer thread

    async def call(self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job(*args)`` in the writer thread, after every write asked for before it."""
        return await self._writer.call(job, *args)

    async def with_store(self, job: Callable[[ConversationStore], T]) -> T:
        """``job(store)`` in the writer thread; ``StoreError`` if there is no store."""

        def run() -> T:
            if self.store is None:
                raise StoreError(self.problem or "the history store is not open")
            return job(self.store)

        return await self.call(run)

    def _say_problem(self, reason: str) -> None:
        if not self._said_problem:
            self._said_problem = True
            self._owner.call_later(self.say, f"History is not saved: {reason}")

    async def say(self, text: str) -> None:
        """A dim note in the conversation."""
        await self._say(text)

    # -- start and stop

    def start(self, reopen: str | None, show: Callable[[Conversation], Awaitable[None]]) -> None:
        """Open the store in the background, then ``show`` the conversation ``reopen`` names (an id, a unique
        prefix or ``last``), if any."""
        self._writer.bind(asyncio.get_running_loop())
        self._owner.run_worker(self._start(reopen, show), group="history", exit_on_error=False)

    def _open(self) -> None:
        settings = self._settings()
        self.store, self.problem = open_store(settings.data_dir, secret=settings.api_key)

    async def _start(self, reopen: str | None, show: Callable[[Conversation], Awaitable[None]]) -> None:
        await self.call(self._open)
        if self.problem is not None:
            self._said_problem = True
            await self.say(f"History is not saved: {self.problem}")
            return
        if reopen is None:
            return
        try:
            conversation = await self.with_store(lambda store: store.load(found) if (found := store.find(reopen))
                                                 else None)
        except StoreError as exc:
            await self.say(f"Cannot reopen the conversation: {exc}")
            return
        if conversation is None:
            await self.say("No earlier conversation to continue: this is a new one.")
        else:
            await show(conversation)

    async def settled(self) -> None:
        """Wait (up to ``CLOSE_WAIT_S`` each) for the turns stopping to record their partial answers."""
        for turn in list(self._turns):
            with suppress(TimeoutError):
                await asyncio.wait_for(turn.ended.wait(), CLOSE_WAIT_S)

    async def close(self) -> None:
        """At exit: let stopping turns record their partial answers, write everything, close the store."""
        await self.settled()
        self._tick()  # turns still not ended: their answers so far
        await self._writer.close(self._close_store)

    def _close_store(self) -> None:
        if self.store is not None:
            self.store.close()

    # -- saving turns (UI thread: decide what to write; writer thread: write it)

    def new_conversation(self) -> None:
        """New chat: the next message starts a new conversation in the store."""
        self.target = SaveTarget()

    def adopt(self, conversation: Conversation) -> None:
        """New turns go to this saved conversation (its messages are saved already)."""
        self.target = SaveTarget(id=conversation.id, started=True)

    def turn_started(self, history: list[ChatMessage]) -> TurnSaving:
        """A turn starts from ``history``; hand its events to ``saw``, then end it with ``turn_ended``."""
        turn = TurnSaving(self.target, list(history))
        self._turns.append(turn)
        if self._timer is None:
            self._timer = self._owner.set_interval(CHECKPOINT_INTERVAL_S, self._tick, name="history-checkpoint")
        return turn

    def saw(self, turn: TurnSaving, event: AnyEvent) -> None:
        """One event of ``turn``, in the turn worker: a message added is written, the answer streaming kept."""
        if isinstance(event, TextDelta):
            turn.text.append(event.text)
            turn.changed = True
        elif isinstance(event, ReasoningDelta):
            turn.reasoning.append(event.text)
            turn.changed = True
        elif isinstance(event, MessageAdded):
            turn.text.clear()
            turn.reasoning.clear()
            turn.changed = False
            target = turn.target
            messages = [event.message] if target.started else [*turn.before, event.message]
            target.started = True
            self._writer.write_later(self._save, target, messages)

    def turn_ended(self, turn: TurnSaving) -> None:
        """The turn ended (done, failed or stopped): its messages were all seen."""
        if turn in self._turns:
            self._turns.remove(turn)
        turn.ended.set()
        if not self._turns and self._timer is not None:
            self._timer.stop()
            self._timer = None

    def forget(self, messages: list[ChatMessage], *, emptied: bool = False) -> None:
        """These messages left the conversation (a retry drops the last answer, the user deletes from a message
        on): delete them from the store too. ``emptied``: nothing is left, so the conversation goes from the
        history as well, and the next message starts a new one."""
        target = self.target
        if target.started and (messages or emptied):
            self._writer.write_later(self._delete, target, [message.id for message in messages], emptied)
        if emptied:
            self.target = SaveTarget()

    def branch_shown(self, leaf: ChatMessage | None) -> None:
        """The branch shown now ends at ``leaf`` (None: at no message): the saved conversation follows, so the
        history list, ``--continue`` and exports show this branch, and the next message saved continues it."""
        target = self.target
        if target.started:
            self._writer.write_later(self._set_leaf, target, leaf.id if leaf is not None else None)

    def resave(self, message: ChatMessage) -> None:
        """A message already saved changed (a cut now starts at it): write it again, in its place."""
        target = self.target
        if target.started:
            self._writer.write_later(self._save, target, [message])

    def save_all(self, messages: list[ChatMessage]) -> None:
        """A conversation that starts with these messages (a fork): written to a new saved conversation now."""
        self.new_conversation()
        if messages:
            self.target.started = True
            self._writer.write_later(self._save, self.target, list(messages))

    def system_changed(self, old: ChatMessage | None, new: ChatMessage | None) -> None:
        """``/system`` replaced the system message (first in the history): the saved conversation follows now."""
        target = self.target
        if target.started:  # else the first turn saves the history in order, system prompt first
            self._writer.write_later(self._set_system, target, old.id if old is not None else None, new)

    def _tick(self) -> None:
        """Every ``CHECKPOINT_INTERVAL_S`` while turns run: the answer streaming, if it changed."""
        for turn in self._turns:
            if turn.changed and turn.target.started:
                turn.changed = False
                self._writer.write_later(self._checkpoint, turn.target, "".join(turn.text), "".join(turn.reasoning),
                                         turn.model, turn.backend)

    # -- the writes (writer thread)

    def _ensure(self, target: SaveTarget) -> tuple[ConversationStore, StreamCheckpointer] | None:
        """The store and the target's checkpointer, creating the conversation if need be."""
        store = self.store
        if store is None or target.deleted:
            return None
        if target.id is None:
            target.id = store.create_conversation(model=self._settings().model_name)
        if target.checkpointer is None:
            target.checkpointer = StreamCheckpointer(store, target.id)
        return store, target.checkpointer

    def _save(self, target: SaveTarget, messages: list[ChatMessage]) -> None:
        ready = self._ensure(target)
        if ready is None:
            return
        store, checkpointer = ready
        for message in messages:
            if message.role == "assistant":  # the answer a checkpoint stood for, if any
                checkpointer.finish(message)
            else:
                store.save_message(checkpointer.conversation_id, message)

    def _checkpoint(self, target: SaveTarget, text: str, reasoning: str, model: str | None,
                    backend: str | None) -> None:
        ready = self._ensure(target)
        if ready is not None:
            checkpointer = ready[1]
            checkpointer.checkpoint(checkpointer.snapshot(text, reasoning=reasoning, model=model, backend=backend))

    def _set_system(self, target: SaveTarget, old_id: str | None, new: ChatMessage | None) -> None:
        if self.store is not None and target.id is not None and not target.deleted:
            self.store.set_system_message(target.id, old_id, new)

    def _set_leaf(self, target: SaveTarget, leaf_id: str | None) -> None:
        if self.store is not None and target.id is not None and not target.deleted:
            self.store.set_active_leaf(target.id, leaf_id)

    def _delete(self, target: SaveTarget, ids: list[str], emptied: bool = False) -> None:
        if self.store is not None and target.id is not None and not target.deleted:
            if emptied:
                self.store.delete(target.id)
                target.deleted = True
            else:
                self.store.delete_messages(target.id, ids)

    async def delete(self, conversation_id: str) -> None:
        """Delete a saved conversation (if it is the one shown, a new chat starts when the history closes)."""
        await self.with_store(lambda store: store.delete(conversation_id))
        if conversation_id == self.target.id:
            self.target.deleted = True
