"""The operations `BlockSplitter` emits for `AnswerView`, in text order (UI-free).

Prose streams into the live Markdown segment and `Break` freezes it; a code fence or pipe
table is shown as a plain-text preview (`BlockStart`, then `BlockLine` / `BlockPartial`)
until `BlockEnd` carries its whole Markdown source, rendered once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

__all__ = ["BlockEnd", "BlockLine", "BlockPartial", "BlockStart", "Break", "Op", "Prose"]


@dataclass(frozen=True, slots=True)
class Prose:
    """Append ``text`` to the live Markdown segment (start one if there is none)."""

    text: str


@dataclass(frozen=True, slots=True)
class Break:
    """Freeze the live segment; what follows goes to a new one."""


@dataclass(frozen=True, slots=True)
class BlockStart:
    """A fence (``header`` = its info string) or a table begins: show a plain-text preview."""

    kind: Literal["fence", "table"]
    header: str = ""


@dataclass(frozen=True, slots=True)
class BlockLine:
    """One more complete line for the preview."""

    line: str


@dataclass(frozen=True, slots=True)
class BlockPartial:
    """The preview's unfinished last line (replaces the previous one)."""

    text: str


@dataclass(frozen=True, slots=True)
class BlockEnd:
    """The block is complete: replace the preview by its ``source`` rendered as Markdown, once."""

    source: str


Op: TypeAlias = Prose | Break | BlockStart | BlockLine | BlockPartial | BlockEnd
