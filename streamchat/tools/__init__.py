"""Tools the model can call: a registry with schemas derived from functions, and built-ins.

This package is UI-free: it never imports textual or openai.
"""

from streamchat.tools.builtin import default_registry
from streamchat.tools.registry import Tool, ToolOutcome, ToolRegistry

__all__ = ["Tool", "ToolOutcome", "ToolRegistry", "default_registry"]
