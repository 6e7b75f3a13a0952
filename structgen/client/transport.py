"""Sending one request: timeouts, retries with backoff, and mapping failures to typed errors."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any

import requests
from urllib3.exceptions import ConnectTimeoutError as Urllib3ConnectTimeout
from urllib3.exceptions import NewConnectionError, ReadTimeoutError

from structgen.client.errors import (
    ClientError,
    ClientTimeoutError,
    ConnectTimeoutError,
    ResponseFormatError,
    ServerUnavailableError,
    TransportError,
    error_from_response,
)

__all__ = ["RetryPolicy", "Timeout", "Transport", "iter_body"]

log = logging.getLogger("structgen.client")

Timeout = float | tuple[float, float] | None
"""Seconds: one number for both phases, or ``(connect, read)``; ``None`` waits forever."""


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a request again: only if it never reached the server, or the server said 503.

    The n-th retry waits ``backoff * 2**(n-1)`` seconds (at most ``max_backoff``), or what a
    ``Retry-After`` header asks for when that is shorter than ``max_backoff``.
    """

    retries: int = 3
    """How many times a request is tried again (0: never)."""
    backoff: float = 0.25
    """Seconds before the first retry; doubled for each further one."""
    max_backoff: float = 8.0
    """The longest wait between tries, in seconds."""
    on_connection_error: bool = True
    """Retry when the request never reached the server (refused, reset before sending)."""
    on_status: frozenset[int] = field(default_factory=lambda: frozenset({503}))
    """HTTP statuses that are retried."""

    def delay(self, retry: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None and 0 <= retry_after <= self.max_backoff:
            return retry_after
        return float(min(self.backoff * 2 ** (retry - 1), self.max_backoff))


NO_RETRY = RetryPolicy(retries=0)


class _Default(Enum):
    TIMEOUT = "the transport's timeout"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        try:
            return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
        except (TypeError, ValueError):
            return None


def _causes(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or item in seen:
            continue
        seen.append(item)
        todo.extend([item.__cause__, item.__context__])
        todo.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
    return seen


def never_reached_server(exc: Exception) -> bool:
    """True when the request failed before it was sent (refused, unreachable, connect timeout)."""
    return isinstance(exc, requests.ConnectTimeout) or any(
        isinstance(c, (NewConnectionError, Urllib3ConnectTimeout)) for c in _causes(exc)
    )


def map_exception(exc: Exception, url: str) -> ClientError:
    """The typed error for a failure of ``requests`` or ``urllib3`` below HTTP."""
    causes = _causes(exc)
    if isinstance(exc, requests.Timeout) or any(
        isinstance(c, (ReadTimeoutError, TimeoutError)) for c in causes
    ):
        if never_reached_server(exc):
            return ConnectTimeoutError("timed out (connect) waiting for the server", url=url)
        return ClientTimeoutError("timed out (read) waiting for the server", url=url)
    if never_reached_server(exc):
        reason = next((c for c in causes if isinstance(c, NewConnectionError)), exc)
        return ServerUnavailableError(f"cannot connect to the server: {_short(reason)}", url=url)
    return TransportError(f"the connection failed: {_short(exc)}", url=url)


def _short(exc: BaseException) -> str:
    text = str(exc)
    marker = "Failed to establish a new connection: "
    if marker in text:
        text = text.split(marker, 1)[1]
    return text.strip().rstrip("'\")").strip() or type(exc).__name__


def iter_body(response: requests.Response, size: int = 65536) -> Iterator[bytes]:
    """The body as it arrives: each piece is whatever the socket had (no waiting for ``size`` bytes)."""
    while True:
        data = response.raw.read1(size)
        if not data:
            return
        yield data


def decode_json(response: requests.Response, url: str) -> Any:
    """The JSON body of a response, or :class:`ResponseFormatError`."""
    try:
        return response.json()
    except (ValueError, json.JSONDecodeError):
        raise ResponseFormatError(
            f"the server answered {response.status_code} with a body that is not JSON: {response.text[:200]!r}",
            url=url,
            body=response.text,
        ) from None
    except requests.RequestException as exc:
        raise map_exception(exc, url) from None


def raise_for_status(response: requests.Response, url: str) -> None:
    """Raise the typed error for a non-2xx answer (reading the body of a streamed one)."""
    if response.status_code < 400:
        return
    try:
        text = response.text
    except requests.RequestException:
        text = ""
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    raise error_from_response(response.status_code, body, text, url)


@dataclass
class Transport:
    """A ``requests.Session`` plus the policy of how to send on it."""

    base_url: str
    session: requests.Session
    timeout: Timeout
    retry: RetryPolicy
    sleep: Callable[[float], None] = time.sleep

    def url(self, path: str) -> str:
        """The absolute URL of an endpoint path."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        stream: bool = False,
        retry: RetryPolicy | None = None,
        timeout: Timeout | _Default = _Default.TIMEOUT,
        check: bool = True,
    ) -> requests.Response:
        """Send one request, retrying as the policy allows; non-2xx answers raise unless ``check`` is false."""
        url = self.url(path)
        policy = self.retry if retry is None else retry
        wait = self.timeout if isinstance(timeout, _Default) else timeout
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = self.session.request(method, url, json=json_body, stream=stream, timeout=wait)
            except requests.RequestException as exc:
                if policy.on_connection_error and attempt <= policy.retries and never_reached_server(exc):
                    delay = policy.delay(attempt)
                    log.debug("%s %s: connection failed, retry %d in %.2fs", method, url, attempt, delay)
                    self.sleep(delay)
                    continue
                raise map_exception(exc, url) from None
            log.debug(
                "%s %s -> %d in %.1f ms",
                method,
                url,
                response.status_code,
                (time.perf_counter() - started) * 1e3,
            )
            if response.status_code in policy.on_status and attempt <= policy.retries:
                delay = policy.delay(attempt, _retry_after(response))
                response.close()
                log.debug(
                    "%s %s: status %d, retry %d in %.2fs", method, url, response.status_code, attempt, delay
                )
                self.sleep(delay)
                continue
            if check:
                try:
                    raise_for_status(response, url)
                finally:
                    if response.status_code >= 400:
                        response.close()
            return response
