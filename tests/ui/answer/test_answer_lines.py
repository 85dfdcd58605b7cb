"""The answer's line cache (no app): each block rendered once, the tail again only when it changed, widths."""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip

from streamchat.markdown import Block, BlockSplitter, Closed, Merged, split_blocks
from streamchat.ui.answer.lines import AnswerLines
from streamchat.ui.answer.render import BlockRenderer


class CountingRenderer:
    """Renders a block as its source lines cut at the width, counting every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def __call__(self, block: Block, width: int, references: dict[str, object]) -> list[Strip]:
        source = block.source
        self.calls.append((source, width))
        pieces = [line[start : start + width]
                  for line in source.split("\n") for start in range(0, len(line) or 1, width)]
        return [Strip([Segment(piece)], len(piece)) for piece in pieces]


def shown(lines: AnswerLines) -> list[str]:
    """Every line, top to bottom (heights may change as blocks render: the total is read each time)."""
    text: list[str] = []
    while len(text) < lines.height:
        strip = lines.line(len(text))
        text.append("" if strip is None else strip.text)
    return text


def test_closed_blocks_render_once_and_only_the_tail_again() -> None:
    render = CountingRenderer()
    lines = AnswerLines(render)
    lines.resize(40)
    splitter = BlockSplitter()
    for piece in ["First para", "graph.\n\n", "Second", " one\n\n", "Thi", "rd"]:  # a frame each
        for op in splitter.feed(piece):
            lines.apply(op)
        lines.set_tail(splitter.tail)
        lines.height  # noqa: B018 - a frame measures the view
    assert shown(lines) == ["First paragraph.", "", "Second one", "", "Third"]
    # The tail each time it changed, and nothing else: a block that closed as it was last drawn keeps its lines.
    assert [source for source, _ in render.calls] == ["First para", "First paragraph.", "Second", "Second one",
                                                       "Thi", "Third"]
    render.calls.clear()
    lines.height  # noqa: B018
    shown(lines)
    assert render.calls == []  # nothing changed: nothing rendered


def test_an_unchanged_tail_is_not_rendered_again() -> None:
    render = CountingRenderer()
    lines = AnswerLines(render)
    lines.resize(40)
    lines.set_tail(Block("Growing"))
    lines.height  # noqa: B018
    lines.set_tail(Block("Growing"))
    lines.height  # noqa: B018
    assert render.calls == [("Growing", 40)]
    lines.set_tail(Block("Growing more"))
    assert lines.height == 1 and render.calls[-1] == ("Growing more", 40)


def test_blocks_are_separated_by_one_blank_line_except_parts_of_one_block() -> None:
    lines = AnswerLines(CountingRenderer())
    lines.resize(40)
    lines.reset([Block("# Heading"), Block("para one"), Block("para two", joined=True), Block("```\ncode\n```")])
    assert shown(lines) == ["# Heading", "", "para one", "para two", "", "```", "code", "```"]


def test_a_reopened_answer_renders_only_what_is_looked_at() -> None:
    render = CountingRenderer()
    lines = AnswerLines(render)
    lines.reset(split_blocks("".join(f"Paragraph {i}.\n\n" for i in range(1000))))
    lines.resize(40)
    assert lines.height == 1999 and render.calls == []  # estimated heights, nothing rendered
    last = lines.line(1998, margin=10)
    assert last is not None and last.text == "Paragraph 999."
    assert 1 <= len(render.calls) <= 12  # the block looked at, and a margin of 10 lines above it


def test_a_width_change_re_renders_lazily_and_keeps_the_text() -> None:
    render = CountingRenderer()
    lines = AnswerLines(render)
    lines.resize(40)
    long_line = "x" * 60
    lines.reset([Block(long_line), Block("short")])
    assert shown(lines) == ["x" * 40, "x" * 20, "", "short"]
    render.calls.clear()
    lines.resize(20)
    assert render.calls == []  # nothing rendered until asked for
    assert shown(lines) == ["x" * 20] * 3 + ["", "short"]
    assert sorted(width for _, width in render.calls) == [20, 20]


def test_a_merged_block_replaces_its_parts() -> None:
    lines = AnswerLines(CountingRenderer())
    lines.resize(80)
    lines.apply(Closed(Block("- a")))
    lines.apply(Closed(Block("- b", joined=True)))
    lines.set_tail(Block("- c", joined=True))
    assert shown(lines) == ["- a", "- b", "- c"]
    lines.apply(Merged(2, Block("- a\n- b\n- c")))
    lines.set_tail(None)
    assert shown(lines) == ["- a", "- b", "- c"]


def test_render_some_renders_the_latest_blocks_first_within_its_budget() -> None:
    render = CountingRenderer()
    lines = AnswerLines(render)
    lines.resize(40)
    for i in range(50):
        lines.apply(Closed(Block(f"block {i}")))
    assert lines.render_some(0.0)  # no time: at most one, and more remain
    assert [source for source, _ in render.calls][:1] == ["block 49"]
    assert not lines.render_some(10.0)
    assert len(render.calls) == 50 and not lines.render_some(10.0) and len(render.calls) == 50


def test_the_real_renderer_draws_markdown_and_never_markup() -> None:
    renderer = BlockRenderer()
    text = [strip.text.rstrip() for strip in renderer.render("[bold]x[/bold] *em* <b>tag</b> [a](http://e.x)", 60)]
    assert text == ["[bold]x[/bold] em <b>tag</b> a (http://e.x)"]
    table = [strip.text.rstrip() for strip in renderer.render("| n | v |\n|---|--:|\n| a | 1 |\n| b | 222 |", 40)]
    assert table[-2:] == ["a    1", "b  222"]  # a right-aligned column (---:) is right-aligned
    code = renderer.render("```python\n" + "value = 1  # " + "comment " * 20 + "\n```", 40)
    assert len(code) > 3 and all(strip.cell_length <= 40 for strip in code)  # wrapped, never cut off
    assert "comment" in code[-1].text


def test_a_later_part_of_a_long_table_does_not_repeat_the_header() -> None:
    renderer = BlockRenderer()
    head = "| name | count |\n|---|--:|\n"
    first = [strip.text.strip() for strip in renderer.render(Block(head + "| a | 1 |"), 40)]
    later = [strip.text.strip() for strip in renderer.render(Block(head + "| b | 22 |", joined=True), 40)]
    assert first[0].split() == ["name", "count"] and len(first) == 3
    assert len(later) == 1 and later[0].split() == ["b", "22"]


def test_a_table_too_wide_for_the_view_becomes_one_paragraph_per_row() -> None:
    columns = [f"column{i}" for i in range(12)]
    source = ("| " + " | ".join(columns) + " |\n|" + "---|" * 12 + "\n"
              + "".join("| " + " | ".join(f"value{row}{col}" for col in range(12)) + " |\n" for row in range(2)))
    narrow = [strip.text.rstrip() for strip in BlockRenderer().render(source, 48)]
    assert narrow[:2] == ["column0: value00", "column1: value01"] and "column11: value111" in narrow
    assert all(strip.cell_length <= 48 for strip in BlockRenderer().render(source, 48))
    wide = [strip.text.rstrip() for strip in BlockRenderer().render(source, 300)]
    assert wide[0].split() == columns  # wide enough: a table


def test_a_reference_link_defined_in_a_later_block_shows_its_url() -> None:
    lines = AnswerLines(BlockRenderer().render)
    lines.resize(80)
    lines.reset(split_blocks("See [the docs][docs] now.\n\nMore text.\n\n[docs]: https://example.com/docs"))
    lines.line(0, margin=100)  # draws the blocks around the first: the definition is found, the first drawn again
    text = [line.text.rstrip() if (line := lines.line(y)) else "" for y in range(lines.height)]
    assert text[0] == "See the docs (https://example.com/docs) now."


def test_a_reference_link_defined_as_the_answer_streams_in_shows_its_url() -> None:
    lines = AnswerLines(BlockRenderer().render)
    lines.resize(80)
    splitter = BlockSplitter()
    for piece in ("See [the docs][docs] now.\n\n", "More text.\n\n[docs]: https://example.com/docs"):
        for op in splitter.feed(piece):
            lines.apply(op)
        lines.set_tail(splitter.tail)
        lines.line(0, margin=100)  # a frame: the tail (the definition, last) is drawn as it streams
    text = [line.text.rstrip() if (line := lines.line(y)) else "" for y in range(lines.height)]
    assert text[0] == "See the docs (https://example.com/docs) now."
