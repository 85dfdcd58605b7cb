"""The race pane: the same prompt sent streaming and blocking at the same moment, side by side.

Each side runs in its own worker (group ``race``, see ``SideWorkers``); ``Esc``
cancels the group, which closes both HTTP requests. The two agents are made
once, in a thread (the local backend loads two model instances), and reused
until the settings change (``RaceAgents``). The screen is installed on the
app, so the list of races survives closing and reopening the pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Protocol, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.reactive import reactive
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static
from textual.worker import Worker

from streamchat.events import ErrorEvent
from streamchat.race import DEFAULT_RACE_PROMPT, Mode, RaceResult, verdict
from streamchat.safety import strip_control
from streamchat.timing import Clock
from streamchat.ui.race.agents import Agents, RaceAgents
from streamchat.ui.race.results import RaceResults
from streamchat.ui.race.side import RaceSide
from streamchat.ui.race.timeline import RaceTimeline
from streamchat.ui.race.workers import SideWorkers

if TYPE_CHECKING:
    from textual.app import App

    from streamchat.config.settings import Settings

LOCAL_NOTE = "Each side has its own copy of the model, with one thread each, so the two truly run at once."
"""Said on the pane when the embedded model serves both sides."""


def open_race_pane(app: App[object], prompt: str | None = None) -> RaceScreen:
    """Show the race pane and race ``prompt`` (None: the built-in one) as soon as it shows."""
    if not app.is_screen_installed(RaceScreen.NAME):
        app.install_screen(RaceScreen(), RaceScreen.NAME)
    screen = cast(RaceScreen, app.get_screen(RaceScreen.NAME))
    screen.request(prompt or DEFAULT_RACE_PROMPT)
    if screen not in app.screen_stack:
        app.push_screen(screen)
    return screen


class RaceHost(Protocol):
    """What the pane needs of the app it is shown over: the settings in force and the clock."""

    clock: Clock
    """Where the figures' time comes from (frozen in snapshot tests)."""

    @property
    def settings(self) -> Settings:
        """The settings the race runs with."""
        ...


