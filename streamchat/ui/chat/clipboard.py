"""Text to the terminal's clipboard (OSC 52), and a word on what was sent where."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from streamchat.messages import line_count as count_lines
from streamchat.safety import strip_control

if TYPE_CHECKING:
    from streamchat.ui.chat.host import ChatHost


def line_count(text: str) -> str:
    """``3 lines``, ``1 line``."""
    lines = count_lines(text)
    return f"{lines} line{'' if lines == 1 else 's'}"


def send_to_clipboard(chat: ChatHost, text: str, what: str,
                      way_round: str = "/export writes the conversation to a file") -> None:
    """Send ``text`` (escape sequences and control characters stripped) to the terminal's clipboard and say so:
    OSC 52 gives no word back, so the note says what may ignore it and ``way_round`` (for a message other than
    the last answer, ``/export``: ``/copy file`` writes only the last answer)."""
    chat.app.copy_to_clipboard(strip_control(text))
    ignored = ("tmux ignores it unless `set -g set-clipboard on`" if os.environ.get("TMUX")
               else "if your terminal ignores it")
    chat.notify(f"Sent {what} ({line_count(text)}) to the terminal's clipboard (OSC 52); {ignored}, {way_round}.",
                markup=False, timeout=8)
