"""The chat's commands and keys: one table behind the ``/`` commands, the command palette and /help; parsing them."""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding

from streamchat.markdown.code import code_blocks


@dataclass(frozen=True)
class ChatCommand:
    """One command: how it is typed, how the palette shows it, what the palette runs."""

    usage: str
    """How it is typed in the prompt, e.g. ``/model NAME``."""
    title: str
    """Its name in the command palette."""
    help: str
    """One line saying what it does."""
    line: str
    """The prompt line the palette runs; one ending in a space is put in the prompt to be completed."""


CHAT_COMMANDS: tuple[ChatCommand, ...] = (
    ChatCommand("/new", "New chat", "Clear the conversation and its context", "/new"),
    ChatCommand("/system [TEXT]", "System prompt…", "Set the system prompt (no text: open the editor)", "/system"),
    ChatCommand("/model [NAME]", "Choose profile or model…",
                "Ask another model from the next turn on (no name: pick a profile or a server's model)", "/model"),
    ChatCommand("/profile [NAME]", "Switch profile…", "Talk to another profile of the config file from the next "
                "turn on", "/profile "),
    ChatCommand("/tools [on|off]", "Toggle tools", "Offer the tools to the model, or not (remembered)", "/tools"),
    ChatCommand("/theme [NAME]", "Change theme…", "Pick a colour theme", "/theme"),
    ChatCommand("/copy", "Copy last answer", "Send the last answer to the terminal's clipboard (OSC 52)", "/copy"),
    ChatCommand("/copy code", "Copy last code block",
                "Send the last fenced code block of the last answer to the terminal's clipboard", "/copy code"),
    ChatCommand("/copy file", "Copy last answer to a file",
                "Write the last answer to streamchat-answer.md here (/copy code file: streamchat-code.txt)",
                "/copy file"),
    ChatCommand("/retry", "Retry last turn", "Run the last prompt again", "/retry"),
    ChatCommand("/continue", "Continue answer", "Ask the model to carry on from where its answer broke off",
                "/continue"),
    ChatCommand("/compact", "Compact the conversation", "Have the model summarize the conversation; from then on "
                "it is sent the summary instead of the turns before", "/compact"),
    ChatCommand("/drop", "Drop the oldest turns", "Leave the oldest turns out of what is sent (they stay here, "
                "marked), down to half the model's context window", "/drop"),
    ChatCommand("/history", "Open conversation…", "List saved conversations: search, open, rename, delete",
                "/history"),
    ChatCommand("/export [md|json]", "Export conversation (Markdown)",
                "Write the conversation to streamchat-<id>.md (or .json) here", "/export md"),
    ChatCommand("/export json", "Export conversation (JSON)", "Write the conversation to streamchat-<id>.json here",
                "/export json"),
    ChatCommand("/race [PROMPT]", "Race streaming vs blocking",
                "Send a prompt (default: the last one) streaming and blocking at once, side by side", "/race"),
    ChatCommand("/help", "Help", "List commands and keys", "/help"),
    ChatCommand("/quit", "Quit", "Leave streamchat", "/quit"),
)
"""Every chat command, in the order /help lists them."""

KEYS: tuple[tuple[str, str], ...] = (
    ("enter", "send the prompt"),
    ("ctrl+j / alt+enter", "new line in the prompt (also shift+enter if the terminal reports it)"),
    ("up / down", "recall earlier prompts (in an empty prompt)"),
    ("esc", "stop the answer (while it streams)"),
    ("ctrl+r", "retry the last turn"),
    ("ctrl+b", "retry without streaming (after a stream failed before any token)"),
    ("ctrl+n", "new chat"),
    ("ctrl+o", "saved conversations: search, open, rename (ctrl+r), delete (ctrl+d)"),
    ("ctrl+e", "continue the answer (after it was stopped, cut off, or broke off with an error)"),
    ("ctrl+l", "choose the profile or model (the server's list, fetched in the background)"),
    ("ctrl+t", "race the prompt typed (or the last one) streaming vs blocking (in the pane: r again, esc back)"),
    ("alt+up", "move from the prompt to the messages (the last one); a click on a message does too"),
    ("up / down, k / j", "on a message: step to the previous / next one (down past the last: back to the prompt)"),
    ("esc / typing", "on a message: back to the prompt (esc also stops an answer that streams)"),
    ("c / x", "on a message: copy it as Markdown / copy one of its code blocks (a list when there are several)"),
    ("e", "on a prompt: edit it in the prompt box; enter sends it as a new branch (the old one stays), esc cancels"),
    ("r", "on an answer: answer the prompt again (a new version beside this one)"),
    ("left / right, h / l", "on a message with other versions (‹ 2/3 ›): show the previous / next one"),
    ("f / d", "on a message: fork a new conversation from here / delete it and everything after it (asks first)"),
    ("end", "follow the conversation again (after scrolling up)"),
    ("pgup / pgdn", "scroll the conversation"),
    ("enter / click", "on a tool row: show its arguments and result"),
    ("y / c / a / n", "on a tool row that asks: allow once / for this chat / always (saved) / deny with a reason"),
    ("ctrl+p", "command palette"),
    ("ctrl+q", "quit"),
)
"""The key bindings, for /help and the README."""

