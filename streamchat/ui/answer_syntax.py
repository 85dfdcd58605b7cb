"""Line-level Markdown syntax for `BlockSplitter`: what a streamed line starts (UI-free).

Patterns for fences, list items, pipe tables and thematic breaks, the cell count of a table
row, and `classify`, which tells what the start of a (possibly unfinished) prose line is.
"""

from __future__ import annotations

import re
from typing import Literal, TypeAlias

__all__ = [
    "DELIMITER_CHARS",
    "DELIMITER_ROW",
    "FENCE_OPEN",
    "HR",
    "TABLE_END",
    "TABLE_ROW",
    "LineKind",
    "cell_count",
    "classify",
]

LineKind: TypeAlias = Literal["wait", "blank", "fence", "table", "indented", "list", "other"]

FENCE_OPEN = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)")
_FENCE_START = re.compile(r" {0,3}(?:`{3}|~{3})")
_FENCE_PREFIX = re.compile(r" {0,3}(?:`{1,2}|~{1,2})")
_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
_LIST_PREFIX = re.compile(r"[-*+]|\d{1,9}[.)]?")
TABLE_ROW = re.compile(r" {0,3}\|")
DELIMITER_ROW = re.compile(r" {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
DELIMITER_CHARS = frozenset(" \t|:-")
TABLE_END = re.compile(r"(?: {4}| {0,3}\t| {0,3}(?:#{1,6}(?:[ \t]|$)|>|[-*+][ \t]|\d{1,9}[.)][ \t]|`{3}|~{3}))")
HR = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")


def cell_count(line: str) -> int:
    """The number of cells in a pipe-table row (outer empty cells not counted)."""
    cells = _CELL_SPLIT.split(line.strip())
    if cells and not cells[0].strip():
        cells.pop(0)
    if cells and not cells[-1].strip():
        cells.pop()
    return len(cells)


def classify(line: str, complete: bool) -> LineKind:
    """What the start of a prose line is: wait, blank, fence, table, indented, list or other."""
    if not line.strip():
        return "blank" if complete else "wait"
    if _FENCE_START.match(line):
        if not complete:
            return "wait"  # a fence opener is only known at its newline
        match = FENCE_OPEN.fullmatch(line)
        if match and not (match.group(2)[0] == "`" and "`" in match.group(3)):
            return "fence"
    elif not complete and _FENCE_PREFIX.fullmatch(line):
        return "wait"
    if TABLE_ROW.match(line):
        return "table" if complete else "wait"
    if line[0] in " \t":
        return "indented"
    if _LIST_ITEM.match(line):
        return "list"
    if not complete and _LIST_PREFIX.fullmatch(line):
        return "wait"
    return "other"
