"""A short list to pick from in a modal dialog: a code block to copy, a way out of a full context window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


@dataclass(frozen=True)
class Choice:
    """One line of the list."""

    id: str
    """What the screen dismisses with when it is picked."""
    label: str
    """The line shown (plain text, shown literally)."""
    key: str
    """The key that picks it at once (a digit or a letter)."""


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of ``choices`` (its key, or the cursor and enter); dismisses with its id, or None on esc."""

    DEFAULT_CSS = """
    ChoiceScreen { align: center middle; }
    ChoiceScreen #choice-dialog {
        width: 80; max-width: 95%; height: auto; max-height: 80%; padding: 0 1;
        background: $surface; border: thick $primary; border-title-style: bold;
    }
    ChoiceScreen #choice-text { height: auto; margin: 1 0 0 0; }
    ChoiceScreen OptionList { height: auto; max-height: 16; margin: 1 0; }
    ChoiceScreen #choice-help { height: auto; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, choices: list[Choice], text: str = "") -> None:
        super().__init__()
        self.title_text = title
        """The dialog's title."""
        self.choices = choices
        """What can be picked, in order."""
        self.text = text
        """A sentence above the list ('' for none)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-dialog") as dialog:
            dialog.border_title = self.title_text
            if self.text:
                yield Static(self.text, id="choice-text", markup=False)
            yield OptionList(*(Option(Content.assemble((f"{choice.key}  ", "bold"), choice.label), id=choice.id)
                               for choice in self.choices))
            yield Static("the key picks · enter picks the one under the cursor · esc cancels", id="choice-help",
                         markup=False)

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_key(self, event: events.Key) -> None:
        chosen = next((choice for choice in self.choices if choice.key == event.key), None)
        if chosen is not None:
            event.stop()
            self.dismiss(chosen.id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without picking."""
        self.dismiss(None)
