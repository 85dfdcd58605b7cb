"""A small modal screen to edit the system prompt."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea


class SystemPromptScreen(ModalScreen[str | None]):
    """Edit the system prompt; dismisses with the new text ("" clears it), or None when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "save", "Save"),
    ]

    def __init__(self, current: str | None) -> None:
        super().__init__()
        self.current = current or ""
        """The system prompt when the screen opened."""

    def compose(self) -> ComposeResult:
        with Vertical(id="system-dialog"):
            yield Label("System prompt — sent first in every request of this conversation", markup=False)
            yield TextArea(self.current, id="system-text", soft_wrap=True, tab_behavior="focus")
            with Horizontal(id="system-buttons"):
                yield Button("Save (ctrl+s)", id="save", variant="primary")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        text = self.query_one("#system-text", TextArea)
        text.focus()
        text.move_cursor(text.document.end)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_save(self) -> None:
        """Keep the edited prompt."""
        self.dismiss(self.query_one("#system-text", TextArea).text.strip())

    def action_cancel(self) -> None:
        """Leave the prompt as it was."""
        self.dismiss(None)
