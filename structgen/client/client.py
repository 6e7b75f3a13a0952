"""``LlamaClient``: the native API of llama.cpp's server (and older "llama-like" servers)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal, overload

import requests
import urllib3

from structgen.client._compat import Self, Unpack
from structgen.client.errors import (
    ClientError,
    ClientTimeoutError,
    ResponseFormatError,
    ServerUnavailableError,
    StreamInterruptedError,
    TransportError,
    error_from_response,
)
from structgen.client.params import (
    CompletionParams,
    InfillParams,
    Prompt,
    RequestOptions,
    completion_body,
    infill_body,
)
from structgen.client.responses import (
    Completion,
    HealthStatus,
    ServerProps,
    StreamDelta,
    TokenPiece,
    TokenProbability,
    parse_model,
)
from structgen.client.sse import iter_events
from structgen.client.transport import (
    NO_RETRY,
    RetryPolicy,
    Timeout,
    Transport,
    _Default,
    decode_json,
    iter_body,
    map_exception,
)

__all__ = ["CompletionStream", "Conversation", "LlamaClient"]

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 300.0)
DEFAULT_RETRY = RetryPolicy()


class CompletionStream:
    """The server-sent events of one streamed completion.

    Iterate it for :class:`StreamDelta` pieces; once the server's final event arrived,
    :attr:`final` holds the summary (its ``content`` is the whole text). A stream that ends
    before that final event raises :class:`StreamInterruptedError`. Use it as a context
    manager, or iterate it to the end, so the connection is released.
    """

    def __init__(self, response: requests.Response, url: str):
        self._response = response
        self._url = url
        self._final: Completion | None = None
        self._parts: list[str] = []
        self._tokens: list[int] = []
        self._probs: list[TokenProbability] = []
        self._deltas: Iterator[StreamDelta] | None = None

    @property
    def final(self) -> Completion:
        """The closing summary; raises ``RuntimeError`` before the stream was read to its end."""
        if self._final is None:
            raise RuntimeError("the stream has not been read to its end")
        return self._final

    @property
    def text(self) -> str:
        """The text received so far."""
        return "".join(self._parts)

    def __iter__(self) -> Iterator[StreamDelta]:
        """The deltas not yet read (iterating again resumes where the last loop stopped)."""
        if self._deltas is None:
            self._deltas = self._read_deltas()
        return self._deltas

    def _read_deltas(self) -> Iterator[StreamDelta]:
        try:
            content_type = self._response.headers.get("Content-Type", "")
            if "text/event-stream" not in content_type and "json" in content_type:
                yield from self._whole_json()
            else:
                yield from self._events()
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            error = map_exception(exc, self._url)
            if type(error) is TransportError:
                error = StreamInterruptedError(f"the stream broke off: {error.message}", url=self._url)
            raise error from None
        finally:
            self._response.close()

    def _events(self) -> Iterator[StreamDelta]:
        for event in iter_events(iter_body(self._response)):
            if event.data.strip() == "[DONE]":
                break
            try:
                data = json.loads(event.data)
            except ValueError:
                raise ResponseFormatError(
                    f"a streamed event is not JSON: {event.data[:200]!r}", url=self._url, body=event.data
                ) from None
            if event.event == "error" or (
                isinstance(data, dict) and "error" in data and "content" not in data
            ):
                raise _stream_error(data, self._url)
            if not isinstance(data, dict):
                raise ResponseFormatError(
                    "a streamed event is not a JSON object", url=self._url, body=event.data
                )
            delta = parse_model(StreamDelta, data, self._url)
            if delta.content or delta.tokens:
                self._add(delta)
                yield delta
            if data.get("stop") is True:
                self._finish(data)
                return
        raise StreamInterruptedError("the stream ended before the server's final event", url=self._url)

    def _whole_json(self) -> Iterator[StreamDelta]:
        data = decode_json(self._response, self._url)
        delta = parse_model(StreamDelta, data, self._url)
        self._add(delta)
        yield delta
        self._finish({**data, "content": ""})

    def _add(self, delta: StreamDelta) -> None:
        self._parts.append(delta.content)
        self._tokens.extend(delta.tokens)
        self._probs.extend(delta.completion_probabilities)

    def _finish(self, data: dict[str, Any]) -> None:
        final = parse_model(Completion, data, self._url)
        update: dict[str, Any] = {"content": self.text, "tokens": final.tokens or self._tokens}
        if not final.completion_probabilities:
            update["completion_probabilities"] = self._probs
        self._final = final.model_copy(update=update)

    def read(self) -> Completion:
        """Consume the rest of the stream and return the final summary."""
        for _ in self:
            pass
        return self.final

    def close(self) -> None:
        """Release the connection without reading the rest (the server cancels the request)."""
        self._response.close()

    def abort(self) -> None:
        """Cut the connection now, from any thread: a read blocked on it ends (the stream raises
        :class:`StreamInterruptedError`) and the server, seeing the client gone, cancels the request."""
        sock = _socket_of(self._response)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The socket under a streamed response (urllib3 keeps it on the connection, or only in the body's file)."""
    raw = response.raw
    candidates = [
        getattr(getattr(raw, "_connection", None), "sock", None),
        getattr(getattr(getattr(getattr(raw, "_fp", None), "fp", None), "raw", None), "_sock", None),
    ]
    return next((s for s in candidates if isinstance(s, socket.socket)), None)


