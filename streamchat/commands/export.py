"""``streamchat export``: a saved conversation as Markdown or JSON, to stdout or a file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from streamchat.config.settings import Settings

EXIT_STORE = 2
"""The store cannot be opened or the conversation is unknown."""

EXIT_WRITE = 1
"""The output file could not be written."""


def register(commands: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``export`` parser."""
    export = commands.add_parser("export", parents=[common], help="print a saved conversation (Markdown or JSON)")
    export.add_argument("id", metavar="ID",
                        help="the conversation's id, a unique prefix of it (see `streamchat history`), or `last`")
    export.add_argument("--format", "-f", choices=("md", "json"), default="md", help="output format (default md)")
    export.add_argument("--output", "-o", metavar="FILE", help="write to FILE (created 0600) instead of stdout")
    export.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Export one conversation; return the exit status."""
    from streamchat.export import to_json, to_markdown
    from streamchat.store.database import ConversationStore, StoreError, database_path
    from streamchat.store.files import write_private

    path = database_path(settings.data_dir)
    if not path.exists():
        print(f"streamchat export: no saved conversations (no {path}).", file=sys.stderr)
        return EXIT_STORE
    try:
        with ConversationStore(settings.data_dir) as store:
            conversation_id = store.find(args.id)
            if conversation_id is None:
                raise StoreError("there are no saved conversations")
            conversation = store.load(conversation_id)
    except StoreError as exc:
        print(f"streamchat export: {exc}", file=sys.stderr)
        return EXIT_STORE
    text = to_json(conversation) if args.format == "json" else to_markdown(conversation)
    if args.output and args.output != "-":
        try:
            write_private(args.output, text)
        except OSError as exc:
            print(f"streamchat export: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_WRITE
        print(f"Wrote {args.output}", file=sys.stderr)
        return 0
    sys.stdout.write(text)  # no raw control character in either format: safe on a terminal too
    sys.stdout.flush()
    return 0
