"""At 50 columns: the status line keeps the model in view, the footer the keys of the moment."""

from __future__ import annotations

from pathlib import Path

from app_helpers import finish_turn, footer_labels, screen_text, send, wait_for
from fake_server import FakeServer, text_response, tool_call_response

from streamchat.config.settings import Settings
from streamchat.ui.app import StreamChatApp, make_app
from streamchat.ui.widgets.status import fit
from streamchat.ui.widgets.tool_call import ToolCallRow

NARROW = (50, 30)


def status_row(app: StreamChatApp) -> str:
    return screen_text(app).splitlines()[-2]


def footer_row(app: StreamChatApp) -> str:
    return screen_text(app).splitlines()[-1]


def test_fit_drops_the_host_then_the_figures_details_then_all_but_the_model() -> None:
    wheres = ("openai · host:1 · gpt-x · tools on", "openai · gpt-x · tools on", "gpt-x · tools on", "gpt-x")
    figures = ("TTFT 50 ms · 9 tok · 1.0 tok/s · 1.0 s", "TTFT 50 ms · 1.0 s")
    assert fit(200, wheres, figures) == (wheres[0], "", figures[0])
    assert fit(65, wheres, figures) == (wheres[1], "", figures[0])
    assert fit(60, wheres, figures) == (wheres[1], "", figures[1])
    assert fit(40, wheres, figures) == (wheres[2], "", figures[1])
    assert fit(26, wheres, figures) == (wheres[3], "", figures[1])
    assert fit(5, wheres, figures) == (wheres[3], "", figures[1]), "at worst the shortest pair, cut"
    assert fit(30, wheres, ()) == (wheres[1], "", "")
    meters = ("ctx 3.2k/8k 40%", "ctx 40%")  # the context meter: the address, then its window give way first
    assert fit(200, wheres, figures, meters) == (wheres[0], meters[0], figures[0])
    assert fit(85, wheres, figures, meters) == (wheres[1], meters[0], figures[0])
    assert fit(78, wheres, figures, meters) == (wheres[1], meters[1], figures[0])
    assert fit(54, wheres, figures, meters) == (wheres[2], meters[0], figures[1])
    assert fit(38, wheres, figures, meters) == (wheres[3], meters[1], figures[1]), "the meter is the last to go"
    assert fit(26, wheres, figures, meters) == (wheres[3], "", figures[1])


async def test_at_50_columns_the_model_and_the_figures_stay_in_view(settings: Settings,
                                                                    fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response(["word "] * 400, delay=0.02))  # long: esc lands while it streams
    app = make_app(settings)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        assert "gpt-4o-mini" in status_row(app)
        await send(pilot, "hello")
        await wait_for(pilot, lambda: "TTFT" in status_row(app) and " tok" not in status_row(app), "the figures")
        assert "gpt-4o-mini" in status_row(app), status_row(app)
        await pilot.press("escape")
        await finish_turn(pilot)
        row = status_row(app)
        assert row.startswith(" gpt-4o-mini") and "stopped · TTFT" in row and row.endswith(" s"), row


async def test_at_50_columns_the_footer_lists_every_answer_to_a_tool_and_esc(
        settings: Settings, fake_server: FakeServer, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("plan")
    fake_server.enqueue(tool_call_response([("call_1", "read_file", {"path": "notes.txt"})]), text_response("ok"))
    app = make_app(settings.with_overrides(workspace=str(tmp_path)))
    async with app.run_test(size=NARROW) as pilot:
        await send(pilot, "read it")
        await wait_for(pilot, lambda: any(row.state == "asking" for row in app.query(ToolCallRow)), "the question")
        await pilot.pause(0.1)
        assert footer_labels(app)[:5] == ["Allow", "This chat", "Always", "Deny…", "Stop"]
        shown = footer_row(app)
        for key in ("y Allow", "c This chat", "a Always", "n Deny…", "esc Stop"):
            assert key in shown, (key, shown)
        await pilot.press("escape")  # the row's esc: deny and stop, as the app's
        await finish_turn(pilot)
        assert not app.turn_running and app.history[-1].status == "stopped"
        assert "denied: the user stopped" in app.query_one(ToolCallRow).decision
