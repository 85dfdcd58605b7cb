"""``streamchat history``: list saved conversations, newest first."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from datetime import datetime
from typing import Any

from streamchat.config.settings import Settings

EXIT_STORE = 2
"""The store cannot be opened (or the conversation is unknown)."""


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``history`` parser."""
    history = commands.add_parser("history", parents=[common], help="list saved conversations")
    history.add_argument("--search", "-s", metavar="TEXT",
                         help="only conversations whose title or messages contain TEXT (any case)")
    history.add_argument("--limit", "-n", type=positive_int, default=20, metavar="N",
                         help="show at most N conversations (default 20)")
    history.add_argument("--json", action="store_true", help="print a JSON array with full ids")
    history.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """List conversations; return the exit status."""
    from streamchat.safety import escape_raw_controls, one_line
    from streamchat.store.database import ConversationStore, StoreError, database_path

    path = database_path(settings.data_dir)
    if not path.exists():
        print("[]" if args.json else f"No saved conversations yet (no {path}).")
        return 0
    try:
        with ConversationStore(settings.data_dir) as store:
            rows = store.list_conversations(limit=args.limit, search=args.search)
    except StoreError as exc:
        print(f"streamchat history: {exc}", file=sys.stderr)
        return EXIT_STORE
    if args.json:
        print(escape_raw_controls(json.dumps([asdict(row) for row in rows], indent=2, ensure_ascii=False)))
        return 0
    if not rows:
        print(f"No conversations match {args.search!r}." if args.search else "No saved conversations yet.")
        return 0
    width = shutil.get_terminal_size().columns if sys.stdout.isatty() else 0
    print(f"{'ID':8}  {'UPDATED':16}  {'MSGS':>4}  TITLE")
    for row in rows:
        title = one_line(row.title or row.preview, markdown=True) or "(empty)"
        line = f"{row.id[:8]}  {datetime.fromtimestamp(row.updated_at):%Y-%m-%d %H:%M}  {row.message_count:>4}  {title}"
        if width and len(line) > width:
            line = line[: max(width - 1, 40)] + "…"
        print(line)
    return 0
