"""The model picker, switching profile and model mid-chat, and choices remembered in the config file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from app_helpers import SIZE, ask, send, wait_for
from fake_server import FakeServer, text_response
from textual.widgets import OptionList, Static

from streamchat.config.file import config_path, load_config
from streamchat.config.settings import Settings, load_settings
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.screens.model_picker import ModelPicker
from streamchat.ui.widgets.message import Note
from streamchat.ui.widgets.turn import AssistantTurn


@pytest.fixture
def second_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def write_config(fake: FakeServer, other: FakeServer) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"""\
# my streamchat settings
default_profile = "first"   # where I start

[profiles.first]
base_url = "{fake.base_url}"
model = "first-model"   # the usual model

[profiles.second]
base_url = "{other.base_url}"
model = "second-model"
""")
    path.chmod(0o600)
    return path


def profile_settings(path: Path, **flags: object) -> Settings:
    settings = load_settings(dict(flags), environ={}, dotenv={}, config=load_config(path))
    return replace(settings, max_retries=0, timeout=2.0)


def notes(app: StreamChatApp) -> list[str]:
    return [note.render().plain for note in app.query(Note)]  # type: ignore[attr-defined]


def picker_rows(app: StreamChatApp) -> list[str]:
    options = app.screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_picker_lists_profiles_and_server_models_and_switching_keeps_the_history(
        fake_server: FakeServer, second_server: FakeServer) -> None:
    path = write_config(fake_server, second_server)
    fake_server.models = ["first-model", "big-model"]
    fake_server.enqueue(text_response("One."), text_response("Two."))
    second_server.enqueue(text_response("Three."))
    app = make_app(profile_settings(path))
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "first question")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker) and "  big-model" in picker_rows(app),
                       "the server's models in the picker")
        rows = picker_rows(app)
        assert rows[0] == "Profiles" and any(r.startswith("● first") for r in rows)
        assert any(r.startswith("  second") and "second-model" in r for r in rows)
        assert any(r.startswith("  local") for r in rows) and any(r.startswith("● first-model") for r in rows)
        await pilot.press(*"big", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ModelPicker), "the picker to close")
        await ask(pilot, "second question")
        request = fake_server.requests[1].body
        assert request["model"] == "big-model"
        assert [m["content"] for m in request["messages"]] == ["first question", "One.", "second question"]
        await wait_for(pilot, lambda: 'model = "big-model"   # the usual model' in path.read_text(),
                       "the model remembered in the profile, its comment kept")

        await send(pilot, "/model")  # the picker again: switch profile, mid-chat
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        await pilot.press(*"second", "enter")
        await wait_for(pilot, lambda: app.settings.profile == "second", "the profile switch")
        await ask(pilot, "third question")
        request = second_server.requests[0].body
        assert request["model"] == "second-model"
        assert [m["content"] for m in request["messages"]] == ["first question", "One.", "second question", "Two.",
                                                              "third question"]
        footers = [n for n in notes(app) if "first token" in n]
        assert [f.split(" · ")[0] for f in footers] == ["first-model", "big-model", "second-model"]
        assert [m.model for m in app.history if m.role == "assistant"] == ["first-model", "big-model",
                                                                           "second-model"]
        await wait_for(pilot, lambda: 'default_profile = "second"   # where I start' in path.read_text(),
                       "the profile remembered")
    assert load_config(path).issues == ()


async def test_a_server_that_does_not_list_models_says_so_and_a_typed_name_still_works(
        fake_server: FakeServer, second_server: FakeServer) -> None:
    path = write_config(fake_server, second_server)
    fake_server.models = None
    fake_server.enqueue(text_response("Hi."))
    app = make_app(profile_settings(path))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/model")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker) and app.screen.problem is not None,
                       "the failed listing")
        note = str(app.screen.query_one("#picker-note", Static).render())
        assert "does not list its models" in note and "404" in note
        await pilot.press(*"my-own-model", "enter")
        await wait_for(pilot, lambda: app.settings.model_name == "my-own-model", "the typed model")
        assert any("my-own-model (not checked: the server does not list its models) · saved as profile first's"
                   in n for n in notes(app)), notes(app)
        await ask(pilot, "hello")
        assert fake_server.requests[0].body["model"] == "my-own-model"


async def test_theme_and_tools_are_remembered_and_the_theme_is_used_at_the_next_start(
        fake_server: FakeServer, second_server: FakeServer) -> None:
    path = write_config(fake_server, second_server)
    app = make_app(profile_settings(path))
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/theme nord")
        await send(pilot, "/tools off")
        await wait_for(pilot, lambda: "theme" in path.read_text() and "tools = false" in path.read_text(),
                       "the choices written back")
    text = path.read_text()
    assert 'theme = "nord"' in text and text.startswith("# my streamchat settings")
    settings = profile_settings(path)
    assert settings.theme == "nord" and settings.tools_enabled is False
    again = make_app(settings)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"


async def test_resume_reopens_with_the_model_it_used_and_says_so(
        fake_server: FakeServer, second_server: FakeServer) -> None:
    path = write_config(fake_server, second_server)
    second_server.enqueue(text_response("From the second."))
    first = make_app(profile_settings(path, profile="second"))
    async with first.run_test(size=SIZE) as pilot:
        await ask(pilot, "hello second")
    app = make_app(profile_settings(path), continue_last=True)  # starts on the default profile, first
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.settings.profile == "second", "the profile it used")
        await wait_for(pilot, lambda: any("Reopened with the model" in n for n in notes(app)), "the note")
        assert app.settings.model_name == "second-model"
        assert any("second · second-model" in n for n in notes(app))
        assert app.query_one(AssistantTurn).query(Note).last().render().plain.startswith(  # type: ignore[attr-defined]
            "second-model · first token")
    pinned = make_app(profile_settings(path, model="pinned-model"), continue_last=True, pinned_model=True)
    async with pinned.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: len(pinned.history) == 2, "the reopened conversation")
        await pilot.pause(0.1)
        assert pinned.settings.model_name == "pinned-model" and pinned.settings.profile == "first"
