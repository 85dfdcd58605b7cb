"""One streamed answer with tools on a loaded llama.cpp model: text or calls, token by token.

``ToolGeneration`` is a ``Generation`` (same thread, lock, stop and chunk
contract) that renders the prompt with the GGUF's own template and samples
tokens itself with ``Llama.generate``:

* the first token is sampled with a grammar that allows a call or text
  (``grammar``; a forced tool choice allows only calls); if the model
  chose text, generation restarts from there without a grammar, so text comes
  at full speed (the prompt stays in llama.cpp's cache);
* a call keeps the grammar to its end, so its JSON is well formed and matches
  the tool's schema; a ``<tool_call>`` begun in free text restarts under the
  grammar from where it began;
* the output is read as it streams (``tool_calls``) and sent on as
  OpenAI-style chunks: text deltas, then each call's id and name, then its
  arguments in fragments as they are written;
* the guard rails of ``tool_rounds`` decide what a round may do; a call
  that repeats the last round's is never sent on: the model is told, and
  answers in text.
"""

from __future__ import annotations

import codecs
import secrets
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

from streamchat.backends.local.generation import Emit, Generation, _AbortHook
from streamchat.backends.local.grammar import Mode, tool_grammar
from streamchat.backends.local.model import LoadedModel
from streamchat.backends.local.template import (
    TemplateError,
    ToolFormat,
    native_messages,
    render_prompt,
    text_messages,
)
from streamchat.backends.local.tool_calls import (
    ArgsDelta,
    CallEnd,
    CallOpened,
    CallParser,
    CallStart,
    Piece,
    Text,
)
from streamchat.backends.local.tool_rounds import RepeatGate, RoundPlan, repeat_exchange

