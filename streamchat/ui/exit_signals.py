"""Leaving on a signal as on Ctrl+Q: the terminal restored, the conversation saved, a shell-style status.

Without this, ``kill -TERM`` (or the terminal closing, SIGHUP) ends the process at once: the
terminal stays in the alternate screen with mouse reporting on, and the streaming answer keeps
only its last checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from textual.app import App

EXIT_SIGNALS: dict[signal.Signals, int] = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGHUP: 128 + signal.SIGHUP}
"""The signals the app leaves on, and the exit status for each (143, 129: what a shell reports)."""


def quit_on_signals(app: App[Any]) -> None:
    """From now on, the signals of ``EXIT_SIGNALS`` make ``app`` exit as Ctrl+Q does, with their status.

    Call it from the app's event loop; ``forget_signals`` undoes it. Where the loop cannot take
    signal handlers (another thread, another platform), nothing changes.
    """
    loop = asyncio.get_running_loop()
    for signum, status in EXIT_SIGNALS.items():
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, _leave, app, status)


def forget_signals() -> None:
    """Give the signals back their default handling (the app is gone)."""
    loop = asyncio.get_running_loop()
    for signum in EXIT_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.remove_signal_handler(signum)


def _leave(app: App[Any], status: int) -> None:
    if app.return_code is None:  # a second signal while leaving changes nothing
        app.exit(return_code=status)
