"""One streamed chat completion on a loaded llama.cpp model, in its own thread.

* Each ``Generation`` runs in its own thread and holds the model's lock for
  its whole life, so two generations never interleave on one ``Llama`` and a
  new request waits for a stopped one's thread to exit.
* ``Generation.stop()`` stops the thread within a token: the thread checks
  the flag between chunks and, while the prompt is evaluated (seconds for a
  long conversation), llama.cpp's abort callback checks it between graph
  nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from streamchat.backends.local.model import LoadedModel


class _AbortHook:
    """llama.cpp's abort callback, answering the stop flag while it is installed."""

    def __init__(self, llama: Any, stop: threading.Event) -> None:
        import llama_cpp

        self._set = llama_cpp.llama_set_abort_callback
        self._null = llama_cpp.ggml_abort_callback()
        self._ctx = llama.ctx
        self._callback = llama_cpp.ggml_abort_callback(lambda _data: stop.is_set())
        self.active = False
        self.install()

    def install(self) -> None:
        """Answer the stop flag while a prompt is evaluated (again, for a second prompt)."""
        if not self.active:
            self._set(self._ctx, self._callback, None)
            self.active = True

    def remove(self) -> None:
        """Uninstall it once the prompt is evaluated.

        The callback is a Python call per graph node (~600 a token), each
        needing the GIL: cheap alone (~0.2 us) but it would tie generation
        speed to how busy the UI thread is. Between tokens the flag is
        checked in Python anyway, which stops within one token (~10-50 ms).
        """
        if self.active:
            self._set(self._ctx, self._null, None)
            self.active = False


Emit = Callable[[str, Any], None]
"""Receives ``("start", None)``, ``("chunk", dict)``, ``("error", exc)`` and lastly ``("end", None)``."""


class Generation:
    """One ``create_chat_completion(stream=True)`` on a loaded model, in its own thread."""

    def __init__(self, model: LoadedModel, params: dict[str, Any], emit: Emit) -> None:
        self.model = model
        """The model it runs on."""
        self.params = params
        """Arguments for ``create_chat_completion`` (without ``stream``)."""
        self.emit = emit
        """Where chunks and the outcome go; called in the worker thread."""
        self.stop_event = threading.Event()
        """Set to make the thread stop."""
        self.finished = threading.Event()
        """Set when the thread is about to exit."""
        self.prompt_tokens: int | None = None
        """Tokens in the formatted prompt, once known."""
        self.sampled = 0
        """Tokens sampled so far (including an end-of-generation token)."""
        self.finish_reason: str | None = None
        """The finish_reason sent, once sent."""
        self.thread = threading.Thread(target=self._run, name=f"streamchat-llama-{model.key.instance}", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self.thread.start()

    def stop(self) -> None:
        """Ask the thread to stop; it does within a token."""
        self.stop_event.set()

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` was called."""
        return self.stop_event.is_set()

    def _run(self) -> None:
        try:
            if self._acquire():
                try:
                    self._generate()
                finally:
                    self.model.lock.release()
        except BaseException as exc:  # noqa: BLE001 - handed to the event loop
            if not self.stopped:
                self.emit("error", exc)
        finally:
            self.finished.set()
            self.emit("end", None)

    def _acquire(self) -> bool:
        """Wait for the model (another generation may hold it); False if stopped first."""
        while not self.model.lock.acquire(timeout=0.05):
            if self.stopped:
                return False
        if self.stopped:
            self.model.lock.release()
            return False
        return True

    def _count(self, input_ids: Any, scores: Any) -> Any:
        """A logits processor that changes nothing: it counts sampled tokens and learns the prompt's length."""
        if self.prompt_tokens is None:
            self.prompt_tokens = len(input_ids)
        self.sampled += 1
        self.model.tokens_sampled += 1
        return scores

    def _chunks(self, hook: _AbortHook) -> Iterator[dict[str, Any]]:
        """The completion's chunks, from ``create_chat_completion``; the hook goes once the prompt is read."""
        import llama_cpp

        iterator = self.model.llama.create_chat_completion(
            **self.params, stream=True, logits_processor=llama_cpp.LogitsProcessorList([self._count])
        )
        try:
            for chunk in iterator:
                hook.remove()  # the prompt is evaluated; from here the flag is checked between chunks
                yield chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def _generate(self) -> None:
        hook = _AbortHook(self.model.llama, self.stop_event)
        iterator: Iterator[dict[str, Any]] | None = None
        last: dict[str, Any] = {}
        try:
            self.emit("start", None)
            iterator = self._chunks(hook)
            for chunk in iterator:
                if self.stopped:
                    return
                last = chunk
                for choice in chunk.get("choices") or []:
                    if choice.get("finish_reason"):
                        self.finish_reason = choice["finish_reason"]
                self.emit("chunk", chunk)
        finally:
            hook.remove()
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        if self.stopped:
            return
        base = {"id": last.get("id", "chatcmpl-local"), "object": "chat.completion.chunk",
                "created": last.get("created", int(time.time())), "model": last.get("model", "local")}
        if self.finish_reason is None:
            self.finish_reason = "stop"
            self.emit("chunk", {**base, "choices": [
                {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]})
        prompt = self.prompt_tokens or 0
        completion = self.completion_tokens
        self.emit("chunk", {**base, "choices": [], "usage": {
            "prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}})

    @property
    def completion_tokens(self) -> int:
        """Tokens of the answer: those sampled, less the end-of-generation token when it ended the answer."""
        if self.finish_reason == "stop" and self.sampled:
            return self.sampled - 1
        return self.sampled
