"""The chat as its helpers see it: a ``Protocol`` the app implements, so ``ui.chat`` never imports ``ui.app``.

The slash commands, switching model or profile, and reopening a conversation act on the
chat as a whole: they get a ``ChatHost``, this much of the app (and, through ``app``,
Textual's screens, workers and clipboard). The other helpers get narrower collaborators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from textual.app import App
    from textual.notifications import SeverityLevel
    from textual.worker import Worker

    from streamchat.agent import Agent
    from streamchat.config.settings import Settings
    from streamchat.messages import Attachment, ChatMessage
    from streamchat.timing import Clock
    from streamchat.tree import ConversationTree
    from streamchat.ui.chat.persistence import ChatPersistence
    from streamchat.ui.chat.turns import TurnRunner
    from streamchat.ui.widgets.turn import AssistantTurn

STILL_ANSWERING = "Still answering — press esc to stop it first."
"""Said when something needs the chat idle while a turn runs."""


class ChatHost(Protocol):
    """What the chat's helpers read and do: its settings, history and turn, a note, a notification, the actions."""

    history: list[ChatMessage]
    """The conversation sent to the model, system prompt first when set: the branch shown."""
    conversation_tree: ConversationTree
    """Every message of the conversation, on every branch."""
    pinned_model: bool
    """True when the command line named the model or profile: a reopened conversation keeps them."""
    clock: Clock
    """Where the UI's timings come from."""

    @property
    def app(self) -> App[object]:
        """Textual's side of the chat: screens, workers, the clipboard, themes."""
        ...

    @property
    def settings(self) -> Settings:
        """The settings in force."""
        ...

    @property
    def turn_running(self) -> bool:
        """True while a turn's worker runs."""
        ...

    @property
    def last_prompt(self) -> str | None:
        """The user text of the last turn, for retry."""
        ...

    @property
    def agent(self) -> Agent | None:
        """The agent, once made."""
        ...

    @property
    def persistence(self) -> ChatPersistence:
        """Where the conversation is saved."""
        ...

    @property
    def turns(self) -> TurnRunner:
        """Runs each turn's events into its widgets."""
        ...

    def update_settings(self, settings: Settings) -> None:
        """Replace the settings (and the agent's), and show them."""
        ...

    async def replace_agent(self, settings: Settings) -> None:
        """Use ``settings`` from the next turn on with a new agent; the conversation stays."""
        ...

    async def get_agent(self) -> Agent:
        """The agent, waiting for it to be made if need be."""
        ...

    async def note(self, text: str) -> None:
        """A dim note at the end of the conversation."""
        ...

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """A toast."""
        ...

    def start_turn(self, text: str | None, *, stream: bool = True, sent_at: float | None = None,
                   user: ChatMessage | None = None) -> Worker[None]:
        """Send ``text`` as the user's message in a new turn (None: answer ``user``, which ends the history)."""
        ...

    async def send(self, text: str, *, sent_at: float | None = None, attachments: list[Attachment] | None = None
                   ) -> None:
        """Show the user's prompt (with the files ``attachments``) and start a turn for it."""
        ...

    def context_changed(self) -> None:
        """The history changed outside a turn (a branch, a reopened conversation): show how full the context is."""
        ...

    def set_last_turn(self, user: ChatMessage | None, view: AssistantTurn | None) -> None:
        """What retry drops and runs again (a reopened conversation's last prompt and answer)."""
        ...

    def action_stop(self) -> None:
        """Stop the running turn (its partial answer stays, marked stopped)."""
        ...

    async def action_new_chat(self) -> None:
        """Start over: no context, empty view."""
        ...

    async def action_retry(self, stream: bool = True) -> None:
        """Run the last prompt again."""
        ...

    async def action_continue_answer(self) -> None:
        """Carry on the last answer."""
        ...

    def action_history(self) -> None:
        """Open the saved conversations."""
        ...

    def action_race(self, prompt: str | None = None) -> None:
        """Race ``prompt`` streaming vs blocking."""
        ...
