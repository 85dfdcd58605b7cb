"""One assistant turn in the conversation: answer blocks, tool rows and notes, in the order they happened."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical

from streamchat.events import (
    AnyEvent,
    ErrorEvent,
    ReasoningDelta,
    Retrying,
    TextDelta,
    ToolCallArgumentsDelta,
    ToolCallComplete,
    ToolCallStarted,
    ToolResult,
    ToolRunning,
    TurnDone,
)
from streamchat.export import footer_line, turn_stats
from streamchat.messages import ChatMessage
from streamchat.safety import SecretMask
from streamchat.timing import Clock
from streamchat.ui.answer import AnswerView
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.message import MessageEntry, Note, branch_label
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.waiting import WaitingIndicator

STOPPED_EARLY = "■ stopped before any answer"
"""The note left when the user stops a turn before its first token."""
STOPPED = "■ stopped"
"""The mark under a partial answer the user stopped."""
CUT_OFF = "… cut off: the answer reached the token limit"
"""The mark under an answer that ended at the token limit (finish reason ``length``)."""
REASONING_LABEL = "reasoning"
"""The label over the model's reasoning, which is shown dim and italic above its answer."""
EMPTY_ANSWER = "(the model's answer was empty)"
"""The note for an answer that completed without any text or tool call (reasoning aside)."""


class BranchLabel(Note):
    """``‹ 2/3 ›`` over an answer that has other versions (←/→ on it flips between them)."""

    DEFAULT_CSS = "BranchLabel { color: $text-accent; }"

    def __init__(self, text: str) -> None:
        super().__init__(text, classes="branch-label")


def retry_note(event: Retrying) -> str:
    """``⟳ Rate limited by … (429) … Trying again in 20 s (attempt 2 of 3).``"""
    wait = f"{event.wait_s:.0f} s" if event.wait_s >= 1 else f"{event.wait_s * 1000:.0f} ms"
    return f"⟳ {event.message} Trying again in {wait} (attempt {event.attempt} of {event.attempts})."


