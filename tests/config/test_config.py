"""Settings precedence: flags > environment > .env > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamchat.config.env_vars import ENV_VARS
from streamchat.config.file import ConfigFile
from streamchat.config.settings import Settings, SettingsError, load_settings, read_dotenv


def test_precedence_flags_over_env_over_dotenv_over_defaults() -> None:
    dotenv = {"STREAMCHAT_MODEL": "from-dotenv", "STREAMCHAT_TIMEOUT": "7", "STREAMCHAT_MAX_TOKENS": "11"}
    environ = {"STREAMCHAT_MODEL": "from-env", "STREAMCHAT_TIMEOUT": "8"}
    settings = load_settings({"model": "from-flag"}, environ=environ, dotenv=dotenv)
    assert settings.model == "from-flag"
    assert settings.timeout == 8.0
    assert settings.max_tokens == 11
    assert settings.max_tool_rounds == 8


def test_dotenv_file_is_read_without_touching_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".env").write_text("OPENAI_BASE_URL=http://dotenv:1/v1\nSTREAMCHAT_TOOLS=off\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert read_dotenv()["OPENAI_BASE_URL"] == "http://dotenv:1/v1"
    settings = load_settings(environ={})
    assert settings.base_url == "http://dotenv:1/v1" and settings.tools_enabled is False
    import os

    assert "OPENAI_BASE_URL" not in os.environ


def test_bad_values_name_the_variable() -> None:
    with pytest.raises(SettingsError, match="STREAMCHAT_MAX_TOOL_ROUNDS"):
        load_settings(environ={"STREAMCHAT_MAX_TOOL_ROUNDS": "many"}, dotenv={})
    with pytest.raises(SettingsError, match="STREAMCHAT_TOOLS"):
        load_settings(environ={"STREAMCHAT_TOOLS": "perhaps"}, dotenv={})


@pytest.mark.parametrize(("name", "raw", "problem"), [
    ("STREAMCHAT_TIMEOUT", "-5", "should be above 0"),
    ("STREAMCHAT_MAX_TOOL_ROUNDS", "0", "should be at least 1"),
    ("STREAMCHAT_TEMPERATURE", "-1", "should be at least 0"),
    ("STREAMCHAT_LOCAL_TOOLS", "maybe", "should be one of auto, on, off"),
])
def test_the_environment_is_held_to_the_config_files_checks(name: str, raw: str, problem: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}='{raw}' {problem}"):
        load_settings(environ={name: raw}, dotenv={}, config=ConfigFile(path=Path("none.toml")))
    assert load_settings(environ={"STREAMCHAT_TIMEOUT": "2.5", "STREAMCHAT_LOCAL_TOOLS": "ON"}, dotenv={},
                         config=ConfigFile(path=Path("none.toml"))).local_tools == "on"


def test_local_is_the_default_only_without_key_and_server() -> None:
    assert Settings().use_local and Settings().model_name == "SmolLM2-135M-Instruct"
    assert not Settings(api_key="k").use_local
    assert not Settings(base_url="http://x/v1").use_local
    assert Settings(api_key="k", local=True).use_local
    assert Settings(api_key="k").model_name == "gpt-4o-mini"


def test_env_example_lists_every_variable() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    for var in ENV_VARS:
        assert f"{var.name}=" in example, var.name
