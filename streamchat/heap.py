"""Keeping Python's garbage collector off what lives for the whole session."""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]


def settle_heap() -> None:
    """Collect once, then freeze what is left (the app, Textual, the SDK, the backend) out of later collections.

    Called once start-up is over (the backend made). Without it, every full collection while an
    answer streams scans the hundreds of thousands of objects every import left behind: a
    fifth of the app's CPU time during a fast stream (measured: 0.25 -> 0.19 ms per chunk).
    Objects freed later by reference counting are still freed; only cycles among these never are.
    """
    gc.collect()
    gc.freeze()
