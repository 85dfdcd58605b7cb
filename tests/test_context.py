"""How full the context is (the server's count, else an estimate), what fits, and where to cut (pure)."""

from __future__ import annotations

import time

from streamchat.context import Fill, fill, fits, oldest_kept, short_count, unsettled_summary
from streamchat.messages import COMPACT_PROMPT, CONTINUE_PROMPT, ChatMessage, api_messages


def turn(question: str, answer: str, prompt_tokens: int | None = None) -> list[ChatMessage]:
    stats = {"tokens": 20, "prompt_tokens": prompt_tokens} if prompt_tokens is not None else None
    return [ChatMessage(role="user", content=question),
            ChatMessage(role="assistant", content=answer, status="complete", stats=stats)]


def test_the_last_requests_usage_counts_and_what_came_after_it_is_estimated() -> None:
    history = [*turn("a" * 400, "b" * 400, prompt_tokens=500)]
    assert fill(history, 4000) == Fill(520, 4000, estimated=False)
    history.append(ChatMessage(role="user", content="c" * 40))  # not asked yet: 10 tokens and a message's 4
    assert fill(history, 4000) == Fill(534, 4000, estimated=True)
    assert fill(turn("x" * 40, "y" * 40), None) == Fill(28, None, estimated=True)  # no usage: all estimated


def test_a_count_from_before_a_cut_is_not_trusted() -> None:
    history = [*turn("old" * 100, "old" * 100), *turn("new", "new", prompt_tokens=900)]
    history[2].cut_at = time.time() + 1  # cut after the last answer was written
    assert fill(history, None).estimated and fill(history, None).used < 100
    assert api_messages(history) == [{"role": "user", "content": "new"}, {"role": "assistant", "content": "new"}]


def test_fits_keeps_room_for_the_answer_and_the_meter_reads_briefly() -> None:
    history = turn("q", "a", prompt_tokens=600)  # 620 used
    assert fits(history, 100, 1000, None) and not fits(history, 200, 1000, None)  # 256 kept for the answer
    assert fits(history, 10_000, None, None), "without a window nothing is refused"
    assert not fits(history, 100, 1000, max_tokens=300)
    assert Fill(3160, 4000, False).describe() == "ctx 3.2k/4k 79%" and Fill(3160, 4000, False).level == "amber"
    assert Fill(3700, 4000, True).describe() == "ctx ~3.7k/4k 92%" and Fill(3700, 4000, True).level == "red"
    assert Fill(812, None, True).describe() == "ctx ~812" and short_count(128_000) == "128k"


def test_the_oldest_turns_go_first_and_a_continuation_is_never_where_a_cut_starts() -> None:
    history = [ChatMessage(role="system", content="Be brief."), *turn("1" * 400, "1" * 400),
               *turn("2" * 400, "2" * 400), ChatMessage(role="user", content=CONTINUE_PROMPT),
               ChatMessage(role="assistant", content="more", status="complete"), *turn("3" * 40, "3" * 40)]
    assert oldest_kept(history, 10_000) == 3, "the first turn left out is enough"
    assert oldest_kept(history, 100) == 7, "not at the continuation (index 5): at the next turn"
    assert oldest_kept(history[:3], 1) is None, "a single turn: nothing to leave out"


def test_a_summary_completed_after_it_was_stopped_is_one_to_cut_at() -> None:
    stopped = [*turn("q1", "A1"), ChatMessage(role="user", content=COMPACT_PROMPT),
               ChatMessage(role="assistant", content="We talked", status="stopped")]
    assert unsettled_summary(stopped) is None, "a summary cut short compacts nothing"
    carried_on = [*stopped, ChatMessage(role="user", content=CONTINUE_PROMPT),
                  ChatMessage(role="assistant", content=" about q1.", status="complete")]  # ctrl+e
    assert unsettled_summary(carried_on) is stopped[2]
    stopped[2].cut_at = time.time()
    assert unsettled_summary(carried_on) is None, "a summary already cut at"
    assert unsettled_summary([*turn("q1", "A1"), *turn("q2", "A2")]) is None


def test_a_compact_cut_without_its_summary_counts_nowhere_neither_in_requests_nor_where_to_drop() -> None:
    from streamchat.messages import COMPACT_PROMPT, cut_index

    history = [*turn("1" * 400, "1" * 400), *turn("2" * 400, "2" * 400),
               ChatMessage(role="user", content=COMPACT_PROMPT)]
    history[-1].cut_at = time.time()  # its summary is being asked for again: the turns go with the request
    assert cut_index(history) is None and len(api_messages(history)) == 5
    assert oldest_kept(history, 300) == 2, "the oldest turn can still be dropped"
    history.append(ChatMessage(role="assistant", content="Summary.", status="complete"))
    assert cut_index(history) == 4 and oldest_kept(history, 10) is None, "with its summary: nothing before to drop"
