"""``streamchat ask``: stream one answer to stdout."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from streamchat.config import Settings


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``ask`` parser."""
    ask = commands.add_parser("ask", parents=[common], help="stream one answer to stdout (headless)")
    ask.add_argument("prompt", nargs="?",
                     help="the question; text piped in is sent after it (without it, or with -, stdin alone)")
    ask.add_argument("--json", action="store_true", help="one JSON object per event (NDJSON)")
    ask.add_argument("--no-stream", action="store_true", help="one blocking request instead of streaming")
    ask.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Ask once, print the answer as it streams, return the exit status."""
    from streamchat.backends.errors import BackendError
    from streamchat.factory import make_agent
    from streamchat.headless import (
        EXIT_BROKEN_PIPE,
        EXIT_CONFIG,
        EXIT_INTERRUPTED,
        HeadlessOutput,
        ask,
        read_prompt,
    )

    prompt = read_prompt(args.prompt)
    if not prompt:
        print("streamchat ask: give a prompt as an argument or on stdin.", file=sys.stderr)
        return EXIT_CONFIG
    output = HeadlessOutput(sys.stdout, sys.stderr, as_json=args.json, sanitize=sys.stdout.isatty(),
                            secret=settings.api_key, dim=sys.stderr.isatty())
    try:
        agent = make_agent(settings)
        return asyncio.run(ask(agent, prompt, output, stream=not args.no_stream,
                               asked_at=getattr(args, "started_at", None)))
    except BackendError as exc:
        print(f"streamchat: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\n[stopped]", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as a SIGPIPE'd tool would.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
