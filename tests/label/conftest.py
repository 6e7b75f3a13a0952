"""A fake llama-server for the labeling tests (the real one is in tests/conftest.py)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

Answer = Callable[[dict[str, Any]], "dict[str, Any] | tuple[int, dict[str, Any]]"]


def sentiment(body: dict[str, Any]) -> dict[str, Any]:
    """A label read off the prompt: "good" -> positive, "bad" -> negative, else neutral (as a JSON string)."""
    prompt = str(body.get("prompt", ""))
    label = "positive" if "good" in prompt else "negative" if "bad" in prompt else "neutral"
    return completion(json.dumps(label))


def completion(content: str, *, stop_type: str = "eos", predicted: int = 3) -> dict[str, Any]:
    return {
        "content": content,
        "stop": True,
        "stop_type": stop_type,
        "id_slot": 0,
        "tokens_predicted": predicted,
        "tokens_evaluated": 7,
        "timings": {"predicted_n": predicted},
    }


class FakeLlama:
    """/props, /health, /apply-template and /completion (answered by ``answer``); records each /completion body."""

    def __init__(self, answer: Answer = sentiment, *, slots: int = 2, delay: float = 0.0):
        self.answer = answer
        self.slots = slots
        self.delay = delay
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        for path, handler in (
            ("/props", self._props),
            ("/health", self._health),
            ("/apply-template", self._template),
            ("/completion", self._completion),
        ):
            self.server.expect_request(path).respond_with_handler(handler)

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    @property
    def completions(self) -> int:
        with self.lock:
            return len(self.bodies)

    def _props(self, request: Request) -> Response:
        return Response(json.dumps({"total_slots": self.slots}), content_type="application/json")

    def _health(self, request: Request) -> Response:
        return Response(json.dumps({"status": "ok"}), content_type="application/json")

    def _template(self, request: Request) -> Response:
        messages = json.loads(request.data)["messages"]
        prompt = "".join(f"<{m['role']}>{m['content']}\n" for m in messages) + "<assistant>"
        return Response(json.dumps({"prompt": prompt}), content_type="application/json")

    def _completion(self, request: Request) -> Response:
        body = json.loads(request.data)
        with self.lock:
            self.bodies.append(body)
        if self.delay:
            time.sleep(self.delay)
        answer = self.answer(body)
        status, data = answer if isinstance(answer, tuple) else (200, answer)
        return Response(json.dumps(data), status=status, content_type="application/json")


@pytest.fixture()
def fake_llama() -> Iterator[Callable[..., FakeLlama]]:
    """Start fake servers: ``fake_llama(answer=..., slots=..., delay=...)``; all are stopped afterwards."""
    started: list[FakeLlama] = []

    def start(answer: Answer = sentiment, **kwargs: Any) -> FakeLlama:
        fake = FakeLlama(answer, **kwargs)
        fake.server.start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        if fake.server.is_running():
            fake.server.stop()
