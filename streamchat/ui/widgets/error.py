"""An error shown inside the conversation, where it happened."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from streamchat.safety import strip_control

KIND_TITLES: dict[str, str] = {
    "connection": "Connection failed",
    "dns": "Server not found",
    "auth": "Authentication failed",
    "permission": "Access refused",
    "not_found": "Model not found",
    "rate_limit": "Rate limited",
    "server": "Server error",
    "bad_request": "Request refused",
    "timeout": "Timed out",
    "dropped": "Connection dropped",
    "stream_error": "Error in the stream",
    "incomplete": "Incomplete answer",
    "config": "Configuration problem",
    "context_length": "Too long for the model",
    "tool_rounds": "Too many tool rounds",
    "unknown": "Error",
}
"""A short title for each ``ErrorEvent.kind``."""


class ErrorNote(Static):
    """``✗ Rate limited — Rate limited by host (429): … `` plus what the user can do about it."""

    def __init__(self, kind: str, message: str, hint: str = "") -> None:
        super().__init__(markup=False, classes=f"-{kind}")
        self.kind = kind
        """The ``ErrorEvent.kind``."""
        self.message = strip_control(message)
        """The error's human sentence, safe to show."""
        self.hint = hint
        """What to do next, e.g. ``ctrl+r retry``."""

    def drop_hint(self) -> None:
        """Another turn began: the keys the hint names would act on that one, so the hint goes."""
        if self.hint:
            self.hint = ""
            self.on_mount()

    def on_mount(self) -> None:
        title = KIND_TITLES.get(self.kind, "Error")
        parts: list[str | tuple[str, str]] = [("✗ ", "bold"), (title, "bold"), " — ", self.message]
        if self.hint:
            parts += ["\n", (self.hint, "dim")]
        self.update(Content.assemble(*parts))
