"""One tool call's JSON object, read a character at a time as a model writes it: pure.

It learns the call's ``name`` once its string is closed and collects the raw
text of its ``arguments`` (or ``parameters``) as it comes, whatever the key
order, spacing and nesting; ``new_args()`` hands over what arrived since it
was last asked, so the arguments can be streamed.
"""

from __future__ import annotations

import json
from typing import Literal

ARGUMENT_KEYS = ("arguments", "parameters")
"""Keys a call's arguments may be written under."""


class CallJson:
    """Reads one call's JSON object a character at a time."""

    def __init__(self) -> None:
        self.depth = 0  # 1 once the object's "{" is read
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
            self.args_string = char == '"' and self.current_key in ARGUMENT_KEYS
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
