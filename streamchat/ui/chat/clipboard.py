"""Text to the terminal's clipboard (OSC 52), and a word on what was sent where."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from streamchat.safety import strip_control

if TYPE_CHECKING:
    from streamchat.ui.chat.host import ChatHost


def line_count(text: str) -> str:
    """``3 lines``, ``1 line``."""
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    return f"{lines} line{'' if lines == 1 else 's'}"


def send_to_clipboard(chat: ChatHost, text: str, what: str) -> None:
    """Send ``text`` (escape sequences and control characters stripped) to the terminal's clipboard and say so:
    OSC 52 gives no word back, so the note says what may ignore it and the way round (``/export`` writes the
    whole conversation to a file; ``/copy file`` only the last answer, so it is not offered for another message)."""
    chat.app.copy_to_clipboard(strip_control(text))
    ignored = ("tmux ignores it unless `set -g set-clipboard on`" if os.environ.get("TMUX")
               else "if your terminal ignores it")
    chat.notify(f"Sent {what} ({line_count(text)}) to the terminal's clipboard (OSC 52); {ignored}, "
                "/export writes the conversation to a file.", markup=False, timeout=8)
