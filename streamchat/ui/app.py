"""The chat app: a conversation that streams, a prompt, a status line, one worker per turn.

Data flows one way: ``Agent.run_turn()`` events -> the turn worker -> widgets.
Widgets never touch the network; they post messages up (a prompt was sent,
the view stopped following) and the app acts.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import Footer, Header
from textual.worker import Worker

from streamchat.config.settings import Settings
from streamchat.events import AnyEvent
from streamchat.messages import ChatMessage, can_continue
from streamchat.timing import Clock
from streamchat.ui.chat.agent_loader import AgentLoader
from streamchat.ui.chat.approver import ChatApprover
from streamchat.ui.chat.commands import ChatCommands, as_sent
from streamchat.ui.chat.mcp_link import McpLink
from streamchat.ui.chat.persistence import ChatPersistence
from streamchat.ui.chat.restore import continue_answer
from streamchat.ui.chat.slash import STILL_ANSWERING, SlashCommands
from streamchat.ui.chat.switching import follow_theme, open_picker
from streamchat.ui.chat.turns import TurnRunner
from streamchat.ui.exit_signals import forget_signals, quit_on_signals
from streamchat.ui.heap import settle_heap
from streamchat.ui.race.launch import race_from_chat
from streamchat.ui.screens.history import open_history
from streamchat.ui.widgets.conversation import Conversation
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.hint import NewContentHint
from streamchat.ui.widgets.message import Note, UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.status import StatusLine
from streamchat.ui.widgets.turn import AssistantTurn

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.demos import Demo

CHAT_ONLY_ACTIONS = frozenset({"retry", "retry_blocking", "new_chat", "race", "history", "continue_answer", "follow",
                               "scroll_conversation", "pick_model"})
"""Actions that act on the chat, so they are off while another screen is on top of it."""


class StreamChatApp(App[None]):
    """A full-screen chat that streams the model's answer token by token."""

    CSS_PATH = "app.tcss"
    TITLE = "streamchat"
    COMMANDS = App.COMMANDS | {ChatCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+b", "retry_blocking", "Retry without streaming"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+t", "race", "Race streaming vs blocking", show=False),
        Binding("ctrl+o", "history", "History", show=False),
        Binding("ctrl+l", "pick_model", "Model", show=False),
        Binding("ctrl+e", "continue_answer", "Continue answer", priority=True),
        Binding("end", "follow", "Follow", priority=True),
        Binding("pageup", "scroll_conversation(-1)", "Page up", show=False, priority=True),
        Binding("pagedown", "scroll_conversation(1)", "Page down", show=False, priority=True),
    ]

    turn_running = reactive(False, bindings=True)
    """True while a turn's worker runs."""
    following = reactive(True, bindings=True)
    """True while the conversation follows new content."""

    def __init__(self, settings: Settings, agent: Agent | None = None) -> None:
        super().__init__()
        self.settings = settings
        """The settings in force (``/model``, ``/system``, ``/tools`` replace them)."""
        self.pinned_model = False
        """True when the command line named the model or profile: a reopened conversation keeps them."""
        self.agent: Agent | None = agent
        """The agent; created in a thread after the first frame when not given."""
        self.clock: Clock = time.perf_counter
        """Where the UI's timings come from (tests freeze it)."""
        self.history: list[ChatMessage] = self._fresh_history()
        """The conversation sent to the model, system prompt first when set."""
        self.last_events: list[AnyEvent] = []
        """Every event of the last turn, in order (for tests and debugging)."""
        self.last_prompt: str | None = None
        """The user text of the last turn, for retry."""
        self.can_retry_blocking = False
        """True when the last turn's stream failed before any token (offer a non-streaming retry)."""
        self._turn_user: ChatMessage | None = None
        self._turn_view: AssistantTurn | None = None
        self._turn_worker: Worker[None] | None = None
        self.agent_loader = AgentLoader(self)
        """Creates the agent when none was given."""
        self.turns = TurnRunner(self)
        """Feeds each turn's events to its widgets."""
        self.persistence = ChatPersistence(self)
        """Saves the conversation as it happens (and reopens saved ones)."""
        self.slash = SlashCommands(self)
        """The ``/`` commands typed in the prompt."""
        self.approver = ChatApprover(self)
        """Asks the user before a file or MCP tool runs (given to the agent for each turn)."""
        self.mcp = McpLink(self)
        """The MCP tool servers of the config file, started after the first frame."""
        self.race_prompt: str | None = None
        """Set by ``streamchat race``: open the race pane on this prompt at start-up."""
        self.demo: Demo | None = None
        """Set by ``streamchat demo N``: run this demo at start-up."""

    # -- layout and start-up

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        yield Conversation(id="conversation")
        yield NewContentHint(id="hint")
        yield Prompt(id="prompt", placeholder="Ask anything · enter sends · ctrl+j new line · / for commands")
        yield StatusLine(id="status")
        yield Footer()

    def on_mount(self) -> None:
        quit_on_signals(self)  # kill -TERM, a closed terminal: leave as ctrl+q does
        self.sub_title = self.settings.model_name
        follow_theme(self)
        self.describe()
        self.query_one(Prompt).focus()
        self.persistence.start()
        if self.agent is None:
            self.call_after_refresh(self.agent_loader.load)
        else:
            self.call_after_refresh(settle_heap)
        self.call_after_refresh(self.mcp.start)
        if self.race_prompt is not None:
            self.call_after_refresh(self.action_race)
        if self.demo is not None:
            self.call_after_refresh(self.slash.demo, self.demo)
        for issue in self.settings.config_issues:
            self.call_after_refresh(self.note, f"config: {issue}")

    def describe(self) -> None:
        """Show backend, model and tools in the status line."""
        self.query_one(StatusLine).describe(self.settings, self.agent.backend if self.agent else None)

    async def get_agent(self) -> Agent:
        """The agent, waiting for it to be created if need be (raises what creating it raised)."""
        return await self.agent_loader.get()

    @on(Worker.StateChanged)
    def _agent_loaded(self) -> None:
        """Take the agent as soon as its worker is done (and show its backend)."""
        had_agent = self.agent is not None
        self.agent_loader.loaded()
        if not had_agent and self.agent is not None:
            self.call_after_refresh(settle_heap)

    def _fresh_history(self) -> list[ChatMessage]:
        prompt = self.settings.system_prompt
        return [ChatMessage(role="system", content=prompt)] if prompt else []

    # -- bindings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show and run only the bindings that apply now."""
        if action in CHAT_ONLY_ACTIONS and len(self.screen_stack) > 1:
            return False  # another screen (race pane, history, palette) is on top of the chat
        if action == "stop":
            return self.turn_running
        if action == "retry":
            return not self.turn_running and self.last_prompt is not None
        if action == "retry_blocking":
            return not self.turn_running and self.can_retry_blocking
        if action == "continue_answer":
            return not self.turn_running and can_continue(self.history)
        if action == "follow":
            return not self.following
        return True

    @on(Conversation.FollowChanged)
    def _follow_changed(self, event: Conversation.FollowChanged) -> None:
        self.following = event.following
        self.watch_turn_running()

    def watch_turn_running(self) -> None:
        for hint in self.query(NewContentHint):
            hint.show_for(following=self.following, streaming=self.turn_running)

    @on(NewContentHint.Follow)
    def action_follow(self) -> None:
        """Jump to the bottom and follow the stream again."""
        self.query_one(Conversation).follow()

    def action_scroll_conversation(self, pages: int) -> None:
        """Scroll the conversation by pages (the prompt keeps focus)."""
        conversation = self.query_one(Conversation)
        (conversation.scroll_page_up if pages < 0 else conversation.scroll_page_down)()

    # -- sending and the turn worker

    @on(Prompt.Submitted)
    async def _submitted(self, event: Prompt.Submitted) -> None:
        sent_at = self.clock()  # the moment of Enter: the turn's figures count from here
        if await self.slash.submitted(event.prompt, event.text):
            return
        if self.turn_running:
            self.notify(STILL_ANSWERING, severity="warning")
            return
        event.prompt.remember(event.text)
        event.prompt.clear()
        await self.send(as_sent(event.text), sent_at=sent_at)

    async def send(self, text: str, *, sent_at: float | None = None) -> None:
        """Show the user's prompt and start a turn for it (``sent_at``: when it was sent, on ``clock``)."""
        conversation = self.query_one(Conversation)
        await conversation.mount(UserMessage(text))
        conversation.follow()
        self.start_turn(text, sent_at=sent_at)

    def start_turn(self, text: str, *, stream: bool = True, sent_at: float | None = None) -> None:
        """Add ``text`` to the history as the user's message and run a turn for it in the turn worker.

        The turn's time to first token counts from ``sent_at`` (default: now), the moment the user sent it.
        """
        self.last_prompt = text
        self.can_retry_blocking = False
        for note in self.query(ErrorNote):
            note.drop_hint()  # "ctrl+r to retry · ctrl+e to continue" would now act on this turn
        self._turn_user = ChatMessage(role="user", content=text)
        self.history.append(self._turn_user)
        self.turn_running = True
        self._turn_worker = self._run_turn(stream, self.clock() if sent_at is None else sent_at)

    @work(exclusive=True, group="turn", exit_on_error=False)
    async def _run_turn(self, stream: bool, sent_at: float) -> None:
        """One turn in the conversation; cancelling this worker stops it (see ``action_stop``)."""
        await self.turns.run(stream, sent_at)

    # -- actions

    def action_stop(self) -> None:
        """Stop the running turn now: the stream closes, tools are cancelled, the partial answer stays."""
        self.workers.cancel_group(self, "turn")

    async def action_retry(self, stream: bool = True) -> None:
        """Run the last prompt again, dropping the last turn's answer from history and view."""
        if self.turn_running or self.last_prompt is None:
            return
        if self._turn_user in self.history:
            start = self.history.index(self._turn_user)
            self.persistence.forget(self.history[start:])  # the saved conversation drops the attempt too
            del self.history[start:]
        if self._turn_view is not None:
            await self._turn_view.remove()
            self._turn_view = None
        self.query_one(Conversation).follow()
        self.start_turn(self.last_prompt, stream=stream)

    @property
    def turn_view(self) -> AssistantTurn | None:
        """The view of the last turn started (its tool rows ask for approval)."""
        return self._turn_view

    def set_last_turn(self, user: ChatMessage | None, view: AssistantTurn | None) -> None:
        """Retry will run ``user``'s prompt again, in place of ``user`` and ``view`` (its answer); None: nothing to."""
        self.last_prompt = None if user is None else user.content
        self._turn_user, self._turn_view, self.can_retry_blocking = user, view, False

    async def action_retry_blocking(self) -> None:
        """Retry the last turn with a blocking (non-streaming) request."""
        await self.action_retry(stream=False)

    async def action_new_chat(self) -> None:
        """Start over: no context, empty view."""
        self.action_stop()
        self.persistence.new_conversation()
        self.approver.new_chat()
        self.history = self._fresh_history()
        self.last_events = []
        self.set_last_turn(None, None)
        await self.query_one(Conversation).clear()
        self.query_one(StatusLine).clear()
        self.query_one(Prompt).focus()
        self.refresh_bindings()

    def action_pick_model(self) -> None:
        """Open the model picker: profiles, and the models the server lists."""
        open_picker(self)

    def action_history(self) -> None:
        """Open the list of saved conversations."""
        open_history(self)

    async def action_continue_answer(self) -> None:
        """Ask the model to carry on from where its last answer stopped."""
        await continue_answer(self)

    async def on_unmount(self) -> None:
        await self.mcp.aclose()
        forget_signals()
        await self.persistence.close()
        if self.agent is not None:
            await self.agent.backend.aclose()

    def update_settings(self, settings: Settings) -> None:
        """Replace the settings (and the agent's), and show them."""
        self.settings = settings
        if self.agent is not None:
            self.agent.settings = settings
        self.sub_title = settings.model_name
        self.describe()

    async def note(self, text: str) -> None:
        """Add a dim note from the app to the conversation."""
        conversation = self.query_one(Conversation)
        await conversation.mount(Note(text))
        conversation.follow()

    def action_race(self, prompt: str | None = None) -> None:
        """Race ``prompt`` streaming vs blocking (default: the prompt typed, ``race``'s, the last, a built-in one)."""
        race_from_chat(self, prompt)


def make_app(settings: Settings, agent: Agent | None = None, *, continue_last: bool = False,
             resume: str | None = None, pinned_model: bool = False) -> StreamChatApp:
    """The chat app for ``settings``, reopening the last conversation or ``resume`` (an id or prefix).

    ``pinned_model``: the model or profile was named on the command line, so a reopened
    conversation keeps them instead of going back to the model it used. The one factory the
    CLI and the tests use.
    """
    app = StreamChatApp(settings, agent)
    app.pinned_model = pinned_model
    app.persistence.reopen = resume or ("last" if continue_last else None)
    return app
