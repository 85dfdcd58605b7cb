"""Edit and branch: the actions on the focused message that change which branch of the conversation is shown.

The conversation is a tree (``ConversationTree``): editing a prompt and sending it, or regenerating an
answer, adds a sibling of the message it replaces, and the old continuation stays. A message with
siblings shows ``‹ 2/3 ›`` and ←/→ on it flips between them. Whatever changes the branch shown
changes the history the next request sends, the view (from that message down) and the saved
conversation's branch (``ChatPersistence.branch_shown``), which the history list, ``--continue`` and
exports follow. Fork copies the branch down to a message into a new conversation; delete takes a
message and everything below it out, after a yes. None of it runs while a turn does.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from streamchat.messages import ChatMessage
from streamchat.tree import ConversationTree
from streamchat.ui.screens.confirm import ConfirmScreen
from streamchat.ui.widgets.conversation import ConversationView
from streamchat.ui.widgets.earlier import EarlierMessages, split_recent
from streamchat.ui.widgets.message import MessageEntry, Note, UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.saved import conversation_widgets, last_turn
from streamchat.ui.widgets.turn import AssistantTurn

if TYPE_CHECKING:
    from textual.widget import Widget

    from streamchat.ui.chat.host import ChatHost

ACTIONS = frozenset({"edit", "regenerate", "fork", "delete", "previous_branch", "next_branch"})
"""The actions here, as ``app.action_message`` names them."""

EDITING = "Editing a prompt: enter sends it as a new branch (the old one stays) · esc cancels"
"""The prompt's title while it holds a prompt being edited."""


