"""The history screen: saved conversations, newest first, to search, open, rename or delete."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from streamchat.safety import one_line
from streamchat.store.database import ConversationSummary, StoreError
from streamchat.ui.screens.confirm import ConfirmScreen

if TYPE_CHECKING:
    from collections.abc import Callable

    from streamchat.store.database import ConversationStore

T = TypeVar("T")

LIMIT = 200
"""The most conversations listed (the newest)."""

HELP = "enter open · ctrl+r rename · ctrl+d delete · esc close"
"""The keys, under the list."""


def summary_prompt(row: ConversationSummary, current: bool) -> Content:
    """Two lines for the list: the title, then id, date, size and the start of the last message."""
    title = one_line(row.title or row.preview, markdown=True) or "(empty)"
    when = datetime.fromtimestamp(row.updated_at).strftime("%Y-%m-%d %H:%M")
    about = f"{row.id[:8]} · {when} · {row.message_count} message{'' if row.message_count == 1 else 's'}"
    preview = row.preview[:200]  # one line of words already
    return Content.assemble(("● " if current else "  ", "$accent"), (title, "bold"), "\n  ",
                            (about + (f" · {preview}" if preview else ""), "dim"))


class SavedConversations(Protocol):
    """Where the screen lists, renames and deletes conversations (the chat's ``ChatPersistence``)."""

    @property
    def current_id(self) -> str | None:
        """The id of the conversation shown, once saved."""
        ...

    async def with_store(self, job: Callable[[ConversationStore], T]) -> T:
        """``job(store)`` off the UI thread; ``StoreError`` if there is no store."""
        ...

    async def delete(self, conversation_id: str) -> None:
        """Delete a saved conversation."""
        ...


class HistoryScreen(ModalScreen[str | None]):
    """Pick a saved conversation; dismisses with its id (to open it), or None."""

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen #history-dialog {
        width: 90%; max-width: 120; height: 85%; padding: 0 1;
        background: $surface; border: thick $primary; border-title-style: bold;
    }
    HistoryScreen #history-rename, HistoryScreen #history-empty { display: none; }
    HistoryScreen.-renaming #history-rename { display: block; }
    HistoryScreen #history-list { height: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    HistoryScreen.-empty #history-list { display: none; }
    HistoryScreen.-empty #history-empty { display: block; height: 1fr; padding: 1 2; color: $text-muted; }
    HistoryScreen #history-help { height: 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("up", "move(-1)", "Up", show=False, priority=True),
        Binding("down", "move(1)", "Down", show=False, priority=True),
        Binding("ctrl+r", "rename", "Rename", priority=True),
        Binding("ctrl+d", "delete", "Delete", priority=True),
    ]

    def __init__(self, persistence: SavedConversations) -> None:
        super().__init__()
        self.persistence = persistence
        """Where the conversations are read, renamed and deleted."""
        self.rows: list[ConversationSummary] = []
        """The conversations listed now."""
        self.renaming: str | None = None
        """The id of the conversation being renamed, if any."""
        self.listed: str | None = None
        """The search the list shows the matches of (None until first listed)."""
        self._open_when_listed = False

    def compose(self) -> ComposeResult:
        with Vertical(id="history-dialog") as dialog:
            dialog.border_title = "Conversations"
            yield Input(placeholder="Search conversations…", id="history-search")
            yield Input(placeholder="New title", id="history-rename")
            yield OptionList(id="history-list")
            yield Static("", id="history-empty", markup=False)
            yield Static(HELP, id="history-help", markup=False)

    def on_mount(self) -> None:
        self.query_one("#history-search", Input).focus()
        self.reload()

    @property
    def search(self) -> str:
        """The text searched for."""
        return self.query_one("#history-search", Input).value.strip()

    @property
    def highlighted(self) -> ConversationSummary | None:
        """The conversation under the cursor."""
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and 0 <= index < len(self.rows) else None

    @work(exclusive=True, group="history-list", exit_on_error=False)
    async def reload(self) -> None:
        """List the conversations matching the search (newest first), keeping the cursor where it was."""
        search = self.search
        previous = self.highlighted
        try:
            rows = await self.persistence.with_store(lambda store: store.list_conversations(LIMIT, search or None))
        except StoreError as exc:
            rows, empty = [], f"Cannot read the history: {exc}"
        else:
            empty = f"No conversation contains {search!r}." if search else "No saved conversations yet."
        self.rows = rows
        current = self.persistence.current_id
        options = self.query_one(OptionList)
        options.set_options([Option(summary_prompt(row, row.id == current), id=row.id) for row in rows])
        ids = [row.id for row in rows]
        if rows:
            options.highlighted = ids.index(previous.id) if previous and previous.id in ids else 0
        self.query_one("#history-empty", Static).update("" if rows else empty)
        self.set_class(not rows, "-empty")
        self.listed = search
        if self._open_when_listed and search == self.search:
            self.action_open()

    @on(Input.Changed, "#history-search")
    def _search_changed(self) -> None:
        self.reload()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "rename", "delete"):
            return self.renaming is None and bool(self.rows)
        return True

    def action_move(self, step: int) -> None:
        """Move the cursor in the list (the search keeps the focus)."""
        options = self.query_one(OptionList)
        if step < 0:
            options.action_cursor_up()
        else:
            options.action_cursor_down()

    @on(Input.Submitted, "#history-search")
    def action_open(self) -> None:
        """Open the conversation under the cursor; with a search typed that the list does not show yet, the
        first match once it does (not the row that happened to be under the cursor)."""
        self._open_when_listed = self.listed != self.search
        if self._open_when_listed:
            return
        row = self.highlighted
        if row is not None:
            self.dismiss(row.id)

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_close(self) -> None:
        """Close (or, while renaming, stop renaming)."""
        if self.renaming is not None:
            self._end_rename()
        else:
            self.dismiss(None)

    def action_rename(self) -> None:
        """Edit the title of the conversation under the cursor."""
        row = self.highlighted
        if row is None:
            return
        self.renaming = row.id
        rename = self.query_one("#history-rename", Input)
        rename.value = one_line(row.title or "")  # the title as it is, to edit
        rename.border_title = "Rename · enter saves · esc cancels"
        self.add_class("-renaming")
        rename.focus()
        self.refresh_bindings()

    def _end_rename(self) -> None:
        self.renaming = None
        self.remove_class("-renaming")
        self.query_one("#history-search", Input).focus()
        self.refresh_bindings()

    @on(Input.Submitted, "#history-rename")
    async def _renamed(self, event: Input.Submitted) -> None:
        event.stop()
        conversation_id = self.renaming
        self._end_rename()
        if conversation_id is None or not event.value.strip():
            return
        try:
            await self.persistence.with_store(lambda store: store.rename(conversation_id, event.value))
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.reload()

    def action_delete(self) -> None:
        """Delete the conversation under the cursor, after a yes."""
        row = self.highlighted
        if row is None:
            return
        title = one_line(row.title or row.preview, markdown=True) or row.id[:8]
        question = f"Delete “{title}” ({row.message_count} messages)? This cannot be undone."
        self.app.push_screen(ConfirmScreen(question, yes="Delete"), partial(self._delete_answered, row.id))

    async def _delete_answered(self, conversation_id: str, yes: bool | None) -> None:
        if not yes:
            return
        try:
            await self.persistence.delete(conversation_id)
        except StoreError as exc:
            self.notify(str(exc), severity="error", markup=False)
        self.reload()