CHATML = ("{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
          "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
"""The template used for a GGUF that carries none."""

SAMPLING: dict[str, Any] = {"top_k": 40, "top_p": 0.95, "min_p": 0.05, "repeat_penalty": 1.0}
"""llama-cpp-python's chat defaults, so answers sample as on the text path."""
DEFAULT_TEMPERATURE = 0.2
"""llama-cpp-python's chat default temperature."""


@dataclass(frozen=True)
class ToolSetup:
    """What tool calling needs to know about the model's chat template."""

    template: str | None
    """The template to render requests with tools (None: the GGUF has none)."""
    text_template: str | None
    """The template for requests without tools."""
    native: bool
    """True when the template knows tools (else they are described in the system message)."""
    fmt: ToolFormat
    """How the model writes a call."""


class ToolGeneration(Generation):
    """A ``Generation`` that may answer with tool calls; see the module's docstring."""

    def __init__(self, model: LoadedModel, params: dict[str, Any], emit: Emit, *, setup: ToolSetup,
                 plan: RoundPlan, required: bool = False) -> None:
        super().__init__(model, params, emit)
        self.setup = setup
        """Template and call format."""
        self.plan = plan
        """What this round may do."""
        self.required = required
        """True to allow only calls (a forced tool choice) while the round offers tools."""
        self.calls = 0
        """Calls sent on so far."""
        self.repeat_told = False
        """True once the model was told that its repeated call was not run."""
        self.prompt_text = ""
        """The last prompt rendered."""
        self._ended: str | None = None
        self._call_open = False  # a call's start went out and its end has not
        self._created = int(time.time())

    @property
    def completion_tokens(self) -> int:
        """Tokens of the answer (end-of-generation tokens are never counted here)."""
        return self.sampled

    # -- chunks ------------------------------------------------------------

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-local", "object": "chat.completion.chunk", "created": self._created,
                "model": self.params.get("model") or "local",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}

    def _piece_chunk(self, piece: Piece) -> dict[str, Any] | None:
        if isinstance(piece, Text):
            return self._chunk({"role": "assistant", "content": piece.text})
        self._call_open = isinstance(piece, (CallStart, ArgsDelta))
        if isinstance(piece, CallStart):
            self.calls += 1
            call = {"index": self.calls - 1, "id": secrets.token_hex(5)[:9], "type": "function",
                    "function": {"name": piece.name, "arguments": ""}}
            return self._chunk({"tool_calls": [call]})
        if isinstance(piece, ArgsDelta):
            return self._chunk({"tool_calls": [{"index": self.calls - 1, "function": {"arguments": piece.text}}]})
        return None

    # -- prompt ------------------------------------------------------------

    def _render(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> str:
        llama, setup = self.model.llama, self.setup
        bos, eos = _token_text(llama, llama.token_bos()), _token_text(llama, llama.token_eos())
        if setup.native:
            template = (setup.template if tools else setup.text_template) or CHATML
            try:
                return render_prompt(template, native_messages(messages), tools=tools, bos_token=bos, eos_token=eos)
            except TemplateError:
                pass  # e.g. a template that insists on call ids of its own making: calls go in as text
        return render_prompt(setup.text_template or CHATML, text_messages(messages, setup.fmt, tools),
                             bos_token=bos, eos_token=eos)

    def _prompt(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> list[int]:
        llama = self.model.llama
        self.prompt_text = self._render(messages, tools)
        tokens: list[int] = llama.tokenize(self.prompt_text.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) > 1 and tokens[0] == tokens[1] == llama.token_bos():
            tokens = tokens[1:]  # the template wrote the BOS token itself
        if len(tokens) >= llama.n_ctx():
            raise ValueError(f"Requested tokens ({len(tokens)}) exceed context window of {llama.n_ctx()}")
        if self.prompt_tokens is None:
            self.prompt_tokens = len(tokens)
        return tokens

    # -- sampling ----------------------------------------------------------

    def _sampler(self, tokens: list[int], mode: Mode | None, tools: list[dict[str, Any]]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        grammar = None
        if mode is not None:
            left = self.plan.max_calls - self.calls
            try:
                text = _checked(self.model.llama, tool_grammar(tools, self.setup.fmt, mode, left))
            except ValueError:  # a schema llama.cpp cannot take: any JSON object for arguments
                loose = [{"type": "function", "function": {**tool.get("function", tool), "parameters": {}}}
                         for tool in tools]
                text = _checked(self.model.llama, tool_grammar(loose, self.setup.fmt, mode, left))
            grammar = LlamaGrammar.from_string(text, verbose=False)
        temperature = self.params.get("temperature")
        return self.model.llama.generate(
            tokens, grammar=grammar, temp=DEFAULT_TEMPERATURE if temperature is None else temperature, **SAMPLING)

    def _chunks(self, hook: _AbortHook) -> Iterator[dict[str, Any]]:
        plan = self.plan
        mode: Mode = "text" if not plan.tools else "calls" if self.required else "choose"
        told = yield from self._answer(plan.messages, plan.tools, mode, hook)
        if told is not None and not self.stopped:
            self.repeat_told = True
            hook.install()
            yield from self._answer([*plan.messages, *told], [], "text", hook)
        if not self.stopped:
            yield self._chunk({}, "length" if self._ended == "length" else "tool_calls" if self.calls else "stop")

    def _answer(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], mode: Mode,
                hook: _AbortHook) -> Generator[dict[str, Any], None, list[dict[str, Any]] | None]:
        """Sample one answer to ``messages`` as chunks; returns the messages that tell of a repeated call."""
        import llama_cpp

        llama, fmt = self.model.llama, self.setup.fmt
        prompt = self._prompt(messages, tools)
        limit = min((self.params.get("max_tokens") or llama.n_ctx()) - self.sampled, llama.n_ctx() - len(prompt))
        parser, gate = CallParser(fmt), RepeatGate(self.plan.previous if tools else ())
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        generated: list[int] = []
        starts: list[int] = []  # where each generated token's text begins
        current: Mode | None = mode
        while True:
            sampler = self._sampler(prompt + generated, current, tools)
            restart: tuple[int, Mode | None] | None = None
            try:
                for token in sampler:
                    hook.remove()  # the prompt is evaluated: from here the flag is checked between tokens
                    if self.stopped:
                        return None
                    if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                        break
                    generated.append(token)
                    starts.append(parser.fed)
                    self.sampled += 1
                    self.model.tokens_sampled += 1
                    text = decoder.decode(llama.detokenize([token], special=True))
                    for piece in parser.feed(text):
                        if isinstance(piece, CallOpened):
                            if not tools:  # a round without tools ends where a call would begin
                                self._ended = "stop"
                                return None
                            if current is None and piece.offset in starts:  # begun in free text: redo it
                                restart = (starts.index(piece.offset), "calls")
                                break
                            continue
                        passed, verdict = gate.feed(piece)
                        for item in passed:
                            chunk = self._piece_chunk(item)
                            if chunk is not None:
                                yield chunk
                        if verdict == "repeat" and isinstance(piece, CallEnd):
                            return repeat_exchange(secrets.token_hex(5)[:9], piece.name, piece.arguments) \
                                if self.calls == 0 else None
                        if verdict == "again" or (verdict == "new" and self.calls >= self.plan.max_calls):
                            return None  # the same call twice is a loop; or no calls are left
                    if restart is None and current in ("choose", "text") and text:
                        if current == "choose" and (parser.in_call or parser.holding_opener):
                            current = "calls"  # the model chose a call: the same grammar sees it through
                        else:
                            restart = (len(generated), None)  # it chose text: on at full speed
                    if restart is not None:
                        break
                    if len(generated) >= limit:  # cut off: whole calls before a held-back one still stand
                        self._ended = "length" if self._call_open or not self.calls else "stop"
                        return None
            finally:
                sampler.close()
            if restart is None:
                break
            keep, current = restart
            if keep < len(generated):
                del generated[keep:], starts[keep:]
                parser, decoder = CallParser(fmt), codecs.getincrementaldecoder("utf-8")("replace")
        for piece in parser.feed(decoder.decode(b"", final=True)) + parser.finish():
            chunk = self._piece_chunk(piece)
            if chunk is not None:
                yield chunk
        return None


def _token_text(llama: Any, token: int) -> str:
    """A special token's text for the template (``bos_token``...), "" when the model has none."""
    if token < 0:
        return ""
    return bytes(llama.detokenize([token], special=True)).decode("utf-8", "replace")


def _checked(llama: Any, grammar: str) -> str:
    """``grammar`` once llama.cpp has parsed it (a grammar it rejects would crash the sampler chain)."""
    import llama_cpp

    sampler = llama_cpp.llama_sampler_init_grammar(llama._model.vocab, grammar.encode("utf-8"), b"root")
    if not sampler:
        raise ValueError("llama.cpp rejected the tools' grammar")
    llama_cpp.llama_sampler_free(sampler)
    return grammar
