"""The streaming block splitter (no UI): where blocks end, however the text is chunked."""

from __future__ import annotations

import random

import pytest

from streamchat.markdown import Block, BlockSplitter, Closed, Merged, apply_op, split_blocks


def streamed(text: str, seed: int = 0, sizes: tuple[int, int] = (1, 9), **limits: int) -> tuple[list[Block], int]:
    """Feed ``text`` in random chunks; the closed blocks in the end, and the longest tail seen on the way."""
    splitter = BlockSplitter(**limits)
    rng = random.Random(seed)
    blocks: list[Block] = []
    longest = 0
    start = 0
    while start < len(text):
        end = start + rng.randint(*sizes)
        for op in splitter.feed(text[start:end]):
            apply_op(blocks, op)
        tail = splitter.tail
        longest = max(longest, len(tail.source) if tail else 0)
        start = end
    for op in splitter.finish():
        apply_op(blocks, op)
    return blocks, longest


def sources(blocks: list[Block]) -> list[str]:
    return [block.source for block in blocks]


MIXED = (
    "# Title\nIntro line one\nline two\n\n"
    "- a\n- b\n\n  more of b\n\n- c\n\n"
    "```py\nx = 1\n\ny = 2\n```\n"
    "After the fence\n"
    "| a | b |\n|--:|---|\n| 1 | 2 |\n\n"
    "> quoted\n\nEnd"
)


def test_blocks_end_at_blank_lines_fences_tables_and_headings() -> None:
    assert sources(split_blocks(MIXED)) == [
        "# Title",
        "Intro line one\nline two",
        "- a\n- b\n\n  more of b",  # an indented line after a blank carries on the list item
        "- c",
        "```py\nx = 1\n\ny = 2\n```",  # a blank line inside a fence does not end it
        "After the fence",
        "| a | b |\n|--:|---|\n| 1 | 2 |",  # a table interrupts the paragraph above it
        "> quoted",
        "End",
    ]
    assert not any(block.joined for block in split_blocks(MIXED))


@pytest.mark.parametrize("seed", range(12))
def test_any_chunking_gives_the_same_blocks(seed: int) -> None:
    assert streamed(MIXED, seed)[0] == split_blocks(MIXED)


def test_a_fence_in_the_tail_hides_what_may_be_its_closer() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("Intro\n\n```python\nprint(1)\n``") == [Closed(Block("Intro"))]
    assert splitter.tail == Block("```python\nprint(1)")  # "``" may become the closing fence: not shown as code
    assert splitter.feed("`\nAfter") == [Closed(Block("```python\nprint(1)\n```"))]
    assert splitter.tail == Block("After")


def test_the_tail_is_the_open_block_with_its_unfinished_line() -> None:
    splitter = BlockSplitter()
    assert splitter.feed("First paragraph\nwith two lines") == []
    assert splitter.tail == Block("First paragraph\nwith two lines")
    assert splitter.feed("\n\n") == []  # after a blank line the block may go on (an indented line)...
    assert splitter.tail == Block("First paragraph\nwith two lines")
    closed = [Closed(Block("First paragraph\nwith two lines"))]
    assert splitter.feed("Se") == closed  # ...and is done as soon as a line starts unindented
    assert splitter.tail == Block("Se")
    assert splitter.feed("cond one\n") == []
    assert splitter.tail == Block("Second one")
    assert splitter.finish() == [Closed(Block("Second one"))] and splitter.tail is None
    splitter = BlockSplitter()
    assert splitter.feed("- item\n\n  more") == []  # indented: the list item goes on
    assert splitter.tail == Block("- item\n\n  more")


def test_an_unclosed_fence_is_closed_by_finish() -> None:
    assert sources(split_blocks("text\n```python\nprint(1)\nstill open")) == [
        "text", "```python\nprint(1)\nstill open"]


def test_a_pipe_line_that_is_not_a_table_stays_prose() -> None:
    assert sources(split_blocks("a | b\nmore text\n\n| lonely | row |")) == ["a | b\nmore text", "| lonely | row |"]


def test_a_long_block_is_cut_into_parts_while_open_and_handed_over_whole() -> None:
    items = "".join(f"- item number {i}\n" for i in range(400))
    text = f"{items}\nAfter\n"
    splitter = BlockSplitter(part_chars=500)
    ops = splitter.feed(text)
    closed = [op for op in ops if isinstance(op, Closed)]
    assert len(closed) > 10 and all(len(op.block.source) < 600 for op in closed)
    assert [op.block.joined for op in closed] == [False] + [True] * (len(closed) - 1)
    merged = [op for op in ops if isinstance(op, Merged)]
    assert merged == [Merged(len(closed), Block(items.rstrip("\n")))]  # the whole list, rendered once, at its end
    assert split_blocks(text, BlockSplitter(part_chars=500)) == [Block(items.rstrip("\n")), Block("After")]


def test_a_cut_fence_repeats_its_opener_and_is_closed_in_every_part() -> None:
    code = "".join(f"line_{i} = {i}\n" for i in range(300))
    splitter = BlockSplitter(part_chars=400, merge_code_chars=100)  # too big to merge: the parts stay
    blocks: list[Block] = []
    for op in splitter.feed(f"```python\n{code}```\n") + splitter.finish():
        apply_op(blocks, op)
    assert len(blocks) > 5
    assert all(block.source.startswith("```python\n") for block in blocks)
    assert all(block.source.endswith("```") for block in blocks)
    lines = [line for block in blocks for line in block.source.split("\n") if not line.startswith("```")]
    assert lines == code.rstrip("\n").split("\n")  # every line once, in order


def test_a_cut_table_repeats_its_header() -> None:
    rows = "".join(f"| r{i} | {i} |\n" for i in range(200))
    blocks: list[Block] = []
    splitter = BlockSplitter(part_chars=300, merge_code_chars=100)
    for op in splitter.feed(f"| name | value |\n|---|--:|\n{rows}\n") + splitter.finish():
        apply_op(blocks, op)
    assert len(blocks) > 5 and all(block.source.startswith("| name | value |\n|---|--:|\n") for block in blocks)


def test_a_paragraph_with_no_line_break_keeps_a_small_tail() -> None:
    text = "word " * 5_000 + "\n\nEnd"
    blocks, longest = streamed(text, sizes=(3, 40), line_part_chars=1000)
    assert longest < 1100  # the open part never grows with the paragraph
    assert sources(blocks) == ["word " * 5_000, "End"]  # whole once it ended (under MERGE_CHARS)
    blocks, _ = streamed(text, sizes=(3, 40), line_part_chars=1000, merge_chars=10_000)
    assert len(blocks) > 20 and all(block.joined for block in blocks[1:-1]) and not blocks[-1].joined
    assert "".join(block.source for block in blocks[:-1]) == "word " * 5_000


def test_every_character_survives_any_chunking_and_any_cut() -> None:
    rng = random.Random(7)
    pieces = ["# H\n", "para " * 50 + "\n", "\n", "```\ncode\n" * 3 + "```\n", "| a | b |\n|---|---|\n| 1 | 2 |\n",
              "- x\n  - y\n", "> q\n", "    indented\n", "word" * 300 + "\n"]
    text = "".join(rng.choice(pieces) for _ in range(300))
    for seed in range(4):
        blocks, _ = streamed(text, seed, part_chars=300, merge_chars=50, line_part_chars=200, merge_code_chars=50)
        shown = "".join(block.source for block in blocks)
        assert sorted(text.replace("\n", "").replace("`", "")) == sorted(shown.replace("\n", "").replace("`", ""))
