"""The two side workers of a race: each side's request in its own worker, and each side ended once.

Both workers belong to the pane (group ``race``), so cancelling that group
(``Esc``) closes both HTTP requests; ``reap()`` then shows the cancelled sides
stopped, keeping what arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker, get_current_worker

from streamchat.events import ErrorEvent
from streamchat.race import Mode, SideResult, run_side
from streamchat.timing import Clock

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from streamchat.agent import Agent
    from streamchat.ui.race.side import RaceSide

SideRun = tuple["RaceSide", "Agent", Clock]
"""One side of a race: the widget that shows it, the agent that answers it, the clock that times it."""


class SideWorkers:
    """Runs both sides of one race at a time in workers of ``owner``, feeding each ``RaceSide`` (attributes down).

    ``on_both_ended`` is called once both sides have ended (finished, failed or stopped).
    """

    def __init__(self, owner: DOMNode, on_both_ended: Callable[[], None]) -> None:
        self.owner = owner
        """The node the workers run on (its ``race`` group is the race)."""
        self._on_both_ended = on_both_ended
        self._open: set[Mode] = set()
        self._workers: dict[Worker[None], RaceSide] = {}

    def start(self, prompt: str, started_at: float, runs: Sequence[SideRun], ready_ms: float = 0.0) -> None:
        """Send ``prompt`` on every side at once; their figures count from ``started_at``, when the user asked
        (``ready_ms`` of it went on getting ready)."""
        self._open = {side.mode for side, _, _ in runs}
        for side, agent, clock in runs:
            worker: Worker[None] = self.owner.run_worker(
                partial(self._run, side, agent, prompt, clock, started_at, ready_ms),
                name="run_side", group="race", exit_on_error=False)
            self._workers[worker] = side

    async def reap(self) -> None:
        """After a stop, end each side whose worker was cancelled (what arrived stays)."""
        for worker, side in list(self._workers.items()):
            if worker.is_cancelled:
                del self._workers[worker]
                await self._ended(side, None)

    async def _run(self, side: RaceSide, agent: Agent, prompt: str, clock: Clock, started_at: float,
                   ready_ms: float) -> None:
        """One side of the race; cancelling it (esc) closes its request (``reap`` shows it stopped)."""
        side.live.ready_ms = ready_ms
        try:
            result = await run_side(agent, prompt, side.mode, started_at=started_at, ready_ms=ready_ms, clock=clock,
                                    listener=lambda _mode, event, _now_ms: side.observe(event), result=side.live)
        except Exception as exc:  # noqa: BLE001 - shown on its side; the other side runs on
            result = replace(side.live, error=ErrorEvent("unknown", f"{type(exc).__name__}: {exc}"))
        self._workers.pop(get_current_worker(), None)
        self.owner.call_later(self._ended, side, result)

    async def _ended(self, side: RaceSide, result: SideResult | None) -> None:
        """Show how a side ended (None: stopped); tell the owner when both have."""
        if side.mode not in self._open:
            return
        self._open.discard(side.mode)
        if result is None:
            await side.stopped()
        else:
            await side.finish(result)
        if not self._open:
            self._on_both_ended()
