"""AnswerView: a streamed Markdown answer drawn as lines; its cost is the tail plus the screen."""

from __future__ import annotations

from collections import Counter

import pytest
from app_helpers import screen_text, wait_for
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.screen import ModalScreen, Screen
from textual.selection import Selection

from streamchat.markdown import Block, split_blocks
from streamchat.ui.answer import AnswerView
from streamchat.ui.answer.render import BlockRenderer


class AnswerApp(App[None]):
    """One answer view in a scroll view anchored to its bottom, as in the chat."""

    CSS = "VerticalScroll { scrollbar-gutter: stable; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield AnswerView()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


def section(n: int) -> str:
    return (f"## Part {n}\n\nParagraph {n} says **something** about streaming.\n\n"
            f"```python\ndef part_{n}(x):\n    return x * {n}\n```\n\n| key | value |\n|---|--:|\n| part | {n} |\n\n")


def long_answer(parts: int) -> str:
    return "".join(section(n) for n in range(1, parts + 1)) + "THE LAST LINE\n"


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every block source the renderer is asked for, in order."""
    calls: list[str] = []
    render = BlockRenderer.render

    def counted(self: BlockRenderer, block: Block | str, width: int, references: dict[str, object] | None = None,
                ) -> list[object]:
        calls.append(block if isinstance(block, str) else block.source)
        return render(self, block, width, references)  # type: ignore[return-value]

    monkeypatch.setattr(BlockRenderer, "render", counted)
    return calls


async def stream(pilot: Pilot[None], view: AnswerView, text: str, size: int = 7, every: int = 200) -> None:
    """Append ``text`` in pieces of ``size`` characters, letting frames run every ``every`` pieces."""
    for count, start in enumerate(range(0, len(text), size)):
        view.append(text[start : start + size])
        if count % every == 0:
            await pilot.pause(0.01)


async def test_a_long_answer_streams_and_its_last_line_is_on_screen(renders: list[str]) -> None:
    app = AnswerApp()
    text = long_answer(120)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        await stream(pilot, view, text)
        view.finish()
        await wait_for(pilot, lambda: "THE LAST LINE" in screen_text(app), "the last line")  # type: ignore[arg-type]
        assert view.text == text
        shown = screen_text(app)  # type: ignore[arg-type]
        assert "part_120" in shown and "Paragraph 120 says something about streaming." in shown
        # Far fewer renders than fragments, and no finished block rendered twice.
        assert len(renders) < len(text) / 7 / 4
        blocks = {block.source for block in split_blocks(text)}
        assert max(Counter(source for source in renders if source in blocks).values()) == 1
        settled = -1
        while settled != len(renders):  # blocks out of view are rendered in spare time, a few at a time
            settled = len(renders)
            await pilot.pause(0.3)
        assert blocks <= set(renders)
        app.query_one(VerticalScroll).scroll_home(animate=False)
        await pilot.pause(0.1)
        assert "## Part 1" not in screen_text(app) and "Part 1" in screen_text(app)  # type: ignore[arg-type]
        assert len(renders) == settled  # scrolling back renders nothing: every block was rendered once


async def test_a_reopened_long_answer_renders_only_what_is_in_view(renders: list[str]) -> None:
    app = AnswerApp()
    text = long_answer(400)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text(text)
        await wait_for(pilot, lambda: "THE LAST LINE" in screen_text(app), "the last line")  # type: ignore[arg-type]
        assert 0 < len(renders) < 80  # of 1,601 blocks: the screen's and a screen's height around it
        app.query_one(VerticalScroll).scroll_home(animate=False)
        await wait_for(pilot, lambda: "Part 1" in screen_text(app), "the first part")  # type: ignore[arg-type]
        assert len(renders) < 160


async def test_a_resize_rewraps_the_answer() -> None:
    app = AnswerApp()
    paragraph = " ".join(f"word{i}" for i in range(60))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.append(paragraph + "\n\n```\n" + "code " * 30 + "\n```\n")
        view.finish()
        await pilot.pause(0.1)
        wide = view.size.height
        await pilot.resize_terminal(50, 30)
        await pilot.pause(0.2)
        assert view.size.height > wide
        lines = screen_text(app).splitlines()  # type: ignore[arg-type]
        assert all(len(line) <= 50 for line in lines)
        assert "word59" in screen_text(app) and "word0" in screen_text(app)  # type: ignore[arg-type]


async def test_markup_html_and_escape_sequences_stay_literal() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        for fragment in ["[bold]x[/bold] [@click=app.quit]quit[/] <b>html</b> \x1b[2Jcleared\n\n",
                         "clip \x1b]52;c;SGVsbG8=\x07 name \x1b]0;SECRET-TI", "TLE\x07 done and a [link](https://e.x)\n"]:
            view.append(fragment)
            await pilot.pause(0.1)
        view.finish()
        await pilot.pause(0.1)
        shown = screen_text(app)  # type: ignore[arg-type]
        assert "[bold]x[/bold] [@click=app.quit]quit[/] <b>html</b> cleared" in shown
        assert "clip  name  done and a link (https://e.x)" in shown
        assert "SGVsbG8" not in shown and "SECRET" not in shown and "TLE" not in shown
        for x in range(0, 60, 3):
            await pilot.click(AnswerView, offset=(x, 0))
        assert app.is_running and app.return_code is None


async def test_blocks_are_one_blank_line_apart_and_a_wide_fence_wraps() -> None:
    app = AnswerApp()
    async with app.run_test(size=(60, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text("# Title\n\nText.\n\n```python\nx = 1  # " + "long comment " * 8 + "END\n```\n\n| n | v |\n"
                      "|---|--:|\n| a | 1 |\n| b | 222 |\n\nAfter.")
        await pilot.pause(0.1)
        drawn = view.get_selection(Selection(None, None))
        assert drawn is not None
        lines = [line.strip() for line in drawn[0].splitlines()]
        assert lines[:3] == ["Title", "", "Text."]
        assert all(len(line) <= 60 for line in lines)
        assert "END" in "".join(lines)  # the end of a code line wider than the view is wrapped, not cut off
        table = [line for line in lines if line.startswith(("a ", "b "))]
        assert [len(line) for line in table] == [len(table[1])] * 2 and table[0].endswith("1")  # right-aligned
        assert lines[lines.index("After.") - 1] == ""


async def test_the_view_keeps_rendering_under_a_modal_and_waits_under_a_full_screen() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        await app.push_screen(ModalScreen())  # the command palette is one: the chat still shows around it
        view.append("written under the palette\n\n")
        await pilot.pause(0.2)
        app.pop_screen()
        await pilot.pause()
        assert "written under the palette" in screen_text(app)  # type: ignore[arg-type]
        await app.push_screen(Screen())
        view.append("written while hidden\n\n")
        await pilot.pause(0.2)
        app.pop_screen()
        await wait_for(pilot, lambda: "written while hidden" in screen_text(app), "the text")  # type: ignore[arg-type]


async def test_appending_is_cheap_and_frames_coalesce(renders: list[str]) -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        for i in range(300):
            view.append(f"t{i} ")  # no frame yet: nothing rendered
        assert renders == []
        await wait_for(pilot, lambda: bool(renders), "a frame")
        await pilot.pause(0.2)
        assert len(renders) == 1 and renders[0].startswith("t0 t1 ") and "t299" in renders[0]


async def test_a_selection_copies_the_answer_as_shown() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text("First line of the answer.\n\nSecond paragraph.")
        await pilot.pause(0.1)
        selected = view.get_selection(Selection(None, None))
        assert selected is not None and selected[0] == "First line of the answer.\n\nSecond paragraph."


async def test_a_selection_is_highlighted_over_the_answer_s_own_colours() -> None:
    from textual.geometry import Offset

    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text("`code` then text")  # inline code has a background of its own
        await pilot.pause(0.1)
        app.screen.selections = {view: Selection.from_offsets(Offset(0, 0), Offset(8, 0))}
        await pilot.pause()
        highlight = app.screen.get_component_rich_style("screen--selection").bgcolor
        line = view.render_line(0)
        assert all(segment.style is not None and segment.style.bgcolor == highlight for segment in line.crop(0, 8))
        assert all(segment.style is None or segment.style.bgcolor != highlight for segment in line.crop(8, 14))
