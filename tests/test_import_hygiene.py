"""The core never imports the UI (nor openai where it need not)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = ["streamchat.events", "streamchat.accumulator", "streamchat.timing", "streamchat.config.settings",
        "streamchat.messages", "streamchat.agent", "streamchat.backends", "streamchat.backends.openai_compat",
        "streamchat.backends.errors", "streamchat.tools", "streamchat.headless", "streamchat.factory",
        "streamchat.cli", "streamchat.safety", "streamchat.config.file", "streamchat.config.write",
        "streamchat.approval", "streamchat.mcp.servers", "streamchat.mcp.transport", "streamchat.markdown"]


@pytest.mark.parametrize("module", CORE)
def test_core_module_does_not_import_textual(module: str) -> None:
    code = f"import sys, {module}\nassert 'textual' not in sys.modules, 'textual imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


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
