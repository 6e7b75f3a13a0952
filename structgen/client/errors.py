"""Errors of the HTTP client, modelled on httpx's hierarchy.

::

    StructgenError
    └── ClientError                    anything that went wrong talking to a server
        ├── TransportError             the exchange broke below HTTP
        │   ├── ClientTimeoutError     no answer within the configured timeout
        │   │   └── ConnectTimeoutError    no connection within the connect timeout (nothing was sent)
        │   └── StreamInterruptedError a streamed answer ended before its final event
        ├── ServerUnavailableError     nobody listening, or 503 (model loading) after the retries
        ├── ResponseFormatError        a 2xx answer that is not the JSON the API describes
        └── ServerError                a non-2xx answer: ``status`` and the server's ``message``
            ├── BadRequestError        400
            │   ├── GrammarRejectedError   the server could not parse the grammar
            │   └── SchemaRejectedError    the server could not convert the JSON schema
            ├── AuthenticationError    401 / 403 (wrong or missing API key)
            └── NotSupportedError      501 (e.g. infill on a model without FIM tokens)
"""

from __future__ import annotations

from typing import Any

from structgen.errors import StructgenError

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientError",
    "ClientTimeoutError",
    "ConnectTimeoutError",
    "GrammarRejectedError",
    "NotSupportedError",
    "ResponseFormatError",
    "SchemaRejectedError",
    "ServerError",
    "ServerUnavailableError",
    "StreamInterruptedError",
    "TransportError",
    "error_from_response",
]


class ClientError(StructgenError):
    """Base of every error raised while talking to a llama.cpp-style server."""

    def __init__(self, message: str, *, url: str | None = None):
        self.message = message
        self.url = url
        super().__init__(f"{message} ({url})" if url else message)


class TransportError(ClientError):
    """The HTTP exchange itself failed (connection dropped, protocol error)."""


class ClientTimeoutError(TransportError):
    """The server did not answer within the configured timeout (:class:`ConnectTimeoutError`: did not connect)."""


class ConnectTimeoutError(ClientTimeoutError):
    """No connection to the server within the connect timeout: the request was never sent."""


class StreamInterruptedError(TransportError):
    """A streamed completion ended (or broke) before the server sent its final event."""


class ServerUnavailableError(ClientError):
    """The server cannot take requests: nothing listens there, or it answered 503 (still loading).

    ``status`` is ``None`` when no HTTP answer came at all.
    """

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        self.status = status
        super().__init__(message, url=url)


class ResponseFormatError(ClientError):
    """A successful answer whose body is not the JSON the API describes."""

    def __init__(self, message: str, *, url: str | None = None, body: str = ""):
        self.body = body
        super().__init__(message, url=url)


class ServerError(ClientError):
    """The server answered with an error status; ``message`` is the server's own text."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        url: str | None = None,
        error_type: str | None = None,
        body: Any = None,
    ):
        self.status = status
        self.error_type = error_type
        self.body = body
        super().__init__(f"server error {status}: {message}", url=url)
        self.message = message


class BadRequestError(ServerError):
    """The server refused the request as invalid (400)."""


class GrammarRejectedError(BadRequestError):
    """The server failed to parse the GBNF grammar it was sent."""


class SchemaRejectedError(BadRequestError):
    """The server failed to convert the JSON schema it was sent into a grammar."""


class AuthenticationError(ServerError):
    """The API key is missing or wrong (401 / 403)."""


class NotSupportedError(ServerError):
    """The server or its model does not support this endpoint (501)."""


def _server_message(body: Any, text: str) -> tuple[str, str | None]:
    """Extract (message, type) from the error bodies of both server generations."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            message = err.get("message") or err.get("content") or err.get("detail")
            if isinstance(message, str) and message:
                kind = err.get("type")
                return message, kind if isinstance(kind, str) else None
        elif isinstance(err, str) and err:
            return err, None
    return (text.strip() or "(empty body)"), None


def error_from_response(status: int, body: Any, text: str, url: str | None = None) -> ClientError:
    """The typed error for an error status with a (possibly JSON) body."""
    message, kind = _server_message(body, text)
    lowered = message.lower()
    if status == 503:
        return ServerUnavailableError(message, url=url, status=status)
    if "parse grammar" in lowered or "grammar parse" in lowered:
        return GrammarRejectedError(message, status=status, url=url, error_type=kind, body=body)
    if "json_schema" in lowered or "json schema" in lowered:
        return SchemaRejectedError(message, status=status, url=url, error_type=kind, body=body)
    cls: type[ServerError]
    if status == 400:
        cls = BadRequestError
    elif status in (401, 403):
        cls = AuthenticationError
    elif status == 501:
        cls = NotSupportedError
    else:
        cls = ServerError
    return cls(message, status=status, url=url, error_type=kind, body=body)
