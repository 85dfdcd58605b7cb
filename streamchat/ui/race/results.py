"""The race's outcome: the verdict of the last race, and the figures of the last few."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from streamchat.race import RaceResult, SideResult, Verdict
from streamchat.safety import strip_control
from streamchat.timing import format_ms
from streamchat.ui.race.side import TITLES
from streamchat.ui.widgets.error import KIND_TITLES

KEEP = 5
"""How many races the list shows."""

COLUMNS = (("Race", 6), ("Streaming first · total", 26), ("Blocking total", 16), ("First text", 24),
           ("Total, streaming vs blocking", 30))
"""The list's headings and widths."""


def _signed(ms: float) -> str:
    return ("+" if ms >= 0 else "−") + format_ms(abs(ms))


def _ratio(verdict: Verdict) -> str:
    ratio = verdict.first_text_ratio
    return "" if ratio is None else f"{ratio:.0f}×" if ratio >= 10 else f"{ratio:.1f}×"


def verdict_figures(result: RaceResult) -> str:
    """The figures behind the verdict: first text on one line, total on the next."""
    s, b, verdict = result.streaming, result.blocking, result.verdict
    assert verdict is not None
    ratio = _ratio(verdict)
    saved = verdict.first_text_saved_ms
    gain = (f"{format_ms(saved)} sooner" + (f" ({ratio})" if ratio else "") if saved > 0
            else f"{format_ms(-saved)} later")
    same = "about the same" if verdict.totals_similar else "not the same"
    return (f"first text  streaming {format_ms(s.ttft_ms)} · blocking {format_ms(b.ttft_ms)} → {gain}\n"
            f"total       streaming {format_ms(s.total_ms)} · blocking {format_ms(b.total_ms)} → "
            f"{_signed(verdict.total_diff_ms)}, {same}")


def _why_no_verdict(result: RaceResult) -> str:
    sides = (result.streaming, result.blocking)
    if any(side.stopped for side in sides):
        return "Stopped: no verdict. Press r to race again."
    failed = [side for side in sides if side.error is not None]
    if failed:
        names = " and ".join(f"the {TITLES[side.mode].lower()} side failed "
                             f"({KIND_TITLES.get(side.error.kind, 'Error')})" for side in failed if side.error)
        return f"No verdict: {names}. Press r to race again."
    return "No verdict: a side ended without an answer."


def verdict_content(result: RaceResult | None, running: bool) -> Content:
    """The verdict of ``result``, or what is happening instead."""
    if running:
        return Content.assemble(("Racing… ", "bold"), ("the verdict comes when both sides have finished.",
                                                        "$text-muted"))
    if result is None:
        return Content("")
    if result.verdict is None:
        return Content.assemble((_why_no_verdict(result), "$text-warning"))
    return Content.assemble((result.verdict.summary, "bold"), "\n", (verdict_figures(result), "$text-muted"))


def _first_and_total(side: SideResult) -> str:
    return f"{format_ms(side.ttft_ms)} · {format_ms(side.total_ms)}"


def history_row(number: int, result: RaceResult) -> list[str]:
    """One race's cells in the list."""
    s, b, verdict = result.streaming, result.blocking, result.verdict
    cells = [f"#{number}", _first_and_total(s), format_ms(b.total_ms)]
    if verdict is not None:
        ratio = _ratio(verdict)
        cells.append(f"{format_ms(verdict.first_text_saved_ms)} sooner" + (f" · {ratio}" if ratio else "")
                     if verdict.first_text_saved_ms > 0 else f"{format_ms(-verdict.first_text_saved_ms)} later")
        cells.append(f"{_signed(verdict.total_diff_ms)} ({'same' if verdict.totals_similar else 'differs'})")
    else:
        failed = [TITLES[side.mode].lower() for side in (s, b) if side.error is not None]
        cells.append("stopped" if s.stopped or b.stopped else f"{' and '.join(failed)} failed" if failed else "—")
        cells.append("")
    return cells


def history_content(races: list[tuple[int, RaceResult]]) -> Content:
    """The last ``KEEP`` races as a small table (newest last)."""
    def line(cells: list[str]) -> str:
        return "".join(strip_control(cell)[: width - 1].ljust(width) for cell, (_, width) in zip(cells, COLUMNS,
                                                                                                    strict=True))
    lines: list[str | tuple[str, str]] = [(line([title for title, _ in COLUMNS]).rstrip(), "bold $text-muted")]
    for number, result in races[-KEEP:]:
        lines += ["\n", line(history_row(number, result)).rstrip()]
    return Content.assemble(*lines)


class RaceResults(Vertical):
    """The verdict under the two sides, and the list of the last few races."""

    def compose(self) -> ComposeResult:
        yield Static(Content(""), id="race-verdict", markup=False)
        yield Static(Content(""), id="race-history", markup=False)

    def show(self, races: list[tuple[int, RaceResult]], running: bool) -> None:
        """Show the latest race's verdict (or that one is running) and the list (attributes down)."""
        latest = races[-1][1] if races else None
        self.query_one("#race-verdict", Static).update(verdict_content(latest, running))
        history = self.query_one("#race-history", Static)
        history.update(history_content(races) if races else Content(""))
        history.display = bool(races)
