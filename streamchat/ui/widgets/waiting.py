"""The indicator shown between sending a request and its first token."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from streamchat.timing import Clock

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
"""Frames of the spinner shared by the waiting indicator and running tools."""


def spinner_frame(elapsed: float) -> str:
    """The spinner frame for a moment (10 frames a second)."""
    return SPINNER[int(elapsed * 10) % len(SPINNER)]


class WaitingIndicator(Static):
    """``⠋ waiting for the model · 1.3 s``; replaced by the answer when the first token lands."""

    DEFAULT_CSS = """
    WaitingIndicator { color: $text-muted; height: 1; }
    """

    def __init__(self, clock: Clock, label: str = "waiting for the model") -> None:
        super().__init__(markup=False)
        self.clock = clock
        """Where time comes from."""
        self.started_at = clock()
        """When the wait began."""
        self.label = label
        """What we are waiting for."""

    def on_mount(self) -> None:
        self._tick()
        self.set_interval(0.1, self._tick)

    def _tick(self) -> None:
        elapsed = self.clock() - self.started_at
        self.update(Content(f"{spinner_frame(elapsed)} {self.label} · {elapsed:.1f} s"))
