"""What one line of streamed Markdown starts, for `BlockSplitter` (UI-free).

Only what the splitter needs to find block boundaries: fences, ATX headings, pipe tables and
indentation. The blocks themselves are parsed by a real Markdown parser when rendered.
"""

from __future__ import annotations

import re

__all__ = [
    "FENCE_OPEN",
    "cell_count",
    "could_close_fence",
    "ends_table",
    "is_blank",
    "is_delimiter_row",
    "is_fence_open",
    "is_heading",
    "is_indented",
    "is_table_row",
]

FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
"""A fence opener: its indent, its run of backticks or tildes, and its info string."""
_HEADING = re.compile(r" {0,3}#{1,6}(?:[ \t]|$)")
_TABLE_ROW = re.compile(r" {0,3}\|")
_DELIMITER_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_TABLE_END = re.compile(r"(?: {4}| {0,3}\t| {0,3}(?:#{1,6}(?:[ \t]|$)|>|[-*+][ \t]|\d{1,9}[.)][ \t]|`{3}|~{3}))")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def is_blank(line: str) -> bool:
    """Only white space."""
    return not line.strip()


def is_indented(line: str) -> bool:
    """Starts with white space (a list item's continuation, or indented code)."""
    return line[:1] in (" ", "\t")


def is_heading(line: str) -> bool:
    """An ATX heading (``## Title``)."""
    return _HEADING.match(line) is not None


def is_fence_open(line: str) -> bool:
    """A code fence opener (a backtick fence's info string may not hold a backtick)."""
    match = FENCE_OPEN.fullmatch(line)
    return match is not None and not (match.group(2)[0] == "`" and "`" in match.group(3))


def could_close_fence(line: str, char: str, length: int, complete: bool) -> bool:
    """True when ``line`` closes a fence of ``length`` ``char``s (or, unfinished, may still become its closer)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    run = len(stripped) - len(stripped.lstrip(char))
    if complete:
        return run >= length and not stripped[run:].strip()
    return not stripped[run:].strip()


def is_table_row(line: str) -> bool:
    """A line that can be a pipe-table row: it starts with a pipe, or has one inside."""
    return _TABLE_ROW.match(line) is not None or "|" in line.strip()[1:-1]


def is_delimiter_row(line: str) -> bool:
    """A table's delimiter row (``|---|:-:|``)."""
    return _DELIMITER_ROW.fullmatch(line) is not None and "-" in line


def ends_table(line: str) -> bool:
    """A line that does not continue a pipe table: blank, another block's start, or no pipe at all."""
    return is_blank(line) or _TABLE_END.match(line) is not None or "|" not in line


def cell_count(line: str) -> int:
    """The number of cells in a pipe-table row (outer empty cells not counted)."""
    cells = _CELL_SPLIT.split(line.strip())
    if cells and not cells[0].strip():
        cells.pop(0)
    if cells and not cells[-1].strip():
        cells.pop()
    return len(cells)
