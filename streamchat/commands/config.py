"""``streamchat config path|edit|check``: where the config file is, edit it, check it."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from typing import Any

from streamchat.config.settings import Settings

EXIT_ISSUES = 1
"""``check`` found something wrong, or the editor could not be run."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``config`` parser."""
    config = commands.add_parser("config", parents=[common], help="the config file: path, edit, check")
    config.add_argument("action", choices=("path", "edit", "check"),
                        help="path: print where it is; edit: open it in $EDITOR (a commented example the "
                             "first time); check: say what is wrong with it")
    config.set_defaults(handler=run)


def example_text() -> str:
    """The commented example written by the first ``config edit`` (also in the README)."""
    from importlib.resources import files

    return files("streamchat.config").joinpath("example.toml").read_text(encoding="utf-8")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``config`` action; return the exit status."""
    from streamchat.config.file import config_path, load_config
    from streamchat.store.files import create_private_dir

    path = config_path()
    if args.action == "path":
        print(path)
        return 0
    if args.action == "edit":
        if not path.exists():
            create_private_dir(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(example_text())
            print(f"Wrote a commented example to {path}", file=sys.stderr)
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
        try:
            subprocess.run([*shlex.split(editor), str(path)], check=False)
        except OSError as exc:
            print(f"streamchat config: cannot run the editor {editor!r}: {exc.strerror or exc}; "
                  f"set $EDITOR, or edit {path} by hand", file=sys.stderr)
            return EXIT_ISSUES
    config = load_config(path)
    if not config.exists:
        print(f"No config file yet ({path}); `streamchat config edit` writes a commented example.")
        return 0
    for issue in config.issues:
        print(f"streamchat: config: {issue}", file=sys.stderr)
    if not config.issues:
        profiles = ", ".join(config.profiles)
        print(f"{path}: OK · profiles: {profiles} · MCP servers: {', '.join(config.mcp) or 'none'}")
    return EXIT_ISSUES if config.issues else 0
