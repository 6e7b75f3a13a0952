"""Calls without a client share one client per (URL, key): connections and cookies are reused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel
from pytest_httpserver import HTTPServer

import structgen
from structgen.server import default as default_module
from structgen.server import shared_client


class Pet(BaseModel):
    name: str


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(default_module, "_clients", {})


def test_one_client_per_url_and_key() -> None:
    first = shared_client("http://127.0.0.1:9", api_key="k")
    assert shared_client("http://127.0.0.1:9/", api_key="k") is first
    assert shared_client("http://127.0.0.1:9", api_key="other") is not first
    assert shared_client("http://127.0.0.1:10", api_key="k") is not first


def test_generate_in_a_loop_builds_one_client(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    answer = {"content": '{"name": "Rex"}', "stop": True, "stop_type": "eos", "tokens_predicted": 5}
    httpserver.expect_request("/completion").respond_with_data(
        "data: " + json.dumps(answer) + "\n\n", content_type="text/event-stream"
    )
    built: list[Any] = []

    class Counting(default_module.LlamaClient):  # type: ignore[misc, name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(default_module, "LlamaClient", Counting)
    monkeypatch.setenv("STRUCTGEN_URL", httpserver.url_for("/"))
    for _ in range(3):
        assert structgen.generate("A pet: ", Pet, timeout=None) == Pet(name="Rex")
    assert len(built) == 1
