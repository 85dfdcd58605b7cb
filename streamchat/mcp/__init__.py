"""MCP tool servers from the config file: started, their tools joined to the registry.

``servers`` (starting, watching and stopping them; their tools), ``transport``
(stdio or HTTP connections).
"""
