"""One tool call: a compact row that fills in live, runs with a spinner, and expands to show details."""

from __future__ import annotations

import asyncio
import json
from typing import ClassVar, Literal

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.reactive import var
from textual.timer import Timer
from textual.widgets import Input, Static

from streamchat.safety import one_line, strip_control
from streamchat.timing import Clock
from streamchat.ui.widgets.waiting import spinner_frame

ToolState = Literal["streaming", "waiting", "asking", "running", "ok", "error", "stopped"]
"""Where a call is: arguments streaming in, complete and waiting its turn (to be asked, or to run once the
other calls are decided), asking for approval, running, or finished one way or another."""

_ICONS = {"ok": ("✓", "$success"), "error": ("✗", "$error"), "stopped": ("■", "$warning"), "asking": ("?", "$warning"),
          "waiting": ("…", "$text-muted")}
"""A still mark for each state that is not under way (the others spin)."""

ASK = "Allow {name} to run?  y once · c for this chat · a always (saved) · n deny (with a reason) · esc deny and stop"
"""The question shown in a row that waits for approval."""

Answer = tuple[Literal["once", "chat", "always", "deny"], str]
"""The user's answer to the question: how far an allowance goes, or ``deny`` with a reason."""


def pretty_arguments(arguments: str) -> str:
    """Arguments as indented JSON when they parse, else as they came."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return arguments


HEADER_CHARS = 300
"""The header is one line: only this much of the arguments is prepared for it."""


class ToolCallRow(Vertical, can_focus=True):
    """``▸ ✓ calculator 0.01 s {"expression": "2+2"} → 4``; click or Enter shows arguments and result."""

    BINDINGS: ClassVar[list[BindingType]] = [  # the question's keys first, short: they fit a narrow footer
        Binding("y", "answer('once')", "Allow"),
        Binding("c", "answer('chat')", "This chat"),
        Binding("a", "answer('always')", "Always"),
        Binding("n", "answer('deny')", "Deny…"),
        Binding("escape", "stop_turn", "Stop"),
        Binding("enter", "toggle_details", "Details"),
    ]

    expanded = var(False, toggle_class="-expanded")
    """Show the pretty-printed arguments and the whole result."""
    state: var[ToolState] = var[ToolState]("streaming")
    """Where the call is; mirrored as a CSS class ``-streaming``, ``-running``..."""

    def __init__(self, call_id: str, name: str, clock: Clock) -> None:
        super().__init__(classes="-streaming")
        self.call_id = call_id
        """The call id the events refer to."""
        self.tool_name = strip_control(name)
        """The tool's name, safe to show."""
        self.clock = clock
        """Where time comes from."""
        self.arguments = ""
        """The arguments so far (raw, as the model sent them)."""
        self.result: str | None = None
        """The result the model received, once finished."""
        self.started_at = clock()
        """When the row appeared (then when the tool started running)."""
        self.elapsed_s: float | None = None
        """How long the tool ran, once finished."""
        self.stop_reason = "stopped"
        """Why a ``stopped`` call did not finish: ``stopped`` (by the user) or ``not run``."""
        self.decision = ""
        """How its approval went (``allowed once``, ``denied: …``), shown in the header once known."""
        self._timer: Timer | None = None
        self._answer: asyncio.Future[Answer] | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="tool-header", markup=False)
        yield Static(classes="tool-ask", markup=False)
        yield Input(placeholder="Why not? (optional; the model is told) · enter denies", classes="tool-reason")
        yield Static(classes="tool-body", markup=False)

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.1, self._render_header)
        self._render_all()

    # -- attributes down: the turn calls these as events arrive

    def add_arguments(self, delta: str) -> None:
        """More of the arguments streamed in (shown by the 0.1 s header timer, not per fragment)."""
        self.arguments += delta

    def complete(self, arguments: str) -> None:
        """The arguments are complete: the call waits its turn (nothing spins until it runs)."""
        self.arguments = arguments
        if self.state == "streaming":
            self.state = "waiting"
        self._render_all()

    def run(self, arguments: str) -> None:
        """The tool started running."""
        self.arguments = arguments
        self.started_at = self.clock()
        self.state = "running"

    def finish(self, content: str, is_error: bool, elapsed_s: float) -> None:
        """The tool finished (or failed)."""
        self.result = content
        self.elapsed_s = elapsed_s
        self.state = "error" if is_error else "ok"

    async def ask(self) -> Answer:
        """Ask the user, in the row, whether the tool may run; wait for the answer (keys y, c, a, n)."""
        self._answer = asyncio.get_running_loop().create_future()
        self.state = "asking"
        self.query_one(".tool-ask", Static).update(Content(ASK.format(name=self.tool_name)))
        self.focus()
        try:
            return await self._answer
        finally:
            self._answer = None
            self.remove_class("-denying")
            self.refresh_bindings()

    def decided(self, text: str) -> None:
        """Show how the approval went; the row waits to run (or its denial arrives as its result)."""
        self.decision = text
        if self.state in ("asking", "streaming"):
            self.state = "waiting"
        self._render_header()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer":
            return self._answer is not None and not self.has_class("-denying")
        if action == "stop_turn":
            return self._answer is not None  # else esc is the app's, as everywhere
        return True

    async def action_stop_turn(self) -> None:
        """Esc while asked: deny and stop the turn (the app's stop; listed here, with the question's keys)."""
        await self.run_action("app.stop")

    def action_answer(self, choice: Literal["once", "chat", "always", "deny"]) -> None:
        """The user answered; ``deny`` first asks for an optional reason."""
        if self._answer is None or self._answer.done():
            return
        if choice == "deny":
            self.add_class("-denying")
            self.refresh_bindings()
            self.query_one(".tool-reason", Input).focus()
            return
        self._answer.set_result((choice, ""))

    @on(Input.Submitted, ".tool-reason")
    def _reason_given(self, event: Input.Submitted) -> None:
        event.stop()
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(("deny", " ".join(event.value.split())))

    def stop(self, reason: str = "stopped") -> None:
        """The call will not finish: the user stopped the turn, or it ended without running it."""
        if self.state in ("streaming", "waiting", "running", "asking"):
            self.stop_reason = reason
            self.state = "stopped"

    # -- rendering

    def watch_state(self, old: ToolState, new: ToolState) -> None:
        self.remove_class(f"-{old}")
        self.add_class(f"-{new}")
        if new in ("ok", "error", "stopped") and self._timer is not None:
            self._timer.stop()
        self._render_all()

    def watch_expanded(self) -> None:
        self._render_header()

    def action_toggle_details(self) -> None:
        """Expand or collapse the details."""
        self.expanded = not self.expanded

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.action_toggle_details()

    def _render_all(self) -> None:
        self._render_header()
        if not self.is_mounted:
            return
        parts: list[str | tuple[str, str]] = [("arguments\n", "dim"), strip_control(pretty_arguments(self.arguments))]
        if self.result is not None:
            parts += [("\nresult\n", "dim"), strip_control(self.result)]
        self.query_one(".tool-body", Static).update(Content.assemble(*parts))

    def _render_header(self) -> None:
        if not self.is_mounted:
            return
        state = self.state
        if state in _ICONS:
            icon = _ICONS[state]
        else:
            icon = (spinner_frame(self.clock() - self.started_at), "$accent")
        arrow = "▾ " if self.expanded else "▸ "
        parts: list[str | tuple[str, str]] = [(arrow, "dim"), icon, " ", (self.tool_name, "bold")]
        if self.decision:
            parts.append((f" {self.decision}", "$text-warning" if "denied" in self.decision else "dim"))
        if state == "running":
            parts.append((f" {self.clock() - self.started_at:.1f} s", "dim"))
        elif self.elapsed_s is not None:
            parts.append((f" {self.elapsed_s:.2f} s", "dim"))
        elif state == "stopped":
            parts.append((f" {self.stop_reason}", "$warning"))
        elif state == "waiting" and not self.decision:
            parts.append((" waiting", "dim"))
        parts += [" ", one_line(self.arguments[:HEADER_CHARS])]
        if self.result is not None:
            parts += [(" → ", "dim"), one_line(self.result[:500])]
        self.query_one(".tool-header", Static).update(Content.assemble(*parts))
