"""What the ``/`` commands typed in the prompt (and the palette's commands) do."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from streamchat.messages import can_continue
from streamchat.safety import as_shown
from streamchat.ui.chat.clipboard import line_count, send_to_clipboard
from streamchat.ui.chat.commands import help_text, last_code_block, parse_slash
from streamchat.ui.chat.host import STILL_ANSWERING, ChatHost
from streamchat.ui.screens.system_prompt import SystemPromptScreen
from streamchat.ui.widgets.prompt import Prompt

if TYPE_CHECKING:
    from streamchat.demos import Demo
    from streamchat.ui.chat.context import ContextWatch
NOTHING_TO_RETRY = "Nothing to retry: no prompt has been sent in this conversation yet."
"""Said by ``/retry`` in a conversation with no user message."""
NOTHING_TO_CONTINUE = "Nothing to continue: the last answer was not stopped, cut off or broken off."
"""Said by ``/continue`` when the last answer is whole (or has no text to carry on from)."""


class SlashCommands:
    """Runs ``/`` commands against the app: ``do_<name>(argument)`` for each command."""

    TYPE_SECONDS = 1.0
    """How long a demo takes to type its prompt."""

    def __init__(self, chat: ChatHost, context: ContextWatch) -> None:
        self.chat = chat
        """The chat the commands act on."""
        self.context = context
        """The chat's context window: ``/compact`` and ``/drop`` make room in it."""

    def _handler(self, name: str) -> Callable[[str], Awaitable[None]] | None:
        handler: Callable[[str], Awaitable[None]] | None = getattr(self, f"do_{name or 'help'}", None)
        return handler

    async def submitted(self, prompt: Prompt, text: str) -> bool:
        """Run ``text``, sent from ``prompt``, if it is a ``/`` command; False when it is an ordinary prompt.

        A known command leaves the prompt (kept for recall) before it runs; an unknown one stays to be fixed.
        """
        parsed = parse_slash(text)
        if parsed is None:
            return False
        if self._handler(parsed[0]) is not None:
            prompt.remember(text)
            prompt.clear()
        await self.run(text)
        return True

    async def run(self, text: str) -> bool:
        """Run ``text`` if it is a ``/`` command; False when it is an ordinary prompt."""
        parsed = parse_slash(text)
        if parsed is None:
            return False
        name, argument = parsed
        handler = self._handler(name)
        if handler is None:
            self.chat.notify(f"Unknown command /{name} — /help lists them (// sends a line starting with /).",
                            severity="warning", markup=False)
        else:
            await handler(argument)
        return True

    async def palette(self, line: str) -> None:
        """Run a command chosen in the palette; one that needs an argument goes to the prompt to be completed."""
        if line.endswith(" "):
            prompt = self.chat.app.query_one(Prompt)
            prompt.load_text(line)
            prompt.move_cursor(prompt.document.end)
            prompt.focus()
        else:
            await self.run(line)

    async def demo(self, demo: Demo) -> None:
        """Run a demo: say what to watch, then type its prompt (``/race PROMPT`` for the race) and send it."""
        await self.chat.note(f"Demo {demo.number} · {demo.title}: {demo.watch}")
        self.chat.app.run_worker(self._play(demo), group="demo", exclusive=True, exit_on_error=False)

    async def _play(self, demo: Demo) -> None:
        chat = self.chat
        refusal = await self._without_tools(demo.number) if demo.needs_tools else None
        if refusal:
            await chat.note(refusal)
            return
        line = f"/race {demo.prompt}" if demo.race else demo.prompt
        prompt = chat.app.query_one(Prompt)
        prompt.focus()
        prompt.clear()
        pause = self.TYPE_SECONDS / len(line)
        for char in line:  # typed where the user can watch it
            prompt.insert(char)
            await asyncio.sleep(pause)
        prompt.post_message(Prompt.Submitted(prompt, line))
        if demo.race:
            chat.notify(demo.watch, title=f"Demo {demo.number} · {demo.title}", timeout=6, markup=False)

    async def _without_tools(self, number: int) -> str | None:
        """Why demo ``number`` cannot call tools (they are off, or this model cannot), or None when it can."""
        from streamchat.backends import tools_sentence
        from streamchat.demos import NEEDS_TOOLS_MESSAGE, TOOLS_OFF_MESSAGE

        if not self.chat.settings.tools_enabled:
            return TOOLS_OFF_MESSAGE.format(number=number)
        try:
            agent = await self.chat.get_agent()
        except Exception:  # noqa: BLE001 - the demo's turn will show why there is no agent
            return None
        if agent.backend.supports_tools:
            return None
        return NEEDS_TOOLS_MESSAGE.format(number=number, reason=tools_sentence(agent.backend))

    async def do_new(self, argument: str) -> None:
        """``/new``: a new chat."""
        await self.chat.action_new_chat()

    async def do_system(self, argument: str) -> None:
        """``/system [TEXT]``: set the system prompt, or open its editor."""
        if argument:
            await self.set_system_prompt(argument)
        else:
            self.chat.app.push_screen(SystemPromptScreen(self.chat.settings.system_prompt), self._system_prompt_chosen)

    async def _system_prompt_chosen(self, text: str | None) -> None:
        if text is not None:
            await self.set_system_prompt(text)

    async def set_system_prompt(self, text: str) -> None:
        """Use ``text`` as the system prompt from now on, first in the history ("" removes it)."""
        from streamchat.ui.chat.switching import apply_system_prompt

        chat = self.chat
        chat.update_settings(replace(chat.settings, system_prompt=text or None))
        apply_system_prompt(chat, text)
        await chat.note(f"system prompt: {text}" if text else "system prompt removed")

    async def do_model(self, argument: str) -> None:
        """``/model [NAME]``: ask another model from the next turn on (no name: open the picker); the server is
        asked whether it lists it (see ``switch_model``)."""
        from streamchat.ui.chat.switching import open_picker, switch_model

        if not argument:
            open_picker(self.chat)
        elif self.chat.turn_running:
            self.chat.notify(STILL_ANSWERING, severity="warning")
        else:  # in a worker: asking the server whether it lists the model must not hold up the keys
            self.chat.app.run_worker(switch_model(self.chat, argument, check=True), group="switch-model",
                                     exclusive=True, exit_on_error=False)

    async def do_profile(self, argument: str) -> None:
        """``/profile [NAME]``: talk to another profile's endpoint from the next turn on (no name: the picker)."""
        from streamchat.ui.chat.switching import open_picker, switch_profile

        if not argument:
            open_picker(self.chat)
        elif self.chat.turn_running:
            self.chat.notify(STILL_ANSWERING, severity="warning")
        else:
            await switch_profile(self.chat, argument)

    async def do_tools(self, argument: str) -> None:
        """``/tools [on|off]``: offer the tools or not (no argument: toggle); remembered in the config file."""
        from streamchat.ui.chat.switching import remember

        if argument not in ("", "on", "off"):
            self.chat.notify("Use /tools on, /tools off, or /tools to toggle.", severity="warning", markup=False)
            return
        from streamchat.backends import tools_sentence

        enabled = not self.chat.settings.tools_enabled if not argument else argument == "on"
        self.chat.update_settings(replace(self.chat.settings, tools_enabled=enabled))
        remember(self.chat.app, {("tools",): enabled})
        agent = self.chat.agent
        cannot = enabled and agent is not None and not agent.backend.supports_tools
        if cannot:
            self.chat.turns.told_no_tools = True  # said here: the next turn need not say it again
        why = tools_sentence(agent.backend) if cannot and agent is not None else ""
        await self.chat.note(f"tools on, but this model cannot call them: it answers without. {why}" if why
                            else "tools on" if enabled else "tools off")

    async def do_theme(self, argument: str) -> None:
        """``/theme [NAME]``: set a theme, or pick one from a list."""
        if not argument:
            self.chat.app.action_change_theme()
        elif argument in self.chat.app.available_themes:
            self.chat.app.theme = argument
        else:
            names = ", ".join(sorted(self.chat.app.available_themes))
            self.chat.notify(f"Unknown theme {argument!r}. Themes: {names}", severity="warning", markup=False)

    async def do_copy(self, argument: str) -> None:
        """``/copy [code] [file]``: the last answer, or its last code block, to the terminal's clipboard (OSC 52),
        or with ``file`` into a private file here, for terminals that ignore OSC 52. The text is as shown:
        escape sequences the model sent are left out (pasting or showing it cannot act on a terminal), the key
        masked."""
        words = set(argument.split())
        if not words <= {"code", "file"}:
            self.chat.notify("Use /copy, /copy code, /copy file or /copy code file.", severity="warning")
            return
        history = self.chat.history
        answer = next((as_shown(m.content, self.chat.settings.api_key) for m in reversed(history)
                       if m.role == "assistant" and m.content), None)
        code = "code" in words
        text = last_code_block(answer) if answer and code else answer
        if not text:
            self.chat.notify("No code block in the last answer." if code else "Nothing to copy yet.",
                            severity="warning")
            return
        what = f"the last {'code block' if code else 'answer'}"
        if "file" in words:
            await self._copy_to_file(text, Path.cwd() / ("streamchat-code.txt" if code else "streamchat-answer.md"),
                                     f"{what} ({line_count(text)})")
            return
        send_to_clipboard(self.chat, text, what, f"/copy{' code' if code else ''} file writes it to a file")

    async def _copy_to_file(self, text: str, path: Path, what: str) -> None:
        from streamchat.store.files import write_private

        try:
            await asyncio.to_thread(write_private, str(path), text)
        except OSError as exc:
            self.chat.notify(f"Cannot write {path}: {exc.strerror or exc}", severity="error", markup=False)
            return
        self.chat.notify(f"Wrote {what} to {path}", markup=False)

    async def do_retry(self, argument: str) -> None:
        """``/retry``: run the last prompt again."""
        if self.chat.turn_running:
            self.chat.notify(STILL_ANSWERING, severity="warning")
        elif self.chat.last_prompt is None:
            self.chat.notify(NOTHING_TO_RETRY, severity="warning")
        else:
            await self.chat.action_retry()

    async def do_continue(self, argument: str) -> None:
        """``/continue``: ask the model to carry on from where its last answer stopped."""
        if self.chat.turn_running:
            self.chat.notify(STILL_ANSWERING, severity="warning")
        elif not can_continue(self.chat.history):
            self.chat.notify(NOTHING_TO_CONTINUE, severity="warning")
        else:
            await self.chat.action_continue_answer()

    async def do_compact(self, argument: str) -> None:
        """``/compact``: the model summarizes the conversation; requests then send the summary, not the turns."""
        self.context.compact()

    async def do_drop(self, argument: str) -> None:
        """``/drop``: leave the oldest turns out of the requests (down to half the model's context window)."""
        if self.chat.turn_running:
            self.chat.notify(STILL_ANSWERING, severity="warning")
        else:
            await self.context.drop()

    async def do_history(self, argument: str) -> None:
        """``/history``: open the list of saved conversations."""
        self.chat.action_history()

    async def do_export(self, argument: str) -> None:
        """``/export [md|json]``: write the conversation to a file in the current directory."""
        from streamchat.ui.chat.export_here import export_conversation

        await export_conversation(self.chat, argument or "md")

    async def do_race(self, argument: str) -> None:
        """``/race [PROMPT]``: race PROMPT (default: the last prompt) streaming vs blocking."""
        self.chat.action_race(argument or None)

    async def do_help(self, argument: str) -> None:
        """``/help``: list commands and keys in the conversation."""
        await self.chat.note(help_text())

    async def do_quit(self, argument: str) -> None:
        """``/quit``: leave."""
        self.chat.app.exit()
