"""A file sent with a prompt, as a compact chip in the user's message: name, size, lines; expands to its text."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import var
from textual.widgets import Static

from streamchat.attachments import human_size
from streamchat.messages import Attachment
from streamchat.safety import strip_control


class AttachmentChip(Vertical, can_focus=True):
    """``▸ @notes.md · 1.2 KB · 40 lines``; click or enter shows the text that went with the prompt."""

    DEFAULT_CSS = """
    AttachmentChip { height: auto; }
    AttachmentChip .chip-header { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    AttachmentChip .chip-body { display: none; height: auto; max-height: 16; overflow-y: auto; color: $text-muted;
                                padding-left: 2; }
    AttachmentChip.-expanded .chip-body { display: block; }
    AttachmentChip:focus .chip-header { background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "toggle_text", "Show file")]

    expanded = var(False, toggle_class="-expanded")
    """Show the file's text."""

    def __init__(self, attachment: Attachment) -> None:
        super().__init__()
        self.attachment = attachment
        """The file, as sent."""

    def compose(self) -> ComposeResult:
        yield Static(classes="chip-header", markup=False)
        yield Static(Content(strip_control(self.attachment.text)), classes="chip-body", markup=False)

    def on_mount(self) -> None:
        self._header()

    def watch_expanded(self) -> None:
        if self.is_mounted:
            self._header()

    def _header(self) -> None:
        attachment = self.attachment
        lines = attachment.lines
        self.query_one(".chip-header", Static).update(Content.assemble(
            ("▾ " if self.expanded else "▸ ", "dim"), (f"@{strip_control(attachment.name)}", "bold"),
            f" · {human_size(attachment.size)} · {lines} line{'' if lines == 1 else 's'}"))

    def action_toggle_text(self) -> None:
        """Show or hide the file's text."""
        self.expanded = not self.expanded

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_toggle_text()
