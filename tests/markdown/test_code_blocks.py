"""The fenced code blocks of an answer, at any indentation."""

from __future__ import annotations

from streamchat.markdown.code import CodeBlock, code_blocks


def test_fences_in_list_items_and_quotes_count_without_their_indentation() -> None:
    text = ("1. Install:\n\n   ```sh\n   pip install x\n     --user\n   ```\n\n> ~~~python title\n> print(1)\n> ~~~\n\n"
            "```\nplain\n```\n")
    assert code_blocks(text) == [CodeBlock("sh", "pip install x\n  --user\n"), CodeBlock("python", "print(1)\n"),
                                 CodeBlock("", "plain\n")]
    assert [block.lines for block in code_blocks(text)] == [2, 1, 1]


def test_an_open_fence_runs_to_the_end_and_inline_code_is_not_a_block() -> None:
    assert code_blocks("Stopped in\n```py\nunfinished") == [CodeBlock("py", "unfinished")]
    assert code_blocks("no `code` here, nor ``` inline ```") == []
