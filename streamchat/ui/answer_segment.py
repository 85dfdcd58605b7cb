"""`AnswerSegment`: a run of an answer's Markdown documents, which can unmount them when far away.

An answer is cut into Markdown documents (`AnswerMarkdown`: prose, and each code fence or table
on its own); consecutive small documents share one segment of a few screen lines or about
`AnswerView.SOFT_LIMIT` characters, so an answer of many small blocks is not hundreds of children
of the view (each one laid out, styled and virtualized on its own). A frozen segment keeps its
documents' sources; `AnswerView` tells it when to drop its rendered documents (keeping its height,
so the scroll position holds) and when to rebuild them. Far away, unloaded segments are merged
into one placeholder (`absorb`), split again (`split`) when they come near, so the view has a
bounded number of children however long the answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult, RenderResult
from textual.content import Content
from textual.geometry import Size
from textual.widget import Widget

from streamchat.ui.answer_markdown import AnswerMarkdown

__all__ = ["AnswerSegment"]


class AnswerSegment(Widget):
    """Consecutive Markdown documents of an answer. An ``open`` segment takes more documents; its
    last may be live (still receiving text). A segment made with a ``height`` is a placeholder:
    frozen, unloaded, that tall (measured at ``width``).

    Far from the viewport, a frozen segment unmounts its documents and keeps only their sources
    and its height (see `AnswerView`); it is rebuilt when near.
    """

    DEFAULT_CSS = "AnswerSegment { height: auto; }"

    def __init__(
        self, sources: Iterable[str] = (), *, open: bool = False, height: int | None = None, width: int = 0
    ) -> None:
        super().__init__()
        self.sources: list[str] = list(sources)
        """The sources of the finished documents, in order."""
        self.frozen = not open
        """True once nothing more will be added (only frozen segments are unmounted when far)."""
        self.measured_width = width
        """The width at which the height kept while unloaded was measured."""
        self.parts: list[tuple[list[str], int]] = []
        """For a placeholder that absorbed others: each original segment's sources and height."""
        self.docs: list[AnswerMarkdown] = []
        if height is None:
            self.docs = [AnswerMarkdown(source) for source in self.sources]
        else:
            self.styles.height = height
        self._live: AnswerMarkdown | None = None
        self._settling = False  # rebuilt, but not measured at its natural height yet
        self._last_size = Size(0, 0)  # at the last `unload` call
        self.chars = sum(map(len, self.sources))
        """Characters of the finished documents."""

    @property
    def source(self) -> str:
        """The Markdown of the whole segment (its live document's text so far included)."""
        return "".join(self.sources) + (self._live.source if self._live is not None else "")

    @property
    def markdown(self) -> AnswerMarkdown | None:
        """The last document (the live one, while there is one); None while unmounted."""
        return self.docs[-1] if self.docs else None

    @property
    def live(self) -> AnswerMarkdown | None:
        """The document still receiving text, if any."""
        return self._live

    @property
    def unloaded(self) -> bool:
        """Frozen, with its documents unmounted (only its sources and height are kept)."""
        return self.frozen and not self.docs and not self._settling

    @property
    def stale(self) -> bool:
        """Unloaded, with a height measured at another width than its own now."""
        return self.unloaded and self.measured_width != self.size.width

    def compose(self) -> ComposeResult:
        yield from self.docs

    def render(self) -> RenderResult:
        # With its documents unmounted a segment has no children, and Textual's default
        # render() would draw the class name in the space it keeps: draw nothing instead.
        return Content("")

    async def start_live(self) -> AnswerMarkdown:
        """Add (and mount) a new live document at the end; the segment must be open."""
        assert not self.frozen and self._live is None
        self._live = AnswerMarkdown(classes="-live")
        self.docs.append(self._live)
        await self.mount(self._live)
        return self._live

    async def add_block(self, source: str) -> None:
        """Add (and mount) a finished document at the end, rendered once."""
        assert not self.frozen and self._live is None
        markdown = AnswerMarkdown(source)
        self.sources.append(source)
        self.chars += len(source)
        self.docs.append(markdown)
        await self.mount(markdown)

    def end_live(self) -> None:
        """The live document is finished: keep its source; the next text starts a new document."""
        if self._live is not None:
            # No CSS styles ".-live": skip restyling the document's every block (costly).
            self._live.remove_class("-live", update=False)
            self.sources.append(self._live.source)
            self.chars += len(self.sources[-1])
            self._live = None

    def freeze(self) -> None:
        """Nothing more will be added: end the live document, and allow unmounting."""
        self.end_live()
        self.frozen = True

    def show(self, shown: bool) -> None:
        """Rebuild the documents (True) or unmount them, keeping the current height (False).

        A placeholder that absorbed others is not rebuilt whole: `AnswerView` splits it first.
        """
        if not self.frozen:
            return
        if shown:
            if self.docs or self.parts:
                return
            self.docs = [AnswerMarkdown(source) for source in self.sources]
            self._settling = True
            self.call_later(self._rebuild, self.docs)
        elif (docs := self.unload()) is not None:
            self.call_later(self.drop, docs)

    def unload(self) -> list[AnswerMarkdown] | None:
        """Keep the current height and let go of the documents: the caller removes them (`drop`).

        None if the segment cannot be unloaded now: open, already unloaded, or its height not
        settled (the same at two layouts in a row: a document's blocks may take a second layout
        to reach their height, a code fence's for one).
        """
        if not (self.frozen and self.docs and not self._settling and self.size.height):
            return None
        if not all(doc.is_mounted for doc in self.docs):
            return None
        if self.size != self._last_size:
            self._last_size = self.size
            return None
        docs, self.docs = self.docs, []
        self.styles.height = self.size.height
        self.measured_width = self.size.width
        return docs

    async def drop(self, docs: list[AnswerMarkdown]) -> None:
        """Remove documents let go of by `unload`."""
        await self.remove_children(docs)
        # Textual caches placements and displayed children per container: refresh both, or
        # they keep the removed widgets alive; refresh() drops the lines rendered so far.
        self._clear_arrangement_cache()
        self.displayed_children  # noqa: B018
        self.refresh()

    def absorb(self, other: AnswerSegment) -> None:
        """Take over the unloaded segment after this unloaded one (the caller removes ``other``)."""
        assert self.unloaded and other.unloaded and self.measured_width == other.measured_width
        self.parts = self._parts() + other._parts()
        self.sources += other.sources
        self.chars += other.chars
        self.styles.height = sum(height for _, height in self.parts)

    def split(self) -> list[AnswerSegment]:
        """Undo `absorb`: become the first part again; return placeholders for the others."""
        (sources, height), *rest = self._parts()
        self.parts = []
        self.sources = sources
        self.chars = sum(map(len, sources))
        self.styles.height = height
        width = self.measured_width
        return [AnswerSegment(part, height=part_height, width=width) for part, part_height in rest]

    def _parts(self) -> list[tuple[list[str], int]]:
        height = self.styles.height
        return self.parts or [(list(self.sources), int(height.value) if height is not None else self.size.height)]

    async def _rebuild(self, docs: list[AnswerMarkdown]) -> None:
        try:
            if docs is self.docs and self.is_attached and not (self._closing or self._pruning):
                await self.mount_all(docs)  # rendered when this returns: only then drop the fixed height
                if docs is self.docs:
                    self.styles.height = "auto"
        finally:
            self._settling = False
