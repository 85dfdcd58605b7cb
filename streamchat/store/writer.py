"""One background thread for every history-store call, so the UI never waits on the disk.

Jobs run in the order they were asked for (a single-thread executor), so no
write overtakes another and a read sees every write queued before it. A write
queued with ``write_later`` never raises: its failure is handed, once per
failure, to a callback on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import Any, TypeVar

from streamchat.store.database import StoreError

T = TypeVar("T")


class StoreThread:
    """Runs store jobs in one thread, in order; reports failed writes through ``on_failure``."""

    def __init__(self, on_failure: Callable[[str], None]) -> None:
        self.on_failure = on_failure
        """Called on the event loop with the reason a queued write failed."""
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The event loop failures are reported on."""
        self._loop = loop

    def submit(self, job: Callable[..., T], *args: Any) -> Future[T]:
        """Queue ``job(*args)``; its future holds the result (or the exception)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamchat-history")
        return self._executor.submit(job, *args)

    async def call(self, job: Callable[..., T], *args: Any) -> T:
        """Run ``job(*args)`` in the thread, after every job asked for before it."""
        return await asyncio.wrap_future(self.submit(job, *args))

    def write_later(self, job: Callable[..., None], *args: Any) -> None:
        """Queue a write and do not wait; nothing is queued once closed."""
        if not self._closed:
            self.submit(self._guarded, job, *args)

    async def close(self, last_job: Callable[[], None]) -> None:
        """Refuse further writes, run ``last_job`` after the queued ones, then let the thread go."""
        if self._executor is None:
            return
        self._closed = True
        await self.call(last_job)
        self._executor.shutdown(wait=False)

    def _guarded(self, job: Callable[..., None], *args: Any) -> None:
        try:
            job(*args)
        except StoreError as exc:
            self._report(str(exc))
        except Exception as exc:  # noqa: BLE001 - a failed save must never take the app down
            self._report(f"{type(exc).__name__}: {exc}")

    def _report(self, reason: str) -> None:
        """From the thread: hand the failure to the event loop; never blocks on it."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with suppress(RuntimeError):
                loop.call_soon_threadsafe(self.on_failure, reason)
