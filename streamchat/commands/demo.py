"""``streamchat demo [N]``: run one of the four demos in the app."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from streamchat.config.settings import Settings

EXIT_NO_DEMO = 2
"""No such demo, or none was chosen."""


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
    from streamchat.commands.chat import on_a_terminal, run_app
    from streamchat.demos import DEMOS, get_demo

    number = args.number
    if number is None:
        print(menu())
        if not on_a_terminal():
            print("Run `streamchat demo N` in a terminal to start one.")
            return 0
        try:
            answer = input(f"Which demo? [1-{len(DEMOS)}] ").strip() or "1"
        except KeyboardInterrupt:
            print()
            return 130
        except EOFError:
            print()
            print("streamchat: no demo chosen.", file=sys.stderr)
            return EXIT_NO_DEMO
        if not answer.isdigit():
            print(f"streamchat: {answer!r} is not a demo number; choose 1 to {len(DEMOS)}.", file=sys.stderr)
            return EXIT_NO_DEMO
        number = int(answer)
    try:
        demo = get_demo(number)
    except ValueError as exc:
        print(f"streamchat: {exc}", file=sys.stderr)
        return EXIT_NO_DEMO

    return run_app(settings, demo=demo)
