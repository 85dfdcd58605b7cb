"""The chat app: a conversation that streams, a prompt, a status line, one worker per turn.

Data flows one way: ``Agent.run_turn()`` events -> the turn worker (``TurnRunner``) -> widgets and the store.
Widgets post messages up (a prompt sent, the view stopped following, a palette command) and the app acts;
its helpers in ``ui.chat`` get what they need (callables, widgets, the ``ChatHost`` protocol), never this class.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.reactive import reactive
from textual.widgets import Header, TextArea
from textual.worker import Worker

from streamchat.config.settings import Settings
from streamchat.heap import settle_heap
from streamchat.messages import Attachment, ChatMessage, can_continue, new_history
from streamchat.timing import Clock
from streamchat.tree import ConversationTree
from streamchat.ui.chat.agent_loader import AgentLoader
from streamchat.ui.chat.approver import ChatApprover
from streamchat.ui.chat.attach import Attacher
from streamchat.ui.chat.branches import BranchActions
from streamchat.ui.chat.commands import CHAT_BINDINGS, CHAT_ONLY_ACTIONS
from streamchat.ui.chat.context import ContextWatch
from streamchat.ui.chat.mcp_link import McpLink
from streamchat.ui.chat.navigation import MessageNavigator
from streamchat.ui.chat.palette import ChatCommands, PaletteLine
from streamchat.ui.chat.persistence import ChatPersistence
from streamchat.ui.chat.restore import continue_answer, open_history, show_conversation
from streamchat.ui.chat.slash import SlashCommands
from streamchat.ui.chat.submit import Submitter
from streamchat.ui.chat.switching import allow_always, follow_theme, open_picker
from streamchat.ui.chat.turns import Turn, TurnRunner
from streamchat.ui.exit_signals import forget_signals, quit_on_signals
from streamchat.ui.race.launch import race_from_chat
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.footer import ChatFooter
from streamchat.ui.widgets.hint import NewContentHint
from streamchat.ui.widgets.message import TypedAway, UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.status import StatusLine
from streamchat.ui.widgets.suggestions import Suggestions

if TYPE_CHECKING:
    from streamchat.agent import Agent
    from streamchat.demos import Demo
    from streamchat.ui.widgets.turn import AssistantTurn


class StreamChatApp(App[None]):
    """A full-screen chat that streams the model's answer token by token (make it with ``make_app``)."""

    CSS_PATH = "app.tcss"
    TITLE = "streamchat"
    COMMANDS = App.COMMANDS | {ChatCommands}
    BINDINGS: ClassVar[list[BindingType]] = list(CHAT_BINDINGS)

    turn_running = reactive(False, bindings=True)
    """True while a turn's worker runs."""
    following = reactive(True, bindings=True)
    """True while the conversation follows new content."""

    def __init__(self, settings: Settings, agent: Agent | None, *, reopen: str | None, pinned_model: bool,
                 race_prompt: str | None, demo: Demo | None, clock: Clock) -> None:
        super().__init__()
        self.settings = settings
        """The settings in force (``/model``, ``/system``, ``/tools`` replace them)."""
        self.pinned_model = pinned_model
        """True when the command line named the model or profile: a reopened conversation keeps them."""
        self.clock: Clock = clock
        """Where the UI's timings come from (tests freeze it)."""
        self.history: list[ChatMessage] = new_history(settings.system_prompt)
        """The conversation sent to the model, system prompt first when set: the branch shown."""
        self.conversation_tree = ConversationTree()
        """Every message of the conversation, on every branch (an edited prompt, a regenerated answer)."""
        self.reopen = reopen
        """At start-up, reopen this conversation: an id (or unique prefix), or ``last``."""
        self.race_prompt = race_prompt
        """From ``streamchat race``: the race pane opens on this prompt at start-up."""
        self.demo = demo
        """From ``streamchat demo N``: this demo runs at start-up."""
        self.last_prompt: str | None = None
        """The user text of the last turn, for retry."""
        self.agent_loader = AgentLoader(self, lambda: self.settings, self._agent_made, self._agent_for_turn, agent)
        """Holds the agent; makes it in a thread when none was given."""
        self.persistence = ChatPersistence(self, lambda: self.settings, self._say)
        """Saves the conversation as it happens (and reopens saved ones)."""
        self.turns = TurnRunner(self, self, self.agent_loader.for_turn, self.persistence)
        """Feeds each turn's events to its widgets and the store."""
        self.context = ContextWatch(self)
        """How full the model's context is; the ways out when a prompt would not fit."""
        self.slash = SlashCommands(self, self.context)
        """The ``/`` commands typed in the prompt."""
        self.branches = BranchActions(self)
        """Edit, regenerate, fork, delete, and flip between branches."""
        self.navigator = MessageNavigator(self, self.branches)
        """Moves between the messages and acts on the one with the focus."""
        self.attacher = Attacher(self)
        """``@path`` in the prompt: completed, then read when it is sent."""
        self.submitter = Submitter(self, self.slash, self.attacher, self.branches, self.context)
        """What Enter in the prompt does."""
        self.approver = ChatApprover(lambda: self.settings, self.turns.tool_row, lambda name: allow_always(self, name),
                                     lambda: self.query_one(Prompt).focus())
        """Asks the user before a file or MCP tool runs (given to the agent for each turn)."""
        self.mcp = McpLink(settings, lambda: self.agent, lambda text: self.is_running and self.call_later(self.note,
                                                                                                           text))
        """The MCP tool servers of the config file, started after the first frame."""

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        yield ConversationView(id="conversation")
        yield NewContentHint(id="hint")
        yield Suggestions(id="suggestions")
        yield Prompt(id="prompt", placeholder="Ask anything · enter sends · ctrl+j new line · / for commands")
        yield StatusLine(id="status")
        yield ChatFooter()

    def on_mount(self) -> None:
        quit_on_signals(self)  # kill -TERM, a closed terminal: leave as ctrl+q does
        self.sub_title = self.settings.model_name
        follow_theme(self)
        self.describe()
        self.query_one(Prompt).focus()
        self.persistence.start(self.reopen, lambda saved: show_conversation(self, saved))
        self.call_after_refresh(self.agent_loader.load if self.agent is None else settle_heap)
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

    @property
    def agent(self) -> Agent | None:
        """The agent, once made (or as given)."""
        return self.agent_loader.agent

    async def get_agent(self) -> Agent:
        """The agent, waiting for it to be created if need be (raises what creating it raised)."""
        return await self.agent_loader.get()

    def _agent_made(self, agent: Agent) -> None:
        self.mcp.install(agent)
        self.describe()
        self.context.learn(agent)

    def _agent_for_turn(self, agent: Agent) -> None:
        agent.approver = self.approver  # the chat's approver asks; the MCP servers' tools are in
        self.mcp.install(agent)

    @on(Worker.StateChanged)
    def _agent_loaded(self) -> None:
        """Take the agent as soon as its worker is done (and show its backend)."""
        if self.agent_loader.loaded():
            self.call_after_refresh(settle_heap)

    async def replace_agent(self, settings: Settings) -> None:
        """Use ``settings`` from the next turn on with a new backend; the conversation stays."""
        await self.agent_loader.replace(lambda: self.update_settings(settings))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show and run only the bindings that apply now."""
        if action in CHAT_ONLY_ACTIONS and len(self.screen_stack) > 1:
            return False  # another screen (race pane, history, palette) is on top of the chat
        if action == "message":
            return self.navigator.allows(str(parameters[0]))
        if action == "stop":
            return self.turn_running
        if action == "retry":
            return not self.turn_running and self.last_prompt is not None
        if action == "retry_blocking":
            return not self.turn_running and self.turns.last is not None and self.turns.last.blocking_may_help
        if action == "continue_answer":
            return not self.turn_running and can_continue(self.history)
        if action == "follow":
            return not self.following
        return True

    @on(ConversationView.FollowChanged)
    def _follow_changed(self, event: ConversationView.FollowChanged) -> None:
        self.following = event.following
        self._show_hint()

    def watch_turn_running(self) -> None:
        self._show_hint()
        if not self.turn_running:
            self.context_changed()

    def _show_hint(self) -> None:
        for hint in self.query(NewContentHint):
            hint.show_for(following=self.following, streaming=self.turn_running)

    def context_changed(self) -> None:
        """After a turn, a branch, a reopened conversation: a completed summary compacts; the meter shows the fill."""
        self.context.changed()

    @on(NewContentHint.Follow)
    def action_follow(self) -> None:
        """Jump to the bottom and follow the stream again."""
        self.query_one(ConversationView).follow()

    async def action_message(self, name: str) -> None:
        """An action on the messages: move between them, or act on the one with the focus."""
        await self.navigator.run(name)

    @on(TypedAway)
    def _typed_away(self, event: TypedAway) -> None:
        self.navigator.back(event.character)

    def action_scroll_conversation(self, pages: int) -> None:
        """Scroll the conversation by pages (the prompt keeps focus)."""
        conversation = self.query_one(ConversationView)
        # At once, not animated: presses in quick succession each move a page, and nothing is still
        # moving when earlier messages are mounted above.
        (conversation.scroll_page_up if pages < 0 else conversation.scroll_page_down)(animate=False)

    @on(Prompt.Submitted)
    async def _submitted(self, event: Prompt.Submitted) -> None:
        await self.submitter.submitted(event.prompt, event.text, self.clock())  # the moment of Enter

    @on(TextArea.Changed, "#prompt")
    def _prompt_changed(self, event: TextArea.Changed) -> None:
        if isinstance(event.text_area, Prompt):
            self.attacher.changed(event.text_area)

    @on(Prompt.CompletionKey)
    def _completion_key(self, event: Prompt.CompletionKey) -> None:
        self.attacher.key(event.prompt, event.key)

    @on(PaletteLine)
    async def _palette(self, event: PaletteLine) -> None:
        await self.slash.palette(event.line)

    async def send(self, text: str, *, sent_at: float | None = None, attachments: list[Attachment] | None = None
                   ) -> None:
        """Show the user's prompt and start a turn for it (``sent_at``: when it was sent, on ``clock``), the files
        ``attachments`` with it."""
        conversation = self.query_one(ConversationView)
        shown = UserMessage(text, attachments=attachments)
        await conversation.mount(shown)
        conversation.follow()
        self.start_turn(text, sent_at=sent_at, prompt_view=shown)

    def start_turn(self, text: str | None, *, stream: bool = True, sent_at: float | None = None,
                   user: ChatMessage | None = None, prompt_view: UserMessage | None = None) -> Worker[None]:
        """Run a turn for ``text`` (the agent adds it to the history as the user's message; None: answer ``user``,
        the history's last message) in the turn worker, ``prompt_view`` showing the prompt; its time to first
        token counts from ``sent_at`` (default: now), the moment the user sent it."""
        self.last_prompt = text if text is not None else user.content if user is not None else self.last_prompt
        for note in self.query(ErrorNote):
            note.drop_hint()  # "ctrl+r to retry · ctrl+e to continue" would now act on this turn
        return self.turns.start(text, stream=stream, sent_at=self.clock() if sent_at is None else sent_at,
                                user=user, prompt_view=prompt_view,
                                attachments=prompt_view.attachments if prompt_view else None)

    def action_stop(self) -> None:
        """Stop the running turn now: the stream closes, tools are cancelled, the partial answer stays."""
        self.workers.cancel_group(self, "turn")

    async def action_retry(self, stream: bool = True) -> None:
        """Run the last prompt again, dropping the last turn's answer from history and view."""
        if self.turn_running or self.last_prompt is None:
            return
        user = await self.turns.drop_last(self.history)
        self.query_one(ConversationView).follow()
        unsent = [view for view in self.query(UserMessage) if view.user_message is None]  # the agent never added it
        self.start_turn(None if user is not None else self.last_prompt, stream=stream, user=user,
                        prompt_view=unsent[-1] if user is None and unsent else None)

    def set_last_turn(self, user: ChatMessage | None, view: AssistantTurn | None) -> None:
        """Retry will run ``user``'s prompt again, in place of ``user`` and ``view`` (its answer); None: nothing to."""
        self.last_prompt = None if user is None else user.content
        self.turns.last = Turn(view, user)

    async def action_retry_blocking(self) -> None:
        """Retry the last turn with a blocking (non-streaming) request."""
        await self.action_retry(stream=False)

    async def action_new_chat(self) -> None:
        """Start over: no context, empty view."""
        self.action_stop()
        self.persistence.new_conversation()
        self.approver.new_chat()
        self.history = new_history(self.settings.system_prompt)
        self.conversation_tree = ConversationTree()
        self.branches.cancel_edit(restore=False)
        self.set_last_turn(None, None)
        await self.query_one(ConversationView).clear()
        self.query_one(StatusLine).clear()
        self.context_changed()
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

    def action_race(self, prompt: str | None = None) -> None:
        """Race ``prompt`` streaming vs blocking (default: the prompt typed, ``race``'s, the last, a built-in one)."""
        race_from_chat(self, prompt, self.race_prompt)

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
        """Add a dim note from the app at the end of the conversation."""
        await self.query_one(ConversationView).note(text)

    async def _say(self, text: str) -> None:
        """The history's note: above an answer streaming, or a notification when a screen hides the chat."""
        views = self.screen_stack[0].query(ConversationView) if self.screen_stack else None
        if views:
            await views.first().note(text, classes="history-note", above_running=True)
        else:
            self.notify(text, severity="warning", markup=False)


def make_app(settings: Settings, agent: Agent | None = None, *, continue_last: bool = False,
             resume: str | None = None, pinned_model: bool = False, race_prompt: str | None = None,
             demo: Demo | None = None, clock: Clock = time.perf_counter) -> StreamChatApp:
    """The chat app for ``settings``: the one factory the CLI and the tests use, every option an argument.

    ``agent`` (default: made in a thread after the first frame); ``continue_last`` / ``resume`` (an id or unique
    prefix) reopen a conversation; ``pinned_model``: the command line named the model or profile, which a reopened
    conversation keeps; ``race_prompt`` opens the race pane at start-up, ``demo`` runs that demo; ``clock`` times
    the UI's figures (tests freeze it)."""
    return StreamChatApp(settings, agent, reopen=resume or ("last" if continue_last else None),
                         pinned_model=pinned_model, race_prompt=race_prompt, demo=demo, clock=clock)
