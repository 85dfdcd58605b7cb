"""Holding back an escape sequence split across streamed fragments (UI-free).

`AnswerView` passes each batch of new text through `split_incomplete_escape` before
`strip_control`, so a sequence cut in two by the stream is removed whole once its end arrives.
"""

from __future__ import annotations

import re

__all__ = ["split_incomplete_escape"]

_ESCAPE_PREFIX = re.compile(  # a proper prefix of an escape sequence, up to the end of the text
    r"(?:\x1b(?:\[[0-?]*[ -/]*|[\]P^_X][^\x07\x1b]*\x1b?)?|\x9b[0-?]*[ -/]*|\x9d[^\x07\x9c]*)\Z"
)


def split_incomplete_escape(text: str, limit: int = 1024) -> tuple[str, str]:
    """Split ``text`` into (ready, held): held is a trailing, still unfinished escape sequence.

    Holding it back until the rest arrives lets `strip_control` remove the whole sequence,
    instead of leaving its payload (a title, clipboard data) visible. Only the new text is
    scanned; a "sequence" longer than ``limit`` or spanning a newline is released anyway.
    """
    start = max(text.rfind("\x1b"), text.rfind("\x9b"), text.rfind("\x9d"))
    if start < 0 or len(text) - start > limit or "\n" in text[start:]:
        return text, ""
    if _ESCAPE_PREFIX.match(text, start):
        return text[:start], text[start:]
    return text, ""
