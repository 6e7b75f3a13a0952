"""An incremental parser for server-sent events (the WHATWG ``text/event-stream`` format).

It is written here rather than taken from a library because the common ones hand an
unterminated last event to the caller as if it were complete; a stream cut mid-event must
instead be an error. One extension: older llama.cpp servers report streamed errors as an
``error: {...}`` line, which is read as an event of type ``error``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from structgen.client.errors import StreamInterruptedError

__all__ = ["ServerSentEvent", "iter_events"]

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event: its type (``message`` by default), data, and last event id."""

    data: str
    event: str = "message"
    id: str = ""


class _Builder:
    def __init__(self) -> None:
        self.data: list[str] = []
        self.event = ""
        self.last_id = ""
        self.dirty = False

    def feed_line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self.dispatch()
        if line.startswith(":"):
            return None
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self.data.append(value)
            self.dirty = True
        elif name == "event":
            self.event = value
            self.dirty = True
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "error":
            self.event = "error"
            self.data.append(value)
            self.dirty = True
        # "retry" and unknown fields are ignored, as the standard says.
        return None

    def dispatch(self) -> ServerSentEvent | None:
        data, event = self.data, self.event
        self.data, self.event, self.dirty = [], "", False
        if not data:
            return None
        return ServerSentEvent(data="\n".join(data), event=event or "message", id=self.last_id)


def iter_events(chunks: Iterable[bytes]) -> Iterator[ServerSentEvent]:
    """Yield the events of a byte stream split into arbitrary chunks.

    Raises :class:`StreamInterruptedError` when the stream ends inside an event
    (a field read but no blank line after it, or a half line).
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    builder = _Builder()
    pending = ""
    first = True
    for chunk in chunks:
        if not chunk:
            continue
        text = decoder.decode(chunk)
        if first and text:
            text = text.removeprefix("\ufeff")
            first = False
        pending += text
        start = 0
        for match in _LINE_END.finditer(pending):
            if match.group() == "\r" and match.end() == len(pending):
                break  # may be the first half of "\r\n": wait for the next chunk
            event = builder.feed_line(pending[start : match.start()])
            start = match.end()
            if event is not None:
                yield event
        pending = pending[start:]
    pending += decoder.decode(b"", final=True)
    if pending.endswith("\r"):
        event = builder.feed_line(pending[:-1])
        pending = ""
        if event is not None:
            yield event
    if pending or builder.dirty:
        raise StreamInterruptedError("the event stream ended in the middle of an event")
