"""``streamchat`` (and ``streamchat chat``): open the full-screen chat app.

Only the standard library is imported at the top, so ``--help`` never pays
for Textual; the app itself imports ``openai`` (or the local model) only
after its first frame.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from streamchat.config import Settings

if TYPE_CHECKING:
    from streamchat.demos import Demo


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``chat`` parser (the same as running ``streamchat`` with no command)."""
    chat = commands.add_parser("chat", parents=[common], help="open the chat app (the default)")
    chat.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run the chat app until the user quits; returns the exit status."""
    return run_app(settings)


def run_app(settings: Settings, *, race_prompt: str | None = None, demo: Demo | None = None) -> int:
    """Open the app; with ``race_prompt``, on the race pane; with ``demo``, running that demo."""
    from streamchat.ui.app import make_app

    app = make_app(settings)
    app.race_prompt = race_prompt
    app.demo = demo
    app.run()
    return app.return_code or 0
