"""AnswerView: streamed Markdown at a bounded cost per token, shown literally."""

from __future__ import annotations

import random

import pytest
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widgets import Markdown, Static
from textual.widgets.markdown import MarkdownFence

from streamchat.safety import split_incomplete_escape
from streamchat.ui.answer import AnswerView
from streamchat.ui.answer_blocks import BlockSplitter, segment_sources
from streamchat.ui.answer_markdown import AnswerMarkdown
from streamchat.ui.answer_ops import BlockEnd, BlockLine, BlockPartial, BlockStart, Break, Op, Prose
from streamchat.ui.answer_preview import BlockPreview


class AnswerApp(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield AnswerView()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        self.links.append(event.href)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)


def shown(view: AnswerView) -> str:
    """The plain text of every rendered piece of the view, in DOM order."""
    parts: list[str] = []
    for widget in view.query(Static):
        visual = widget.visual
        if isinstance(visual, Content):
            parts.append(visual.plain)
    return "\n".join(parts)


async def settle(view: AnswerView, pilot: Pilot[None]) -> None:
    """Render what was appended (a frame's work), then let the app process it."""
    await view.flush()
    await pilot.pause()


def run(text: str, step: int | None = None, seed: int = 0, **limits: int) -> list[Op]:
    splitter = BlockSplitter(**limits)
    rng = random.Random(seed)
    ops: list[Op] = []
    start = 0
    while start < len(text):
        end = start + (step or rng.randint(1, 9))
        ops += splitter.feed(text[start:end])
        start = end
    return ops + splitter.finish()


