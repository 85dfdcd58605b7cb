"""Fixtures for the chat app's Pilot and snapshot tests (the helpers are in ``app_helpers``)."""

from __future__ import annotations

import pytest
from app_helpers import make_settings
from fake_server import FakeServer

from streamchat.config.settings import Settings
from streamchat.events import AnyEvent
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.chat.persistence import ChatPersistence
from streamchat.ui.chat.saving import TurnSaving


@pytest.fixture
def settings(fake_server: FakeServer) -> Settings:
    """Settings for the fake server."""
    return make_settings(fake_server)


@pytest.fixture
def app(settings: Settings) -> StreamChatApp:
    """A fresh app on the fake server (its agent is created lazily, as in real use)."""
    return make_app(settings)


@pytest.fixture
def turn_events(monkeypatch: pytest.MonkeyPatch) -> list[AnyEvent]:
    """Every event the turn worker handed on in this test, in order (the one route: to the widgets and the store)."""
    seen: list[AnyEvent] = []
    saw = ChatPersistence.saw

    def recording(self: ChatPersistence, turn: TurnSaving, event: AnyEvent) -> None:
        seen.append(event)
        saw(self, turn, event)

    monkeypatch.setattr(ChatPersistence, "saw", recording)
    return seen
