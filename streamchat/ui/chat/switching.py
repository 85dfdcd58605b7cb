"""Switching profile or model mid-chat, and remembering the choices in the config file.

The conversation stays as it is: the next turn sends the whole history to the
new endpoint or model. Every change made here is written back to the config
file (``config.write``, off the UI thread), keeping the user's comments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from streamchat.messages import ChatMessage, replace_system
from streamchat.safety import one_line
from streamchat.ui.chat.host import STILL_ANSWERING
from streamchat.ui.screens.model_picker import ModelPicker, PickerChoice

if TYPE_CHECKING:
    from textual.app import App

    from streamchat.ui.chat.host import ChatHost


def remember(app: App[object], changes: Mapping[tuple[str, ...], Any], *, add: Mapping[str, str] | None = None
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


def follow_theme(chat: ChatHost) -> None:
    """Use the remembered theme, then remember every theme chosen from now on."""
    app = chat.app
    wanted = chat.settings.theme
    if wanted and wanted in app.available_themes:
        app.theme = wanted
    elif wanted:
        names = ", ".join(sorted(app.available_themes))
        app.call_after_refresh(chat.note, f"config: theme {wanted!r} is not a theme (ignored); themes: {names}")

    def changed(theme: object) -> None:
        if app.theme != chat.settings.theme:
            chat.update_settings(replace(chat.settings, theme=app.theme))
            remember(chat.app, {("theme",): app.theme})

    app.theme_changed_signal.subscribe(app, changed)


def allow_always(chat: ChatHost, name: str) -> None:
    """The user allowed tool ``name`` always: in the settings now, in the config file's ``always_allow``."""
    settings = chat.settings
    if name not in settings.always_allow:
        chat.update_settings(replace(settings, always_allow=(*settings.always_allow, name)))
    remember(chat.app, {}, add={"always_allow": name})


def open_picker(chat: ChatHost) -> None:
    """Open the model picker over the chat."""
    if chat.turn_running:
        chat.notify(STILL_ANSWERING, severity="warning")
        return
    settings = chat.settings

    async def fetch() -> list[str]:
        agent = await chat.get_agent()
        return await agent.backend.list_models()

    server = "the embedded model" if settings.use_local else (settings.base_url or "api.openai.com")
    picker = ModelPicker(settings.profiles, settings.profile_in_use, settings.model_name, server, fetch)
    chat.app.push_screen(picker, lambda choice: _chosen(chat, choice))


async def _chosen(chat: ChatHost, choice: PickerChoice | None) -> None:
    if choice is None:
        return
    if choice.kind == "profile":
        await switch_profile(chat, choice.name)
    else:
        await switch_model(chat, choice.name, listed=choice.listed)


async def switch_profile(chat: ChatHost, name: str, *, save: bool = True, quiet: bool = False) -> bool:
    """Talk to profile ``name``'s endpoint from the next turn on (a new backend; same conversation)."""
    profile = next((p for p in chat.settings.profiles if p.name == name), None)
    if profile is None:
        names = ", ".join(p.name for p in chat.settings.profiles)
        chat.notify(f"No profile {name!r}; profiles: {names}", severity="warning", markup=False)
        return False
    before = chat.settings
    await chat.replace_agent(before.with_profile(profile))
    if not quiet:
        await chat.note(f"profile: {name} · {profile.describe()}")
        await follow_system_prompt(chat, name, before.system_prompt)
    if save:
        remember(chat.app, {("default_profile",): name})
    return True


def apply_system_prompt(chat: ChatHost, text: str | None) -> None:
    """``text`` as the conversation's system prompt, first in the history and in the saved conversation
    (None or "" removes it)."""
    old, new = replace_system(chat.history, text)
    if old is not None or new is not None:
        chat.persistence.system_changed(old, new)


async def follow_system_prompt(chat: ChatHost, name: str, before: str | None) -> None:
    """After switching to profile ``name`` (whose settings may bring another system prompt than ``before``):
    a conversation that had the system prompt in force follows the profile's, from the next turn on; one
    with its own keeps it. Either way the chat says so."""
    wanted = chat.settings.system_prompt
    if wanted == before:
        return
    history = chat.history
    shown = history[0].content if history and history[0].role == "system" else None
    if shown == before:
        apply_system_prompt(chat, wanted)
        await chat.note(f"system prompt: {wanted} (profile {name}'s, from the next turn on)" if wanted
                        else f"system prompt removed (profile {name} has none)")
    elif wanted is not None and shown != wanted:
        await chat.note(f"profile {name}'s system prompt is for new chats: this conversation keeps its own "
                        "(/system TEXT replaces it here)")


async def switch_model(chat: ChatHost, model: str, *, listed: bool | None = None, check: bool = False,
                       save: bool = True) -> None:
    """Ask ``model`` from the next turn on. ``listed``: whether the server lists it (None: it could not say);
    with ``check`` the server is asked here first (the model is asked from the next turn on meanwhile).

    The profile in use remembers it in the config file when the server lists it, or cannot say (the note
    says it was saved, unchecked); a model the server does not list is used in this chat only, and the note
    says so: a mistyped name never overwrites the profile's model.
    """
    chat.update_settings(replace(chat.settings, model=model))
    if check:
        listed = await server_lists(chat, model)
    profile = chat.settings.profile
    keep = save and profile is not None and profile != "local"
    note = f"model: {one_line(model)}"
    if listed is False:
        kept = "used in this chat, not saved to the config file; " if keep else ""
        note += f" — not listed by the server: {kept}if it does not exist, the next turn says so"
        keep = False
    elif listed is None:
        note += " (not checked: the server does not list its models)"
    if keep:
        note += f" · saved as profile {profile}'s model"
        remember(chat.app, {("profiles", str(profile), "model"): model})
    await chat.note(note)


async def server_lists(chat: ChatHost, model: str) -> bool | None:
    """Whether the server lists ``model`` (``GET /v1/models``); None when it does not say or cannot be asked."""
    try:
        agent = await chat.get_agent()
        return model in await agent.backend.list_models()
    except Exception:  # noqa: BLE001 - not listing its models is allowed: the note says it was not checked
        return None


async def reopen_with_its_model(chat: ChatHost, messages: list[ChatMessage]) -> None:
    """A reopened conversation goes on with the profile and model its last answer used, saying so
    (unless the command line named them)."""
    last = next((m for m in reversed(messages) if m.role == "assistant" and m.model), None)
    if last is None or chat.pinned_model:
        return
    settings = chat.settings
    profile = last.profile or ("local" if last.backend == "local" else None)
    known = {p.name for p in settings.profiles}
    if profile is not None and profile != settings.profile_in_use:
        if profile not in known:
            await chat.note(f"This conversation used profile {profile!r}, which the config file no longer has: "
                            f"going on with {settings.profile or 'the current settings'} · {settings.model_name}.")
            return
        await switch_profile(chat, profile, save=False, quiet=True)
    if last.model and last.model != chat.settings.model_name and not chat.settings.use_local:
        chat.update_settings(replace(chat.settings, model=last.model))
    now = chat.settings
    if (now.profile_in_use, now.model_name) != (settings.profile_in_use, settings.model_name):
        where = f"{now.profile_in_use} · " if now.profile_in_use else ""
        await chat.note(f"Reopened with the model this conversation used: {where}{chat.settings.model_name}.")
