"""The prompt: a multi-line text area where Enter sends and Ctrl+J adds a line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.keys import Keys
from textual.message import Message
from textual.widgets import TextArea

NEWLINE_KEYS = frozenset({"ctrl+j", "shift+enter", "alt+enter"})
"""Keys that insert a newline. Ctrl+J works in every terminal, and so does Alt+Enter (see
``ALT_ENTER``); Shift+Enter only where the terminal reports it (kitty keyboard protocol)."""

ALT_ENTER = ("\x1b\r", "\x1b\n")
"""What most terminals send for Alt+Enter: Esc, then Enter. Textual (8.2) reads it as a plain Enter,
which would send the prompt; read as Ctrl+J, it adds a line as the prompt's hint and the README say.
(Terminals with the kitty keyboard protocol report ``alt+enter`` itself.)"""

for _sequence in ALT_ENTER:  # the parser's table is a plain dict (typed read-only); textual is pinned
    cast("dict[str, object]", ANSI_SEQUENCES_KEYS).setdefault(_sequence, (Keys.ControlJ,))


class Prompt(TextArea):
    """Where the user types. Posts ``Prompt.Submitted`` on Enter; Up/Down recall earlier prompts."""

    @dataclass
    class Submitted(Message):
        """The user pressed Enter on a prompt that is not blank."""

        prompt: Prompt
        """The prompt that sent it."""
        text: str
        """What the user typed, stripped of surrounding blank lines."""

    @dataclass
    class CompletionKey(Message):
        """A key that acts on the completions shown (``tab``, ``enter``, ``up``, ``down``, ``escape``)."""

        prompt: Prompt
        """The prompt typed in."""
        key: str
        """The key."""

    COMPLETION_KEYS = frozenset({"tab", "enter", "up", "down", "escape"})
    """The keys that go to the completions while they are shown (``completing``)."""

    def __init__(self, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(
            "", soft_wrap=True, tab_behavior="focus", show_line_numbers=False,
            highlight_cursor_line=False, placeholder=placeholder, id=id, compact=True,
        )
        self.recall: list[str] = []
        """Prompts sent so far, oldest first."""
        self.completing = False
        """True while completions for what is typed are shown (the chat sets it): their keys go to them."""
        self._recall_index: int | None = None

    def remember(self, text: str) -> None:
        """Add a sent prompt to the recall list (skipping an immediate repeat)."""
        if not self.recall or self.recall[-1] != text:
            self.recall.append(text)
        self._recall_index = None

    def take(self) -> str:
        """What is typed, as Enter would send it, remembered for recall and cleared ("" when nothing is)."""
        text = self.text.strip("\n")
        if not text.strip():
            return ""
        self.remember(text)
        self.clear()
        return text

    def on_key(self, event: events.Key) -> None:
        """Enter sends; the newline keys insert a line break; while completing, their keys go up (``CompletionKey``)."""
        if self.completing and event.key in self.COMPLETION_KEYS:
            event.stop()
            event.prevent_default()
            self.post_message(self.CompletionKey(self, event.key))
        elif event.key == "enter":
            event.stop()
            event.prevent_default()
            text = self.text.strip("\n")
            if text.strip():
                self.post_message(self.Submitted(self, text))
        elif event.key in NEWLINE_KEYS:
            event.stop()
            event.prevent_default()
            self.insert("\n")

    def word_at_cursor(self) -> tuple[str, tuple[int, int]]:
        """The word that ends at the cursor (from the last space before it) and where it starts."""
        row, column = self.cursor_location
        line = self.document.get_line(row)[:column]
        start = len(line) - len(line.split()[-1]) if line.strip() and not line[-1].isspace() else column
        return line[start:], (row, start)

    def replace_word(self, start: tuple[int, int], text: str) -> None:
        """Put ``text`` in place of what lies between ``start`` and the cursor."""
        self.replace(text, start, self.cursor_location)

    def _recalling(self) -> bool:
        """True when Up/Down should walk the recall list rather than move the cursor."""
        if not self.recall:
            return False
        if not self.text:
            return True
        index = self._recall_index
        return index is not None and self.text == (self.recall[index] if index < len(self.recall) else "")

    def _show_recalled(self, index: int) -> None:
        self._recall_index = index
        self.load_text(self.recall[index] if index < len(self.recall) else "")
        self.move_cursor(self.document.end)

    def action_cursor_up(self, select: bool = False) -> None:
        """Recall the previous prompt when the prompt is empty (or shows a recalled one)."""
        if not select and self.cursor_at_first_line and self._recalling():
            index = len(self.recall) if self._recall_index is None else self._recall_index
            if index > 0:
                self._show_recalled(index - 1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        """Walk forward through recalled prompts, back to an empty prompt."""
        if not select and self._recall_index is not None and self.cursor_at_last_line and self._recalling():
            self._show_recalled(min(self._recall_index + 1, len(self.recall)))
            return
        super().action_cursor_down(select)
