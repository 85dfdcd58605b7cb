"""The list_files and read_file tools, confined to one workspace folder.

Every path the model gives is taken relative to the workspace root and
resolved (following symlinks and ``..``) before use; anything that ends up
outside the resolved root is refused, as are absolute paths.
"""

from __future__ import annotations

import stat
from pathlib import Path

MAX_LIST_ENTRIES = 200
MAX_READ_BYTES = 100 * 1024


def read_capped(target: Path, limit: int = MAX_READ_BYTES) -> tuple[int, bytes]:
    """A regular file's size and its bytes, none read when it holds over ``limit`` (then the size says so).

    ``ValueError`` when ``target`` is not a regular file (a pipe would be waited on for ever, a device read
    without end); ``OSError`` when it cannot be read.
    """
    info = target.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file")
    if info.st_size > limit:
        return info.st_size, b""
    with target.open("rb") as handle:
        data = handle.read(limit + 1)
    return max(info.st_size, len(data)), data


class Workspace:
    """A folder that the file tools may look into, and nothing outside it.

    Its bound methods :meth:`list_files` and :meth:`read_file` are registered as
    tools; their schemas come from the method signatures and docstrings.
    """

    def __init__(self, root: Path | str = ".") -> None:
        """Confine the tools to ``root`` (resolved now; it must be an existing folder)."""
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise NotADirectoryError(f"Workspace {str(root)!r} is not a directory")

    def resolve(self, path: str) -> Path:
        """Resolve a workspace-relative ``path``, refusing anything outside the workspace."""
        if "\x00" in path:
            raise ValueError("Path contains a NUL character")
        candidate = Path(path)
        if candidate.is_absolute() or candidate.drive or path.startswith(("/", "\\")):
            raise PermissionError(f"Absolute paths are not allowed ('{path}'); use a path relative to the workspace")
        try:
            target = (self.root / candidate).resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: symlink loop on 3.11
            raise ValueError(f"Cannot resolve path '{path}': {exc}") from None
        if not target.is_relative_to(self.root):
            raise PermissionError(f"Path '{path}' is outside the workspace")
        if any(part == ".env" or (part.startswith(".env.") and part != ".env.example")
               for part in target.relative_to(self.root).parts):
            raise PermissionError(f"'{path}' may hold secrets (.env files are never read)")
        return target

    def _describe(self, entry: Path) -> str:
        """One listing line: ``name/`` for folders, ``name  1,234 bytes`` for files."""
        name = entry.name
        try:
            resolved = entry.resolve()
        except (OSError, RuntimeError):
            return f"{name}  (unresolvable link)"
        if not resolved.is_relative_to(self.root):
            return f"{name}  (link to outside the workspace)"
        try:
            info = resolved.stat()
        except OSError:
            return f"{name}  (broken link)" if entry.is_symlink() else f"{name}  (unreadable)"
        if stat.S_ISDIR(info.st_mode):
            return f"{name}/"
        return f"{name}  {info.st_size:,} bytes"

    def list_files(self, path: str = ".") -> str:
        """List a directory in the workspace; paths are relative to the workspace root.
        Folders end with "/", files show their size in bytes; entries are sorted by
        name and at most 200 are shown.

        Args:
            path: Directory to list, relative to the workspace root ("." for the root).
        """
        target = self.resolve(path)
        if not target.exists():
            raise FileNotFoundError(f"No such directory in the workspace: '{path}'")
        if not target.is_dir():
            raise NotADirectoryError(f"'{path}' is a file, not a directory; use read_file to read it")
        try:
            entries = sorted(target.iterdir(), key=lambda entry: entry.name)
        except OSError as exc:
            raise type(exc)(f"Cannot list '{path}': {exc.strerror or exc}") from None
        shown = target.relative_to(self.root).as_posix()
        shown = "./" if shown == "." else f"{shown}/"
        if not entries:
            return f"{shown} is empty"
        count = f"{len(entries)} {'entry' if len(entries) == 1 else 'entries'}"
        lines = [f"{shown} ({count}):"]
        lines += [self._describe(entry) for entry in entries[:MAX_LIST_ENTRIES]]
        if len(entries) > MAX_LIST_ENTRIES:
            hidden = len(entries) - MAX_LIST_ENTRIES
            lines.append(f"[... {hidden} more entries not shown; the listing is capped at {MAX_LIST_ENTRIES}]")
        return "\n".join(lines)

    def read_file(self, path: str) -> str:
        """Read a UTF-8 text file in the workspace; paths are relative to the workspace
        root. Files over 100 KB, folders and binary files are refused.

        Args:
            path: File to read, relative to the workspace root, e.g. "src/main.py".
        """
        target = self.resolve(path)
        if not target.exists():
            raise FileNotFoundError(f"No such file in the workspace: '{path}'")
        if target.is_dir():
            raise IsADirectoryError(f"'{path}' is a directory; use list_files to see its contents")
        try:
            size, data = read_capped(target)
        except ValueError:
            raise ValueError(f"'{path}' is not a regular file") from None
        except OSError as exc:
            raise type(exc)(f"Cannot read '{path}': {exc.strerror or exc}") from None
        if size > MAX_READ_BYTES:
            raise ValueError(
                f"File '{path}' is {size:,} bytes, over the {MAX_READ_BYTES:,}-byte (100 KB) limit for read_file"
            )
        if b"\x00" in data:
            raise ValueError(f"'{path}' looks like a binary file (it contains NUL bytes); only text can be read")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"'{path}' is not UTF-8 text (undecodable byte at offset {exc.start}); only text can be read"
            ) from None
        return text if text else f"('{path}' is empty)"
