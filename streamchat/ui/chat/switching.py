"""Switching profile or model mid-chat, and remembering the choices in the config file.

The conversation stays as it is: the next turn sends the whole history to the
new endpoint or model. Every change made here is written back to the config
file (``config_write``, off the UI thread), keeping the user's comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from streamchat.config.settings import Settings
from streamchat.messages import ChatMessage
from streamchat.safety import one_line
from streamchat.ui.chat.slash import STILL_ANSWERING
from streamchat.ui.screens.model_picker import ModelPicker, PickerChoice

if TYPE_CHECKING:
    from streamchat.ui.app import StreamChatApp


def remember(app: StreamChatApp, changes: Mapping[tuple[str, ...], Any], *, add: Mapping[str, str] | None = None
             ) -> None:
    """Write ``changes`` to the config file in a thread; say so in the chat if that fails."""

    def write() -> None:
        from streamchat.config.write import ConfigWriteError
        from streamchat.config.write import remember as write_back

        try:
            write_back(changes, add=add)
        except ConfigWriteError as exc:
            app.call_from_thread(app.notify, f"Not saved to the config file: {exc}", severity="warning",
                                 markup=False)

    app.run_worker(write, thread=True, group="config-write", exit_on_error=False)


def follow_theme(app: StreamChatApp) -> None:
    """Use the remembered theme, then remember every theme chosen from now on."""
    wanted = app.settings.theme
    if wanted and wanted in app.available_themes:
        app.theme = wanted
    elif wanted:
        names = ", ".join(sorted(app.available_themes))
        app.call_after_refresh(app.note, f"config: theme {wanted!r} is not a theme (ignored); themes: {names}")

    def changed(theme: object) -> None:
        if app.theme != app.settings.theme:
            app.settings = replace(app.settings, theme=app.theme)
            remember(app, {("theme",): app.theme})

    app.theme_changed_signal.subscribe(app, changed)


async def replace_agent(app: StreamChatApp, settings: Settings) -> None:
    """Use ``settings`` from the next turn on with a new backend; the conversation stays."""
    old = app.agent
    app.agent = None
    app.agent_loader.reset()
    app.update_settings(settings)
    if old is not None:
        await old.backend.aclose()
    app.agent_loader.load()


def open_picker(app: StreamChatApp) -> None:
    """Open the model picker over the chat."""
    if app.turn_running:
        app.notify(STILL_ANSWERING, severity="warning")
        return
    settings = app.settings

    async def fetch() -> list[str]:
        agent = await app.get_agent()
        return await agent.backend.list_models()

    server = "the embedded model" if settings.use_local else (settings.base_url or "api.openai.com")
    picker = ModelPicker(settings.profiles, settings.profile, settings.model_name, server, fetch)
    app.push_screen(picker, lambda choice: _chosen(app, choice))


async def _chosen(app: StreamChatApp, choice: PickerChoice | None) -> None:
    if choice is None:
        return
    if choice.kind == "profile":
        await switch_profile(app, choice.name)
    else:
        await switch_model(app, choice.name, listed=choice.listed)


async def switch_profile(app: StreamChatApp, name: str, *, save: bool = True, quiet: bool = False) -> bool:
    """Talk to profile ``name``'s endpoint from the next turn on (a new backend; same conversation)."""
    profile = next((p for p in app.settings.profiles if p.name == name), None)
    if profile is None:
        names = ", ".join(p.name for p in app.settings.profiles)
        app.notify(f"No profile {name!r}; profiles: {names}", severity="warning", markup=False)
        return False
    await replace_agent(app, app.settings.with_profile(profile))
    if not quiet:
        await app.note(f"profile: {name} · {profile.describe()}")
    if save:
        remember(app, {("default_profile",): name})
    return True


async def switch_model(app: StreamChatApp, model: str, *, listed: bool | None = None, save: bool = True) -> None:
    """Ask ``model`` from the next turn on; remembered in the profile in use."""
    app.update_settings(replace(app.settings, model=model))
    note = f"model: {one_line(model)}"
    if listed is False:
        note += " (not listed by the server: if it does not exist, the next turn says so)"
    await app.note(note)
    profile = app.settings.profile
    if save and profile is not None and profile != "local":
        remember(app, {("profiles", profile, "model"): model})


async def reopen_with_its_model(app: StreamChatApp, messages: list[ChatMessage]) -> None:
    """A reopened conversation goes on with the profile and model its last answer used, saying so
    (unless the command line named them)."""
    last = next((m for m in reversed(messages) if m.role == "assistant" and m.model), None)
    if last is None or app.pinned_model:
        return
    settings = app.settings
    profile = last.profile or ("local" if last.backend == "local" else None)
    known = {p.name for p in settings.profiles}
    if profile is not None and profile != settings.profile:
        if profile not in known:
            await app.note(f"This conversation used profile {profile!r}, which the config file no longer has: "
                           f"going on with {settings.profile or 'the current settings'} · {settings.model_name}.")
            return
        await switch_profile(app, profile, save=False, quiet=True)
    if last.model and last.model != app.settings.model_name and not app.settings.use_local:
        app.update_settings(replace(app.settings, model=last.model))
    if (app.settings.profile, app.settings.model_name) != (settings.profile, settings.model_name):
        where = f"{app.settings.profile} · " if app.settings.profile else ""
        await app.note(f"Reopened with the model this conversation used: {where}{app.settings.model_name}.")
