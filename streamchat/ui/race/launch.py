"""Opening the race pane from the chat: on which prompt, and never while an answer streams."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamchat.ui.chat.commands import as_sent
from streamchat.ui.race.screen import open_race_pane
from streamchat.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from streamchat.ui.chat.host import ChatHost

RACE_WHILE_ANSWERING = "An answer is still streaming: wait for it or press esc, then race."
"""Said when the race pane is asked for while a turn runs."""


def race_from_chat(chat: ChatHost, prompt: str | None, fallback: str | None) -> None:
    """Race ``prompt`` streaming vs blocking in the race pane.

    Without one: the prompt typed (taken from the prompt, as sending does), else ``fallback``
    (``streamchat race``'s), else the last prompt sent, else a built-in one.
    """
    if chat.turn_running:
        # The race would share the CPU (and a local model) with the answer, and its numbers would lie.
        chat.notify(RACE_WHILE_ANSWERING, severity="warning")
        return
    typed = as_sent(chat.app.query_one(Prompt).take()) if prompt is None else None
    open_race_pane(chat.app, prompt or typed or fallback or chat.last_prompt)
