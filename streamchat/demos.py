"""The four demos of the streaming example this project grew from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Demo:
    """One demo: a prompt typed into the app, and what to watch."""

    number: int
    """1 to 4."""
    title: str
    """Short name."""
    prompt: str
    """What gets typed into the prompt."""
    watch: str
    """One line telling the user what to watch."""
    needs_tools: bool = False
    """True when the demo only makes sense with a tool-capable model."""
    race: bool = False
    """True when the demo opens the race pane instead of the chat."""


DEMOS: tuple[Demo, ...] = (
    Demo(1, "Simple question", "Explain what AI agents are.",
         "Watch the answer appear token by token; the status line shows time to first token and tokens/s."),
    Demo(2, "Tool usage", "What is 2 to the power of 64, divided by 7? Use the calculator.",
         "Watch the tool call stream in, run with a spinner, then the answer stream after it.", needs_tools=True),
    Demo(3, "Complex task",
         "What time is it now in New York and in Tokyo, how many hours apart are they (use the calculator), "
         "and which files are in this folder? Then write a short report.",
         "Watch several tool calls run in parallel, each with its own row, then a detailed answer stream.",
         needs_tools=True),
    Demo(4, "Comparison", "Explain in a few paragraphs how streaming responses work in chat applications.",
         "Watch the streaming side fill at once while the blocking side waits, then the verdict and timeline.",
         race=True),
)
"""All demos, in order."""

NEEDS_TOOLS_MESSAGE = (
    "Demo {number} needs a model that can call tools. {reason} Or point streamchat at a server: "
    "`OPENAI_API_KEY=sk-... streamchat demo {number}`, or "
    "`streamchat --base-url http://localhost:11434/v1 --model qwen2.5 demo {number}` (Ollama)."
)
"""Shown instead of running a tool demo on a backend without tools (``reason``: what the backend says)."""

TOOLS_OFF_MESSAGE = "Demo {number} needs tools, and they are off: /tools on turns them on."
"""Shown instead of running a tool demo while tools are off."""


def get_demo(number: int) -> Demo:
    """The demo with that number; ValueError names the valid ones."""
    for demo in DEMOS:
        if demo.number == number:
            return demo
    raise ValueError(f"There is no demo {number}; choose 1 to {len(DEMOS)}.")
