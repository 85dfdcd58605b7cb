"""``streamchat demo [N]``: run one of the four demos in the app."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from streamchat.config import Settings


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``demo`` parser."""
    demo = commands.add_parser("demo", parents=[common], help="run a demo (1-4); without N, choose from a menu")
    demo.add_argument("number", nargs="?", type=int, help="which demo: 1 simple, 2 tools, 3 complex, 4 race")
    demo.set_defaults(handler=run)


def menu() -> str:
    """The list of demos as text."""
    from streamchat.demos import DEMOS

    lines = ["streamchat demos:"]
    lines += [f"  {d.number}. {d.title} — {d.watch}" for d in DEMOS]
    return "\n".join(lines)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Open the app on the chosen demo."""
    from streamchat.demos import get_demo

    number = args.number
    if number is None:
        print(menu())
        if not sys.stdin.isatty():
            print("Run `streamchat demo N` to start one.")
            return 0
        try:
            number = int(input("Which demo? [1-4] ").strip() or "1")
        except (ValueError, EOFError, KeyboardInterrupt):
            print()
            return 2
    try:
        demo = get_demo(number)
    except ValueError as exc:
        print(f"streamchat: {exc}", file=sys.stderr)
        return 2
    from streamchat.commands.chat import run_app

    return run_app(settings, demo=demo)
