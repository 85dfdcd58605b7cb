"""Tool calls read out of a local model's text as it streams: pure, no model, no I/O.

``CallParser.feed(text)`` takes the model's output a piece at a time and
returns what it now knows: text to show, a call's start (once its name is
read), fragments of its arguments (as they are written, so they stream), and
its end. It reads the two formats of ``template.ToolFormat``:

* tagged: ``<tool_call>{"name": …, "arguments": {…}}</tool_call>``, possibly
  after some text; a partial ``<tool_call`` at the end of a piece is held
  back until the next piece says whether it is one; before any text, a call
  written without its tags (small models often leave them out) is read too;
* bare JSON: ``{"name": …, "arguments": {…}}`` objects at the start of the
  answer, one per line (``parameters`` is read as well as ``arguments``).

The JSON of a call is read character by character, so key order, spacing and
nesting may vary; arguments written before the name are held until the name
is known.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamchat.backends.local.call_json import CallJson
from streamchat.backends.local.template import ToolFormat


@dataclass(frozen=True)
class Text:
    """Text of the answer."""

    text: str
    """The new text."""


@dataclass(frozen=True)
class CallOpened:
    """A call's opening tag (or its ``{``) was read; ``offset`` is where it began in all text fed."""

    offset: int
    """Characters fed before the call began."""


@dataclass(frozen=True)
class CallStart:
    """A call's name is known."""

    name: str
    """The tool's name."""


@dataclass(frozen=True)
class ArgsDelta:
    """More of the current call's arguments (raw JSON text)."""

    text: str
    """The new fragment."""


@dataclass(frozen=True)
class CallEnd:
    """The current call's JSON is complete."""

    name: str
    """The tool's name ("" when the model wrote none)."""
    arguments: str
    """Its arguments as JSON text (``{}`` when the model wrote none)."""


Piece = Text | CallOpened | CallStart | ArgsDelta | CallEnd
"""What ``CallParser`` reports."""


class CallParser:
    """Splits a model's streamed output into text and tool calls in ``fmt``."""

    def __init__(self, fmt: ToolFormat) -> None:
        self.fmt = fmt
        """The call format."""
        self.fed = 0
        """Characters fed so far."""
        self._held = ""  # text that may be the start of a call
        self._closer = ""  # what followed a tagged call's JSON, while it may be its closing tag
        self._closing = False
        self._call: CallJson | None = None
        self._started = False
        self._after_call = False  # whitespace right after a call is dropped
        self._calls_allowed = True  # calls without tags: only before any text
        self._bare_call = False  # the call being read has no tags around it

    @property
    def in_call(self) -> bool:
        """True between a call's opening and the end of its JSON."""
        return self._call is not None

    @property
    def holding_opener(self) -> bool:
        """True while the text read last may be the start of a call's opening tag."""
        return bool(self.fmt.tagged and self._held and self.fmt.opener.startswith(self._held))

    def feed(self, text: str) -> list[Piece]:
        """Read more output; returns what it made known."""
        pieces: list[Piece] = []
        for char in text:
            self._char(char, pieces)
            self.fed += 1
        return _merged(pieces)

    def finish(self) -> list[Piece]:
        """The output ended: a held-back partial opening tag is text (an unfinished call stays unfinished)."""
        text = self._held if self._call is None and (self.fmt.tagged or self._held.strip()) else ""
        self._held = ""
        return [Text(text)] if text else []

    def _text(self, text: str, pieces: list[Piece]) -> None:
        if text:
            pieces.append(Text(text))
            self._calls_allowed = self._calls_allowed and text.isspace()

    def _open(self, offset: int, pieces: list[Piece], *, bare: bool = False) -> None:
        pieces.append(CallOpened(offset))
        self._call, self._started, self._bare_call = CallJson(), False, bare

    def _char(self, char: str, pieces: list[Piece]) -> None:
        if self._call is not None:
            self._call_char(char, pieces)
        elif self._closing:
            self._closer_char(char, pieces)
        elif self._after_call and char.isspace():
            return
        elif self.fmt.tagged and not (self._calls_allowed and not self._held.strip() and char in " \t\r\n{"):
            self._after_call = False
            self._tagged_char(char, pieces)
        else:
            self._after_call = False
            self._bare_char(char, pieces)

    def _tagged_char(self, char: str, pieces: list[Piece]) -> None:
        held = self._held + char
        opener = self.fmt.opener
        if held.endswith(opener):
            self._held = ""
            self._text(held[: -len(opener)], pieces)
            self._open(self.fed + 1 - len(opener), pieces)
            return
        keep = next((n for n in range(min(len(held), len(opener) - 1), 0, -1) if opener.startswith(held[-n:])), 0)
        self._text(held[: len(held) - keep], pieces)
        self._held = held[len(held) - keep:]

    def _bare_char(self, char: str, pieces: list[Piece]) -> None:
        if self._calls_allowed:
            if char.isspace():
                self._held += char
                return
            if char == "{":
                self._held = ""
                self._open(self.fed, pieces, bare=True)
                assert self._call is not None
                self._call.feed(char)
                return
            self._calls_allowed = False
        self._text(self._held + char, pieces)
        self._held = ""

    def _closer_char(self, char: str, pieces: list[Piece]) -> None:
        self._closer += char
        stripped = self._closer.lstrip()
        if self.fmt.closer.startswith(stripped):
            if stripped == self.fmt.closer:
                self._closer, self._closing = "", False
            return
        rest, self._closer, self._closing = stripped, "", False  # no closing tag: what came is text
        for extra in rest:
            self._char(extra, pieces)

    def _call_char(self, char: str, pieces: list[Piece]) -> None:
        call = self._call
        assert call is not None
        if call.depth == 0 and not char.isspace() and char != "{":  # no JSON after the tag: it was text
            self._call = None
            self._text(self.fmt.opener, pieces)
            self._char(char, pieces)
            return
        call.feed(char)
        if not self._started and call.name is not None:
            self._started = True
            pieces.append(CallStart(call.name))
        if self._started:
            fragment = call.new_args()
            if fragment:
                pieces.append(ArgsDelta(fragment))
        if call.done:
            if not self._started:
                pieces.append(CallStart(call.name or ""))
            rest = call.arguments if call.args_string or call.args_sent == 0 else call.new_args()
            if rest:
                pieces.append(ArgsDelta(rest))
            pieces.append(CallEnd(call.name or "", call.arguments))
            self._call = None
            self._closing, self._after_call = self.fmt.tagged and not self._bare_call, True


def _merged(pieces: list[Piece]) -> list[Piece]:
    """Neighbouring text or argument fragments joined into one."""
    out: list[Piece] = []
    for piece in pieces:
        last = out[-1] if out else None
        if isinstance(piece, Text) and isinstance(last, Text):
            out[-1] = Text(last.text + piece.text)
        elif isinstance(piece, ArgsDelta) and isinstance(last, ArgsDelta):
            out[-1] = ArgsDelta(last.text + piece.text)
        else:
            out.append(piece)
    return out