class BranchActions:
    """Edit, regenerate, fork, delete and flip between branches in ``chat``."""

    def __init__(self, chat: ChatHost) -> None:
        self.chat = chat
        """The chat whose conversation branches."""
        self.editing: ChatMessage | None = None
        """The prompt being edited in the prompt box, if one is: sending it starts a branch in its place."""
        self._stashed = ""

    @property
    def conversation(self) -> ConversationView:
        """The conversation on screen."""
        return self.chat.app.query_one(ConversationView)

    def allows(self, name: str, entry: MessageEntry) -> bool | None:
        """Whether action ``name`` applies to ``entry`` (None: it does, but not while a turn runs)."""
        message = entry.message
        if message is None or message.id not in self.chat.conversation_tree:
            return False
        if name == "edit" and not isinstance(entry, UserMessage):
            return False
        if name == "regenerate" and not isinstance(entry, AssistantTurn):
            return False
        if name in ("previous_branch", "next_branch"):
            position = self.chat.conversation_tree.position(message)
            if position is None or position[0] == (1 if name == "previous_branch" else position[1]):
                return False
        return None if self.chat.turn_running else True

    async def run(self, name: str, entry: MessageEntry) -> None:
        """Run action ``name`` on ``entry`` (when ``allows`` says it applies)."""
        if not self.allows(name, entry):
            return
        if name == "edit":
            self.edit(entry)
        elif name == "regenerate":
            await self.regenerate(entry)
        elif name == "fork":
            await self.fork(entry)
        elif name == "delete":
            self.delete(entry)
        else:
            await self.switch(entry, -1 if name == "previous_branch" else 1)

    # -- the branch shown

    def _show_branch(self, path: list[ChatMessage]) -> None:
        """The history becomes the system prompt and ``path``; the saved conversation follows."""
        chat = self.chat
        chat.history = [*(m for m in chat.history if m.role == "system"), *path]
        chat.persistence.branch_shown(path[-1] if path else None)

    async def _replace_from(self, entry: MessageEntry | None, messages: list[ChatMessage]) -> list[Widget]:
        """The view from ``entry`` down gives way to widgets for ``messages`` (without ``entry``: the whole view
        shows the history again); returns the widgets mounted."""
        view = self.conversation
        children = list(view.children)
        if entry is None or entry not in children:
            await view.remove_children()
            widgets = conversation_widgets(self.chat.history, self.chat.clock)
            earlier, recent = split_recent(widgets)
            await view.mount_all([EarlierMessages(earlier), *recent] if earlier else recent)
        else:
            await view.remove_children(children[children.index(entry):])
            widgets = conversation_widgets(messages, self.chat.clock)
            await view.mount_all(widgets)
        self.refresh_marks()
        self.chat.context_changed()
        shown = widgets or [w for w in view.children if isinstance(w, MessageEntry)]  # nothing new: what is left
        self.chat.set_last_turn(*last_turn(self.chat.history, shown))
        self.chat.app.refresh_bindings()
        return widgets

    def refresh_marks(self) -> None:
        """Every message shown says ``‹ 2/3 ›`` when it has siblings (those not mounted yet included)."""
        tree = self.chat.conversation_tree
        view = self.conversation
        first = view.children[0] if view.children else None
        waiting = first.waiting if isinstance(first, EarlierMessages) else []
        for widget in [*waiting, *view.children]:
            if isinstance(widget, MessageEntry) and widget.message is not None:
                widget.set_branch(tree.position(widget.message))

    def _focus_first(self, widgets: list[Widget]) -> None:
        """The first message of ``widgets`` gets the focus, where the one it replaced was (none: the prompt)."""
        entry = next((widget for widget in widgets if isinstance(widget, MessageEntry)), None)
        if entry is None:
            self.chat.app.query_one(Prompt).focus()
        else:
            entry.focus(scroll_visible=False)
            self.conversation.scroll_to_center(entry, animate=False, origin_visible=True)

    async def switch(self, entry: MessageEntry, step: int) -> None:
        """Show the previous (``step`` -1) or next sibling of ``entry``'s message, and the branch below it."""
        tree = self.chat.conversation_tree
        message = entry.message
        assert message is not None
        siblings = tree.siblings(message)
        index = siblings.index(message) + step
        if not 0 <= index < len(siblings):
            return
        path = tree.path(tree.leaf_under(siblings[index]).id)
        self._show_branch(path)
        self._focus_first(await self._replace_from(entry, path[[m.id for m in path].index(siblings[index].id):]))

    # -- edit and resend

    def edit(self, entry: MessageEntry) -> None:
        """Put ``entry``'s prompt in the prompt box: sending it starts a new branch in its place."""
        message = entry.message
        assert message is not None
        prompt = self.chat.app.query_one(Prompt)
        if self.editing is None:
            self._stashed = prompt.text
        self.editing = message
        prompt.load_text(message.content)
        prompt.move_cursor(prompt.document.end)
        prompt.border_title = EDITING
        prompt.focus()
        self.chat.app.refresh_bindings()

    def cancel_edit(self, *, restore: bool = True) -> None:
        """Stop editing (``restore``: the prompt box gets back what was typed before)."""
        if self.editing is None:
            return
        self.editing = None
        prompt = self.chat.app.query_one(Prompt)
        prompt.border_title = None
        if restore:
            prompt.load_text(self._stashed)
            prompt.move_cursor(prompt.document.end)
        self._stashed = ""
        self.chat.app.refresh_bindings()

    async def show_edit_base(self) -> list[ChatMessage]:
        """The edit is being sent: show the branch it goes on (down to the edited prompt's parent, so what is
        measured, sent, dropped or summarized is that branch), the edit ended; returns the branch shown before, for
        ``show_again`` should the prompt not go after all. A prompt sent now is a sibling of the one edited."""
        edited = self.editing
        before = [m for m in self.chat.history if m.role != "system"]
        self.cancel_edit(restore=False)
        tree = self.chat.conversation_tree
        if edited is not None and edited.id in tree:
            parent = tree.get(edited.parent_id) if edited.parent_id is not None else None
            self._show_branch(tree.path(parent.id) if parent is not None else [])
            await self._replace_from(self._widget_of(edited), [])
        return before

    async def show_again(self, branch: list[ChatMessage]) -> None:
        """Show ``branch`` (from ``show_edit_base``) again, every message of it."""
        tree = self.chat.conversation_tree
        self._show_branch(tree.path(branch[-1].id) if branch and branch[-1].id in tree else [])
        await self._replace_from(None, [])

    def _widget_of(self, message: ChatMessage) -> MessageEntry | None:
        return next((child for child in self.conversation.children
                     if isinstance(child, MessageEntry) and child.message is not None
                     and child.message.id == message.id), None)

    # -- regenerate, fork, delete

    async def regenerate(self, entry: MessageEntry) -> None:
        """Answer ``entry``'s prompt again: the new answer is a sibling of this one, which stays."""
        tree = self.chat.conversation_tree
        first = entry.message
        user = tree.get(first.parent_id) if first is not None and first.parent_id is not None else None
        if user is None:
            self.chat.notify("This answer has no prompt to answer again.", severity="warning")
            return
        self._show_branch(tree.path(user.id))
        await self._replace_from(entry, [])
        self.chat.app.query_one(Prompt).focus()
        self.conversation.follow()
        self.chat.start_turn(None, user=user)

    async def fork(self, entry: MessageEntry) -> None:
        """A new conversation with the branch down to ``entry`` (a prompt: down to before it, the prompt in the
        prompt box to send or change); the conversation it comes from stays as it is."""
        chat = self.chat
        message = entry.message
        assert message is not None
        if isinstance(entry, UserMessage):
            last, prompt_text = message.parent_id, message.content
        else:  # an answer: down to its turn's last message
            last = entry.messages[-1].id if isinstance(entry, AssistantTurn) and entry.messages else message.id
            prompt_text = None
        copied = [replace(m) for m in chat.conversation_tree.path(last)]
        system = [replace(m) for m in chat.history if m.role == "system"]
        origin = chat.persistence.current_id
        await chat.action_new_chat()
        chat.history = [*system, *copied]
        chat.conversation_tree = ConversationTree(copied)
        if copied:  # a fork at the first prompt has nothing to keep yet: saved when its prompt is sent
            chat.persistence.save_all(chat.history)
        await self._replace_from(None, copied)
        where = f"conversation {origin[:8]}" if origin else "the conversation before"
        view = self.conversation
        await view.mount(Note(f"Forked from {where}, which stays as it was.", classes="history-note"),
                         before=0 if view.children else None)
        view.follow()
        if prompt_text is not None:
            prompt = chat.app.query_one(Prompt)
            prompt.load_text(prompt_text)
            prompt.move_cursor(prompt.document.end)
        chat.app.query_one(Prompt).focus()

    def delete(self, entry: MessageEntry) -> None:
        """After a yes, take ``entry``'s message and everything below it (on every branch) out of the conversation."""
        message = entry.message
        assert message is not None
        doomed = self.chat.conversation_tree.subtree(message)
        shown = {m.id for m in self.chat.history}
        hidden = sum(1 for m in doomed if m.id not in shown)
        what = "prompt" if isinstance(entry, UserMessage) else "answer"
        more = f", {hidden} of them on other branches" if hidden else ""
        question = (f"Delete this {what} and everything after it ({len(doomed)} message"
                    f"{'' if len(doomed) == 1 else 's'}{more})? This cannot be undone.")

        async def answered(yes: bool | None) -> None:
            if yes and not self.chat.turn_running:
                await self._delete(entry, message, doomed)

        self.chat.app.push_screen(ConfirmScreen(question, yes="Delete"), answered)

    async def _delete(self, entry: MessageEntry, message: ChatMessage, doomed: list[ChatMessage]) -> None:
        chat = self.chat
        tree = chat.conversation_tree
        siblings = tree.siblings(message)
        index = siblings.index(message)
        others = siblings[:index][-1:] or siblings[index + 1:][:1]  # the version shown instead, if there is one
        tree.remove(doomed)
        chat.persistence.forget(doomed, emptied=not len(tree))  # nothing left: not kept as an empty conversation
        if others:
            path = tree.path(tree.leaf_under(others[0]).id)
            tail = path[[m.id for m in path].index(others[0].id):]
        else:
            path = tree.path(message.parent_id) if message.parent_id is not None else []
            tail = []
        self._show_branch(path)
        widgets = await self._replace_from(entry, tail)
        self._focus_first(widgets)
        chat.notify(f"Deleted {len(doomed)} message{'' if len(doomed) == 1 else 's'}.", markup=False)
