"""Conversation entries: what the user sent, and dim notes from the app.

A ``MessageEntry`` (a prompt, an answer) can be moved to and acted on: it takes the focus (a
key or a click), the focus marks it, and a printable key typed on it is handed back up as
``TypedAway`` so the typing lands in the prompt.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from streamchat.messages import Attachment, ChatMessage
from streamchat.safety import strip_control
from streamchat.ui.widgets.attachment import AttachmentChip


@dataclass
class TypedAway(Message):
    """The user typed a character on a message: it goes to the prompt, and so does the focus."""

    entry: Widget
    """The message that had the focus."""
    character: str
    """What was typed."""


class MessageEntry(Widget):
    """A message the user can move to (a prompt, an answer): mixed in after the widget's base, which gives the CSS
    (Textual reads CSS from the first base only); the class says ``can_focus=True`` too."""

    can_focus = True

    @property
    def markdown(self) -> str:
        """What copying the message gives, as Markdown."""
        return ""

    @property
    def message(self) -> ChatMessage | None:
        """The message of the history it shows (an answer: its first), once known."""
        return None

    def set_branch(self, position: tuple[int, int] | None) -> None:
        """Show ``‹ 2/3 ›``: the second of three versions of this message (None: it has no other)."""

    def on_key(self, event: events.Key) -> None:
        """Typing on a message goes back to the prompt (keys bound to the message's actions never get here; keys
        bubbling up from a widget inside it, a tool row asking, are its own)."""
        if self.has_focus and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.post_message(TypedAway(self, event.character))


def branch_label(position: tuple[int, int] | None) -> str:
    """``‹ 2/3 › `` for the second of three versions of a message; '' for one with no other."""
    return f"‹ {position[0]}/{position[1]} › " if position else ""


class UserMessage(Vertical, MessageEntry, can_focus=True):
    """A prompt the user sent, shown literally, with a chip for each file sent with it."""

    def __init__(self, text: str, message: ChatMessage | None = None, attachments: list[Attachment] | None = None
                 ) -> None:
        super().__init__()
        self.text = text
        """The prompt as sent."""
        self.user_message = message
        """The user's message in the history, once the turn added it."""
        self.attachments = list(attachments if attachments is not None else message.attachments if message else [])
        """The files sent with it."""
        self.branch: tuple[int, int] | None = None
        """Which version of the prompt this is, when there are several."""

    def compose(self) -> ComposeResult:
        yield Static(self._content(), classes="prompt-text", markup=False)
        for attachment in self.attachments:
            yield AttachmentChip(attachment)

    def _content(self) -> Content:
        return Content.assemble((branch_label(self.branch), "$text-accent"), strip_control(self.text))

    @property
    def message(self) -> ChatMessage | None:
        """The user's message in the history, once known."""
        return self.user_message

    def set_branch(self, position: tuple[int, int] | None) -> None:
        """Show ``‹ 2/3 ›`` before the prompt (None: nothing)."""
        if position != self.branch:
            self.branch = position
            if self.is_mounted:
                self.query_one(".prompt-text", Static).update(self._content())

    @property
    def markdown(self) -> str:
        """What copying it gives: the prompt as sent."""
        return self.text


class Note(Static):
    """A dim line from the app itself (``stopped``, ``tools unavailable``, help...)."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(Content(text), markup=False, classes=classes)
