"""Backends: the OpenAI-compatible one and the embedded local model.

Both are imported lazily, so start-up never pays for ``openai`` or llama.cpp.
"""

from __future__ import annotations

from streamchat.backends.base import Backend, ChatRequest, Completion
from streamchat.config.settings import Settings
from streamchat.safety import host_of


def tools_sentence(backend: Backend) -> str:
    """Whether the backend's model can call tools, as a sentence (the local backend says why)."""
    reason = getattr(backend, "tools_reason", None)
    if isinstance(reason, str):
        return reason
    return f"The {backend.name} backend {'can' if backend.supports_tools else 'cannot'} call tools."


def describe_backend(settings: Settings, backend: Backend | None = None) -> str:
    """Where requests go and the model asked, for a status line: the backend's own description once it exists,
    else what the settings say (``openai · URL · model``, ``local · model``)."""
    if backend is not None:
        where = backend.description
    else:
        where = "local" if settings.use_local else f"openai · {host_of(settings.base_url)}"
    return where if settings.model_name in where else f"{where} · {settings.model_name}"


def make_backend(settings: Settings) -> Backend:
    """The backend the settings ask for (local when nothing else is configured)."""
    if settings.use_local:
        from streamchat.backends.local.backend import LocalBackend

        return LocalBackend(settings)
    from streamchat.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings)


__all__ = ["Backend", "ChatRequest", "Completion", "describe_backend", "make_backend", "tools_sentence"]
