"""``streamchat`` (and ``streamchat chat``): open the full-screen chat app.

Only the standard library is imported at the top, so ``--help`` never pays
for Textual; the app itself imports ``openai`` (or the local model) only
after its first frame.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from streamchat.config.settings import Settings

if TYPE_CHECKING:
    from streamchat.demos import Demo

EXIT_NO_CONVERSATION = 2
"""``--continue`` or ``--resume ID`` found no such conversation (or the history cannot be read)."""

EXIT_NO_TERMINAL = 2
"""A full-screen command was run without a terminal (stdin or stdout is a pipe, a file, or closed)."""

CHAT_HEADLESS = "for scripts and pipes, use `streamchat ask \"PROMPT\"`"
"""The headless alternative to the chat app, named when there is no terminal."""


def on_a_terminal() -> bool:
    """True when stdin and stdout are both a terminal, as a full-screen app needs."""
    return all(stream is not None and stream.isatty() for stream in (sys.stdin, sys.stdout))


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``chat`` parser (the same as running ``streamchat`` with no command)."""
    chat = commands.add_parser("chat", parents=[common], help="open the chat app (the default)")
    add_reopen_flags(chat)
    chat.set_defaults(handler=run)


def add_reopen_flags(parser: argparse.ArgumentParser) -> None:
    """``--continue`` / ``--resume ID``, on the main parser and on ``chat`` (SUPPRESS: neither hides the other)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--continue", "-c", dest="continue_last", action="store_true", default=argparse.SUPPRESS,
                       help="reopen the last conversation and carry on")
    group.add_argument("--resume", "-r", metavar="ID", default=argparse.SUPPRESS,
                       help="reopen a saved conversation by id, or a unique prefix (see `streamchat history`)")


def find_conversation(settings: Settings, *, continue_last: bool = False, resume: str | None = None) -> str:
    """The full id of the conversation to reopen; ``StoreError`` with a sentence if there is none."""
    from streamchat.store.database import ConversationStore, StoreError, database_path

    path = database_path(settings.data_dir)
    if not path.exists():
        raise StoreError(f"no saved conversations yet (no {path})")
    with ConversationStore(settings.data_dir, secret=settings.api_key) as store:
        found = store.find("last" if continue_last else resume or "")
    if found is None:
        raise StoreError("no saved conversation to continue")
    return found


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chat app until the user quits; returns the exit status."""
    pinned = any(getattr(args, flag, None) for flag in ("model", "profile", "base_url", "local"))
    return run_app(settings, continue_last=getattr(args, "continue_last", False), resume=getattr(args, "resume", None),
                   pinned_model=pinned)


def run_app(settings: Settings, *, race_prompt: str | None = None, demo: Demo | None = None,
            continue_last: bool = False, resume: str | None = None, pinned_model: bool = False,
            headless: str = CHAT_HEADLESS) -> int:
    """Open the app; with ``race_prompt``, on the race pane; with ``demo``, running that demo.

    ``continue_last`` reopens the last saved conversation, ``resume`` the one with that id
    (or unique prefix); if there is none, say so and return 2 before the app opens. ``pinned_model``:
    the command line named the model or profile, which a reopened conversation then keeps. Without a
    terminal, say so in one line naming ``headless``, the alternative, and return 2.
    """
    reopen = None
    if continue_last or resume is not None:
        from streamchat.store.database import StoreError

        try:
            reopen = find_conversation(settings, continue_last=continue_last, resume=resume)
        except StoreError as exc:
            print(f"streamchat: cannot reopen a conversation: {exc}", file=sys.stderr)
            return EXIT_NO_CONVERSATION
    if not on_a_terminal():
        print(f"streamchat: this is a full-screen app and needs a terminal (stdin and stdout are not one); "
              f"{headless}.", file=sys.stderr)
        return EXIT_NO_TERMINAL
    from streamchat.ui.app import make_app

    app = make_app(settings, resume=reopen, pinned_model=pinned_model, race_prompt=race_prompt, demo=demo)
    app.run()
    return app.return_code or 0
