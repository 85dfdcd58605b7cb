"""Backends: the OpenAI-compatible one and the embedded local model.

Both are imported lazily, so start-up never pays for ``openai`` or llama.cpp.
"""

from __future__ import annotations

from streamchat.backends.base import Backend, ChatRequest, Completion
from streamchat.config import Settings


def make_backend(settings: Settings) -> Backend:
    """The backend the settings ask for (local when nothing else is configured)."""
    if settings.use_local:
        from streamchat.backends.local import LocalBackend

        return LocalBackend(settings)
    from streamchat.backends.openai_compat import OpenAIBackend

    return OpenAIBackend(settings)


__all__ = ["Backend", "ChatRequest", "Completion", "make_backend"]
