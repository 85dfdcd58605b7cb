"""The config file: precedence, profiles, a bad file, the private key, ``streamchat config``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fake_server import FakeServer, text_response

from streamchat.config.file import config_path, find_line, load_config
from streamchat.config.settings import SettingsError, load_settings

TWO_PROFILES = """\
# my settings
default_profile = "work"   # the usual one
timeout = 30
max_tool_rounds = 3

[profiles.work]
base_url = "http://work.example/v1"
model = "work-model"
api_key_env = "WORK_KEY"
headers = { "X-Team" = "a" }
temperature = 0.2

[profiles.home]
base_url = "http://home.example/v1"
model = "home-model"
"""


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write(tmp_path / "config.toml", TWO_PROFILES)


def test_config_path_follows_xdg_config_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "streamchat" / "config.toml"
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
    assert config_path() == Path.home() / ".config" / "streamchat" / "config.toml"


def test_precedence_flags_over_env_over_dotenv_over_file_over_defaults(config_file: Path) -> None:
    config = load_config(config_file)
    assert load_settings(environ={}, dotenv={}, config=config).timeout == 30.0
    assert load_settings(environ={}, dotenv={"STREAMCHAT_TIMEOUT": "20"}, config=config).timeout == 20.0
    env = {"STREAMCHAT_TIMEOUT": "10"}
    assert load_settings(environ=env, dotenv={"STREAMCHAT_TIMEOUT": "20"}, config=config).timeout == 10.0
    assert load_settings({"timeout": 5.0}, environ=env, dotenv={}, config=config).timeout == 5.0
    settings = load_settings(environ={}, dotenv={}, config=config)
    assert settings.max_tool_rounds == 3 and settings.max_retries == 2  # from the file / the default


def test_the_default_profile_sits_at_the_files_level(config_file: Path) -> None:
    config = load_config(config_file)
    settings = load_settings(environ={"WORK_KEY": "sk-work-123456"}, dotenv={}, config=config)
    assert (settings.profile, settings.base_url, settings.model_name) == ("work", "http://work.example/v1",
                                                                         "work-model")
    assert settings.api_key == "sk-work-123456" and settings.headers == {"X-Team": "a"}
    assert settings.temperature == 0.2 and not settings.use_local
    env = {"WORK_KEY": "sk-work-123456", "STREAMCHAT_MODEL": "env-model", "OPENAI_API_KEY": "sk-openai-999999"}
    settings = load_settings(environ=env, dotenv={}, config=config)
    assert settings.model == "env-model", "the environment beats the file's default profile"
    assert settings.api_key == "sk-work-123456", "the profile's server never gets OPENAI_API_KEY"
    env["OPENAI_BASE_URL"] = "http://env.example/v1"
    settings = load_settings(environ=env, dotenv={}, config=config)
    assert (settings.base_url, settings.api_key) == ("http://env.example/v1", "sk-openai-999999")
    env["OPENAI_BASE_URL"] = ""  # set but empty: as if not set, the profile's server stays
    assert load_settings(environ=env, dotenv={}, config=config).base_url == "http://work.example/v1"


def test_a_base_url_that_is_not_a_url_is_named_with_where_it_was_set(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('default_profile = "work"\n[profiles.work]\nbase_url = "notaurl"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match=r"the base_url of profile 'work'='notaurl' is not a URL"):
        load_settings(environ={}, dotenv={}, config=load_config(path))


def test_a_profile_named_on_purpose_wins_over_the_environment(config_file: Path) -> None:
    config = load_config(config_file)
    env = {"OPENAI_BASE_URL": "http://env.example/v1", "OPENAI_API_KEY": "sk-openai-999999",
           "STREAMCHAT_MODEL": "env-model"}
    settings = load_settings({"profile": "home"}, environ=env, dotenv={}, config=config)
    assert (settings.profile, settings.base_url, settings.model) == ("home", "http://home.example/v1", "home-model")
    assert settings.api_key is None and settings.temperature is None
    settings = load_settings({"profile": "home", "model": "flag-model"}, environ=env, dotenv={}, config=config)
    assert settings.model == "flag-model", "other flags still win over the profile"
    settings = load_settings(environ={**env, "STREAMCHAT_PROFILE": "local"}, dotenv={}, config=config)
    assert settings.use_local and settings.profile == "local"
    with pytest.raises(SettingsError, match=r"no profile 'nope'.*work, home, local"):
        load_settings({"profile": "nope"}, environ={}, dotenv={}, config=config)


def test_a_bad_file_names_file_line_and_key_and_keeps_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", """\
timeout = "soon"
colour = "red"
max_retries = 1

