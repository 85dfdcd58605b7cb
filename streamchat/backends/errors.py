"""Turn whatever a backend raised into one short, human ``ErrorEvent``.

Messages never contain the API key: every text that came from outside is
passed through ``redact()`` first.
"""

from __future__ import annotations

import email.utils
import json
import random
import socket
import ssl
import time
from typing import Any

from streamchat.backends import mistakes
from streamchat.events import ErrorEvent
from streamchat.safety import host_of, redact

_DNS_HINTS = ("name or service not known", "nodename nor servname", "temporary failure in name resolution",
              "getaddrinfo failed", "no address associated")


class BackendError(Exception):
    """An error a backend raises with its kind already decided."""

    def __init__(self, kind: str, message: str, *, status_code: int | None = None, retryable: bool = False):
        super().__init__(message)
        self.kind = kind
        """One of ``events.ErrorKind``."""
        self.message = message
        """A short human sentence."""
        self.status_code = status_code
        """The HTTP status, if any."""
        self.retryable = retryable
        """Whether trying again may help."""


def error_of(event: ErrorEvent) -> BackendError:
    """A ``BackendError`` that the agent turns back into ``event``."""
    return BackendError(event.kind, event.message, status_code=event.status_code, retryable=event.retryable)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
        if isinstance(body.get("message"), str):
            return str(body["message"])
    return str(getattr(exc, "message", "") or exc)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def classify(
    exc: BaseException,
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout: float | None = None,
    streaming_started: bool = False,
    attempts: int = 1,
) -> ErrorEvent:
    """The ``ErrorEvent`` for an exception raised while talking to a model.

    ``attempts`` is how many times the request was sent; the message says so when it was
    sent more than once.
    """
    event = _classify(exc, base_url, model, timeout, streaming_started)
    message = event.message
    if attempts > 1 and not streaming_started and event.kind in _RETRIED_KINDS and not isinstance(exc, BackendError):
        message = f"{message} ({attempts} attempts)"
    return ErrorEvent(
        kind=event.kind,
        message=redact(message, api_key),
        status_code=event.status_code,
        retryable=event.retryable,
    )


_RETRIED_KINDS = frozenset({"timeout", "connection", "dns", "server", "rate_limit"})
"""Failures worth sending the request again for, when its answer had not begun."""

MAX_RETRY_WAIT_S = 60.0
"""A server asking to wait longer than this is not waited for: the error is shown at once."""


def retry_delay(exc: BaseException, error: ErrorEvent, attempt: int, max_retries: int,
                *, started: bool) -> float | None:
    """Seconds to wait before sending a failed request again, or None not to.

    Only a failure before the answer began, of a kind worth retrying, while
    attempts are left. The wait is the server's ``Retry-After`` (or
    ``retry-after-ms``) when it gave one, else 0.5 s doubling per attempt up to
    8 s, a little less at random so that clients do not retry in step.
    """
    if started or error.kind not in _RETRIED_KINDS or attempt > max_retries or isinstance(exc, BackendError):
        return None
    asked = _retry_after(exc)
    if asked is not None:
        return asked if asked <= MAX_RETRY_WAIT_S else None
    backoff: float = min(0.5 * 2.0 ** (attempt - 1), 8.0)
    return backoff * (1 - 0.25 * random.random())


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, when.timestamp() - time.time())
    return None


def _setup_mistake(chain: list[BaseException], base_url: str | None, host: str) -> ErrorEvent | None:
    """The error for a failure that names a mistake of the setup (see ``mistakes``), if it is one."""
    names = {type(item).__name__ for item in chain}
    if names & {"UnsupportedProtocol", "InvalidURL"}:
        return mistakes.bad_url(base_url)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return mistakes.untrusted(base_url, item.verify_message or "verification failed")
        if isinstance(item, ssl.SSLError) and item.reason in _PLAIN_HTTP_REASONS:
            return mistakes.not_https(base_url)
    top = chain[0]
    if isinstance(top, json.JSONDecodeError):  # raised by the stream itself (not a parse the SDK recovered from)
        return mistakes.malformed_event(host, f"{top.msg}, at character {top.pos + 1}")
    return None


