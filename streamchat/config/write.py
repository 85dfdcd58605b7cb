"""Writing choices back to the config file, keeping the user's comments and layout (``tomlkit``).

Used when something is changed in the app (theme, profile, model, tools on/off,
"always allow" for a tool). The file is rewritten atomically (a temporary file
renamed over it) with its mode kept; a new file is created private (0600).
A file that is not valid TOML is left alone: ``ConfigWriteError`` says so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamchat.config.file import config_path
from streamchat.store.files import create_private_dir

HEADER = "# streamchat's config file (`streamchat config edit`); streamchat also saves choices made in the app here.\n"
"""The first line of a config file that streamchat creates itself."""


class ConfigWriteError(Exception):
    """The config file could not be updated; the message says why, for a human."""


def _load(path: Path) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return tomlkit.parse(HEADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigWriteError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigWriteError(f"{path} is not valid TOML ({exc}); fix it to have choices saved") from None


def _table(parent: Any, key: str, *, super_table: bool) -> Any:
    import tomlkit

    if key not in parent:
        parent[key] = tomlkit.table(is_super_table=super_table)
    table = parent[key]
    if not isinstance(table, dict):
        raise ConfigWriteError(f"{key} is not a table in the config file; fix it to have choices saved")
    return table


def _write(path: Path, document: Any) -> None:
    import tomlkit

    create_private_dir(path.parent)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o600
    fd, temporary = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(tomlkit.dumps(document))
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ConfigWriteError(f"cannot write {path}: {exc.strerror or exc}") from None


def remember(changes: Mapping[tuple[str, ...], Any], *, add: Mapping[str, str] | None = None,
             path: Path | None = None) -> Path:
    """Set each key path of ``changes`` (``("profiles", "work", "model")``) and append each ``add`` item
    to the top-level list it names (if not there yet); return the file written."""
    path = path or config_path()
    document = _load(path)
    for key, value in changes.items():
        parent = document
        for depth, name in enumerate(key[:-1]):
            parent = _table(parent, name, super_table=depth == 0 and len(key) > 2)
        parent[key[-1]] = value
    for list_key, item in (add or {}).items():
        current = document.get(list_key)
        if current is None:
            document[list_key] = [item]
        elif not isinstance(current, list):
            raise ConfigWriteError(f"{list_key} is not a list in the config file; fix it to have choices saved")
        elif item not in current:
            current.append(item)
    _write(path, document)
    return path
