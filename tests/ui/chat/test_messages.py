"""Moving between messages by keyboard (and click) and copying one: as Markdown, or one of its code blocks."""

from __future__ import annotations

import base64
import re

from app_helpers import SIZE, ask, footer_labels, wait_for
from fake_server import FakeServer, text_response
from textual import events

from streamchat.ui.app import StreamChatApp
from streamchat.ui.screens.choice import ChoiceScreen
from streamchat.ui.widgets.message import UserMessage
from streamchat.ui.widgets.prompt import Prompt
from streamchat.ui.widgets.turn import AssistantTurn

LISTED_CODE = ("Steps:\n\n1. Install:\n\n   ```sh\n   pip install streamchat\n   ```\n\n"
               "2. Run it:\n\n   ```sh\n   streamchat\n   ```\n")


def clipboard_writes(app: StreamChatApp) -> list[str]:
    """Record what the app sends to the terminal's clipboard (the OSC 52 sequences it writes), decoded."""
    sent: list[str] = []
    driver = app._driver
    assert driver is not None
    write = driver.write

    def recording(data: str) -> None:
        for payload in re.findall(r"\x1b\]52;c;([A-Za-z0-9+/=]*)\x07", data):
            sent.append(base64.b64decode(payload).decode())
        write(data)

    driver.write = recording  # type: ignore[method-assign]
    return sent


async def test_alt_up_moves_to_the_messages_up_steps_back_and_c_copies_an_old_answer(
        app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response("First **answer**."), text_response("Second answer:\n\n- a\n- b\n"),
                        text_response("Third answer:\n\n```\nx = 1\n```"))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        sent = clipboard_writes(app)
        for question in ("one?", "two?", "three?"):
            await ask(pilot, question)
        assert "Copy" not in footer_labels(app)
        await pilot.press("alt+up")
        turns = list(app.query(AssistantTurn))
        prompts = list(app.query(UserMessage))
        assert app.focused is turns[2] and turns[2].has_pseudo_class("focus")
        assert {"Copy", "Copy code", "Back"} <= set(footer_labels(app))
        await pilot.press("up", "k")
        assert app.focused is turns[1]
        await wait_for(pilot, lambda: "Copy code" not in footer_labels(app), "no code block, no copy code")
        await pilot.press("c")
        assert sent == ["Second answer:\n\n- a\n- b"]
        note = str(list(app._notifications)[-1].message)
        assert "Sent the answer (4 lines)" in note and "/export writes the conversation" in note, note
        assert "/copy file" not in note, "it writes the last answer, not this one"
        await pilot.press("up")
        assert app.focused is prompts[1]
        await pilot.press("c")
        assert sent[-1] == "two?"
        await pilot.press("j", "down", "down")
        assert app.focused is turns[2]
        await pilot.press("down")  # past the last message: back to the prompt
        assert isinstance(app.focused, Prompt)
        await pilot.press("alt+up", "up", "w", "h", "y")  # typing on a message goes back to the prompt
        assert isinstance(app.focused, Prompt) and app.query_one(Prompt).text == "why"
        await pilot.click(prompts[2])  # a click on a message gives it the focus too
        assert app.focused is prompts[2]
        await pilot.press("escape")
        assert isinstance(app.focused, Prompt) and not app.turn_running


async def test_x_copies_the_only_code_block_or_the_one_picked_at_any_indentation(
        app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response([LISTED_CODE]), text_response(["Just:\n\n```py\nprint(1)\n```\n"]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        sent = clipboard_writes(app)
        await ask(pilot, "how do I install it?")
        await ask(pilot, "and a one-liner?")
        await pilot.press("alt+up", "x")
        assert sent == ["print(1)\n"]
        await pilot.press("up", "up", "x")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("2")
        assert not isinstance(app.screen, ChoiceScreen)
        assert sent[-1] == "streamchat\n", "a fence inside a list item, without the item's indentation"
        await pilot.press("x", "down", "enter")
        assert sent[-1] == "streamchat\n"


async def test_slash_copy_code_finds_a_fence_inside_a_list_item(app: StreamChatApp, fake_server: FakeServer) -> None:
    fake_server.enqueue(text_response([LISTED_CODE]))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await ask(pilot, "how do I install it?")
        prompt = app.query_one(Prompt)
        prompt.insert("/copy code")
        await pilot.press("enter")
        await pilot.pause()
        assert app.clipboard == "streamchat\n"


async def test_keys_in_one_burst_each_step_a_message(app: StreamChatApp, fake_server: FakeServer) -> None:
    """A held up key, or keys a terminal delivers together, step once each: none is lost to a focus not yet moved."""
    fake_server.enqueue(*(text_response(f"Answer {n}.") for n in range(1, 4)))
    async with app.run_test(size=SIZE) as pilot:
        for question in ("one?", "two?", "three?"):
            await ask(pilot, question)
        prompts = list(app.query(UserMessage))
        driver = app._driver
        assert driver is not None

        def burst(*keys: tuple[str, str | None]) -> None:
            for key, character in keys:
                event = events.Key(key, character)
                event.set_sender(app)
                driver.send_message(event)

        await pilot.press("alt+up")
        burst(("up", None), ("up", None), ("k", "k"))  # answer 3 -> prompt 3 -> answer 2 -> prompt 2
        await pilot.pause()
        assert app.focused is prompts[1]
        burst(("j", "j"), ("down", None), ("down", None), ("down", None))  # answer 2, prompt 3, answer 3, the box
        await pilot.pause()
        assert isinstance(app.focused, Prompt)
