"""What Enter in the prompt does: run a ``/`` command, or send the prompt, with the files it names, in place of
the prompt being edited if one is, once there is room for it in the model's context (else the ways out first)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from streamchat.ui.chat.commands import as_sent
from streamchat.ui.chat.host import STILL_ANSWERING

if TYPE_CHECKING:
    from streamchat.ui.chat.attach import Attacher
    from streamchat.ui.chat.branches import BranchActions
    from streamchat.ui.chat.context import ContextWatch
    from streamchat.ui.chat.host import ChatHost
    from streamchat.ui.chat.slash import SlashCommands
    from streamchat.ui.widgets.prompt import Prompt


class Submitter:
    """Takes what the user sent from the prompt of ``chat`` to the helper it is for."""

    def __init__(self, chat: ChatHost, slash: SlashCommands, attacher: Attacher, branches: BranchActions,
                 context: ContextWatch) -> None:
        self.chat = chat
        """The chat the prompt belongs to."""
        self._slash, self._attacher, self._branches, self._context = slash, attacher, branches, context

    async def submitted(self, prompt: Prompt, text: str, sent_at: float) -> None:
        """``text`` was sent from ``prompt`` at ``sent_at`` (on the chat's clock: the turn's figures count from it).

        Whatever cannot go yet (a turn runs, a file is refused, the ways out are offered) stays in the prompt."""
        chat = self.chat
        if await self._slash.submitted(prompt, text):
            return
        if chat.turn_running:
            chat.notify(STILL_ANSWERING, severity="warning")
            return
        attachments = self._attacher.gather(text)
        if attachments is None:
            return  # a file named cannot go (it said why)

        async def send(at: float = sent_at) -> None:
            prompt.remember(text)
            prompt.clear()
            await chat.send(as_sent(text), sent_at=at, attachments=attachments)

        edited_from = await self._branches.show_edit_base() if self._branches.editing is not None else None
        if self._context.fits(as_sent(text), attachments):
            await send()
        else:  # the figures of a turn sent after a way out is chosen count from then
            cancelled = (lambda: self._branches.show_again(edited_from)) if edited_from is not None else None
            self._context.offer(as_sent(text), attachments, lambda: send(chat.clock()), cancelled)
