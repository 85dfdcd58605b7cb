"""Files and piped text sent with a prompt: what is refused, and that nothing is read without bound (pure)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from streamchat.attachments import MAX_ATTACHMENT_BYTES, AttachmentRefused, read_attachment
from streamchat.headless import read_prompt
from streamchat.tools.files import Workspace


def test_a_pipe_named_with_at_is_refused_at_once_instead_of_read_for_ever(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # opening it to read would wait for a writer that never comes
    with pytest.raises(AttachmentRefused, match="pipe is not a regular file"):
        read_attachment(Workspace(str(tmp_path)), "pipe")


class EndlessPipe(io.TextIOWrapper):
    """A piped stdin with far more than an attachment may hold."""

    def __init__(self, size: int) -> None:
        super().__init__(io.BytesIO(b"x" * size), encoding="utf-8")

    def isatty(self) -> bool:
        return False


def test_piped_text_is_read_only_up_to_the_limit_and_then_refused() -> None:
    stdin = EndlessPipe(10 * MAX_ATTACHMENT_BYTES)
    with pytest.raises(AttachmentRefused, match="stdin is over the 100 KB limit"):
        read_prompt("summarize", stdin)
    assert stdin.buffer.tell() == MAX_ATTACHMENT_BYTES + 1, "no more than a byte past the limit was read"
    prompt, attached = read_prompt("summarize", EndlessPipe(10))
    assert prompt == "summarize" and attached[0].name == "stdin" and attached[0].text == "x" * 10