_PLAIN_HTTP_REASONS = frozenset({"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                                 "HTTP_REQUEST"})
"""``ssl.SSLError.reason`` when an https:// request met a server speaking plain HTTP."""


def _classify(
    exc: BaseException, base_url: str | None, model: str | None, timeout: float | None, started: bool
) -> ErrorEvent:
    if isinstance(exc, BackendError):
        return ErrorEvent(exc.kind, exc.message, exc.status_code, exc.retryable)  # type: ignore[arg-type]
    import openai

    host = host_of(base_url)
    mistake = _setup_mistake(_chain(exc), base_url, host)
    if mistake is not None:
        return mistake
    if isinstance(exc, openai.APITimeoutError):
        wait = f" for {timeout:g} s" if timeout else ""
        if started:
            return ErrorEvent("timeout", f"The stream stalled: no data from {host}{wait}.", retryable=True)
        return ErrorEvent("timeout", f"No answer from {host}{wait}.", retryable=True)
    if isinstance(exc, openai.APIConnectionError):
        chain = _chain(exc)
        text = " ".join(str(item) for item in chain).lower()
        if any(isinstance(item, socket.gaierror) for item in chain) or any(h in text for h in _DNS_HINTS):
            return ErrorEvent("dns", f"Could not find the server {host} (DNS lookup failed).")
        if started:
            return ErrorEvent("dropped", f"The connection to {host} dropped in the middle of the answer.",
                              retryable=True)
        if any(isinstance(item, ConnectionRefusedError) for item in chain) or "refused" in text:
            return ErrorEvent("connection", f"Could not connect to {host}: connection refused. Is the server running?",
                              retryable=True)
        return ErrorEvent("connection", f"Could not connect to {host}: {_short(str(chain[-1]) or 'network error')}",
                          retryable=True)
    if isinstance(exc, openai.APIStatusError):
        return _status_error(exc, host, model, base_url)
    if isinstance(exc, openai.APIError):
        return ErrorEvent("stream_error", f"The server reported an error mid-stream: {_short(_server_message(exc))}",
                          retryable=True)
    return ErrorEvent("unknown", _short(f"{type(exc).__name__}: {exc}"))


def _is_web_page(exc: Any) -> bool:
    response = getattr(exc, "response", None)
    content_type = str(response.headers.get("content-type", "")) if response is not None else ""
    body = getattr(exc, "body", None)
    return "text/html" in content_type.lower() or (isinstance(body, str) and body.lstrip()[:1] == "<")


def _error_code(exc: Any) -> str | None:
    body = getattr(exc, "body", None)
    inner = body.get("error", body) if isinstance(body, dict) else None
    code = inner.get("code") or inner.get("type") if isinstance(inner, dict) else None
    return str(code) if code else None


def _status_error(exc: Any, host: str, model: str | None, base_url: str | None) -> ErrorEvent:
    status = int(exc.status_code)
    web_page = _is_web_page(exc)
    detail = "" if web_page else _short(_server_message(exc))
    if status == 401:
        return ErrorEvent("auth", f"{host} rejected the API key (401). Check OPENAI_API_KEY.", status)
    if status == 404 and (web_page or not any(word in detail.lower() for word in ("model", "deployment"))):
        return mistakes.no_endpoint(base_url, status)  # the address is wrong, not the model
    if status == 404:
        name = f"'{model}' " if model else ""
        return ErrorEvent("not_found", f"Model {name}not found on {host} (404): {detail}", status)
    if web_page and status < 500:
        return mistakes.web_page(base_url, status)
    if status in (400, 413, 422) and mistakes.is_context_overflow(detail, _error_code(exc)):
        return mistakes.context_overflow(detail, status)
    if status == 403:
        return ErrorEvent("permission", f"{host} refused access (403): {detail}", status)
    if status == 429:
        retry_after = exc.response.headers.get("retry-after") if getattr(exc, "response", None) else None
        wait = f" Retry after {retry_after} s." if retry_after else ""
        return ErrorEvent("rate_limit", f"Rate limited by {host} (429): {detail.rstrip('.')}.{wait}", status,
                          retryable=True)
    if status >= 500:
        detail = detail or "it answered with a web page (a proxy's error page?)"
        return ErrorEvent("server", f"{host} had a server error ({status}): {detail}", status, retryable=True)
    return ErrorEvent("bad_request", f"{host} refused the request ({status}): {detail}", status)
