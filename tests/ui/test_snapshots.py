"""How the app looks: idle, after an answer with a tool call, and after an error (100x30 SVG snapshots).

Timing figures are frozen (the app's and the agent's clocks always read 0) and
the status line's server address is fixed, so the pictures are deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from app_helpers import SIZE, make_settings
from fake_server import FakeServer, Response, SSEError, chunk, text_response, tool_call_response
from textual.pilot import Pilot

from streamchat.factory import make_agent
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.prompt import Prompt

Snap = Callable[..., bool]


def frozen() -> float:
    """A clock that never moves."""
    return 0.0


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """The fake server in its own thread (the snapshot plugin runs its own event loop)."""
    with FakeServer() as fake:
        yield fake


def snapshot_app(server: FakeServer, *responses: Response) -> StreamChatApp:
    """An app whose figures cannot change from run to run."""
    server.enqueue(*responses)
    settings = make_settings(server)
    agent = make_agent(settings)
    agent.clock = frozen
    agent.backend.description = "openai · fake server"
    app = make_app(settings, agent, clock=frozen)
    return app


async def ask(pilot: Pilot[None], text: str) -> None:
    """Type ``text``, press Enter, wait for the turn to end."""
    await pilot.pause()
    app = pilot.app
    assert isinstance(app, StreamChatApp)
    prompt = app.query_one(Prompt)
    prompt.cursor_blink = False
    await pilot.press(*text, "enter")
    await pilot.pause()
    while app.turn_running:
        await pilot.pause(0.02)
    await pilot.pause(0.1)


def test_idle(snap_compare: Snap, server: FakeServer) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.pause()
        pilot.app.query_one(Prompt).cursor_blink = False

    assert snap_compare(snapshot_app(server), terminal_size=SIZE, run_before=run_before)


def test_answer_with_a_tool_call(snap_compare: Snap, server: FakeServer) -> None:
    app = snapshot_app(
        server,
        tool_call_response([("call_1", "calculator", {"expression": "17 * 23"})], text_before="Let me compute."),
        text_response("**17 × 23 = 391.**\n\n```python\nprint(17 * 23)\n```\n", delay=0.002),
    )

    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "What is 17*23?")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_error_in_place(snap_compare: Snap, server: FakeServer) -> None:
    overloaded = SSEError({"message": "Model overloaded", "type": "server_error"})
    broken = Response([chunk({"role": "assistant", "content": ""}), chunk({"content": "The first half of"}),
                       chunk({"content": " an answer"}), overloaded])
    app = snapshot_app(server, broken)

    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "Hello?")

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


MARKDOWN = """# Streaming

Some **bold**, *italic* and `code`, a [link](https://example.com) and <b>tags</b> shown as text.

```python
def answer(x):
    return x * 2  # a comment longer than the view, which wraps instead of being cut off
```

| name | count |
|---|--:|
| alpha | 1 |
| beta | 222 |

- one
- two
  - nested

> a quote

Done."""


def test_markdown_answer_at_50_columns(snap_compare: Snap, server: FakeServer) -> None:
    app = snapshot_app(server, text_response(MARKDOWN, delay=0.001))

    async def run_before(pilot: Pilot[None]) -> None:
        await ask(pilot, "Show me Markdown")

    assert snap_compare(app, terminal_size=(50, 44), run_before=run_before)
