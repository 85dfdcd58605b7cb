"""Completions for what is being typed in the prompt (``@path``), in a short list just above it."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class Suggestions(OptionList, can_focus=False):
    """Hidden until ``show()``; the prompt keeps the focus, and the chat moves the highlight (attributes down)."""

    DEFAULT_CSS = """
    Suggestions { display: none; height: auto; max-height: 8; margin: 0 1; border: none; padding: 0 1;
                  background: $surface; }
    Suggestions.-visible { display: block; }
    """

    def show(self, items: list[str], note: str) -> None:
        """List ``items`` (``note`` under them: how to pick), the first highlighted."""
        self.set_options([Option(Content(item), id=item) for item in items])
        self.add_option(Option(Content.styled(note, "dim"), disabled=True))
        self.highlighted = 0
        self.add_class("-visible")

    def hide(self) -> None:
        """Out of sight, and empty."""
        self.remove_class("-visible")
        self.clear_options()

    @property
    def shown(self) -> bool:
        """True while the list is in sight."""
        return self.has_class("-visible")

    def move(self, step: int) -> None:
        """Move the highlight (skipping the note)."""
        if step < 0:
            self.action_cursor_up()
        else:
            self.action_cursor_down()

    @property
    def chosen(self) -> str | None:
        """The item highlighted, if any."""
        index = self.highlighted
        if index is None or not self.shown:
            return None
        option = self.get_option_at_index(index)
        return None if option.disabled else option.id
