"""``streamchat race``: the same prompt streaming and blocking, side by side."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from streamchat.config.settings import Settings


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``race`` parser."""
    race = commands.add_parser("race", parents=[common], help="race streaming against blocking on one prompt")
    race.add_argument("prompt", nargs="?", help="the question (default: a built-in one)")
    race.add_argument("--json", action="store_true", help="run headless and print one JSON object")
    race.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Open the race pane, or with ``--json`` print the race's figures."""
    from streamchat.race import DEFAULT_RACE_PROMPT

    prompt = args.prompt or DEFAULT_RACE_PROMPT
    if not args.json:
        from streamchat.commands.chat import run_app

        return run_app(settings, race_prompt=prompt,
                       headless="for scripts and pipes, use `streamchat race --json \"PROMPT\"`")
    from streamchat.backends.errors import BackendError
    from streamchat.events import SETTINGS_KINDS
    from streamchat.factory import make_race_agents
    from streamchat.race import run_race
    from streamchat.safety import escape_raw_controls

    try:
        streaming, blocking = make_race_agents(settings)
    except BackendError as exc:
        print(f"streamchat: {exc.message}", file=sys.stderr)
        return 2

    async def race() -> dict[str, Any]:
        try:
            return (await run_race(streaming, blocking, prompt, asked_at=getattr(args, "started_at", None))).to_dict()
        finally:
            await streaming.backend.aclose()
            await blocking.backend.aclose()

    try:
        result = asyncio.run(race())
    except KeyboardInterrupt:
        return 130
    print(escape_raw_controls(json.dumps(result, ensure_ascii=False)))
    errors = [side["error"] for side in (result["streaming"], result["blocking"]) if side["error"]]
    if any(error["kind"] in SETTINGS_KINDS for error in errors):
        return 2  # a setting is wrong: the address, the key, the model
    return 1 if errors else 0
