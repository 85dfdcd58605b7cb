"""Simple conversation entries: what the user sent, and dim notes from the app."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from streamchat.safety import strip_control


class UserMessage(Static):
    """A prompt the user sent, shown literally."""

    def __init__(self, text: str) -> None:
        super().__init__(Content(strip_control(text)), markup=False)
        self.text = text
        """The prompt as sent."""


class Note(Static):
    """A dim line from the app itself (``stopped``, ``tools unavailable``, help...)."""

    def __init__(self, text: str, *, classes: str = "") -> None:
        super().__init__(Content(text), markup=False, classes=classes)
