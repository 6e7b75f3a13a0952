"""The time budget against the real llama-server: a request given up is cancelled on the server."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import BaseModel

import structgen
from structgen.client import LlamaClient
from structgen.generation import GenerationTimeoutError, Reason


def _slots(client: LlamaClient) -> list[dict[str, Any]]:
    response = client.session.get(client.base_url + "/slots", timeout=5)
    if response.status_code != 200:
        pytest.skip(f"the server has no /slots endpoint ({response.status_code})")
    slots: list[dict[str, Any]] = response.json()
    return slots


def _idle(client: LlamaClient, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not any(slot.get("is_processing") for slot in _slots(client)):
            return True
        time.sleep(0.05)
    return False


class Story(BaseModel):
    chapters: list[str]


def test_a_call_out_of_time_leaves_the_server_idle(client: LlamaClient) -> None:
    assert _idle(client)
    prompt = "Write a story of one hundred long chapters, as JSON.\n"
    with pytest.raises(GenerationTimeoutError) as info:
        structgen.generate(
            prompt,
            Story,
            client=client,
            timeout=0.3,
            n_predict=4000,
            max_items=None,
            max_string_length=None,
            cache_prompt=False,
        )
    assert info.value.attempts and info.value.attempts[-1].reason is Reason.TIMED_OUT
    # Without the cancel the slot would write up to 4000 tokens; it stops with the connection.
    assert _idle(client, 10.0)
    answer = client.completion("One plus one is", n_predict=4, temperature=0)
    assert answer.tokens_predicted > 0


def test_a_stream_aborted_from_another_thread_is_cancelled(client: LlamaClient) -> None:
    import threading

    assert _idle(client)
    with client.stream(
        "Count from one to a thousand: one, two,", n_predict=3000, ignore_eos=True, cache_prompt=False
    ) as stream:
        threading.Timer(0.3, stream.abort).start()
        with pytest.raises(structgen.ClientError):
            for _ in stream:
                pass
    assert _idle(client, 10.0)  # 3000 tokens would keep the slot busy far longer
