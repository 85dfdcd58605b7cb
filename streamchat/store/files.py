"""Where the history lives on disk, and keeping it private: folders 0700, files 0600.

Nothing here knows the schema; ``store_schema.connect`` uses these before it
opens the database.
"""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "history.db"
"""The database file's name inside the data folder."""


def default_data_dir(settings_data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: the given one, else ``$STREAMCHAT_DATA_DIR``, else the XDG data dir."""
    chosen = settings_data_dir or os.environ.get("STREAMCHAT_DATA_DIR")
    if chosen:
        return Path(chosen).expanduser()
    xdg = Path(os.environ.get("XDG_DATA_HOME") or "~/.local/share").expanduser()
    if not xdg.is_absolute():  # the XDG spec says to ignore a relative value
        xdg = Path("~/.local/share").expanduser()
    return xdg / "streamchat"


def database_path(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the history database is (or would be) for ``data_dir``."""
    return default_data_dir(data_dir) / DB_NAME


def describe_error(exc: BaseException, path: Path, timeout: float) -> str:
    """One human sentence for an sqlite3 or OS error about the database at ``path``."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    text = str(exc) or type(exc).__name__
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text or "busy" in text:
        return (f"the history database {path} is locked by another program "
                f"(waited {timeout:g} s); close it or try again")
    if name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text:
        return f"the history database {path} is damaged ({text}); move it away to start a new history"
    if isinstance(exc, OSError):
        return f"cannot use the history database {path}: {exc.strerror or text}"
    return f"history database {path}: {text}"


def make_private(path: Path) -> None:
    """chmod 0600 ``path`` and its -wal/-shm companions, where they exist and are ours."""
    for candidate in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if candidate.stat().st_mode & 0o777 != 0o600:
                candidate.chmod(0o600)
        except OSError:
            pass


def create_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) if missing; a folder we create gets mode 0700."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=0o700)
    except FileExistsError:
        return
    folder.chmod(0o700)


def create_private_file(path: Path) -> None:
    """Create an empty ``path`` with mode 0600 unless it exists (SQLite takes an empty file as a new database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def write_private(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path``; a file we create gets mode 0600 (conversations are private)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
