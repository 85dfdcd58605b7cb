"""What the conversation list shows of a conversation: its title and preview read as words, not Markdown."""

from __future__ import annotations

from pathlib import Path

from streamchat.messages import ChatMessage
from streamchat.store.database import ConversationStore, make_title

ANSWER = """# Heading One

## Heading Two

Setext heading
==============

1. Item
   - **bold** `code` [a link](http://x)

| L | C |
|:--|:-:|
| a | b |

---

***

> quoted line
```python
print("x")
```
END"""


def test_the_preview_and_the_title_are_the_words_on_every_line_not_the_marks(tmp_path: Path) -> None:
    with ConversationStore(tmp_path) as store:
        cid = store.create_conversation()
        store.save_messages(cid, [ChatMessage(role="user", content="# Plan\n\n1. first `step`\n2. second"),
                                  ChatMessage(role="assistant", content=ANSWER, status="complete")])
        [row] = store.list_conversations()
        title = store.load(cid).title
    assert len(ANSWER) < 200, "the preview is the first 200 characters"
    assert row.preview == ('Heading One Heading Two Setext heading Item bold code a link L C a b quoted line '
                           'print("x") END')
    assert title == row.title == "Plan first step second"


def test_a_title_keeps_its_words_and_is_cut_at_a_word() -> None:
    assert make_title("## What does **this** regex do?\n\n```\n^a+$\n```") == "What does this regex do? ^a+$"
    assert make_title("word " * 30).endswith("…") and len(make_title("word " * 30)) <= 61
