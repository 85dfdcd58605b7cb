"""Setup mistakes, named: an address that is not the API, a server that does not speak its stream,
a conversation too long for the model.

Each becomes an ``ErrorEvent`` whose sentence says what is wrong and what to try, instead of the
symptom (an empty stream, "model not found", a JSON parser's complaint). Mistakes of the settings
are of kind ``config``, which is never retried (``errors.retry_delay``) and makes ``ask`` exit 2.
UI-free, and nothing here imports ``openai``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from streamchat.events import ErrorEvent

OPENAI_DEFAULT = "https://api.openai.com/v1"
"""The address the SDK uses when no base URL is set."""

_CONTEXT_OVERFLOW = re.compile(
    r"context[_ ]length|context window|maximum context|context size|exceeds? the available context"
    r"|too many tokens|prompt is too long|input is too long|reduce the length of the messages",
    re.IGNORECASE,
)


def shown_url(base_url: str | None) -> str:
    """The base URL as it may be shown: without a user or password in it, without a trailing slash."""
    if not base_url:
        return OPENAI_DEFAULT
    parts = urlsplit(base_url.strip())
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/") or base_url


def suggested_url(base_url: str | None) -> str | None:
    """What the base URL was probably meant to be (``…/v1`` added, ``/chat/completions`` dropped), if anything."""
    if not base_url:
        return None
    url = shown_url(base_url)
    for tail in ("/chat/completions", "/completions", "/chat"):
        if url.endswith(tail):
            return url[: -len(tail)]
    if "v1" not in urlsplit(url).path.split("/"):
        return f"{url}/v1"
    return None


def _try(base_url: str | None) -> str:
    suggestion = suggested_url(base_url)
    if suggestion:
        return f" Did you mean {suggestion}?"
    return " Check the base URL (--base-url / OPENAI_BASE_URL): it is the server's OpenAI-compatible API, usually …/v1."


def web_page(base_url: str | None, status: int | None = None) -> ErrorEvent:
    """The address answers with an HTML page (a web UI, a proxy's page), not the API."""
    code = f" ({status})" if status and status != 200 else ""
    return ErrorEvent("config", f"{shown_url(base_url)} answers with a web page{code}, not the OpenAI API."
                                f"{_try(base_url)}", status_code=status)


def no_endpoint(base_url: str | None, status: int = 404) -> ErrorEvent:
    """A 404 that is about the address, not the model: there is no chat-completions endpoint there."""
    return ErrorEvent("config", f"There is no chat-completions API at {shown_url(base_url)} ({status})."
                                f"{_try(base_url)}", status_code=status)


def not_an_event_stream(base_url: str | None, content_type: str) -> ErrorEvent:
    """A streaming request answered with something other than server-sent events."""
    if content_type == "text/html":
        return web_page(base_url)
    if content_type == "application/json":
        return ErrorEvent("config", f"{shown_url(base_url)} answered a streaming request with one JSON body instead "
                                    f"of a stream: the server may not stream. Try without streaming (--no-stream).")
    return ErrorEvent("config", f"{shown_url(base_url)} answered with {content_type or 'an unnamed type'}, not an "
                                f"event stream: is it an OpenAI-compatible API?{_try(base_url)}")


def unexpected_body(base_url: str | None, body: str) -> ErrorEvent:
    """A blocking request answered with text that is not a JSON completion."""
    text = body.lstrip()
    if text.startswith("data:"):
        return ErrorEvent("config", f"{shown_url(base_url)} streamed its answer although streaming was off: this "
                                    f"server only streams. Ask with streaming (drop --no-stream).")
    if text[:1] == "<":
        return web_page(base_url)
    return ErrorEvent("config", f"{shown_url(base_url)} answered with text that is not JSON: is it an "
                                f"OpenAI-compatible API?{_try(base_url)}")


def bad_url(base_url: str | None) -> ErrorEvent:
    """The base URL is not an http(s) URL at all."""
    return ErrorEvent("config", f"The base URL {shown_url(base_url)!r} is not a URL: give the server's address with "
                                f"http:// or https://, e.g. http://localhost:11434/v1.")


def not_https(base_url: str | None) -> ErrorEvent:
    """An https:// URL for a server that speaks plain HTTP."""
    url = shown_url(base_url)
    plain = "http://" + url.removeprefix("https://")
    return ErrorEvent("config", f"{url} does not speak HTTPS. Did you mean {plain}?")


def untrusted(base_url: str | None, reason: str) -> ErrorEvent:
    """The server's TLS certificate was refused."""
    return ErrorEvent("config", f"The certificate of {shown_url(base_url)} is not trusted ({reason}). Use the "
                                f"server's proper name, or point SSL_CERT_FILE at its certificate authority.")


def malformed_event(host: str, detail: str) -> ErrorEvent:
    """An event of the stream is not valid JSON."""
    return ErrorEvent("stream_error", f"{host} sent an event that is not valid JSON ({detail}): the server, or a "
                                      f"proxy in between, does not speak the OpenAI stream format.")


def is_context_overflow(message: str, code: str | None = None) -> bool:
    """True when a refusal says the conversation does not fit the model's context window."""
    return code in ("context_length_exceeded", "exceed_context_size_error") or bool(_CONTEXT_OVERFLOW.search(message))


def context_overflow(detail: str = "", status: int | None = None) -> ErrorEvent:
    """The conversation is longer than the model can take: retrying as is cannot help."""
    said = f" ({detail.rstrip('.')})" if detail else ""
    return ErrorEvent("context_length", f"The conversation is too long for the model's context window{said}.",
                      status_code=status)
