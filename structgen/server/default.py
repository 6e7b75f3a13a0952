"""Where a server comes from: an explicit URL, ``$STRUCTGEN_URL``, or a local llama-server on demand."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from structgen.client import LlamaClient
from structgen.server.errors import BadServerURLError
from structgen.server.local import LocalServer, known_key

__all__ = [
    "API_KEY_ENV",
    "URL_ENV",
    "check_url",
    "default_client",
    "resolve_endpoint",
    "resolve_url",
    "serve_forever",
    "shared_client",
    "shared_server",
]

URL_ENV = "STRUCTGEN_URL"
API_KEY_ENV = "STRUCTGEN_API_KEY"

_lock = threading.Lock()
_shared: LocalServer | None = None


def shared_server() -> LocalServer:
    """The process-wide local server, started on first use and stopped at interpreter exit."""
    global _shared
    with _lock:
        if _shared is None or not _shared.running:
            server = LocalServer()
            server.start()
            if _shared is None:
                atexit.register(_stop_shared)
            _shared = server
        return _shared


def _stop_shared() -> None:
    global _shared
    with _lock:
        if _shared is not None:
            _shared.stop()
            _shared = None


def check_url(url: str, where: str = "the server URL") -> str:
    """``url`` without a trailing slash; :class:`BadServerURLError` (naming ``where``) unless it is http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadServerURLError(
            f"{where} is {url!r}, not an http(s) URL; write it like http://localhost:8080"
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError as exc:
        raise BadServerURLError(f"{where} is {url!r}: {exc}") from None
    return url.rstrip("/")


def resolve_endpoint(url: str | None = None, api_key: str | None = None) -> tuple[str, str | None]:
    """The server URL and API key to use: ``url`` if given, else ``$STRUCTGEN_URL`` (with ``api_key``,
    else ``$STRUCTGEN_API_KEY``, else the key of the local server this process runs there), else a local
    server started now (with its own key)."""
    key = api_key if api_key is not None else os.environ.get(API_KEY_ENV) or None
    if url:
        url = check_url(url)
        return url, key or known_key(url)
    from_env = os.environ.get(URL_ENV, "").strip()
    if from_env:
        url = check_url(from_env, f"${URL_ENV}")
        return url, key or known_key(url)
    server = shared_server()
    return server.url, server.api_key


def resolve_url(url: str | None = None) -> str:
    """The server URL to use: ``url`` if given, else ``$STRUCTGEN_URL``, else a local server started now."""
    return resolve_endpoint(url)[0]


def default_client(url: str | None = None, *, api_key: str | None = None, **kwargs: Any) -> LlamaClient:
    """A :class:`LlamaClient` for :func:`resolve_endpoint`; the API key defaults to ``$STRUCTGEN_API_KEY``
    (the local server's own key when it is the one used)."""
    target, key = resolve_endpoint(url, api_key)
    return LlamaClient(target, api_key=key, **kwargs)


_clients: dict[tuple[str, str | None], LlamaClient] = {}


def shared_client(url: str | None = None, *, api_key: str | None = None) -> LlamaClient:
    """The process's client for :func:`resolve_endpoint`: one per (URL, key), kept open so that calls in
    a loop reuse its connections and a slot's cookies, and closed at interpreter exit. Do not close it;
    :func:`default_client` makes a client of your own."""
    endpoint = resolve_endpoint(url, api_key)
    with _lock:
        client = _clients.get(endpoint)
        if client is None:
            if not _clients:
                atexit.register(_close_clients)
            client = _clients[endpoint] = LlamaClient(endpoint[0], api_key=endpoint[1])
        return client


def _close_clients() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def serve_forever(
    model: str | os.PathLike[str] | None = None,
    port: int | None = None,
    parallel: int = 1,
    *,
    host: str = "127.0.0.1",
    ctx_size: int = 4096,
    on_ready: Callable[[LocalServer], None] | None = None,
    **kwargs: Any,
) -> int:
    """Run a local llama-server in the foreground until it exits or Ctrl-C; the exit status.

    ``on_ready`` is called once the server answers (to print its URL, say). Other keyword
    arguments go to :class:`LocalServer`.
    """
    with LocalServer(model, host=host, port=port, parallel=parallel, ctx_size=ctx_size, **kwargs) as server:
        if on_ready is not None:
            on_ready(server)
        try:
            return server.wait()
        except KeyboardInterrupt:
            return 0
