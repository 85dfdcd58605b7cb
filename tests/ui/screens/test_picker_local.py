"""The built-in ``local`` profile is the one in use when the embedded model serves with no profile named."""

from __future__ import annotations

from pathlib import Path

import pytest
from app_helpers import SIZE, wait_for
from textual.widgets import OptionList

from streamchat.agent import Agent
from streamchat.config.file import LOCAL_PROFILE
from streamchat.config.settings import LOCAL_MODEL_NAME, Settings
from streamchat.messages import ChatMessage
from streamchat.store.database import ConversationStore
from streamchat.tools import default_registry
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.screens.model_picker import ModelPicker
from streamchat.ui.widgets.message import Note


def local_settings(tmp_path: Path) -> Settings:
    """No key, no base URL, no config file: the embedded model, as a first run has it."""
    return Settings(data_dir=str(tmp_path / "data"), profiles=(LOCAL_PROFILE,))


def test_the_built_in_local_profile_is_the_one_in_use_without_a_profile_named() -> None:
    assert Settings().profile_in_use == "local" and Settings(local=True, profile=None).profile_in_use == "local"
    assert Settings(base_url="http://x.example/v1").profile_in_use is None
    assert Settings(profile="work", base_url="http://x.example/v1").profile_in_use == "work"


def local_app(settings: Settings, *, continue_last: bool = False) -> StreamChatApp:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install 'streamchat[local]')")
    from streamchat.backends.local.backend import LocalBackend

    return make_app(settings, Agent(LocalBackend(settings), settings, default_registry()), continue_last=continue_last)


async def test_the_picker_marks_the_built_in_local_profile_in_use(tmp_path: Path) -> None:
    app = local_app(local_settings(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPicker), "the picker")
        options = app.screen.query_one(OptionList)
        rows = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert "● local  embedded llama.cpp model" in rows, rows


async def test_a_local_conversation_reopens_without_switching_to_the_profile_in_use(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    with ConversationStore(settings.data_dir) as store:
        cid = store.create_conversation()
        store.save_messages(cid, [ChatMessage(role="user", content="hi"),
                                  ChatMessage(role="assistant", content="Hello.", status="complete",
                                              model=LOCAL_MODEL_NAME, backend="local")])
    app = local_app(settings, continue_last=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.persistence.target.id == cid, "the conversation reopened")
        await pilot.pause(0.1)
        said = [str(note.render()) for note in app.query(Note)]
        assert not any("Reopened with" in line for line in said), said
        assert app.settings.profile is None, "no switch (a new backend) to the profile already in use"
