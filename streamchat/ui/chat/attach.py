"""``@path`` in the prompt: paths of the workspace offered as they are typed, the files read when the prompt is sent.

The same confinement as the file tools (``Workspace``). A file that cannot go (binary, over the
limit, a folder, outside the workspace) is refused with the reason, when it is picked and again when
the prompt is sent; the prompt then stays in the box, nothing sent. An ``@word`` that names no file
is plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamchat.attachments import AttachmentRefused, complete_path, mentions, read_attachment
from streamchat.tools.files import Workspace
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.suggestions import Suggestions

if TYPE_CHECKING:
    from streamchat.messages import Attachment
    from streamchat.ui.chat.host import ChatHost

PICK = "tab or enter picks · esc closes"
"""The line under the paths offered."""


class Attacher:
    """Completes ``@path`` in the prompt of ``chat`` and gathers the files a prompt names."""

    def __init__(self, chat: ChatHost) -> None:
        self.chat = chat
        """The chat whose prompt is completed."""

    def _workspace(self) -> Workspace | None:
        try:
            return Workspace(self.chat.settings.workspace_path)
        except OSError:
            return None

    @property
    def _suggestions(self) -> Suggestions:
        return self.chat.app.query_one(Suggestions)

    def changed(self, prompt: Prompt) -> None:
        """The prompt's text changed: offer paths for an ``@word`` at the cursor, or stop offering."""
        word, _ = prompt.word_at_cursor()
        workspace = self._workspace() if word.startswith("@") else None
        items = complete_path(workspace, word[1:]) if workspace is not None else []
        if items and items != [word[1:]]:  # a whole file name typed: nothing left to complete
            self._suggestions.show(items, PICK)
            prompt.completing = True
        else:
            self.close(prompt)

    def close(self, prompt: Prompt) -> None:
        """Stop offering paths."""
        self._suggestions.hide()
        prompt.completing = False

    def key(self, prompt: Prompt, key: str) -> None:
        """A key while paths are offered: up/down move, tab/enter pick, esc closes."""
        suggestions = self._suggestions
        if key in ("up", "down"):
            suggestions.move(-1 if key == "up" else 1)
        elif key == "escape":
            self.close(prompt)
        else:
            chosen = suggestions.chosen
            if chosen is None:
                self.close(prompt)
            else:
                self.pick(prompt, chosen)

    def pick(self, prompt: Prompt, path: str) -> None:
        """Put ``@path`` in place of the ``@word`` typed; a file that cannot go is refused now, saying why."""
        _, start = prompt.word_at_cursor()
        workspace = self._workspace()
        if not path.endswith("/") and workspace is not None:
            try:
                read_attachment(workspace, path)
            except (AttachmentRefused, FileNotFoundError) as exc:
                self.close(prompt)
                self.chat.notify(f"Cannot attach {path}: {_reason(exc)}.", severity="error", markup=False)
                return
        prompt.replace_word(start, f"@{path}" + ("" if path.endswith("/") else " "))
        if not path.endswith("/"):
            self.close(prompt)

    def gather(self, text: str) -> list[Attachment] | None:
        """The files ``text`` names with ``@path``; None (having said why) when one of them cannot go."""
        workspace = self._workspace()
        if workspace is None:
            return []
        found: dict[str, Attachment] = {}
        for path in mentions(text):
            try:
                attachment = read_attachment(workspace, path)
            except FileNotFoundError:
                continue  # not a path: plain text
            except AttachmentRefused as exc:
                self.chat.notify(f"Not sent: {exc}. Remove @{path} or pick another file.", severity="error",
                                 markup=False, timeout=10)
                return None
            found.setdefault(attachment.name, attachment)
        return list(found.values())


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, AttachmentRefused) else "there is no such file in the workspace"
