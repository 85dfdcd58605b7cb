"""The core never imports the UI (nor openai, the MCP SDK or tomlkit where it need not).

The core is every module outside ``streamchat/ui/``, found by walking the package, so a new
module is checked the day it is added. import-linter's contracts in ``pyproject.toml`` check
the same from the source (type-only imports included); these tests check what really loads.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import streamchat

ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> list[str]:
    """Every module of the package outside ``streamchat.ui`` (``__main__`` aside: importing it runs the CLI)."""
    names = [info.name for info in pkgutil.walk_packages(streamchat.__path__, "streamchat.")]
    return sorted(name for name in ["streamchat", *names]
                  if not name.startswith("streamchat.ui") and name != "streamchat.__main__")


def test_the_core_is_found_by_walking_the_package() -> None:
    modules = core_modules()
    assert {"streamchat.agent", "streamchat.store.writer", "streamchat.backends.local.backend",
            "streamchat.config.settings", "streamchat.mcp.servers", "streamchat.commands.chat"} <= set(modules)
    assert not any(name.startswith("streamchat.ui") for name in modules)


def test_no_core_module_imports_textual() -> None:
    # One fresh interpreter imports the core module by module and names the first that brings Textual in.
    code = ("import importlib, sys\n"
            f"for name in {core_modules()!r}:\n"
            "    importlib.import_module(name)\n"
            "    assert 'textual' not in sys.modules, f'{name} imports textual'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_the_contract_names_every_top_level_core_module() -> None:
    """import-linter's "the core never imports the UI" contract lists the core by hand: it must stay whole."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if "streamchat.ui" in c.get(
        "forbidden_modules", []) and "textual" in c["forbidden_modules"])
    top = {".".join(name.split(".")[:2]) for name in core_modules() if name != "streamchat"}
    outside_the_core = {"streamchat.commands", "streamchat.cli"}  # above the UI: they open it
    assert top - outside_the_core == set(contract["source_modules"])


@pytest.mark.parametrize("module", ["streamchat.cli", "streamchat.config.settings", "streamchat.agent",
                                    "streamchat.backends"])
def test_light_modules_do_not_import_openai(module: str) -> None:
    code = f"import sys, {module}\nassert 'openai' not in sys.modules, 'openai imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_start_up_imports_neither_the_mcp_sdk_nor_tomlkit() -> None:
    code = ("import sys, streamchat.cli, streamchat.config.settings, streamchat.mcp.servers\n"
            "assert not {'mcp', 'tomlkit'} & set(sys.modules), sorted({'mcp', 'tomlkit'} & set(sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
