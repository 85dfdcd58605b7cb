"""Helpers for the chat app's Pilot and snapshot tests: settings, waiting, typing, reading the screen."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from fake_server import FakeServer
from textual.pilot import Pilot
from textual.widgets import Static
from textual.widgets._footer import FooterKey

from streamchat.config.settings import Settings
from streamchat.ui.app import StreamChatApp
from streamchat.ui.widgets.error import ErrorNote
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.turn import AssistantTurn

SIZE = (100, 30)
"""Every UI test runs at this terminal size."""
CELL_WIDTH = 12.2
"""Width of one terminal cell in Textual's SVG screenshots."""


def make_settings(server: FakeServer, **overrides: object) -> Settings:
    """Settings pointing at the fake server, with no retries and short timeouts."""
    values: dict[str, object] = {
        "base_url": server.base_url, "api_key": "sk-test", "max_retries": 0, "timeout": 2.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def wait_for(pilot: Pilot[object], condition: Callable[[], object], what: str = "condition",
                   limit: float = 10.0) -> None:
    """Let the app run until ``condition()`` holds (``limit`` only guards against a hang)."""
    waited = 0.0
    while not condition():
        if waited > limit:
            raise AssertionError(f"gave up waiting for {what}")
        await pilot.pause(0.02)
        waited += 0.02
    await pilot.pause()


async def send(pilot: Pilot[object], text: str) -> None:
    """Type ``text`` into the prompt and press Enter."""
    prompt = pilot.app.query_one(Prompt)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def finish_turn(pilot: Pilot[object]) -> None:
    """Wait for the running turn (started by the last Enter) to end."""
    app = pilot.app
    assert isinstance(app, StreamChatApp)
    await pilot.pause()
    await wait_for(pilot, lambda: not app.turn_running, "the turn to end")
    await pilot.pause(0.1)  # let the answer's last frame flush


async def ask(pilot: Pilot[object], text: str, *, ok: bool = True) -> None:
    """Send ``text`` and wait for the turn to end (with ``ok``, fail on an error shown in the conversation)."""
    await send(pilot, text)
    await finish_turn(pilot)
    turns = pilot.app.query(AssistantTurn)
    errors = [str(note.render()) for note in turns.last().query(ErrorNote)] if turns else []
    if ok and errors:
        raise AssertionError(f"the turn failed: {errors[-1]}")


def text_of(widget: Static) -> str:
    """The plain text a Static shows."""
    return str(widget.render())


def screen_text(app: StreamChatApp) -> str:
    """What the terminal shows, one line per row (read back from an SVG screenshot)."""
    svg = app.export_screenshot()
    rows: dict[float, dict[int, str]] = {}
    for match in re.finditer(r'<text class="[^"]*-r\d+" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        column = round(float(match.group(1)) / CELL_WIDTH)
        row = rows.setdefault(float(match.group(2)), {})
        for offset, char in enumerate(html.unescape(match.group(3)).replace("\xa0", " ")):
            row[column + offset] = char
    return "\n".join(
        "".join(cells.get(column, " ") for column in range(max(cells) + 1)).rstrip()
        for _, cells in sorted(rows.items())
    )


def footer_labels(app: StreamChatApp) -> list[str]:
    """The descriptions of the bindings the footer shows now."""
    return [key.description for key in app.query(FooterKey)]
