"""Model output is untrusted: helpers that make it safe to show literally."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_ESCAPE_SEQUENCE = re.compile(
    r"""
    \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?      # OSC ... BEL or ST (titles, clipboard, hyperlinks)
    | \x1b[P^_X][^\x1b]*(?:\x1b\\)?         # DCS / PM / APC / SOS strings
    | \x1b\[[0-?]*[ -/]*[@-~]               # CSI (colours, cursor moves, clears)
    | \x1b[@-Z\\-_]                         # other two-byte escapes
    | \x9b[0-?]*[ -/]*[@-~]                 # 8-bit CSI
    | \x9d[^\x07\x9c]*(?:\x07|\x9c)?        # 8-bit OSC
    """,
    re.VERBOSE,
)
_KEY_PATTERN = re.compile(r"\b(sk|pk|rk|key)-[A-Za-z0-9_\-*]{6,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f]")  # json.dumps escapes C0 controls itself, not DEL or C1
_ESCAPE_PREFIX = re.compile(  # a proper prefix of an escape sequence, up to the end of the text
    r"(?:\x1b(?:\[[0-?]*[ -/]*|[\]P^_X][^\x07\x1b]*\x1b?)?|\x9b[0-?]*[ -/]*|\x9d[^\x07\x9c]*)\Z"
)
_MARKDOWN_MARKS = re.compile(
    r"""
    ^[ \t]*(?:`{3,}|~{3,}).*$                # code fence lines
    | ^[ \t]*\|?(?:[ \t]*:?-+:?[ \t]*\|)+(?:[ \t]*:?-+:?)?[ \t]*$   # table delimiter rows
    | ^[ \t]{0,3}(?:[-*_][ \t]*){3,}$       # thematic breaks, setext underlines (--- *** ___)
    | ^[ \t]{0,3}=+[ \t]*$                  # setext heading underlines
    | ^[ \t]{0,3}\#{1,6}[ \t]+             # heading marks
    | ^[ \t]*(?:[-*+]|\d+[.)])[ \t]+       # list markers
    | ^[ \t]*>[ \t]?                        # quote marks
    | \*\*|__|`+                            # bold and code marks
    """,
    re.VERBOSE | re.MULTILINE,
)
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\n]*\)")
HELD_ESCAPE_LIMIT = 1024
"""Characters an unfinished escape sequence may hold back before it is released (and stripped) anyway."""


def strip_control(text: str) -> str:
    """``text`` without terminal escape sequences or control characters (newline and tab stay)."""
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text.replace("\r\n", "\n")))


def as_shown(text: str, secret: str | None = None) -> str:
    """Model text as the screen shows it, to copy it out: no escape sequence or control character, and
    the API key (``MIN_SECRET_CHARS`` or longer) masked."""
    text = strip_control(text)
    return text.replace(secret, "***") if secret and len(secret) >= MIN_SECRET_CHARS else text


def escape_raw_controls(json_text: str) -> str:
    """JSON text with DEL and the C1 controls (an 8-bit CSI) written as ``\\u`` escapes too, as
    ``json.dumps`` writes the C0 ones even with ``ensure_ascii=False``: the same document, with no
    raw control character for a terminal showing the file to act on (they only occur inside strings)."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", json_text)


def split_incomplete_escape(text: str, limit: int = HELD_ESCAPE_LIMIT) -> tuple[str, str]:
    """Split ``text`` into (ready, held): held is a trailing, still unfinished escape sequence.

    Holding it back until the rest arrives lets ``strip_control`` remove the whole sequence,
    instead of leaving its payload (a title, clipboard data) visible. Only the end of the text
    is scanned; a "sequence" longer than ``limit`` or spanning a newline is released anyway.
    """
    start = max(text.rfind("\x1b"), text.rfind("\x9b"), text.rfind("\x9d"))
    if start < 0 or len(text) - start > limit or "\n" in text[start:]:
        return text, ""
    if _ESCAPE_PREFIX.match(text, start):
        return text[:start], text[start:]
    return text, ""


class StreamSanitizer:
    """``strip_control`` for text that arrives in pieces: a sequence cut in two is removed whole.

    ``feed()`` returns what can be shown now and holds back an unfinished escape sequence at
    the end; ``flush()`` returns what was held, stripped, when the stream ends.
    """

    def __init__(self) -> None:
        self._held = ""

    def feed(self, text: str) -> str:
        """The safe text of ``text`` (after what was held back), keeping back an unfinished sequence."""
        ready, self._held = split_incomplete_escape(self._held + text)
        return strip_control(ready)

    def flush(self) -> str:
        """What was held back, stripped (empty when nothing was)."""
        held, self._held = self._held, ""
        return strip_control(held)


class SecretMask:
    """Masks the API key in text that arrives in pieces, even when a piece cuts the key in two.

    A key cut in two by the stream would slip past a per-piece ``replace``: ``feed()`` holds
    back a trailing piece that could be the start of the key until the next piece tells.
    A secret shorter than ``MIN_SECRET_CHARS`` (a placeholder such as ``ollama``) is not masked.
    """

    def __init__(self, secret: str | None) -> None:
        self._secret = secret if secret and len(secret) >= MIN_SECRET_CHARS else None
        self._held = ""

    def feed(self, text: str) -> str:
        """``text`` (after what was held back) with the key masked, less a possible start of the key."""
        secret = self._secret
        if secret is None:
            return text
        text = (self._held + text).replace(secret, "***")
        keep = next((n for n in range(min(len(secret) - 1, len(text)), 0, -1) if text.endswith(secret[:n])), 0)
        self._held = text[len(text) - keep:] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        """What was held back (it was not the key after all)."""
        held, self._held = self._held, ""
        return held


def one_line(text: str, *, markdown: bool = False) -> str:
    """``text`` safe for one terminal line: no escape sequences or controls, whitespace collapsed.

    With ``markdown``, Markdown's marks (``#``, ``**``, list bullets, fences, table pipes, link
    targets) go too, so a preview reads as the words it would render.
    """
    text = strip_control(text)
    if markdown:
        text = _MARKDOWN_MARKS.sub("", _LINK.sub(r"\1", text)).replace("|", " ")
    return " ".join(text.split())


MIN_SECRET_CHARS = 8
"""A configured key shorter than this is not masked in text: local servers take placeholders
such as ``ollama`` or ``EMPTY``, no real credential is that short, and masking ``k`` would
mangle every word with a k in it (in tool results and saved history alike)."""


def redact(text: str, secret: str | None = None) -> str:
    """``text`` with the secret (``MIN_SECRET_CHARS`` or longer) and anything shaped like an API key masked."""
    if secret and len(secret) >= MIN_SECRET_CHARS:
        text = text.replace(secret, "***")
    return _KEY_PATTERN.sub(lambda match: f"{match.group(1)}-***", text)


def host_of(base_url: str | None) -> str:
    """The host (and port) of a server's address, never its ``user:password@``: what may be shown of it."""
    if not base_url:
        return "api.openai.com"
    parts = urlsplit(base_url)
    if not parts.hostname:
        return "the server"
    return f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname
