"""`python -m streamchat` runs the command-line entry point."""

from streamchat.cli import main

raise SystemExit(main())