def _stream_error(data: Any, url: str) -> ClientError:
    err = data.get("error", data) if isinstance(data, dict) else data
    status = err.get("code") if isinstance(err, dict) else None
    if not isinstance(status, int) or status < 400:
        status = 500
    return error_from_response(status, {"error": err}, json.dumps(data), url)


class LlamaClient:
    """A client for the native HTTP API of ``llama-server`` and older llama-like servers.

    It keeps one ``requests.Session`` (connection reuse, cookies), sends ``Authorization:
    Bearer`` when given an API key, and retries only requests that never reached the server
    or got a 503 (model still loading), with exponential backoff. Every failure is a
    :class:`~structgen.client.errors.ClientError` subclass.

    ``base_url`` may carry a path prefix (hosted servers), e.g. ``https://host/vm/abc``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | int = DEFAULT_RETRY,
        session: requests.Session | None = None,
        headers: Mapping[str, str] | None = None,
    ):
        if not base_url or "://" not in base_url:
            raise ValueError(f"base_url must be an absolute http(s) URL, got {base_url!r}")
        self._session = session if session is not None else requests.Session()
        self._owns_session = session is None
        self._session.headers["User-Agent"] = "structgen"
        if headers:
            self._session.headers.update(headers)
        self._has_key = api_key is not None
        if api_key is not None:
            self._session.headers["Authorization"] = f"Bearer {api_key}"
        policy = retry if isinstance(retry, RetryPolicy) else RetryPolicy(retries=retry)
        self._transport = Transport(base_url.rstrip("/"), self._session, timeout, policy)

    @property
    def base_url(self) -> str:
        """The server's base URL, without a trailing slash."""
        return self._transport.base_url

    @property
    def session(self) -> requests.Session:
        """The underlying session (its cookie jar holds what the server set)."""
        return self._session

    def __repr__(self) -> str:
        key = ", api_key=***" if self._has_key else ""
        return f"LlamaClient({self.base_url!r}{key})"

    # -- completion ---------------------------------------------------------------------------------

    def completion(self, prompt: Prompt, **options: Unpack[RequestOptions]) -> Completion:
        """Complete ``prompt`` (text, token ids or a mix) and wait for the whole result.

        ``options`` are the options of ``POST /completion``; ``extra`` holds any other keys,
        sent unchanged. ``cache_prompt`` is on unless set to false. ``timeout`` replaces the
        client's for this request; a request that times out is closed, and the server cancels it.
        """
        body, timeout = _request(prompt, options, stream=False)
        return self._post_model("/completion", body, Completion, timeout)

    def stream(self, prompt: Prompt, **options: Unpack[RequestOptions]) -> CompletionStream:
        """Like :meth:`completion`, streamed: iterate the result for text pieces as they come.

        Errors the server reports before streaming (e.g. a rejected grammar) raise here. ``timeout``
        bounds each wait for data; :meth:`CompletionStream.abort` ends the request at any time.
        """
        body, timeout = _request(prompt, options, stream=True)
        return self._open_stream("/completion", body, timeout)

    def infill(self, prefix: str, suffix: str, **params: Unpack[InfillParams]) -> Completion:
        """Fill in the code between ``prefix`` and ``suffix`` (``POST /infill``).

        ``input_extra`` is extra context as ``{"filename": ..., "text": ...}`` chunks.
        """
        return self._post_model("/infill", infill_body(prefix, suffix, params, stream=False), Completion)

    def infill_stream(self, prefix: str, suffix: str, **params: Unpack[InfillParams]) -> CompletionStream:
        """:meth:`infill`, streamed."""
        return self._open_stream("/infill", infill_body(prefix, suffix, params, stream=True))

    def conversation(self, slot: int = -1) -> Conversation:
        """A helper that passes each answer's slot id to the next request, so the server's
        prompt cache for that slot is reused (``cache_prompt`` is on)."""
        return Conversation(self, slot)

    # -- tokens, templates, server state ------------------------------------------------------------

    @overload
    def tokenize(
        self,
        text: str,
        *,
        with_pieces: Literal[False] = False,
        add_special: bool = False,
        parse_special: bool = True,
    ) -> list[int]: ...

    @overload
    def tokenize(
        self, text: str, *, with_pieces: Literal[True], add_special: bool = False, parse_special: bool = True
    ) -> list[TokenPiece]: ...

    def tokenize(
        self, text: str, *, with_pieces: bool = False, add_special: bool = False, parse_special: bool = True
    ) -> list[int] | list[TokenPiece]:
        """The model's token ids for ``text`` (with their text pieces if ``with_pieces``)."""
        body: dict[str, Any] = {"content": text, "add_special": add_special, "parse_special": parse_special}
        if with_pieces:
            body["with_pieces"] = True
        data = self._post_json("/tokenize", body)
        tokens = data.get("tokens") if isinstance(data, dict) else None
        url = self._transport.url("/tokenize")
        if not isinstance(tokens, list):
            raise ResponseFormatError(
                "the /tokenize answer has no 'tokens' list", url=url, body=repr(data)[:500]
            )
        if not with_pieces:
            if not all(isinstance(t, int) for t in tokens):
                raise ResponseFormatError(
                    "the /tokenize answer holds non-integer tokens", url=url, body=repr(data)
                )
            return tokens
        if tokens and not all(isinstance(t, dict) for t in tokens):
            raise ResponseFormatError(
                "the server ignored with_pieces (an older server?): it returned bare token ids", url=url
            )
        return [parse_model(TokenPiece, t, url) for t in tokens]

    def tokenize_each(self, texts: Sequence[str]) -> list[list[TokenPiece]]:
        """Each text's tokens with their pieces, every text tokenized on its own, in one request.

        Raises :class:`ResponseFormatError` when the answer cannot be split back into the texts (an
        older server tokenizes a list differently).
        """
        if not texts:
            return []
        data = self._post_json(
            "/tokenize", {"content": list(texts), "with_pieces": True, "add_special": False}
        )
        tokens = data.get("tokens") if isinstance(data, dict) else None
        url = self._transport.url("/tokenize")
        if not isinstance(tokens, list) or not all(isinstance(t, dict) for t in tokens):
            raise ResponseFormatError(
                "the /tokenize answer has no list of pieces", url=url, body=repr(data)[:500]
            )
        pieces = [parse_model(TokenPiece, t, url) for t in tokens]
        out: list[list[TokenPiece]] = []
        at = 0
        for text in texts:
            part: list[TokenPiece] = []
            target = text.encode()
            spelled = b""
            while len(spelled) < len(target) and at < len(pieces):
                piece = pieces[at].piece
                spelled += piece.encode() if isinstance(piece, str) else piece
                part.append(pieces[at])
                at += 1
            if spelled != target:
                raise ResponseFormatError("the /tokenize answer does not spell the texts one by one", url=url)
            out.append(part)
        if at != len(pieces):
            raise ResponseFormatError("the /tokenize answer has more tokens than the texts", url=url)
        return out

    def detokenize(self, tokens: Sequence[int]) -> str:
        """The text of a sequence of token ids."""
        return self._post_for_string("/detokenize", {"tokens": list(tokens)}, "content")

    def apply_template(
        self, messages: Sequence[Mapping[str, Any]], *, timeout: Timeout | _Default = _Default.TIMEOUT
    ) -> str:
        """The prompt the model's chat template makes of ``messages`` (``role``/``content`` dicts)."""
        body = {"messages": [dict(m) for m in messages]}
        return self._post_for_string("/apply-template", body, "prompt", timeout)

    def props(self) -> ServerProps:
        """The server's global properties (slots, context size, model path, chat template)."""
        response = self._transport.send("GET", "/props")
        url = self._transport.url("/props")
        return parse_model(ServerProps, decode_json(response, url), url)

    def health(self, *, timeout: Timeout = 10.0) -> HealthStatus:
        """The server's health, without retrying: ``ok`` is false while the model loads.

        Raises :class:`ServerUnavailableError` when nothing answers at all.
        """
        url = self._transport.url("/health")
        response = self._transport.send("GET", "/health", retry=NO_RETRY, check=False, timeout=timeout)
        try:
            data: Any = response.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        error = data.get("error")
        status = data.get("status")
        if not isinstance(status, str):
            status = error.get("message", "") if isinstance(error, dict) else ""
        if response.status_code >= 400 and response.status_code != 503:
            raise error_from_response(response.status_code, data, response.text, url)
        return HealthStatus(
            ok=response.status_code == 200,
            status=status or str(response.status_code),
            http_status=response.status_code,
            slots_idle=data.get("slots_idle"),
            slots_processing=data.get("slots_processing"),
        )

    def wait_until_ready(self, timeout: float = 60.0, *, interval: float = 0.1) -> HealthStatus:
        """Poll ``/health`` until the server is ready; raise :class:`ServerUnavailableError` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        delay = interval
        while True:
            try:
                health = self.health(timeout=min(max(deadline - time.monotonic(), 0.5), 10.0))
                if health.ok:
                    return health
                last = f"{health.http_status} {health.status}"
            except (ServerUnavailableError, ClientTimeoutError) as exc:
                last = exc.message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerUnavailableError(
                    f"the server was not ready within {timeout:g}s (last: {last})", url=self.base_url
                )
            time.sleep(min(delay, remaining))
            delay = min(delay * 1.5, 1.0)

    # -- plumbing ----------------------------------------------------------------------------------

    def _post_for_string(
        self, path: str, body: Any, key: str, timeout: Timeout | _Default = _Default.TIMEOUT
    ) -> str:
        """The string under ``key`` in the JSON answer to ``body`` (else :class:`ResponseFormatError`)."""
        data = self._post_json(path, body, timeout)
        value = data.get(key) if isinstance(data, dict) else None
        if not isinstance(value, str):
            url = self._transport.url(path)
            raise ResponseFormatError(f"the {path} answer has no {key!r} string", url=url, body=repr(data))
        return value

    def _post_json(self, path: str, body: Any, timeout: Timeout | _Default = _Default.TIMEOUT) -> Any:
        response = self._transport.send("POST", path, json_body=body, timeout=timeout)
        return decode_json(response, self._transport.url(path))

    def _post_model(
        self, path: str, body: Any, model: type[Completion], timeout: Timeout | _Default = _Default.TIMEOUT
    ) -> Completion:
        url = self._transport.url(path)
        data = self._post_json(path, body, timeout)
        if isinstance(data, list):
            raise ResponseFormatError(
                f"the server returned {len(data)} results: a list of strings is several prompts; "
                "join them, or send one request per prompt",
                url=url,
            )
        return parse_model(model, data, url)

    def _open_stream(
        self, path: str, body: Any, timeout: Timeout | _Default = _Default.TIMEOUT
    ) -> CompletionStream:
        response = self._transport.send("POST", path, json_body=body, stream=True, timeout=timeout)
        return CompletionStream(response, self._transport.url(path))

    def close(self) -> None:
        """Close the session's connections (only if this client created the session)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _request(
    prompt: Prompt, options: Mapping[str, Any], *, stream: bool
) -> tuple[dict[str, Any], Timeout | _Default]:
    """The body of a completion request and its timeout (the client's when not given)."""
    params = dict(options)
    timeout = params.pop("timeout", _Default.TIMEOUT)
    extra = params.pop("extra", None)
    return completion_body(prompt, params, stream=stream, extra=extra), timeout


