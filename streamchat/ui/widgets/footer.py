"""The footer: Textual's, made to fit a narrow terminal."""

from __future__ import annotations

from textual import events
from textual.widgets import Footer


class ChatFooter(Footer):
    """The keys that apply now; in a narrow terminal compact, then without the palette's key (ctrl+p still
    opens it, /help lists it), so the keys of the moment (a tool's approval, esc) stay in view."""

    COMPACT_BELOW = 80
    """Columns below which the keys are packed closer."""
    PALETTE_BELOW = 64
    """Columns below which the palette's key is left out."""

    def on_resize(self, event: events.Resize) -> None:
        width = event.size.width
        self.compact = width < self.COMPACT_BELOW
        palette = width >= self.PALETTE_BELOW
        if palette != self.show_command_palette:
            self.show_command_palette = palette
            self.call_after_refresh(self.recompose)
