"""Follow-scroll: the conversation follows the stream until the user scrolls up."""

from __future__ import annotations

from app_helpers import SIZE, finish_turn, footer_labels, screen_text, send, wait_for
from fake_server import Chunk, Delay, Done, FakeServer, Response, chunk

from streamchat.ui.answer import AnswerView
from streamchat.ui.app import StreamChatApp
from streamchat.ui.widgets.conversation import ConversationView


def paragraphs(first: int, last: int) -> list[Chunk]:
    return [chunk({"content": f"Paragraph {n}.\n\n"}) for n in range(first, last + 1)]


def two_batches() -> Response:
    """30 paragraphs, a pause long enough to scroll up, 10 more, another pause, the end."""
    return Response([chunk({"role": "assistant", "content": ""}), *paragraphs(1, 30), Delay(1.0),
                     *paragraphs(31, 40), Delay(0.3), chunk({}, finish_reason="stop"), Done()])


def answer_text(app: StreamChatApp) -> str:
    return "".join(view.text for view in app.query(AnswerView))


async def test_scrolling_up_stops_following_and_end_follows_again(app: StreamChatApp,
                                                                  fake_server: FakeServer) -> None:
    fake_server.enqueue(two_batches())
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.query_one(ConversationView)
        hint = app.query_one("#hint")
        await send(pilot, "write a lot")
        await wait_for(pilot, lambda: "Paragraph 30." in answer_text(app), "the first batch")
        await pilot.pause(0.1)
        assert conversation.max_scroll_y > 0 and conversation.scroll_y == conversation.max_scroll_y
        assert conversation.following and not hint.display

        await pilot.press("pageup")
        await pilot.pause()
        assert not conversation.following and hint.display
        assert "new content below" in screen_text(app) and "Follow" in footer_labels(app)
        held = conversation.scroll_y

        await wait_for(pilot, lambda: "Paragraph 40." in answer_text(app), "the second batch")
        await pilot.pause(0.1)
        assert conversation.scroll_y == held < conversation.max_scroll_y

        await pilot.press("end")
        await pilot.pause()
        assert conversation.following and not hint.display and "Follow" not in footer_labels(app)
        assert conversation.scroll_y == conversation.max_scroll_y
        await finish_turn(pilot)
        assert conversation.scroll_y == conversation.max_scroll_y


async def test_the_new_content_hint_goes_when_the_answer_is_done(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(two_batches())
    async with app.run_test(size=SIZE) as pilot:
        conversation, hint = app.query_one(ConversationView), app.query_one("#hint")
        await send(pilot, "write a lot")
        await wait_for(pilot, lambda: "Paragraph 30." in answer_text(app), "the first batch")
        await pilot.pause(0.1)
        await pilot.press("pageup")
        await pilot.pause()
        assert hint.display and "new content below" in screen_text(app)
        await finish_turn(pilot)
        assert not conversation.following, "the reader stays where they scrolled"
        assert not hint.display and "new content below" not in screen_text(app), "nothing new is coming"
        await pilot.press("pageup")
        await pilot.pause()
        assert not hint.display, "scrolling up a finished answer shows no hint"


async def test_scrolling_back_to_the_bottom_follows_again(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(Response([chunk({"role": "assistant", "content": ""}), *paragraphs(1, 30),
                                  chunk({}, finish_reason="stop"), Done()]))
    async with app.run_test(size=SIZE) as pilot:
        conversation = app.query_one(ConversationView)
        await send(pilot, "write a lot")
        await finish_turn(pilot)
        await pilot.press("pageup")
        await pilot.pause()
        assert not conversation.following
        await pilot.press("pagedown", "pagedown")
        await pilot.pause()
        assert conversation.scroll_y == conversation.max_scroll_y
        assert conversation.following and not app.query_one("#hint").display


def long_code_answer() -> Response:
    line = "x_{0} = {0}  # the value of x number {0}, with a comment that wraps when narrow\n"
    code = "".join(line.format(i) for i in range(600))
    return Response([chunk({"role": "assistant", "content": f"```python\n{code}```\n"}),
                     chunk({}, finish_reason="stop"), Done()])


def top_line(app: StreamChatApp) -> int:
    """The first ``x_N`` on screen."""
    import re

    found = re.search(r"x_(\d+) =", screen_text(app))
    assert found is not None
    return int(found.group(1))


async def test_a_resize_keeps_a_reader_scrolled_up_on_the_same_line(app: StreamChatApp,
                                                                    fake_server: FakeServer) -> None:
    fake_server.enqueue(long_code_answer())
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "code")
        await finish_turn(pilot)
        await pilot.press(*["pageup"] * 12)
        await pilot.pause(0.2)
        reading = top_line(app)
        assert 100 < reading < 500
        for width in (50, 80, 50, SIZE[0]):
            await pilot.resize_terminal(width, SIZE[1])
            await pilot.pause(0.3)
            assert abs(top_line(app) - reading) <= 1, f"at {width} columns the view moved"
        assert not app.query_one(ConversationView).following
