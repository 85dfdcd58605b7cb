"""A scriptable fake OpenAI-compatible chat-completions server for tests.

The server really listens on 127.0.0.1 (port 0 by default) and serves from its
own thread, so it works with any asyncio loop the test uses (including the one
a Textual snapshot test runs). Standard library only.

Usage::

    with FakeServer() as server:
        server.enqueue(text_response("Hello world", delay=0.01))
        client = openai.AsyncOpenAI(api_key="test-key", base_url=server.base_url, max_retries=0)
        ...
        assert server.requests[0].messages[-1]["content"] == "hi"

Each POST /v1/chat/completions consumes one scripted :class:`Response` from the
queue (or :attr:`FakeServer.default` when the queue is empty). Streaming
requests (``"stream": true``) get the script's steps as HTTP/1.1 chunked
``text/event-stream``; non-streaming requests get ``Response.body`` as JSON, or,
when a script has no body, a ``chat.completion`` assembled from its chunks.
"""


from fake_server.builders import (
    blocking_response,
    chunk,
    error_response,
    split_words,
    text_response,
    tool_call_response,
    web_page,
)
from fake_server.script import (
    Chunk,
    Delay,
    Done,
    Drop,
    Headers,
    Raw,
    RecordedRequest,
    Response,
    SSEError,
    Stall,
    Step,
)
from fake_server.server import FakeServer

__all__ = [
    "Chunk",
    "Delay",
    "Done",
    "Drop",
    "FakeServer",
    "Headers",
    "Raw",
    "RecordedRequest",
    "Response",
    "SSEError",
    "Stall",
    "Step",
    "blocking_response",
    "chunk",
    "error_response",
    "split_words",
    "text_response",
    "tool_call_response",
    "web_page",
]
