"""Several servers as one: each request goes to the live server with the most free slots, and a server
that stops answering is taken out (and probed again now and then) so its records go elsewhere."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from structgen.client import (
    ClientError,
    ClientTimeoutError,
    ConnectTimeoutError,
    LlamaClient,
    RetryPolicy,
    ServerUnavailableError,
    Timeout,
    TransportError,
)
from structgen.label.errors import LabelError
from structgen.server.local import known_key

__all__ = ["AllServersDownError", "Endpoint", "ServerPool", "Stopped", "is_server_down"]

# Connection failures are the pool's business (failover); only a 503 "loading" is worth a quick retry.
POOL_RETRY = RetryPolicy(retries=2, backoff=0.25, on_connection_error=False)


class AllServersDownError(LabelError):
    """No server answers: every one of them is down (the message names each and why)."""


class Stopped(Exception):
    """The run is stopping; no new request is sent."""


def is_server_down(exc: BaseException) -> bool:
    """True when ``exc`` means the server itself is gone (refused, dropped connection, still 503), not
    that this one request failed."""
    if isinstance(exc, ClientTimeoutError):
        return isinstance(exc, ConnectTimeoutError)
    return isinstance(exc, (ServerUnavailableError, TransportError))


@dataclass
class Endpoint:
    """One server and what the pool knows about it."""

    url: str
    slots: int = 1
    in_flight: int = 0
    alive: bool = True
    error: str = ""
    retry_at: float = 0.0
    probing: bool = False
    picks: int = 0
    answered: int = 0
    """Records it gave an answer for."""
    downs: int = 0
    """Times it was found down."""


class ServerPool:
    """Client-side balancing over ``urls`` with failover.

    ``client`` (for a single server) is shared by every thread; otherwise each thread gets its own
    :class:`LlamaClient` per server. When every server is down, :meth:`acquire` keeps probing for
    ``down_grace`` seconds before it gives up with :class:`AllServersDownError`.
    """

    def __init__(
        self,
        urls: Sequence[str],
        *,
        client: LlamaClient | None = None,
        api_key: str | None = None,
        timeout: Timeout = (5.0, 300.0),
        down_grace: float = 5.0,
        probe_every: float = 1.0,
        on_message: Callable[[str], None] | None = None,
    ):
        if client is not None:
            urls = [client.base_url]
        if not urls:
            raise LabelError("no server URL")
        self.endpoints = [Endpoint(u.rstrip("/")) for u in dict.fromkeys(urls)]
        self.down_grace = down_grace
        self.probe_every = probe_every
        self._shared = client
        self._api_key = api_key
        self._timeout = timeout
        self._on_message = on_message or (lambda _: None)
        self._lock = threading.Lock()
        self._local = threading.local()
        self._clients: list[LlamaClient] = []
        self._all_down_since: float | None = None

    # -- clients -------------------------------------------------------------------------------------

    def client(self, endpoint: Endpoint) -> LlamaClient:
        """This thread's client for ``endpoint``."""
        if self._shared is not None:
            return self._shared
        mine: dict[str, LlamaClient] | None = getattr(self._local, "clients", None)
        if mine is None:
            mine = self._local.clients = {}
        found = mine.get(endpoint.url)
        if found is None:
            found = LlamaClient(
                endpoint.url, api_key=self._key(endpoint), timeout=self._timeout, retry=POOL_RETRY
            )
            mine[endpoint.url] = found
            with self._lock:
                self._clients.append(found)
        return found

    def close(self) -> None:
        """Close the clients the pool made."""
        with self._lock:
            clients, self._clients = self._clients, []
        for c in clients:
            c.close()

    # -- state ---------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Ask every server for its slot count; raise :class:`LabelError` when none answers."""
        for endpoint in self.endpoints:
            try:
                props = self.client(endpoint).props()
            except ClientError as exc:
                self._down(endpoint, exc)
                continue
            endpoint.slots = max(props.total_slots or 1, 1)
        if not any(e.alive for e in self.endpoints):
            raise LabelError(f"no server answers: {self.describe_down()}")

    @property
    def total_slots(self) -> int:
        """The slots of the live servers together (at least 1)."""
        return max(sum(e.slots for e in self.endpoints if e.alive), 1)

    def describe_down(self) -> str:
        return "; ".join(f"{e.url} ({e.error or 'down'})" for e in self.endpoints if not e.alive)

    def acquire(self, stop: threading.Event) -> Endpoint:
        """The live server with the most free slots (counted as taken until :meth:`release`).

        Raises :class:`Stopped` once ``stop`` is set and :class:`AllServersDownError` when every
        server stayed down for ``down_grace`` seconds.
        """
        while True:
            if stop.is_set():
                raise Stopped()
            now = time.monotonic()
            with self._lock:
                live = [e for e in self.endpoints if e.alive]
                if live:
                    self._all_down_since = None
                    chosen = min(live, key=lambda e: (e.in_flight / e.slots, e.in_flight, e.picks))
                    chosen.in_flight += 1
                    chosen.picks += 1
                    return chosen
                if self._all_down_since is None:
                    self._all_down_since = now
                waited = now - self._all_down_since
                due = [e for e in self.endpoints if not e.probing and now >= e.retry_at]
                for e in due:
                    e.probing = True
            revived = [self._probe(e) for e in due]  # probe them all, not just up to the first alive
            if any(revived):
                continue
            if waited >= self.down_grace:
                raise AllServersDownError(f"every server is down: {self.describe_down()}")
            stop.wait(min(0.1, self.down_grace))

    def release(self, endpoint: Endpoint, *, answered: bool) -> None:
        with self._lock:
            endpoint.in_flight -= 1
            if answered:
                endpoint.answered += 1

    def mark_down(self, endpoint: Endpoint, exc: ClientError) -> None:
        """Take ``endpoint`` out until a probe finds it answering again."""
        self._down(endpoint, exc)

    def _down(self, endpoint: Endpoint, exc: ClientError) -> None:
        with self._lock:
            if not endpoint.alive:
                return
            endpoint.alive = False
            endpoint.error = exc.message
            endpoint.downs += 1
            endpoint.retry_at = time.monotonic() + self.probe_every
            others = any(e.alive for e in self.endpoints)
        tail = "its records go to the other servers" if others else "no server is left"
        self._on_message(f"server {endpoint.url} is down ({exc.message}); {tail}")

    def _key(self, endpoint: Endpoint) -> str | None:
        """The key of a local server this process runs at the endpoint, else the pool's."""
        return known_key(endpoint.url) or self._api_key

    def _probe(self, endpoint: Endpoint) -> bool:
        probe = LlamaClient(endpoint.url, api_key=self._key(endpoint), retry=0)
        try:
            ok = probe.health(timeout=(1.0, 2.0)).ok
        except ClientError as exc:
            ok = False
            endpoint.error = exc.message
        finally:
            probe.close()
        with self._lock:
            endpoint.probing = False
            if ok:
                endpoint.alive, endpoint.error = True, ""
            else:
                endpoint.retry_at = time.monotonic() + self.probe_every
        if ok:
            self._on_message(f"server {endpoint.url} answers again")
        return ok
