"""Settings and where they come from: flags > environment > .env > config file > defaults.

``settings`` (the frozen ``Settings`` and ``load_settings``), ``file`` (reading
the TOML config file), ``schema`` (its profiles and MCP server entries),
``write`` (remembering choices in it, comments kept), ``example.toml``.
"""
