"""Tool calls read out of a local model's text as it streams: pure, no model, no I/O.

``CallParser.feed(text)`` takes the model's output a piece at a time and
returns what it now knows: text to show, a call's start (once its name is
read), fragments of its arguments (as they are written, so they stream), and
its end. It reads the two formats of ``local_template.ToolFormat``:

* tagged: ``<tool_call>{"name": …, "arguments": {…}}</tool_call>``, possibly
  after some text; a partial ``<tool_call`` at the end of a piece is held
  back until the next piece says whether it is one;
* bare JSON: ``{"name": …, "arguments": {…}}`` objects at the start of the
  answer, one per line (``parameters`` is read as well as ``arguments``).

The JSON of a call is read character by character, so key order, spacing and
nesting may vary; arguments written before the name are held until the name
is known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from streamchat.backends.local_template import ToolFormat

ARGUMENT_KEYS = ("arguments", "parameters")
"""Keys a call's arguments may be written under."""


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


class _CallJson:
    """Reads one call's JSON object a character at a time."""

    def __init__(self) -> None:
        self.depth = 0
        self.expect: Literal["key", "colon", "value", "comma"] = "key"
        self.in_string = self.escape = False
        self.key: list[str] = []
        self.current_key = ""
        self.value: list[str] | None = None  # the value being read at depth 1, raw
        self.value_nest = 0
        self.name: str | None = None
        self.args: list[str] = []
        self.args_sent = 0
        self.args_string = False
        self.done = False

    def _value_end(self) -> None:
        raw = "".join(self.value or [])
        if self.current_key == "name":
            try:
                name = json.loads(raw)
            except ValueError:
                name = None
            self.name = name if isinstance(name, str) else None
        elif self.current_key in ARGUMENT_KEYS and self.args_string:
            try:  # arguments written as a JSON string holding JSON: pass on what it holds
                decoded = json.loads(raw)
            except ValueError:
                decoded = raw
            self.args = [decoded if isinstance(decoded, str) else raw]
        self.value = None
        self.expect = "comma"

    def _string_char(self, char: str) -> bool:
        """Track strings; True when ``char`` closed one."""
        if self.escape:
            self.escape = False
        elif char == "\\":
            self.escape = True
        elif char == '"':
            self.in_string = False
            return True
        return False

    def _in_value(self, char: str) -> None:
        assert self.value is not None
        if self.value_nest == 0 and not self.in_string and self.value and self.value[0] not in "{[\"":
            if char in ",}" or char.isspace():  # a number, true, false or null ended
                self._value_end()
                self.feed(char)
                return
        self.value.append(char)
        if self.current_key in ARGUMENT_KEYS and not self.args_string:
            self.args.append(char)
        if self.in_string:
            closed = self._string_char(char)
            if closed and self.value_nest == 0:
                self._value_end()
        elif char == '"':
            self.in_string = True
        elif char in "{[":
            self.value_nest += 1
        elif char in "}]":
            self.value_nest -= 1
            if self.value_nest == 0:
                self._value_end()

    def feed(self, char: str) -> None:
        """Read one character of the object."""
        if self.value is not None:
            self._in_value(char)
        elif self.in_string:
            if self._string_char(char):
                self.current_key = "".join(self.key)
                self.expect = "colon"
            else:
                self.key.append(char)
        elif char.isspace():
            pass
        elif self.depth == 0:
            if char == "{":
                self.depth = 1
        elif self.expect == "key" and char == '"':
            self.in_string, self.key = True, []
        elif self.expect == "colon" and char == ":":
            self.expect = "value"
        elif self.expect == "value":
            self.value, self.value_nest = [char], 1 if char in "{[" else 0
            self.args_string = char == '"'
            self.in_string = char == '"'
            if self.current_key in ARGUMENT_KEYS and not self.args_string:
                self.args = [char]
        elif self.expect == "comma" and char == ",":
            self.expect = "key"
        elif char == "}":
            self.done = True

    def new_args(self) -> str:
        """Argument text read since the last call of this method."""
        text = "".join(self.args)[self.args_sent:] if not self.args_string else ""
        self.args_sent += len(text)
        return text

    @property
    def arguments(self) -> str:
        """The arguments read so far (``{}`` if none)."""
        return "".join(self.args) or "{}"


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
        self._call: _CallJson | None = None
        self._started = False
        self._after_call = False  # whitespace right after a call is dropped
        self._calls_allowed = True  # bare JSON: calls only before any text

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

    def _open(self, offset: int, pieces: list[Piece]) -> None:
        pieces.append(CallOpened(offset))
        self._call, self._started = _CallJson(), False

    def _char(self, char: str, pieces: list[Piece]) -> None:
        if self._call is not None:
            self._call_char(char, pieces)
        elif self._closing:
            self._closer_char(char, pieces)
        elif self._after_call and char.isspace():
            return
        elif self.fmt.tagged:
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
                self._open(self.fed, pieces)
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
            self._closing, self._after_call = self.fmt.tagged, True


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
