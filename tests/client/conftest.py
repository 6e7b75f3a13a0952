"""Fixtures: fast-failing clients for a fake server (the real server is in tests/conftest.py)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from structgen.client import LlamaClient, RetryPolicy

FIXTURES = Path(__file__).parent / "fixtures"
FAST_RETRY = RetryPolicy(retries=2, backoff=0.001, max_backoff=0.01)


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
