"""A saved conversation in the conversation view: its prompts, turns and continuation labels.

Saved messages are shown as the live turns looked when they ended: the user's
prompts, each assistant turn as an ``AssistantTurn`` (so the same CSS applies)
with its answers rendered once (``AnswerView.set_text``), finished tool rows,
errors, the stopped / cut off / interrupted marks and a dim timing line.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.content import Content
from textual.widget import Widget

from streamchat.export import describe_approval, footer_line, turn_stats
from streamchat.messages import COMPACT_PROMPT, CONTINUE_PROMPT, ChatMessage, ToolCall
from streamchat.timing import Clock
from streamchat.ui.answer import AnswerView
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.message import Note, UserMessage, branch_label
from streamchat.ui.widgets.tool_call import ToolCallRow
from streamchat.ui.widgets.turn import (
    CUT_OFF,
    REASONING_LABEL,
    STOPPED,
    STOPPED_EARLY,
    AssistantTurn,
    BranchLabel,
)

CONTINUED = "↳ continued"
"""The label between a stopped answer and its continuation."""

INTERRUPTED = "… interrupted: streamchat closed before the answer finished"
"""The mark under an answer saved by a checkpoint only (the app was killed mid-stream)."""


COMPACTING = "⇣ /compact: the model summarizes the conversation above"
"""The label over a summary being written."""

COMPACTED = "⇣ compacted: from here on the model is sent the summary below instead of the turns above"
"""The label over a summary that replaced the turns above it in the requests."""

CUT_NOTE = "✂ the turns above are no longer sent to the model (left out to fit its context window)"
"""The mark above the first message sent after the oldest turns were dropped."""


class CompactLabel(Note):
    """The prompt of a ``/compact`` turn, shown as what it does."""

    DEFAULT_CSS = """
    CompactLabel { margin-top: 1; color: $text-accent; text-style: italic; }
    """

    def __init__(self, *, done: bool) -> None:
        super().__init__(COMPACTED if done else COMPACTING, classes="compact-label")

    def done(self) -> None:
        """The summary completed: the turns above are left out from now on."""
        self.update(Content(COMPACTED))


class ContinuedLabel(Note):
    """``↳ continued``: the turn below carries on the stopped answer above."""

    DEFAULT_CSS = """
    ContinuedLabel { margin-top: 1; color: $text-muted; text-style: italic; }
    """

    def __init__(self) -> None:
        super().__init__(CONTINUED)


class SavedToolRow(ToolCallRow):
    """A tool call from history: finished (or stopped, or never run), with the run time saved with it, no timer."""

    def __init__(self, call: ToolCall, result: ChatMessage | None, clock: Clock) -> None:
        super().__init__(call.id, call.name, clock)
        self.arguments = call.arguments
        self._saved_result = result

    def on_mount(self) -> None:
        # Textual runs ToolCallRow.on_mount (which starts the spinner timer) after this one:
        # settle the row just after it, which also stops that timer.
        self.call_later(self._settle)

    def _settle(self) -> None:
        result = self._saved_result
        if result is not None and result.approval:
            self.decision = describe_approval(result.approval)
        if result is None:
            self.stop("not run")
        elif result.status == "stopped":
            self.stop("stopped")
        else:
            elapsed_ms = (result.stats or {}).get("elapsed_ms")
            self.finish(result.content, result.is_error, 0.0)
            # saved by versions that knew it; otherwise show no time rather than a wrong one
            self.elapsed_s = elapsed_ms / 1000.0 if isinstance(elapsed_ms, int | float) else None
        self.complete(self.arguments)  # repaint header and body


class SavedTurn(AssistantTurn):
    """One assistant turn from history: its assistant and tool messages, in order."""

    def __init__(self, messages: list[ChatMessage], clock: Clock) -> None:
        super().__init__(clock)
        self.messages = messages
        answers = [message for message in messages if message.role == "assistant"]
        self.last_answer = answers[-1] if answers else None
        """The turn's last assistant message (its status is the turn's outcome)."""
        self.has_output = any(m.content or m.reasoning or m.tool_calls for m in answers)
        self._outcome(self._status())

    def _status(self) -> str:
        last = self.last_answer
        if last is None or last.status is None:
            return "complete"
        return last.status

    def compose(self) -> ComposeResult:
        if self.branch is not None:
            yield BranchLabel(branch_label(self.branch))
        results = {message.tool_call_id: message for message in self.messages if message.role == "tool"}
        for message in self.messages:
            if message.role != "assistant":
                continue
            for text, kind in ((message.reasoning, "reasoning"), (message.content, "answer")):
                if text:
                    view = AnswerView(classes=kind)
                    if kind == "reasoning":
                        view.border_title = REASONING_LABEL
                    view.set_text(text)
                    self.answers.append(view)
                    yield view
            for call in message.tool_calls:
                row = self.tools[call.id] = SavedToolRow(call, results.get(call.id), self.clock)
                yield row
            if message.error and message.status in ("error", "incomplete"):
                kind = message.error_kind or ("incomplete" if message.status == "incomplete" else "unknown")
                yield ErrorNote(kind, message.error)
        yield from self._marks()

    def _marks(self) -> Iterable[Widget]:
        status = self._status()
        if status == "stopped":
            yield Note(STOPPED if self.has_output else STOPPED_EARLY, classes="turn-note stopped-note")
        elif status == "length":
            yield Note(CUT_OFF, classes="turn-note")
        elif status == "incomplete" and self.last_answer is not None and not self.last_answer.error:
            yield Note(INTERRUPTED, classes="turn-note stopped-note")
        footer = footer_line(self.last_answer.model if self.last_answer else None, turn_stats(self.messages))
        if footer:
            yield Note(footer, classes="turn-note timing-note")


def conversation_widgets(messages: list[ChatMessage], clock: Clock) -> list[Widget]:
    """The widgets that show ``messages``: prompts, turns, and a label for each continuation."""
    widgets: list[Widget] = []
    turn: list[ChatMessage] = []

    def close_turn() -> None:
        if turn:
            widgets.append(SavedTurn(list(turn), clock))
            turn.clear()

    for message in messages:
        if message.role == "system":
            continue
        if message.role == "user":
            close_turn()
            if message.content == COMPACT_PROMPT:
                widgets.append(CompactLabel(done=message.cut_at is not None))
                continue
            if message.cut_at is not None:
                widgets.append(Note(CUT_NOTE, classes="cut-note"))
            widgets.append(ContinuedLabel() if message.content == CONTINUE_PROMPT
                           else UserMessage(message.content, message))
        else:
            turn.append(message)
    close_turn()
    return widgets


def last_turn(messages: list[ChatMessage], widgets: list[Widget]) -> tuple[ChatMessage | None, AssistantTurn | None]:
    """The last user message of the conversation shown and the turn that answered it (the last of ``widgets``, if
    it is one): what retry drops."""
    user = next((message for message in reversed(messages) if message.role == "user"), None)
    answer = widgets[-1] if widgets else None
    return user, answer if user is not None and isinstance(answer, AssistantTurn) else None
