"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_server import FakeServer


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A running FakeServer on 127.0.0.1 (random port); stopped after the test."""
    with FakeServer() as server:
        yield server


@pytest.fixture
def base_url(fake_server: FakeServer) -> str:
    """The fake server's OpenAI base URL, ``http://127.0.0.1:PORT/v1``."""
    return fake_server.base_url


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test write to the user's real history database."""
    monkeypatch.setenv("STREAMCHAT_DATA_DIR", str(tmp_path_factory.mktemp("data")))


@pytest.fixture(autouse=True)
def private_config_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test read (or remember choices in) the user's real config file."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("STREAMCHAT_PROFILE", raising=False)