class RaceScreen(Screen[None]):
    """Streaming on the left, blocking on the right, the timeline and the verdict under them."""

    NAME: ClassVar[str] = "race"
    """The name the screen is installed under."""
    CSS_PATH = "race.tcss"
    SUB_TITLE = "race · streaming vs blocking"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop both"),
        Binding("escape", "close", "Back to chat"),
        Binding("r", "again", "Race again"),
        Binding("ctrl+r", "again(True)", "Race again", show=False),  # always taken: never the chat's retry
        Binding("q", "leave", "Back to chat", show=False),
    ]

    running = reactive(False, bindings=True)
    """True from the start of a race until both sides have ended."""

    def __init__(self, agents: Agents | None = None, *, clocks: dict[Mode, Clock] | None = None) -> None:
        super().__init__()
        self.prompt = ""
        """The prompt of the current (or next) race."""
        self.results: list[RaceResult] = []
        """Every race run on this pane, oldest first (race N is ``results[N - 1]``)."""
        self.clocks: dict[Mode, Clock] = dict(clocks or {})
        """Per-side clocks for the sides' figures (tests script them); the app's clock otherwise."""
        self.agents = RaceAgents(self, agents)
        """The two agents the sides race with (given ones are kept whatever the settings)."""
        self._side_workers = SideWorkers(self, self._race_over)
        self._pending = False
        self._started_at = 0.0
        self._ticker: Timer | None = None
        self._prepare_worker: Worker[None] | None = None
        self._preparing = False

    @property
    def chat(self) -> RaceHost:
        """The app the pane is shown over."""
        return cast("RaceHost", self.app)

    def now(self) -> float:
        """The app's clock (frozen in snapshot tests)."""
        return self.chat.clock()

    # -- layout

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        with Vertical(id="race-head"):
            yield Static(Content(""), id="race-prompt", markup=False)
            yield Static(Content(""), id="race-about", markup=False)
        with Horizontal(id="race-sides"):
            yield RaceSide("streaming", self.now, id="race-streaming")
            yield RaceSide("blocking", self.now, id="race-blocking")
        yield RaceTimeline(id="race-timeline")
        yield RaceResults(id="race-results")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(RaceTimeline).border_title = "Timeline · one time scale, the longer side is the full width"
        self._ticker = self.set_interval(0.1, self._tick, pause=True)

    async def on_unmount(self) -> None:
        await self.agents.aclose()

    def on_screen_resume(self) -> None:
        if self._pending:
            self._pending = False
            self.call_after_refresh(self.start_race)

    @property
    def sides(self) -> tuple[RaceSide, RaceSide]:
        """The streaming side, then the blocking side."""
        return self.query_one("#race-streaming", RaceSide), self.query_one("#race-blocking", RaceSide)

    def _describe(self) -> None:
        settings = self.chat.settings
        prompt = self.query_one("#race-prompt", Static)
        prompt.update(Content.assemble(("Prompt ", "bold"), strip_control(self.prompt)))
        how = f"\n{LOCAL_NOTE}" if self.agents.is_local(settings) else " · both requests leave at the same moment"
        self.query_one("#race-about", Static).update(
            Content.assemble((strip_control(self.agents.where(settings)), "$text-muted"), (how, "$text-accent")))

    # -- bindings

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Esc stops a race, or closes the pane when none runs; r races again when none runs."""
        if action == "stop":
            return self.running
        if action == "close" or (action == "again" and not parameters):
            return not self.running
        return True

    def action_stop(self) -> None:
        """Stop both sides now: both HTTP requests close, what arrived stays."""
        self.workers.cancel_group(self, "race")
        self.call_later(self._reap)

    def action_close(self) -> None:
        """Back to the chat."""
        if self.is_current:
            self.dismiss(None)

    def action_leave(self) -> None:
        """Stop any race and go back to the chat."""
        self.action_stop()
        self.action_close()

    def action_again(self, by_ctrl_r: bool = False) -> None:
        """Race the same prompt again (or say why not)."""
        if self.running:
            self.notify("A race is running — esc stops it first.", severity="warning")
        self.start_race()

    # -- running a race

    def request(self, prompt: str) -> None:
        """Race ``prompt`` now if the pane shows and is idle, else as soon as it shows."""
        if self.running:
            self.notify("A race is running — esc stops it first.", severity="warning")
            return
        self.prompt = prompt
        if self.is_current:
            self.start_race()
        else:
            self._pending = True

    def start_race(self) -> None:
        """Send the prompt both ways (agents are made first if need be)."""
        if self.running or not self.prompt:
            return
        self.running = self._preparing = True
        self._started_at = self.now()  # the figures count from the user's asking, getting ready included
        self._prepare_worker = self._prepare()

    @work(group="race", exit_on_error=False)
    async def _prepare(self) -> None:
        """Get the agents (and local models) ready, then start both sides at the same moment."""
        sides = self.sides
        self._describe()
        for side in sides:
            await side.start("getting ready…")
        self.query_one(RaceResults).show(self.numbered, running=True)
        self.query_one(RaceTimeline).show(sides[0].live, sides[1].live, 0.0, True)
        try:
            agents = await self.agents.ready(self.chat.settings)
        except Exception as exc:  # noqa: BLE001 - could not make the agents: say so on both sides
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self.running = self._preparing = False
            for side in sides:
                await side.fail(ErrorEvent("config", str(message)))
            self.query_one(RaceResults).show(self.numbered, running=False)
            return
        self._describe()
        for side in sides:
            await side.relabel()
        self._preparing = False
        ready_ms = (self.now() - self._started_at) * 1000.0
        if self._ticker is not None:
            self._ticker.resume()
        runs = [(side, agent, self.clocks.get(side.mode, self.now)) for side, agent in zip(sides, agents, strict=True)]
        self._side_workers.start(self.prompt, self._started_at, runs, ready_ms)

    async def _reap(self) -> None:
        """After a stop, end each side whose worker was cancelled (what arrived stays), or the preparation."""
        await self._side_workers.reap()
        if self._prepare_worker is not None and self._prepare_worker.is_cancelled:
            await self._abandon()

    async def _abandon(self) -> None:
        """Stopped before the sides began."""
        if not self._preparing:
            return
        self.running = self._preparing = False
        for side in self.sides:
            await side.stopped()
        self.query_one(RaceResults).show(self.numbered, running=False)

    def _race_over(self) -> None:
        """Both sides have ended: keep the race's result and show the verdict."""
        if not self.running:
            return
        if self._ticker is not None:
            self._ticker.pause()
        streaming, blocking = (side.live for side in self.sides)
        agent = self.agents.current[0] if self.agents.current else None
        self.results.append(RaceResult(self.prompt, streaming, blocking, verdict(streaming, blocking),
                                       model=agent.settings.model_name if agent else "",
                                       backend=agent.backend.description if agent else ""))
        self.running = False
        self._show((self.now() - self._started_at) * 1000.0)

    @property
    def numbered(self) -> list[tuple[int, RaceResult]]:
        """The races with their numbers, oldest first."""
        return list(enumerate(self.results, 1))

    def _tick(self) -> None:
        self._show((self.now() - self._started_at) * 1000.0)

    def _show(self, now_ms: float) -> None:
        streaming, blocking = self.sides
        for side in (streaming, blocking):
            side.tick(now_ms)
        self.query_one(RaceTimeline).show(streaming.live, blocking.live, now_ms, self.running)
        if not self.running:
            self.query_one(RaceResults).show(self.numbered, running=False)
