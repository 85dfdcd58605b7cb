"""Switching profile or model mid-chat: a profile's system prompt, a model the server does not list."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app_helpers import SIZE, ask, send, wait_for
from fake_server import FakeServer, text_response

from streamchat.config.file import config_path, load_config
from streamchat.config.settings import Settings, load_settings
from streamchat.messages import ChatMessage
from streamchat.store.database import ConversationStore
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.message import Note

PIRATE = "Talk like a pirate."


def configured(server: FakeServer, tmp_path: Path) -> Settings:
    """Profiles ``plain`` (the default) and ``pirate`` (with a system prompt), both on ``server``."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'default_profile = "plain"\n[profiles.plain]\nbase_url = "{server.base_url}"\nmodel = "m1"\n'
                    f'[profiles.pirate]\nbase_url = "{server.base_url}"\nmodel = "m2"\nsystem = "{PIRATE}"\n')
    settings = load_settings({}, environ={}, dotenv={}, config=load_config(path))
    return replace(settings, max_retries=0, timeout=2.0, data_dir=str(tmp_path / "data"))


def notes(app: StreamChatApp) -> list[str]:
    return [str(note.render()) for note in app.query(Note)]


def system_sent(server: FakeServer) -> str | None:
    first = server.requests[-1].messages[0]
    return str(first["content"]) if first["role"] == "system" else None


async def test_a_profile_with_a_system_prompt_brings_it_to_the_chat_and_takes_it_away_after(
        fake_server: FakeServer, tmp_path: Path) -> None:
    settings = configured(fake_server, tmp_path)
    fake_server.default = text_response("Arr.")
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await ask(pilot, "one")
        assert system_sent(fake_server) is None
        await send(pilot, "/profile pirate")
        await wait_for(pilot, lambda: app.settings.profile == "pirate", "the switch")
        assert f"system prompt: {PIRATE} (profile pirate's, from the next turn on)" in notes(app)
        await ask(pilot, "two")
        assert system_sent(fake_server) == PIRATE
        assert [m["content"] for m in fake_server.requests[-1].messages[1:]] == ["one", "Arr.", "two"]
        await send(pilot, "/profile plain")
        await wait_for(pilot, lambda: app.settings.profile == "plain", "the switch back")
        assert "system prompt removed (profile plain has none)" in notes(app)
        await ask(pilot, "three")
        assert system_sent(fake_server) is None
        await send(pilot, "/new")
        await ask(pilot, "four")
        assert system_sent(fake_server) is None, "the pirate's system prompt went with its profile"
        cid = app.persistence.target.id
    with ConversationStore(settings.data_dir) as store:
        assert all(m.role != "system" for m in store.load(cid or "").messages)


async def test_a_conversation_with_its_own_system_prompt_keeps_it_and_the_chat_says_how_to_change_it(
        fake_server: FakeServer, tmp_path: Path) -> None:
    settings = configured(fake_server, tmp_path)
    with ConversationStore(settings.data_dir) as store:
        cid = store.create_conversation()
        store.save_messages(cid, [ChatMessage(role="system", content="Be terse."),
                                  ChatMessage(role="user", content="hi"),
                                  ChatMessage(role="assistant", content="Hi.", status="complete", model="m1",
                                              profile="plain")])
    fake_server.default = text_response("Ok.")
    app = make_app(settings, resume=cid)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.persistence.target.id == cid, "the conversation reopened")
        await send(pilot, "/profile pirate")
        await wait_for(pilot, lambda: app.settings.profile == "pirate", "the switch")
        assert any(n.startswith("profile pirate's system prompt is for new chats: this conversation keeps its own")
                   for n in notes(app)), notes(app)
        await ask(pilot, "again")
        assert system_sent(fake_server) == "Be terse."


async def test_a_model_the_server_does_not_list_is_used_but_not_saved_over_the_profiles_model(
        fake_server: FakeServer, tmp_path: Path) -> None:
    settings = configured(fake_server, tmp_path)
    fake_server.models = ["m1", "m1-large"]
    fake_server.default = text_response("Ok.")
    app = make_app(settings)
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "/model nonexistent-model-x")
        await wait_for(pilot, lambda: any(n.startswith("model: nonexistent-model-x") for n in notes(app)), "note")
        assert ("model: nonexistent-model-x — not listed by the server: used in this chat, not saved to the config "
                "file; if it does not exist, the next turn says so") in notes(app)
        await ask(pilot, "hi")
        assert fake_server.requests[-1].body["model"] == "nonexistent-model-x"
        await send(pilot, "/model m1-large")
        await wait_for(pilot, lambda: "model: m1-large · saved as profile plain's model" in notes(app), "saved")
        await wait_for(pilot, lambda: load_config(config_path()).profiles["plain"].model == "m1-large", "written")
    assert "nonexistent-model-x" not in config_path().read_text()
