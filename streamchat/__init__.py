"""streamchat: a terminal chat client that streams."""

__version__ = "0.1.0"
