"""Local models in the settings: profiles with a GGUF, [profiles.local], and whether the model is offered tools."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamchat.config.file import load_config
from streamchat.config.settings import Settings, SettingsError, load_settings

LOCAL_PROFILES = """\
local_tools = "maybe"

[profiles.local]
model_path = "/models/qwen2.5-3b-instruct-q4_k_m.gguf"
local_tools = "off"
base_url = "http://nope/v1"

[profiles.llama]
model_path = "/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf"
local_tools = "on"
temperature = 0.1

[profiles.work]
base_url = "http://work.example/v1"
local_tools = "on"
"""


def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(LOCAL_PROFILES)
    return path


def test_a_profile_with_model_path_runs_that_gguf_and_flags_still_win(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path))
    llama = cfg.profiles["llama"]
    assert llama.local and llama.describe() == "Llama-3.2-3B-Instruct-Q4_K_M.gguf · embedded llama.cpp model"
    settings = load_settings({"profile": "llama"}, environ={}, dotenv={}, config=cfg)
    assert settings.use_local and settings.model_path == "/models/Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    assert settings.local_tools == "on" and settings.temperature == 0.1
    assert settings.model_name == "Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    flagged = load_settings({"profile": "llama", "model_path": "/other.gguf"}, environ={}, dotenv={}, config=cfg)
    assert flagged.model_path == "/other.gguf"


def test_the_local_profile_may_pick_its_gguf_but_not_a_server(tmp_path: Path) -> None:
    path = config(tmp_path)
    cfg = load_config(path)
    local = cfg.profiles["local"]
    assert local.local and local.model_path == "/models/qwen2.5-3b-instruct-q4_k_m.gguf" and local.base_url is None
    issues = [str(issue) for issue in cfg.issues]
    assert f"{path}:6: profiles.local.base_url: unknown key (ignored); known keys here: temperature, max_tokens, " \
           "system, model_path, local_tools" in issues
    settings = load_settings({"profile": "local"}, environ={}, dotenv={}, config=cfg)
    assert settings.model_path == local.model_path and settings.local_tools == "off"


def test_local_tools_takes_auto_on_or_off_and_only_where_it_applies(tmp_path: Path) -> None:
    path = config(tmp_path)
    issues = [str(issue) for issue in load_config(path).issues]
    bad = f"{path}:1: local_tools: should be one of auto, on, off, not 'maybe' (ignored; the default is used)"
    assert bad in issues
    assert f"{path}:15: profiles.work.local_tools: only applies to a profile with model_path (ignored)" in issues
    assert load_config(path).profiles["work"].local_tools is None
    assert load_settings(environ={"STREAMCHAT_LOCAL_TOOLS": "ON"}, dotenv={}).local_tools == "on"
    assert Settings().local_tools == "auto"
    with pytest.raises(SettingsError, match=r"STREAMCHAT_LOCAL_TOOLS='maybe' should be one of auto, on, off"):
        load_settings(environ={"STREAMCHAT_LOCAL_TOOLS": "maybe"}, dotenv={})


def test_switching_from_a_gguf_profile_back_to_local_runs_the_packaged_model(tmp_path: Path) -> None:
    cfg = load_config(config(tmp_path))
    plain = next(p for p in cfg.profiles.values() if p.name == "local")
    settings = load_settings({"profile": "llama"}, environ={}, dotenv={}, config=cfg)
    back = settings.with_profile(type(plain)(name="local", local=True))
    assert back.use_local and back.model_path is None and back.model_name == "SmolLM2-135M-Instruct"
    assert settings.with_profile(cfg.profiles["local"]).model_path == "/models/qwen2.5-3b-instruct-q4_k_m.gguf"
    given = Settings(local=True, model_path="/x.gguf").with_profile(type(plain)(name="local", local=True))
    assert given.model_path == "/x.gguf"  # --model-path given with no profile stays
