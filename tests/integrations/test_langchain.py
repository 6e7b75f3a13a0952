"""The LangChain LLM: grammar-constrained answers, slot kept between calls, streaming."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from structgen.server import LocalServer

langchain = pytest.importorskip(
    "structgen.integrations.langchain", reason="langchain-core is not installed", exc_type=ImportError
)


class Answer(BaseModel):
    answer: str


def test_output_type_constrains_and_slot_is_kept(llama_server: LocalServer) -> None:
    llm = langchain.StructgenLLM(url=llama_server.url, output_type=Answer, n_predict=48)
    first = llm.invoke("Question: what colour is the sky?\nAnswer as JSON: ")
    Answer.model_validate(json.loads(first))
    slot = llm.slot_id
    assert slot >= 0
    llm.invoke("Question: what colour is grass?\nAnswer as JSON: ")
    assert llm.slot_id == slot


def test_grammar_and_stream(llama_server: LocalServer) -> None:
    llm = langchain.StructgenLLM(url=llama_server.url, grammar='root ::= "yes" | "no"', n_predict=4)
    chunks = list(llm.stream("Is the sky blue? "))
    assert "".join(chunks) in ("yes", "no")


def test_output_type_gets_the_grammar_generation_uses() -> None:
    from structgen.generation import Output

    llm = langchain.StructgenLLM(url="http://127.0.0.1:9", output_type=Answer)
    grammar = llm._params(None, {})["grammar"]
    assert grammar == Output(Answer).grammar  # flexible whitespace, bounded strings, compiled once
    assert llm._params(None, {})["grammar"] is grammar
