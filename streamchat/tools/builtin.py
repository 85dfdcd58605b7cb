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
    registry.register(calculator)
    registry.register(current_time)
    registry.register(files.list_files, needs_approval=True)  # the file tools read the user's files: asked first
    registry.register(files.read_file, needs_approval=True)
    return registry