[profiles.work]
base_url = "http://work.example/v1"
temprature = 0.5
max_tokens = 0

[mcp.both]
command = "x"
url = "http://y"
""")
    config = load_config(path)
    issues = [str(issue) for issue in config.issues]
    assert issues[0] == f"{path}:1: timeout: should be a number, not a string (ignored; the default is used)"
    assert issues[1].startswith(f"{path}:2: colour: unknown key (ignored); known keys here: default_profile, theme")
    assert any(issue.startswith(f"{path}:7: profiles.work.temprature: unknown key") for issue in issues)
    assert any(issue.startswith(f"{path}:8: profiles.work.max_tokens: should be at least 1") for issue in issues)
    assert any(issue.startswith(f"{path}:10: mcp.both: has both command and url: give one") for issue in issues)
    settings = load_settings({"profile": "work"}, environ={}, dotenv={}, config=config)
    assert settings.timeout == 60.0 and settings.max_retries == 1 and settings.base_url == "http://work.example/v1"
    assert settings.max_tokens is None and not settings.mcp_servers
    assert len(settings.config_issues) == len(issues)


def test_a_file_that_is_not_toml_is_ignored_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'theme = "nord"\n[profiles.work\nmodel = "x"\n')
    config = load_config(path)
    (issue,) = config.issues
    assert issue.line == 2 and "not valid TOML" in str(issue) and "whole file is ignored" in str(issue)
    assert config.theme is None and list(config.profiles) == ["local"]


def test_a_key_in_the_file_counts_only_when_the_file_is_private(tmp_path: Path) -> None:
    text = '[profiles.work]\nbase_url = "http://w/v1"\napi_key = "sk-in-file-123456"\n'
    private = load_config(write(tmp_path / "a.toml", text, 0o600))
    assert private.profiles["work"].api_key == "sk-in-file-123456" and not private.issues
    shared = load_config(write(tmp_path / "b.toml", text, 0o644))
    assert shared.profiles["work"].api_key is None
    (issue,) = shared.issues
    assert issue.line == 3 and "chmod 600" in str(issue) and "sk-in-file" not in str(issue)
    settings = load_settings({"profile": "work"}, environ={}, dotenv={}, config=private)
    assert settings.api_key == "sk-in-file-123456" and "sk-in-file" not in repr(settings)


def test_find_line_finds_tables_keys_and_inline_tables() -> None:
    text = 'a = 1\n[profiles.work]\nmodel = "m"\nheaders = { "X" = "y" }\n[mcp."my server"]\nargs = []\n'
    assert find_line(text, ("a",)) == 1
    assert find_line(text, ("profiles", "work")) == 2
    assert find_line(text, ("profiles", "work", "model")) == 3
    assert find_line(text, ("profiles", "work", "headers", "X")) == 4
    assert find_line(text, ("mcp", "my server", "args")) == 6


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamchat", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=60)


def test_config_edit_writes_a_private_commented_example_that_checks_clean(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "EDITOR": "true"}
    path = tmp_path / "xdg" / "streamchat" / "config.toml"
    assert run_cli("config", "path", env=env, cwd=tmp_path).stdout.strip() == str(path)
    edited = run_cli("config", "edit", env=env, cwd=tmp_path)
    assert edited.returncode == 0, edited.stderr
    assert path.stat().st_mode & 0o777 == 0o600 and "# " in path.read_text()
    assert "OK · profiles: local" in edited.stdout
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert path.read_text().strip() in readme, "the README shows the example config"
    path.write_text(path.read_text() + "\nbogus = 1\n")
    checked = run_cli("config", "check", env=env, cwd=tmp_path)
    assert checked.returncode == 1 and "bogus: unknown key" in checked.stderr


def test_the_example_config_changes_nothing_until_edited(tmp_path: Path) -> None:
    from streamchat.commands.config import example_text

    path = write(tmp_path / "config.toml", example_text())
    config = load_config(path)
    assert config.issues == () and config.default_profile is None and list(config.profiles) == ["local"]
    assert config.values == {} and config.mcp == {} and config.theme is None and config.always_allow == ()
    assert load_settings({}, environ={}, dotenv={}, config=config) == load_settings(
        {}, environ={}, dotenv={}, config=load_config(tmp_path / "none.toml"))
    settings = load_settings({}, environ={}, dotenv={}, config=config)
    assert settings.use_local and settings.profile is None, "with no key nor base URL: the local model, as before"
    lines = example_text().splitlines()  # uncomment the profiles' block whole, and the default profile
    start, end = lines.index("# [profiles.openai]"), lines.index('# model = "llama3.2"')
    uncommented = [line[2:] if start <= i <= end or line.startswith("# default_profile") else line
                   for i, line in enumerate(lines)]
    edited = load_config(write(tmp_path / "edited.toml", "\n".join(uncommented)))
    assert edited.issues == () and edited.default_profile == "openai" and "ollama" in edited.profiles
    assert edited.profiles["openai"].api_key is None, "the placeholder key stays commented"
    assert edited.profiles["openai"].api_key_env == "OPENAI_API_KEY" and edited.profiles["openai"].system is None


def test_ask_with_a_profile_talks_to_its_server_with_its_key_and_headers(fake_server: FakeServer,
                                                                         tmp_path: Path) -> None:
    xdg = tmp_path / "xdg"
    write(xdg / "streamchat" / "config.toml", f"""\
