"""Subcommands of the ``streamchat`` command line.

Each module here defines ``register(commands, common)``, which adds its parser
and sets ``handler`` to a function ``(args, settings) -> int``. These modules
import only the standard library at the top, so ``--help`` stays instant; the
handler imports what it needs when it runs.
"""