def words(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def fence(n: int) -> str:
    return "```python\n" + "".join(f"x_{n}_{k} = {k}\n" for k in range(30)) + "```\n\n"


def long_answer(chars: int, fence_every: int = 3) -> str:
    parts: list[str] = []
    n = 0
    while sum(map(len, parts)) < chars:
        n += 1
        parts.append(
            f"## Part {n}\n\nParagraph {n} " + "lorem ipsum dolor " * 20 + f"end-{n}.\n\n"
            f"- item {n}.1\n- item {n}.2\n\n" + (fence(n) if n % fence_every == 0 else "")
        )
    return "".join(parts)


# The splitter (no UI) -------------------------------------------------------------------------


def test_fences_are_routed_to_a_preview_until_they_close() -> None:
    text = "Intro `code`\n````md\n```py\nx = 1\n```\n````\n~~~\nopen ```x``` tilde\n~~~\n```inline``` stays prose\n"
    ops = [op for op in run(text) if not isinstance(op, BlockPartial)]
    kinds = [type(op).__name__ for op in ops]
    assert kinds.count("BlockStart") == 2 and kinds.count("BlockEnd") == 2
    ends = [op.source for op in ops if isinstance(op, BlockEnd)]
    assert ends == ["````md\n```py\nx = 1\n```\n````\n", "~~~\nopen ```x``` tilde\n~~~\n"]
    assert [op.line for op in ops if isinstance(op, BlockLine)] == ["```py", "x = 1", "```", "open ```x``` tilde"]
    prose = "".join(op.text for op in ops if isinstance(op, Prose))
    assert prose == "Intro `code`\n```inline``` stays prose\n"


def test_an_unclosed_fence_and_a_held_line_are_flushed_by_finish() -> None:
    ops = run("text\n```python\nprint(1)\nstill open")
    assert ops[-1] == BlockEnd("```python\nprint(1)\nstill open\n")
    ops = run("| just | a pipe line |", step=5)  # held until it is known not to start a table
    assert [op for op in ops if isinstance(op, Prose)] == [Prose("| just | a pipe line |\n")]


def test_a_table_is_previewed_and_ends_at_a_blank_line() -> None:
    text = "Before\n\n| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 | 4 |\n\nAfter\n"
    ops = run(text, step=3)
    start = next(i for i, op in enumerate(ops) if isinstance(op, BlockStart))
    assert ops[start] == BlockStart("table") and isinstance(ops[start - 1], Break)
    end = next(op for op in ops if isinstance(op, BlockEnd))
    assert end.source == "| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 | 4 |\n"
    partials = [op.text for op in ops if isinstance(op, BlockPartial)]
    assert any(text.startswith("| 3 |") for text in partials)  # a growing row shows before its newline
    assert "".join(op.text for op in ops if isinstance(op, Prose)) == "Before\n\nAfter\n"


def test_segments_split_at_block_boundaries_only() -> None:
    para = "word " * 60 + "\n\n"
    text = para * 3 + "- a\n\n- b\n\n   continued\n\n" + para + "    code\n\n" + para
    ops = run(text, soft_limit=200, hard_limit=10_000)
    segments = "".join(op.text if isinstance(op, Prose) else "|" for op in ops if isinstance(op, Prose | Break))
    pieces = [p for p in segments.split("|") if p]
    assert len(pieces) >= 4
    # Never before a list item or an indented line (they would leave their list or become code).
    assert not any(p.startswith((" ", "-")) for p in pieces[1:])


def test_every_line_survives_any_chunking() -> None:
    text = long_answer(6_000) + "| h | i |\n|---|---|\n| 1 | 2 |\n\ntail without newline"
    for seed in range(5):
        ops = run(text, seed=seed, soft_limit=500)
        rebuilt = "".join(
            op.text if isinstance(op, Prose) else op.source for op in ops if isinstance(op, Prose | BlockEnd)
        )
        assert words(rebuilt) == words(text)
    assert words("".join(segment_sources(text, soft_limit=500))) == words(text)


def test_an_unfinished_escape_sequence_is_held_back() -> None:
    assert split_incomplete_escape("abc\x1b]0;tit") == ("abc", "\x1b]0;tit")
    assert split_incomplete_escape("abc\x1b[3") == ("abc", "\x1b[3")
    assert split_incomplete_escape("abc\x1b[31mred") == ("abc\x1b[31mred", "")
    assert split_incomplete_escape("plain") == ("plain", "")


# The widget -----------------------------------------------------------------------------------


async def test_all_fragments_appear_and_the_last_one_right_before_finish() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        fragments = [f"w{i} " for i in range(200)]
        for i, fragment in enumerate(fragments):
            view.append(fragment)
            if i % 50 == 0:
                await pilot.pause(0.05)
        view.append("TAIL-END")
        await view.finish()  # no pause in between: finish must flush the tail itself
        text = shown(view)
        assert " ".join(f"w{i}" for i in range(200)) + " TAIL-END" in text
        assert view.text == "".join(fragments) + "TAIL-END"
        assert view.live_segment is None and not view.query(".-live")


async def test_fragments_are_coalesced_into_one_render_per_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    appended: list[str] = []
    append = AnswerMarkdown.append
    monkeypatch.setattr(AnswerMarkdown, "append", lambda self, md: appended.append(md) or append(self, md))
    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        for i in range(300):
            view.append(f"t{i} ")  # synchronous: nothing is rendered yet
        assert appended == []
        for _ in range(40):  # the frame timer renders them (no flush() call here)
            await pilot.pause(view.FLUSH_INTERVAL)
            if appended:
                break
        await pilot.pause(3 * view.FLUSH_INTERVAL)
        assert len(appended) == 1 and appended[0].startswith("t0 t1 ")


async def test_a_long_answer_becomes_frozen_segments_with_a_small_live_tail() -> None:
    app = AnswerApp()
    text = long_answer(30_000, fence_every=12)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        live_sizes: list[int] = []
        for start in range(0, len(text), 400):
            for token in range(start, min(start + 400, len(text)), 4):
                view.append(text[token : token + 4])
            await view.flush()
            if view.live_segment is not None:
                live_sizes.append(len(view.live_segment.source))
        assert len(view.segments) > 5 and len(view.query(AnswerMarkdown)) > 1
        assert live_sizes and max(live_sizes) < 3_000  # the live tail stays small (a few KB)
        await view.finish()
        await pilot.pause()
        assert view.text == text
        assert all(segment.frozen for segment in view.segments)
        assert words("".join(segment.source for segment in view.segments)) == words(text)
        # Segments far above the viewport are unmounted, and rebuilt when scrolled back to.
        first = view.segments[0]
        assert first.markdown is None
        app.query_one(VerticalScroll).scroll_home(animate=False)
        for _ in range(20):
            await pilot.pause(0.05)
            if first.markdown is not None and first.markdown.is_mounted:
                break
        assert "Paragraph 1 lorem" in shown(view)


async def test_an_open_fence_is_visible_and_becomes_a_code_block_when_closed() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        for piece in ["Intro\n\n``", "`python\nprint('hel", "lo')\nx = 1"]:
            view.append(piece)
            await settle(view, pilot)
        assert "print('hello')" in shown(view) and "x = 1" in shown(view)
        assert view.query(BlockPreview) and not view.query(MarkdownFence)
        view.append("\n```\nAfter the fence.\n")
        await settle(view, pilot)
        fences = view.query(MarkdownFence)
        assert len(fences) == 1 and fences.first().code == "print('hello')\nx = 1"
        assert fences.first().lexer == "python"
        assert not view.query(BlockPreview) and "After the fence." in shown(view)


async def test_a_growing_table_is_plain_text_then_a_table() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        view.append("| name | value |\n|---|---|\n" + "".join(f"| r{i} | {i} |\n" for i in range(40)))
        view.append("| [@click=app.quit]x[/] | 1")
        await settle(view, pilot)
        assert view.query(BlockPreview) and not view.query("MarkdownTable")
        assert "| r39 | 39 |" in shown(view)
        view.append(" |\n\n")
        await settle(view, pilot)
        assert not view.query(BlockPreview) and len(view.query("MarkdownTable")) == 1
        cells = view.query("MarkdownTableCellContents")
        assert len(cells) == 2 * 42
        assert all(isinstance(cell.tooltip, Content) for cell in cells)  # never a markup string


async def test_untrusted_text_is_shown_literally_and_links_run_nothing() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        hostile = [
            "[click me](app.quit) and [bye](action:app.quit)\n\n",
            "[bold]x[/bold] [@click=app.quit]quit[/] <b>html</b> \x1b[2Jcleared\n\n",
            "clip \x1b]52;c;SGVsbG8=\x07 name \x1b]0;SECRET-TI",
            "TLE\x07 done\n",
        ]
        for fragment in hostile:
            view.append(fragment)
            await settle(view, pilot)
        await view.finish()
        await pilot.pause()
        text = shown(view)
        assert "[bold]x[/bold] [@click=app.quit]quit[/] <b>html</b> cleared" in text
        assert "clip name done" in text
        assert "\x1b" not in text and "SGVsbG8" not in text and "SECRET" not in text and "TLE" not in text
        paragraphs = view.query("MarkdownParagraph")
        await pilot.click(paragraphs[0], offset=(1, 0))  # the "click me" link
        await pilot.click(paragraphs[0], offset=(14, 0))  # the "bye" link
        for x in range(0, 40, 4):
            await pilot.click(paragraphs[1], offset=(x, 0))
        await pilot.pause()
        assert app.is_running and app.return_code is None
        assert app.links == ["app.quit", "action:app.quit"]  # the app gets the message...
        assert app.opened == []  # ...and nothing opened a browser


async def test_set_text_renders_once_and_statically(monkeypatch: pytest.MonkeyPatch) -> None:
    appended: list[str] = []
    updated: list[str] = []
    append, update = AnswerMarkdown.append, AnswerMarkdown.update
    monkeypatch.setattr(AnswerMarkdown, "append", lambda self, md: appended.append(md) or append(self, md))
    monkeypatch.setattr(AnswerMarkdown, "update", lambda self, md: updated.append(md) or update(self, md))
    app = AnswerApp()
    text = "Restored *answer*.\n\n```sh\necho hi\n```\n\nBye [bold]."
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text(text)
        await pilot.pause(0.1)
        assert view.text == text
        assert appended == []  # never streamed...
        assert [md for md in updated if md] == segment_sources(text)  # ...each segment parsed once
        assert view.live_segment is None and not view.query(BlockPreview)
        assert all(segment.frozen for segment in view.segments)
        assert view.query_one(MarkdownFence).code == "echo hi"
        assert "Bye [bold]." in shown(view)


async def test_keep_up_renders_at_once_only_when_the_backlog_is_large() -> None:
    app = AnswerApp()
    async with app.run_test(size=(100, 40)):
        view = app.query_one(AnswerView)
        view.append("small ")
        await view.keep_up()
        assert view.backlog == len("small ")  # left for the next frame
        view.append("x" * view.BACKLOG_CHARS + " END\n\n")
        await view.keep_up()  # a stream faster than frames: rendered now, no frame needed
        assert view.backlog == 0
        assert "END" in shown(view)


async def test_a_view_on_a_hidden_screen_waits_and_renders_when_it_returns() -> None:
    from textual.screen import Screen

    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        await app.push_screen(Screen())
        view.append("written while hidden\n\n")
        await view.flush()  # must not render (or hang) while another screen is on top
        assert "written while hidden" not in shown(view)
        app.pop_screen()
        for _ in range(20):
            await pilot.pause(0.05)
            if "written while hidden" in shown(view):
                break
        assert "written while hidden" in shown(view)


async def test_a_view_under_a_modal_screen_keeps_rendering() -> None:
    from textual.screen import ModalScreen

    app = AnswerApp()
    async with app.run_test(size=(100, 40)) as pilot:
        view = app.query_one(AnswerView)
        await app.push_screen(ModalScreen())  # the command palette is one: the chat still shows around it
        view.append("written under the palette\n\n")
        await view.flush()
        await pilot.pause()
        assert "written under the palette" in shown(view)


# Many small blocks (QA: a freeze of several seconds) ----------------------------------------


def small_blocks(sections: int) -> str:
    """QA's answer: short sections, small lists, tiny fences and tables, quotes."""
    parts = ["# Long answer\n\n"]
    for i in range(1, sections + 1):
        parts.append(f"## Section {i}\n\nSome **bold** and *italic* text with `code` number {i}. " * 2 + "\n\n")
        parts.append(f"- item a{i}\n- item b{i}\n  - nested c{i}\n1. first\n2. second\n\n")
        parts.append(f"```python\ndef f{i}(x):\n    return x * {i}  # comment\n```\n\n")
        parts.append(f"| col A | col B | col C |\n| --- | --- | --- |\n| {i} | b{i} | c{i} |\n| x | y | z |\n\n")
        parts.append("> a quote line\n\n")
    return "".join(parts) + "THE END MARKER\n"


async def test_a_burst_of_small_blocks_is_rendered_in_bounded_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    """However much waits, a step applies at most STEP_OPS costly operations, and the screen is
    laid out and repainted between steps (the loop gets control back)."""
    from textual.screen import Screen

    monkeypatch.setattr(AnswerView, "STEP_OPS", 4)
    monkeypatch.setattr(AnswerView, "STEP_SECONDS", 60.0)  # only the operation count bounds a step here
    monkeypatch.setattr(AnswerView, "PAUSE_LIMIT", 30.0)  # between steps, always wait for the refresh
    log: list[str] = []
    apply, step, refresh_layout = AnswerView._apply, AnswerView._step, Screen._refresh_layout

    async def logged_apply(self: AnswerView, op: object) -> None:
        if isinstance(op, Prose | BlockStart | BlockEnd):
            log.append("mount")
        await apply(self, op)  # type: ignore[arg-type]

    async def logged_step(self: AnswerView) -> bool | None:
        log.append("step")
        return await step(self)

    def logged_layout(self: Screen[object], *args: object, **kwargs: object) -> None:
        log.append("layout")
        refresh_layout(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(AnswerView, "_apply", logged_apply)
    monkeypatch.setattr(AnswerView, "_step", logged_step)
    monkeypatch.setattr(Screen, "_refresh_layout", logged_layout)
    app = AnswerApp()
    text = small_blocks(12)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        await pilot.pause()
        log.clear()
        view.append(text)  # all at once: far more than one step's worth
        await view.finish()
        # One letter per event: "|" a step begins, "m" it mounts (or parses), "L" the screen is laid out.
        steps = "".join("|" if entry == "step" else "m" if entry == "mount" else "L" for entry in log).split("|")
        busy = [step for step in steps if "m" in step]
        assert len(busy) > 10
        assert max(step.count("m") for step in steps) <= 4
        # After each step but the last, the screen was laid out before the next one began.
        assert all("L" in step[step.rindex("m") :] for step in busy[:-1])
        await pilot.pause()
        assert view.text == text and not view.query(BlockPreview)
        assert words("".join(segment.source for segment in view.segments)) == words(text)
        assert view.query(MarkdownFence) and view.query("MarkdownTable") and "THE END MARKER" in shown(view)


async def test_the_view_handles_its_messages_while_a_backlog_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """The background renderer runs in a task of its own: the view's message loop stays free (a
    render loop in a timer callback held every message to the view, and the widgets they refer
    to, until the whole backlog was rendered)."""
    monkeypatch.setattr(AnswerView, "STEP_OPS", 2)
    steps: list[int] = []
    handled: list[int] = []
    step = AnswerView._step

    async def counted_step(self: AnswerView) -> bool | None:
        steps.append(len(steps))
        if len(steps) == 1:
            self.call_later(lambda: handled.append(len(steps)))
        return await step(self)

    monkeypatch.setattr(AnswerView, "_step", counted_step)
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.append(small_blocks(6))  # no flush(): the frame renderer renders it
        for _ in range(200):
            await pilot.pause(0.05)
            if view.backlog == 0 and "Section 6" in shown(view):
                break
        assert len(steps) > 5
        assert handled and handled[0] < len(steps) - 2  # handled while the backlog was being rendered


async def test_far_segments_are_merged_and_split_again_when_scrolled_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unloaded segments far away become one placeholder (the view's children stay few however
    long the answer), split again when they come near."""
    monkeypatch.setattr(AnswerView, "MERGE_ABOVE", 4)
    app = AnswerApp()
    text = small_blocks(30)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        for start in range(0, len(text), 300):
            view.append(text[start : start + 300])
            await view.keep_up()
            await pilot.pause()
        await view.finish()
        await pilot.pause()
        first = view.segments[0]
        assert first.parts and first.markdown is None  # a placeholder for many far segments
        assert len(view.segments) < sum(len(segment.parts) or 1 for segment in view.segments)
        assert words("".join(segment.source for segment in view.segments)) == words(text)
        app.query_one(VerticalScroll).scroll_home(animate=False)
        for _ in range(40):
            await pilot.pause(0.05)
            if first.markdown is not None and first.markdown.is_mounted:
                break
        assert not first.parts and "code number 1." in shown(view)
        assert words("".join(segment.source for segment in view.segments)) == words(text)


async def test_an_unloaded_segment_draws_nothing() -> None:
    """A segment whose documents were unmounted keeps its height and draws blank lines there,
    not Textual's default (the widget's class name, seen on screen while scrolling)."""
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text(long_answer(30_000, fence_every=12))
        for _ in range(40):
            await pilot.pause(0.05)
            if any(segment.markdown is None for segment in view.segments):
                break
        segment = next(segment for segment in view.segments if segment.markdown is None)
        for _ in range(40):
            if not segment.children:
                break
            await pilot.pause(0.05)
        width, height = segment.size
        assert height > 0 and not segment.children
        lines = segment.render_lines(Region(0, 0, width, height))
        assert len(lines) == height and not "".join(line.text for line in lines).strip()


async def test_after_a_width_change_unloaded_segments_are_measured_again() -> None:
    """The height an unloaded segment keeps is stale at a new width: each is rebuilt once, a few
    per layout (not all at once), and unloaded again with its new height."""
    app = AnswerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(AnswerView)
        view.set_text(long_answer(20_000, fence_every=12))
        for _ in range(40):
            await pilot.pause(0.05)
            if sum(segment.markdown is None for segment in view.segments) > 3:
                break
        before = {segment: segment.size.height for segment in view.segments if segment.markdown is None}
        assert len(before) > 3
        await pilot.resize_terminal(60, 30)
        for _ in range(200):
            await pilot.pause(0.05)
            if not any(segment.stale for segment in view.segments) and all(
                segment.markdown is None for segment in before
            ):
                break
        assert not any(segment.stale for segment in view.segments)
        assert all(segment.markdown is None and segment.size.height > before[segment] for segment in before)
