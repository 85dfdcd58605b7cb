"""Command line: parse flags into Settings, then run the app or a headless command.

Only the standard library and our own light modules are imported here, so
``--help`` and ``--version`` are instant and never import ``openai``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from typing import Any

from streamchat import __version__
from streamchat.commands.chat import add_reopen_flags
from streamchat.config.settings import Settings, SettingsError, load_settings

COMMAND_MODULES = ("chat", "ask", "race", "demo", "history", "export", "config", "mcp")
"""Modules of ``streamchat.commands`` whose ``register()`` adds a subcommand."""

_FLAG_FIELDS = {
    "model": "model", "base_url": "base_url", "local": "local", "model_path": "model_path",
    "system": "system_prompt", "max_tokens": "max_tokens", "temperature": "temperature",
    "timeout": "timeout", "workspace": "workspace", "max_tool_rounds": "max_tool_rounds",
    "data_dir": "data_dir", "max_retries": "max_retries", "profile": "profile",
}

QUIET_COMMANDS = (None, "chat", "demo", "race", "config")
"""Commands that show config file issues themselves: the app (``race --json`` does not open it), ``config``."""


def _common_flags() -> argparse.ArgumentParser:
    """Flags every command shares; SUPPRESS keeps a subcommand from hiding the main parser's value."""
    common = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    group = common.add_argument_group("model and server")
    group.add_argument("--profile", "-p", metavar="NAME",
                       help="a profile of the config file (`local`: the embedded model; env STREAMCHAT_PROFILE)")
    group.add_argument("--model", "-m", help="model name (env STREAMCHAT_MODEL)")
    group.add_argument("--base-url", help="OpenAI-compatible server URL (env OPENAI_BASE_URL)")
    group.add_argument("--local", action="store_true", help="use the embedded llama.cpp model")
    group.add_argument("--model-path", help="GGUF file for --local (env STREAMCHAT_MODEL_PATH)")
    group.add_argument("--system", help="system prompt (env STREAMCHAT_SYSTEM_PROMPT)")
    group.add_argument("--no-tools", action="store_true", help="do not offer tools to the model")
    group.add_argument("--max-tokens", type=int, help="cap on tokens per answer")
    group.add_argument("--temperature", type=float, help="sampling temperature")
    group.add_argument("--timeout", type=float, help="seconds without data before a stall fails (default 60)")
    group.add_argument("--max-retries", type=int, help="SDK retries on 429/5xx/connection errors (default 2)")
    group.add_argument("--max-tool-rounds", type=int, help="model requests per turn (default 8)")
    group.add_argument("--workspace", help="folder the file tools may read (default: current directory)")
    group.add_argument("--data-dir", help="where conversations are saved (env STREAMCHAT_DATA_DIR)")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    common = _common_flags()
    parser = argparse.ArgumentParser(
        prog="streamchat", parents=[common],
        description="A terminal chat client that streams. With no command, opens the chat app.",
    )
    parser.add_argument("--version", action="version", version=f"streamchat {__version__}")
    add_reopen_flags(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMAND_MODULES:
        importlib.import_module(f"streamchat.commands.{module}").register(commands, common)
    return parser


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Settings from flags > environment > .env > defaults."""
    values = vars(args)
    flags: dict[str, Any] = {field: values[flag] for flag, field in _FLAG_FIELDS.items() if flag in values}
    if values.get("no_tools"):
        flags["tools_enabled"] = False
    return load_settings(flags)


EXIT_USAGE = 2
"""Bad settings, or nowhere to write: nothing was asked."""


def closed_streams(args: argparse.Namespace) -> str | None:
    """Make up for closed standard streams; the sentence to fail with when stdout is closed and needed.

    A closed stdin reads as empty and a closed stderr discards; a closed stdout is refused before
    anything is asked (``export -o FILE`` does without it), rather than failing mid-answer.
    """
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # kept for the life of the process
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # kept for the life of the process
    if sys.stdout is None:
        if getattr(args, "output", None) not in (None, "-"):
            sys.stdout = open(os.devnull, "w", encoding="utf-8")  # nothing is written there
            return None
        return "standard output is closed: there is nowhere to write (redirect it to a file, or to /dev/null)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``streamchat`` command; returns the exit status."""
    started_at = time.perf_counter()
    parser = build_parser()
    args = parser.parse_args(argv)
    args.started_at = started_at  # headless figures count from the command's start: what the user waited
    problem = closed_streams(args)
    if problem is not None:
        print(f"streamchat: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        if args.command != "config":
            print(f"streamchat: {exc}", file=sys.stderr)
            return EXIT_USAGE
        settings = Settings()  # `config path|edit|check` use none: they are how a bad setting gets fixed
    if args.command not in QUIET_COMMANDS or getattr(args, "json", False):
        for issue in settings.config_issues:
            print(f"streamchat: config: {issue}", file=sys.stderr)
    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args, settings))
    return int(importlib.import_module("streamchat.commands.chat").run(args, settings))
