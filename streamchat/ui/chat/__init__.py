"""The chat's parts behind the app: the turn worker's loop, saving and reopening conversations,
the ``/`` commands and the palette, switching model or profile, asking before tools run, MCP servers.
"""
