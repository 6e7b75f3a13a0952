"""LangChain integration: an LLM that talks to a llama.cpp-style server through structgen.

Needs the ``langchain`` extra (``pip install 'structgen[langchain]'``). The LLM keeps one
:class:`~structgen.client.Conversation`, so the server's slot and cookies carry over between calls
and the prompt cache is reused, as hosted llama-like APIs ask. Give it a GBNF ``grammar`` or an
``output_type`` (compiled once, as :func:`structgen.generate` compiles it) to constrain every answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

try:
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models.llms import LLM
    from langchain_core.outputs import GenerationChunk
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "structgen.integrations.langchain needs langchain-core: pip install 'structgen[langchain]'"
    ) from exc

from pydantic import ConfigDict, Field, PrivateAttr

from ..client import Conversation
from ..generation.checks import check_output_type
from ..generation.output import compile_output
from ..server import shared_client


class StructgenLLM(LLM):
    """A LangChain LLM for llama.cpp's native ``/completion`` API, optionally grammar-constrained."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    url: str | None = None
    """The server's URL (``None``: ``$STRUCTGEN_URL``, else a local server)."""
    api_key: str | None = None
    """Sent as a bearer token (``None``: ``$STRUCTGEN_API_KEY``)."""
    grammar: str | None = None
    """A GBNF grammar every answer must follow."""
    output_type: Any = None
    """A type or JSON Schema, compiled to the grammar (when ``grammar`` is not given) with the settings of
    :func:`structgen.generate`: flexible whitespace, bounded digits, strings and arrays."""
    n_predict: int = 256
    """The most tokens per answer."""
    temperature: float = 0.0
    """Sampling temperature (0: greedy)."""
    cache_prompt: bool = True
    """Reuse the slot's cached prompt prefix between calls."""
    sampling: dict[str, Any] = Field(default_factory=dict)
    """Further ``/completion`` options, sent with every call."""

    _conversation: Conversation | None = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "structgen-llama"

    @property
    def conversation(self) -> Conversation:
        """The conversation (slot id) shared by every call of this LLM, on the process's shared client."""
        if self._conversation is None:
            self._conversation = shared_client(self.url, api_key=self.api_key).conversation()
        return self._conversation

    def _grammar(self) -> str | None:
        if self.grammar is not None:
            return self.grammar
        if self.output_type is not None:
            return compile_output(check_output_type(self.output_type)).grammar
        return None

    def _params(self, stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "n_predict": self.n_predict,
            "temperature": self.temperature,
            "cache_prompt": self.cache_prompt,
            **self.sampling,
            **kwargs,
        }
        grammar = self._grammar()
        if grammar is not None:
            params["grammar"] = grammar
        if stop:
            params["stop"] = stop
        return params

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        return self.conversation.completion(prompt, **self._params(stop, kwargs)).content

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        for delta in self.conversation.stream(prompt, **self._params(stop, kwargs)):
            chunk = GenerationChunk(text=delta.content)
            if run_manager is not None:
                run_manager.on_llm_new_token(delta.content, chunk=chunk)
            yield chunk

    @property
    def slot_id(self) -> int:
        """The server slot the next call will ask for (-1 before the first answer)."""
        return self.conversation.slot_id
