"""The built-in tools and the registry that bundles them."""

from __future__ import annotations

from pathlib import Path

from streamchat.tools.calculator import calculator
from streamchat.tools.clock import current_time
from streamchat.tools.files import Workspace
from streamchat.tools.registry import ToolRegistry

__all__ = ["Workspace", "calculator", "current_time", "default_registry"]


def default_registry(workspace: Path | str = ".", *, timeout_s: float = 10.0) -> ToolRegistry:
    """Return a registry with calculator, current_time, list_files and read_file.

    The file tools are confined to ``workspace`` (which must be an existing
    folder); ``timeout_s`` bounds every tool call.
    """
    registry = ToolRegistry(timeout_s=timeout_s)
    files = Workspace(workspace)
    for function in (calculator, current_time, files.list_files, files.read_file):
        registry.register(function)
    return registry