class AssistantTurn(Vertical, MessageEntry, can_focus=True):
    """Everything the assistant did in one turn. The app's turn worker feeds it events (attributes down).

    Each round of the turn gets its own answer block after the previous round's
    tool rows; a waiting indicator stands in for the answer until the first
    token of a round lands. The outcome is a CSS class: ``-complete``,
    ``-stopped``, ``-error``...
    """

    def __init__(self, clock: Clock, secret: str | None = None) -> None:
        super().__init__(classes="-running")
        self.clock = clock
        """Where time comes from (frozen in snapshot tests)."""
        self.secret = secret
        """The API key, masked wherever the model's text would show it."""
        self._masks: dict[str, tuple[SecretMask, AnswerView]] = {}
        self.tools: dict[str, ToolCallRow] = {}
        """Tool rows by call id."""
        self.answers: list[AnswerView] = []
        """Answer blocks, in order (reasoning blocks included)."""
        self._open: list[AnswerView] = []
        self.has_output = False
        """True once any token, tool call or error appeared."""
        self.model: str | None = None
        """The model answering (shown in the turn's footer)."""
        self.messages: list[ChatMessage] = []
        """The turn's assistant and tool messages, as the history holds them."""
        self.branch: tuple[int, int] | None = None
        """Which version of the answer this is, when there are several (regenerated)."""

    @property
    def message(self) -> ChatMessage | None:
        """The turn's first message in the history, once it has one."""
        return self.messages[0] if self.messages else None

    def set_branch(self, position: tuple[int, int] | None) -> None:
        """Show ``‹ 2/3 ›`` at the top of the turn (None: nothing)."""
        if position == self.branch:
            return
        self.branch = position
        if not self.is_mounted:
            return  # a saved turn composes its label
        marks = self.query(BranchLabel)
        if position is None:
            marks.remove()
        elif marks:
            marks.first().update(branch_label(position))
        else:
            self.mount(BranchLabel(branch_label(position)), before=0 if self.children else None)

    async def start(self) -> None:
        """Show the waiting indicator (call once the turn is mounted)."""
        await self.mount(WaitingIndicator(self.clock))

    @property
    def text(self) -> str:
        """The answer text of the turn so far (reasoning excluded)."""
        return "".join(view.text for view in self.answers if not view.has_class("reasoning"))

    @property
    def markdown(self) -> str:
        """What copying it gives: the turn's answer text as Markdown, a blank line between its rounds."""
        return "\n\n".join(view.text.strip("\n") for view in self.answers
                            if not view.has_class("reasoning") and view.text.strip())

    async def handle(self, event: AnyEvent) -> None:
        """Show one event."""
        if isinstance(event, TextDelta | ReasoningDelta):
            if event.text:
                kind = "reasoning" if isinstance(event, ReasoningDelta) else "answer"
                view = await self._block(kind)
                mask = self._masks[kind][0] if kind in self._masks else SecretMask(self.secret)
                self._masks[kind] = (mask, view)
                view.append(mask.feed(event.text))  # unstripped: the view strips it, whole sequences at a time
        elif isinstance(event, ToolCallStarted):
            self._release_masks()
            await self._output()
            row = ToolCallRow(event.id, event.name, self.clock)
            self.tools[event.id] = row
            await self.mount(row)
        elif isinstance(event, ToolCallArgumentsDelta):
            if event.id in self.tools:
                self.tools[event.id].add_arguments(event.delta)
        elif isinstance(event, ToolCallComplete):
            if event.id in self.tools:
                self.tools[event.id].complete(event.arguments)
        elif isinstance(event, ToolRunning):
            if event.id in self.tools:
                self.tools[event.id].run(event.arguments)
        elif isinstance(event, ToolResult):
            if event.id in self.tools:
                self.tools[event.id].finish(event.content, event.is_error, event.elapsed_s)
            if all(row.state not in ("streaming", "waiting", "asking", "running") for row in self.tools.values()):
                await self.mount(WaitingIndicator(self.clock))
        elif isinstance(event, Retrying):
            await self.query(WaitingIndicator).remove()
            await self.mount(Note(retry_note(event), classes="turn-note retry-note"))
            label = f"trying again (attempt {event.attempt} of {event.attempts})"
            await self.mount(WaitingIndicator(self.clock, label))
        elif isinstance(event, TurnDone):
            await self._settle()
            if event.status == "length":
                await self.mount(Note(CUT_OFF, classes="turn-note"))
            elif event.status == "complete" and not self.text.strip() and not self.tools:
                await self.mount(Note(EMPTY_ANSWER, classes="turn-note"))
            live = {"ttft_ms": event.ttft_ms, "total_ms": event.total_ms, "tokens": event.tokens,
                    "tokens_per_s": event.tokens_per_s}  # before its messages are known (a failed request)
            await self._footer(turn_stats(self.messages) or live)  # as the turn reads when reopened
            self._outcome(event.status)

    async def show_error(self, error: ErrorEvent, hint: str) -> None:
        """Show an error where it happened, after whatever had streamed."""
        await self._output()
        await self._settle()
        await self.mount(ErrorNote(error.kind, error.message, hint))

    async def stopped(self) -> None:
        """The user stopped the turn: keep what streamed, visibly marked."""
        if not self.is_attached:
            return  # a new chat removed it
        for row in self.tools.values():
            row.stop()
        early = not self.has_output
        await self._settle()
        await self.mount(Note(STOPPED_EARLY if early else STOPPED, classes="turn-note stopped-note"))
        await self._footer(None)
        self._outcome("stopped")

    async def _footer(self, stats: dict[str, Any] | None) -> None:
        """The dim line under the turn: the model that wrote it, and its timing."""
        footer = footer_line(self.model, stats)
        if footer:
            await self.mount(Note(footer, classes="turn-note timing-note"))

    async def _settle(self) -> None:
        """Finish every answer block, drop the waiting indicator, and end calls that will never run."""
        self._release_masks()
        for row in self.tools.values():
            row.stop("not run")
        await self.query(WaitingIndicator).remove()
        while self._open:
            self._open.pop(0).finish()

    def _outcome(self, status: str) -> None:
        # A class change normally restyles every descendant: after a long answer that is hundreds
        # of Markdown blocks (measured: 3.4 s at 80k characters). The outcome classes style only
        # this widget's own border, so restyle just this widget.
        self.remove_class("-running", update=False)
        self.add_class(f"-{status}", update=False)
        self.app.stylesheet.apply(self)
        self.refresh()

    async def _output(self) -> None:
        """Something visible arrived: the waiting indicator goes."""
        self.has_output = True
        await self.query(WaitingIndicator).remove()

    def _release_masks(self) -> None:
        """A text block ends: what a mask held back (a possible start of the key) goes to its view."""
        for mask, view in self._masks.values():
            held = mask.flush()
            if held:
                view.append(held)

    async def _block(self, kind: str) -> AnswerView:
        """The answer block for ``kind`` at the end of the turn, mounting a new one if the last child is not one."""
        last = self.children[-1] if self.children else None
        if isinstance(last, AnswerView) and last.has_class(kind):
            return last
        self._release_masks()
        await self._output()
        view = AnswerView()
        view.add_class(kind)
        if kind == "reasoning":
            view.border_title = REASONING_LABEL
        self.answers.append(view)
        self._open.append(view)
        await self.mount(view)
        return view
