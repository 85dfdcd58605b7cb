"""``streamchat config path|edit|check``: where the config file is, edit it, check it."""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamchat.config.settings import Settings

if TYPE_CHECKING:
    from streamchat.config.file import ConfigFile, ConfigIssue

EXIT_ISSUES = 1
"""``check`` found something wrong, or the editor could not be run or failed."""


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


def edit(path: Path) -> int:
    """Open ``path`` in ``$VISUAL`` / ``$EDITOR`` (writing the example first if there is no file); the status."""
    from streamchat.store.files import create_private_dir

    if not path.exists():
        create_private_dir(path.parent)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(example_text())
        print(f"Wrote a commented example to {path}", file=sys.stderr)
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    try:
        finished = subprocess.run([*shlex.split(editor), str(path)], check=False)
    except OSError as exc:
        print(f"streamchat config: cannot run the editor {editor!r}: {exc.strerror or exc}; "
              f"set $EDITOR, or edit {path} by hand", file=sys.stderr)
        return EXIT_ISSUES
    if finished.returncode != 0:
        print(f"streamchat config: the editor {editor!r} failed (exit status {finished.returncode}); "
              f"{path} is checked as it is now", file=sys.stderr)
        return EXIT_ISSUES
    return 0


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one ``config`` action; return the exit status."""
    from streamchat.config.file import config_path, load_config
    from streamchat.config.settings import missing_key, read_dotenv

    path = config_path()
    if args.action == "path":
        print(path)
        return 0
    status = edit(path) if args.action == "edit" else 0
    if status and not path.exists():
        return status
    config = load_config(path)
    if not config.exists:
        print(f"No config file yet ({path}); `streamchat config edit` writes a commented example.")
        return 0
    issues = sorted([*config.issues, *bad_urls(config)], key=lambda issue: issue.line or 0)
    for issue in issues:
        print(f"streamchat: config: {issue}", file=sys.stderr)
    variables = {**read_dotenv(), **os.environ}
    notes = [note for profile in config.profiles.values() if (note := missing_key(profile, variables))]
    for note in notes:  # the environment's, not the file's: said, but the file is not wrong for it
        print(f"streamchat: config: note: {note}", file=sys.stderr)
    if not issues:
        profiles = ", ".join(config.profiles)
        noted = f" ({len(notes)} note{'' if len(notes) == 1 else 's'} above)" if notes else ""
        print(f"{path}: OK{noted} · profiles: {profiles} · MCP servers: {', '.join(config.mcp) or 'none'}")
    return EXIT_ISSUES if issues else status


def bad_urls(config: ConfigFile) -> list[ConfigIssue]:
    """A profile's ``base_url`` that is not a URL: every command refuses to start on that profile."""
    from streamchat.config.file import ConfigIssue, find_line
    from streamchat.config.settings import SettingsError, check_url

    found = []
    for profile in config.profiles.values():
        try:
            if profile.base_url is not None:
                check_url("base_url", profile.base_url)
        except SettingsError as exc:
            key = ("profiles", profile.name, "base_url")
            line = find_line(config.path.read_text(encoding="utf-8"), key)  # read fine a moment ago
            found.append(ConfigIssue(config.path, line, ".".join(key), str(exc)))
    return found