class Conversation:
    """Successive requests that share one server slot and its prompt cache.

    The first request lets the server choose a slot (``-1``); each answer's slot id is
    sent with the next request, as hosted llama-like servers ask, with ``cache_prompt`` on.
    """

    def __init__(self, client: LlamaClient, slot: int = -1):
        self.client = client
        self.slot_id = slot

    def completion(
        self, prompt: Prompt, *, extra: Mapping[str, Any] | None = None, **params: Unpack[CompletionParams]
    ) -> Completion:
        """:meth:`LlamaClient.completion` in this conversation's slot."""
        params.setdefault("slot", self.slot_id)
        result = self.client.completion(prompt, extra=extra, **params)
        self.slot_id = result.slot_id
        return result

    def stream(
        self, prompt: Prompt, *, extra: Mapping[str, Any] | None = None, **params: Unpack[CompletionParams]
    ) -> Iterator[StreamDelta]:
        """:meth:`LlamaClient.stream` in this conversation's slot; the slot id is taken from the stream."""
        params.setdefault("slot", self.slot_id)
        with self.client.stream(prompt, extra=extra, **params) as stream:
            for delta in stream:
                if delta.slot_id >= 0:
                    self.slot_id = delta.slot_id
                yield delta
            self.slot_id = stream.final.slot_id