default_profile = "other"
[profiles.other]
base_url = "http://127.0.0.1:9/v1"
[profiles.fake]
base_url = "{fake_server.base_url}"
model = "profile-model"
api_key_env = "FAKE_KEY"
headers = {{ "X-Team" = "blue" }}
""")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "STREAMCHAT_"))}
    env.update(XDG_CONFIG_HOME=str(xdg), FAKE_KEY="sk-fake-profile-key", OPENAI_API_KEY="sk-must-not-leak",
               STREAMCHAT_MAX_RETRIES="0", STREAMCHAT_DATA_DIR=str(tmp_path / "data"))
    fake_server.enqueue(text_response("Hello from the profile."))
    result = run_cli("ask", "-p", "fake", "hi", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Hello from the profile."
    request = fake_server.requests[0]
    assert request.body["model"] == "profile-model"
    assert request.headers["authorization"] == "Bearer sk-fake-profile-key"
    assert request.headers["x-team"] == "blue"
    unknown = run_cli("ask", "--profile", "nope", "hi", env=env, cwd=tmp_path)
    assert unknown.returncode == 2 and "no profile 'nope'" in unknown.stderr


def test_writing_back_keeps_comments_creates_private_files_and_leaves_bad_files_alone(tmp_path: Path) -> None:
    from streamchat.config.write import ConfigWriteError, remember

    path = write(tmp_path / "config.toml", TWO_PROFILES, 0o640)
    remember({("theme",): "nord", ("profiles", "home", "model"): "bigger", ("profiles", "new", "model"): "m"},
             add={"always_allow": "read_file"}, path=path)
    remember({}, add={"always_allow": "read_file"}, path=path)  # not twice
    text = path.read_text()
    assert text.startswith("# my settings\ndefault_profile = \"work\"   # the usual one\n")
    assert 'theme = "nord"' in text and text.count("read_file") == 1
    config = load_config(path)
    assert config.issues == () and config.theme == "nord" and config.always_allow == ("read_file",)
    assert config.profiles["home"].model == "bigger" and config.profiles["new"].model == "m"
    assert path.stat().st_mode & 0o777 == 0o640, "the file keeps its mode"
    fresh = tmp_path / "new" / "config.toml"
    remember({("tools",): False}, path=fresh)
    assert fresh.stat().st_mode & 0o777 == 0o600 and load_config(fresh).values == {"tools_enabled": False}
    broken = write(tmp_path / "broken.toml", "theme = \n")
    with pytest.raises(ConfigWriteError, match="not valid TOML"):
        remember({("theme",): "nord"}, path=broken)
    assert broken.read_text() == "theme = \n"