MESSAGE_BINDINGS: tuple[Binding, ...] = (
    Binding("escape", "message('back')", "Back", priority=True),
    Binding("up,k", "message('up')", "Previous", show=False, priority=True),
    Binding("down,j", "message('down')", "Next", show=False, priority=True),
    Binding("c", "message('copy')", "Copy", priority=True),
    Binding("x", "message('copy_code')", "Copy code", priority=True),
    Binding("e", "message('edit')", "Edit", priority=True),
    Binding("r", "message('regenerate')", "Regenerate", priority=True),
    Binding("left,h", "message('previous_branch')", "‹ Version", priority=True),
    Binding("right,l", "message('next_branch')", "Version ›", priority=True),
    Binding("f", "message('fork')", "Fork", priority=True),
    Binding("d", "message('delete')", "Delete…", priority=True),
    Binding("escape", "message('cancel_edit')", "Cancel edit", priority=True),
)
"""The keys of the message with the focus (``app.action_message(name)``; shown only while a message has it)."""

CHAT_BINDINGS: tuple[Binding, ...] = (
    *MESSAGE_BINDINGS,  # first: with a message focused, the footer shows its keys before the chat's
    Binding("escape", "stop", "Stop"),
    Binding("ctrl+r", "retry", "Retry"),
    Binding("ctrl+b", "retry_blocking", "Retry without streaming"),
    Binding("ctrl+n", "new_chat", "New chat"),
    Binding("ctrl+t", "race", "Race streaming vs blocking", show=False),
    Binding("ctrl+o", "history", "History", show=False),
    Binding("ctrl+l", "pick_model", "Model", show=False),
    Binding("ctrl+e", "continue_answer", "Continue answer", priority=True),
    Binding("end", "follow", "Follow", priority=True),
    Binding("pageup", "scroll_conversation(-1)", "Page up", show=False, priority=True),
    Binding("pagedown", "scroll_conversation(1)", "Page down", show=False, priority=True),
    Binding("alt+up", "message('enter')", "Messages", show=False, priority=True),
)
"""The chat's key bindings (``KEYS`` says them for /help and the README)."""

CHAT_ONLY_ACTIONS = frozenset({"retry", "retry_blocking", "new_chat", "race", "history", "continue_answer", "follow",
                               "scroll_conversation", "pick_model", "message"})
"""Actions that act on the chat, so they are off while another screen is on top of it."""

def parse_slash(text: str) -> tuple[str, str] | None:
    """``("model", "gpt-4o")`` for ``/model gpt-4o``; None when the text is not a command (``//`` escapes)."""
    if not text.startswith("/") or text.startswith("//"):
        return None
    name, _, argument = text[1:].partition(" ")
    return name.strip().lower(), argument.strip()


def as_sent(text: str) -> str:
    """A prompt as the model gets it: a leading ``//`` stands for a line that starts with ``/``."""
    return text[1:] if text.startswith("//") else text


def last_code_block(text: str) -> str | None:
    """The body of the last fenced code block in Markdown ``text``, at any indentation (in a list item, a
    quote), if any; an unclosed one counts."""
    blocks = code_blocks(text)
    return blocks[-1].body if blocks else None


def help_text() -> str:
    """The /help note: commands, then keys."""
    width = max(len(command.usage) for command in CHAT_COMMANDS)
    lines = ["Commands (type them in the prompt, or find them with ctrl+p)"]
    lines += [f"  {command.usage.ljust(width)}  {command.help}" for command in CHAT_COMMANDS]
    key_width = max(len(key) for key, _ in KEYS)
    lines += ["Keys", *(f"  {key.ljust(key_width)}  {description}" for key, description in KEYS)]
    return "\n".join(lines)
