"""Files sent with a prompt: ``@path`` in the chat (completed from the workspace), text piped into ``ask``.

A path is confined to the workspace exactly as the file tools are (``Workspace.resolve``: no absolute
path, nothing outside it, no ``.env``), and only text goes: a binary file, or one over
``MAX_ATTACHMENT_BYTES``, is refused with a sentence that says why and the limit.
"""

from __future__ import annotations

import os
import re

from streamchat.messages import Attachment
from streamchat.tools.files import MAX_READ_BYTES, Workspace, read_capped

__all__ = ["MAX_ATTACHMENT_BYTES", "AttachmentRefused", "attachment_of", "complete_path", "human_size", "mentions",
           "read_attachment"]

MAX_ATTACHMENT_BYTES = MAX_READ_BYTES
"""The largest file that goes with a prompt (the file tools' limit: 100 KB)."""

MAX_SUGGESTIONS = 40
"""The most paths ``complete_path`` offers."""

_MENTION = re.compile(r"(?<!\S)@(\S+)")
_TRAILING = ",;:!?)]}\"'."


class AttachmentRefused(ValueError):
    """A file that cannot go with a prompt; the message says why (and the limit, for a large one)."""


def human_size(size: int) -> str:
    """``812 B``, ``1.2 KB``, ``3.4 MB``."""
    if size < 1024:
        return f"{size} B"
    value, unit = (size / 1024, "KB") if size < 1024 * 1024 else (size / 1024 / 1024, "MB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def attachment_of(name: str, data: bytes, *, read_whole: bool = True) -> Attachment:
    """``data`` as an attachment named ``name``; ``AttachmentRefused`` when it is too large or not text
    (``read_whole`` False: ``data`` is only the start of what there was, read up to one byte past the limit)."""
    if len(data) > MAX_ATTACHMENT_BYTES:
        size = f"{human_size(len(data))}, over" if read_whole else "over"
        raise AttachmentRefused(f"{name} is {size} the {human_size(MAX_ATTACHMENT_BYTES)} limit for an attached file")
    if b"\x00" in data:
        raise AttachmentRefused(f"{name} looks like a binary file (it contains NUL bytes): only text can be attached")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AttachmentRefused(f"{name} is not UTF-8 text (an undecodable byte at offset {exc.start}): "
                                "only text can be attached") from None
    return Attachment(name, text, len(data))


def read_attachment(workspace: Workspace, path: str) -> Attachment:
    """The file at ``path`` in the workspace as an attachment.

    ``FileNotFoundError`` when there is no such file (the ``@`` was not a path); ``AttachmentRefused`` when
    there is one that cannot go: outside the workspace, a folder, too large, not text.
    """
    try:
        target = workspace.resolve(path)
    except (PermissionError, ValueError) as exc:
        raise AttachmentRefused(str(exc)) from None
    if not target.exists():
        raise FileNotFoundError(path)
    if target.is_dir():
        raise AttachmentRefused(f"{path} is a folder: attach the files in it one by one")
    try:
        size, data = read_capped(target, MAX_ATTACHMENT_BYTES)
    except ValueError:
        raise AttachmentRefused(f"{path} is not a regular file (a pipe, a socket or a device): only files can be "
                                "attached") from None
    except OSError as exc:
        raise AttachmentRefused(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > MAX_ATTACHMENT_BYTES:
        raise AttachmentRefused(f"{path} is {human_size(size)}, over the {human_size(MAX_ATTACHMENT_BYTES)} "
                                "limit for an attached file")
    return attachment_of(path, data)


def mentions(text: str) -> list[str]:
    """The ``@word``s of ``text`` (at the start or after a space), each as it may name a path: as typed, then
    without trailing punctuation (``@notes.md,``)."""
    found: list[str] = []
    for match in _MENTION.finditer(text):
        word = match.group(1)
        for candidate in (word, word.rstrip(_TRAILING)):
            if candidate and candidate not in found:
                found.append(candidate)
    return found


def complete_path(workspace: Workspace, partial: str) -> list[str]:
    """Paths in the workspace that start with ``partial`` (folders end with ``/``), folders first; hidden ones
    only when ``partial``'s last part starts with a dot; ``.env`` files never."""
    folder, _, stem = partial.rpartition("/")
    try:
        base = workspace.resolve(folder or ".")
        entries = sorted(os.scandir(base), key=lambda entry: entry.name.lower())
    except (OSError, ValueError):
        return []
    folders: list[str] = []
    files: list[str] = []
    for entry in entries:
        name = entry.name
        if not name.lower().startswith(stem.lower()) or (name.startswith(".") and not stem.startswith(".")):
            continue
        if name == ".env" or (name.startswith(".env.") and name != ".env.example"):
            continue
        shown = f"{folder}/{name}" if folder else name
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        (folders if is_dir else files).append(shown + "/" if is_dir else shown)
    return (folders + files)[:MAX_SUGGESTIONS]
