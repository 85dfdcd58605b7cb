"""The "new content below" hint shown while the user reads back."""

from __future__ import annotations

from textual import events
from textual.message import Message
from textual.widgets import Static


class NewContentHint(Static):
    """``↓ new content below · end to follow``; hidden unless the ``-visible`` class is set (``show_for``)."""

    class Follow(Message):
        """The user clicked the hint: follow the conversation again."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("↓ new content below · end to follow", markup=False, id=id)

    def show_for(self, *, following: bool, streaming: bool) -> None:
        """Visible only while an answer streams below a conversation that does not follow it (once the
        answer is done, nothing new is coming)."""
        self.set_class(streaming and not following, "-visible")

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Follow())
