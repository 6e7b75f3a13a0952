"""Fast-forward: the client writes the text the grammar forces; the model writes only the free values.

The answer is built as alternating forced text and free segments. The client keeps the token ids of
prompt + answer so far; each free segment is one ``POST /completion`` with those ids as the prompt, the
segment's grammar, ``cache_prompt`` and a fixed slot, so the server evaluates only the new forced tokens
(as a batch) before decoding. Forced text is tokenized with its last tokens held back: they open the next
segment's grammar as a literal, so the model picks its own token boundary there. Tokens already sent are
never rewritten, so the slot's prefix cache always applies. A forced span shorter than the break-even
(request overhead against a token's decode time, measured once per server) is folded into the segment.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..client import ClientError, Completion, GrammarRejectedError, LlamaClient, StopType, Timings, TokenPiece
from ..schema.skeleton import Choice, Hole, Literal, Skeleton, Step, any_layout, literal, skeleton
from .output import Output

R = TypeVar("R")

__all__ = [
    "FastForwardUnavailable",
    "Segmented",
    "ServerCosts",
    "complete",
    "segments",
    "server_costs",
    "skeleton_of",
]

HOLD_BACK = 1
"""Forced tokens held back and left to the next segment's grammar, so the model picks its own token
boundary before a value (llguidance holds back 2; the last forced token, ``" "`` before a value, is the
one that merges with it: ``' "'``)."""
LAYOUTS: dict[str, tuple[tuple[int | None, tuple[str, str] | None], ...]] = {
    "compact": ((None, (",", ":")),),
    "pretty": ((2, None),),
    "flexible": ((None, None), (2, None)),
}
"""Per output whitespace, the layouts of forced text, as ``json.dumps(value, indent=..., separators=...)``:
the one the grammar allows, or for flexible whitespace one of two that the model picks with its first
characters (chat models write one or the other, depending on the prompt)."""
MIN_FORCED_CHARS = 6
"""A type forcing fewer characters than this is generated plainly."""
MIN_FORCED_SHARE = 0.2
"""A type whose forced share (:attr:`Skeleton.forced_share`) is below this is generated plainly: the
few forced tokens save less than the segments cost (a type of a few long strings)."""
MIN_CACHE_SHARE = 0.5
"""A resume whose cached prefix is below this share of the context sent before means no cache reuse."""

_CALIBRATION_TEXT = "The quick brown fox jumps over the lazy dog while the cat sleeps in the sun. " * 4


class FastForwardUnavailable(Exception):
    """Fast-forward cannot serve this request; the message says why (plain generation is used).

    ``permanent`` when the server itself lacks what fast-forward needs (remembered per server).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class ServerCosts:
    """What a request and a token cost on one server, measured by :func:`server_costs`."""

    overhead_ms: float
    """Wall time of a request beyond the server's own prompt and decode time."""
    decode_ms: float
    """Decode time per generated token."""
    resume_ms: float
    """What a resume (a request on a cached prefix) costs beyond its new tokens: the overhead and the
    fixed part of evaluating a batch."""
    prompt_token_ms: float = 0.0
    """Evaluation time per new prompt token in a batch (less than a decode step: one pass for all)."""

    def fold_tokens(self, hold_back: int) -> int:
        """Forced spans of at most this many tokens cost less decoded by the model than by a new segment:
        folding decodes every token of the span, a segment decodes the held-back ones and evaluates the
        rest in one batch, at the cost of a resume."""
        return hold_back + int(self.resume_ms / max(self.decode_ms - self.prompt_token_ms, 1e-3))


@dataclass(frozen=True)
class Segmented:
    """A fast-forward answer: the merged completion and how it was produced."""

    completion: Completion
    """All segments' results as one completion (content: the whole answer)."""
    segments: int
    """Requests sent (one per free segment)."""
    forced_tokens: int
    """Answer tokens the client appended without the model decoding them."""
    reused: tuple[int, ...] = field(default=())
    """Prompt tokens the server took from its cache on each resume."""
    evaluated: tuple[int, ...] = field(default=())
    """Prompt tokens the server evaluated on each request."""
    server_ms: float = 0.0
    """The server's own prompt and decode time over all segments (the rest of the wall time is overhead)."""


_lock = threading.Lock()
_costs: dict[str, ServerCosts] = {}
_unsupported: dict[str, str] = {}
_pieces: dict[tuple[str, str], list[TokenPiece]] = {}
MAX_PIECES = 4096
_skeletons: dict[tuple[str, str], tuple[Skeleton, ...]] = {}


def skeleton_of(output: Output[Any]) -> tuple[Skeleton, ...]:
    """The skeletons of an output type, one per layout in :data:`LAYOUTS` (none: nothing is forced)."""
    options = output.compiled.options
    whitespace = options.get("whitespace", "flexible")
    limits = {k: options.get(k) for k in ("max_string_length", "max_items")}
    key = (json.dumps([output.schema, limits], sort_keys=True, default=str), whitespace)
    with _lock:
        hit = _skeletons.get(key)
    if hit is not None:
        return hit
    layouts = LAYOUTS.get(whitespace, LAYOUTS["flexible"])
    built = (
        skeleton(output.schema, indent=i, separators=s, whitespace=whitespace, **limits) for i, s in layouts
    )
    found = tuple(s for s in built if s)
    with _lock:
        if len(_skeletons) > 512:
            _skeletons.clear()
        _skeletons[key] = found
    return found


def _timed(client: LlamaClient, prompt: list[int], **params: Any) -> tuple[Completion, float]:
    started = time.perf_counter()
    result = client.completion(prompt, temperature=0.0, cache_prompt=True, return_tokens=True, **params)
    return result, (time.perf_counter() - started) * 1000


def server_costs(client: LlamaClient) -> ServerCosts:
    """The request overhead and per-token times of ``client``'s server (measured once per server URL).

    Resumes are measured as segments send them (a cached prefix, 2 or 10 new tokens, a small grammar, one
    token out), and each cost is the least of its samples: another process on the machine only adds
    time, and one slow sample would otherwise set the fold rule for the server's lifetime.
    """
    with _lock:
        known = _costs.get(client.base_url)
    if known is not None:
        return known
    prompt = client.tokenize(_CALIBRATION_TEXT, add_special=True)
    first, _ = _timed(client, prompt, n_predict=8, ignore_eos=True)
    context = prompt + first.tokens[:-1]  # the last sampled token was never evaluated
    decode = [_per_token(first)]
    overheads: list[float] = []
    walls: dict[int, list[float]] = {2: [], 10: []}
    batches: dict[int, list[float]] = {2: [], 10: []}
    words = client.tokenize(_CALIBRATION_TEXT, add_special=False)
    for i in range(8):
        extra = words[i * 10 : i * 10 + (2 if i % 2 else 10)]
        done, wall = _timed(
            client, context + extra, n_predict=1, slot=first.slot_id, grammar=_CALIBRATION_GRAMMAR
        )
        overheads.append(max(wall - _server_ms(done), 0.0))
        walls[len(extra)].append(wall)
        batches[len(extra)].append((done.timings.prompt_ms or 0.0) if done.timings else 0.0)
        context = context + extra
    again, _ = _timed(client, context, n_predict=8, ignore_eos=True, slot=first.slot_id)
    decode.append(_per_token(again))
    per_token = max((min(batches[10]) - min(batches[2])) / 8, 0.0)
    costs = ServerCosts(
        overhead_ms=min(overheads),
        decode_ms=min(decode),
        resume_ms=max(min(walls[2]) - 2 * per_token, 0.0),
        prompt_token_ms=per_token,
    )
    with _lock:
        _costs[client.base_url] = costs
    return costs


_CALIBRATION_GRAMMAR = "root ::= [a-z]"


def _per_token(done: Completion) -> float:
    return (done.timings.predicted_per_token_ms or 0.0) if done.timings else 0.0


def _pieces_of(client: LlamaClient, text: str) -> list[TokenPiece]:
    key = (client.base_url, text)
    with _lock:
        hit = _pieces.get(key)
    if hit is None:
        hit = client.tokenize(text, with_pieces=True)
        _remember({key: hit})
    return hit


def _remember(found: dict[tuple[str, str], list[TokenPiece]]) -> None:
    """Keep tokenized texts, at most :data:`MAX_PIECES` of them (all forgotten when full)."""
    with _lock:
        if len(_pieces) + len(found) > MAX_PIECES:
            _pieces.clear()
        _pieces.update(found)


def _prefetch(client: LlamaClient, skels: tuple[Skeleton, ...]) -> None:
    """Tokenize, in one request, the forced texts a run over ``skels`` is likely to send."""
    texts: set[str] = set()
    for skel in skels:
        walk = skel.walk()
        seen: dict[tuple[str, ...], int] = {}
        answer: int | None = None
        pending = ""
        first = True
        for _ in range(10_000):
            step = _next(walk, answer)
            if step is None:
                break
            answer = None
            if isinstance(step, Literal):
                if first:  # the layouts share their first characters: any_layout sends the rest
                    texts.update(step.text[k:] for k in range(1, 4))
                first = False
                pending += step.text
                continue
            rests = (pending[1:], pending[len(_front(pending)) :])  # what :meth:`_Run.front` leaves
            texts.update((pending, *rests))
            if isinstance(step, Hole):
                texts.update(rest + value for rest in rests for value in _starts(step.schema))
            pending = ""
            if isinstance(step, Choice):
                seen[step.options] = seen.get(step.options, 0) + 1
                answer = 1 if seen[step.options] <= 2 else 0
    with _lock:
        missing = sorted(t for t in texts if t and (client.base_url, t) not in _pieces)
    if not missing:
        return
    try:
        found = client.tokenize_each(missing)
    except ClientError:
        return  # each text is tokenized on its own when needed
    _remember({(client.base_url, text): pieces for text, pieces in zip(missing, found)})


class _Run:
    """One fast-forward answer: the steps of a skeleton turned into segment requests."""

    def __init__(
        self,
        client: LlamaClient,
        skels: tuple[Skeleton, ...],
        context: list[int],
        params: dict[str, Any],
        hold_back: int,
        fold_tokens: int,
        decode_ms: float = 0.0,
    ) -> None:
        self.client = client
        self.skels = skels
        self.context = context
        self.params = params
        self.hold_back = hold_back
        self.fold_tokens = fold_tokens
        self.decode_ms = decode_ms
        self.progressed = False
        self.budget = int(params.pop("n_predict"))
        self.slot = params.pop("slot", params.pop("id_slot", params.pop("slot_id", -1)))
        for key in ("stop", "grammar", "json_schema", "cache_prompt", "return_tokens"):
            params.pop(key, None)  # each segment sets its own
        self.text = ""
        self.unsent = ""
        self.items: list[str] = []
        self.rules: list[str] = []
        self.parts: list[Literal | Hole | Choice] = []  # the open segment's parts
        self.holes = 0
        self.answer_tokens = 0
        self.forced_tokens = 0
        self.completions: list[Completion] = []
        self.reused: list[int] = []
        self.truncated = False

    def n_tokens(self, text: str) -> int:
        return len(_pieces_of(self.client, text))

    def open(self, step: Hole | Choice) -> None:
        """Start a segment: the unsent forced text goes into the context but for its last tokens (all of
        it before a value that no token can join it with)."""
        if self.items or not self.unsent:
            return
        pieces = _pieces_of(self.client, self.unsent)
        starts = _starts(step.schema) if isinstance(step, Hole) else ()
        hold = 0 if starts and all(self.apart(self.unsent, s) for s in starts) else self.hold_back
        keep = pieces[: max(len(pieces) - hold, 0)]
        kept = "".join(p.piece for p in keep if isinstance(p.piece, str))
        if len(kept) != sum(len(p.piece) for p in keep) or not self.unsent.startswith(kept):
            keep, kept = [], ""
        self.context.extend(p.id for p in keep)
        self.forced_tokens += len(keep)
        self.answer_tokens += len(keep)
        held = self.unsent[len(kept) :]
        self.unsent = ""
        if held:
            self.text = self.text[: len(self.text) - len(held)]  # the model writes it, in its own tokens
            self.add_literal(held)

    def front(self, text: str) -> str:
        """What the model writes of forced ``text`` that follows a value: its first token when that is
        all delimiters (``,"`` in compact JSON, so the model can write ``","`` as one token, as it would
        with the whole grammar), else its first character."""
        first = _pieces_of(self.client, text)[0].piece
        if isinstance(first, str) and first and text.startswith(first) and not first.strip(_DELIMITERS):
            return first
        return text[0]

    def apart(self, text: str, value: str) -> bool:
        """``text``'s tokens stay as they are when ``value`` follows it (no token spans the boundary)."""
        alone = [p.id for p in _pieces_of(self.client, text)]
        return [p.id for p in _pieces_of(self.client, text + value)][: len(alone)] == alone

    def add_literal(self, text: str) -> None:
        self.items.append(literal(text))
        self.parts.append(Literal(text))

    def free(self, step: Hole | Choice) -> None:
        self.open(step)
        self.parts.append(step)
        if isinstance(step, Choice):
            self.items.append("(" + " | ".join(literal(o) for o in step.options) + ")")
            return
        self.holes += 1
        root, lines = self.skels[0].rules(step, f"h{self.holes}-")
        self.items.append(root)
        self.rules.extend(lines)

    def tail(self, text: str, last: bool, start: bool = False) -> None:
        """Forced text after a free value: folded into the segment, or its :meth:`front` ends it.

        ``start``: the text opens the answer and a value follows: its front is a segment of its own, for
        the same reason.
        """
        if not text:
            return
        if not self.items and (not start or self.text):
            self.unsent += text
            self.text += text
            return
        if self.items and not last and self.n_tokens(text) <= self.fold_tokens:
            self.add_literal(text)
            return
        front = self.front(text)
        self.items.append(literal(front))
        self.flush((front,))
        self.text += text[len(front) :]
        self.unsent = text[len(front) :]

    def flush(self, endings: tuple[str, ...]) -> Completion:
        """Send the open segment; ``endings`` are the texts it can end with.

        When nothing before the end can hold an ending, they are sent as stop strings: the server stops on
        the last token instead of decoding it to sample the end of generation the grammar then forces.
        """
        grammar = "\n".join([f"root ::= {' '.join(self.items)}", *self.rules])
        stop, quoted = self.stop_strings(endings)
        self.items, self.rules, self.parts = [], [], []
        remaining = self.budget - self.answer_tokens
        if remaining <= 0:
            self.truncated = True
            raise _Truncated
        sent = len(self.context)
        try:
            done = self.client.completion(
                list(self.context),
                grammar=grammar,
                n_predict=remaining,
                slot=self.slot,
                stop=stop,
                cache_prompt=True,
                return_tokens=True,
                **self.params,
            )
        except GrammarRejectedError as exc:
            raise FastForwardUnavailable(f"the server refused a segment's grammar: {exc.message}") from None
        except ClientError as exc:
            if not self.completions and getattr(exc, "status", None) in (400, 404, 422, 501):
                message = f"the server refused a token-id prompt: {exc.message}"
                raise FastForwardUnavailable(message, permanent=True) from None
            raise
        if done.content and not done.tokens:
            raise FastForwardUnavailable(
                "the server does not return token ids (return_tokens)", permanent=True
            )
        reused = done.prompt_tokens_reused
        if self.completions and reused is not None:
            self.reused.append(reused)
            if reused < MIN_CACHE_SHARE * sent:
                raise FastForwardUnavailable(
                    f"the server did not reuse the slot's prompt cache ({reused} of {sent} tokens)"
                )
        if quoted and done.stop_type is StopType.WORD and _escaped(done.content):
            raise FastForwardUnavailable("a string value held an escaped quote where its end was expected")
        self.completions.append(done)
        if _batches_too_slow(done.timings, self.decode_ms):
            self.fold_tokens = self.budget  # the rest of the answer is one segment
        self.slot = done.slot_id
        tokens = done.tokens
        if done.stop_type is StopType.EOS and tokens and len(tokens) == done.tokens_predicted:
            tokens = tokens[:-1]  # the end-of-generation token: sampled, never evaluated, not text
        self.context.extend(tokens)
        self.answer_tokens += len(tokens)
        self.text += done.content + (done.stopping_word if done.stop_type is StopType.WORD else "")
        if done.stop_type is StopType.LIMIT or done.truncated:
            self.truncated = True
            raise _Truncated
        self.progressed = True
        return done

    def stop_strings(self, endings: tuple[str, ...]) -> tuple[list[str], bool]:
        """Stop strings that can only match at the segment's end, and whether they start with a string's
        closing quote (a match after a backslash is then an escaped quote, not the end)."""
        literals = [p.text for p in self.parts if isinstance(p, Literal)]
        holes = [i for i, p in enumerate(self.parts) if isinstance(p, Hole)]
        if not endings:
            return [], False
        if all(p.plain for p in self.parts if isinstance(p, Hole)):
            if not any(e in t for e in endings for t in literals):
                return list(endings), False
            # forced text after the last value, then the ending: stop on both, when the stop strings
            # start with a delimiter that neither a plain value nor an earlier literal holds
            last = holes[-1] if holes else -1
            tail = "".join(p.text for p in self.parts[last + 1 :] if isinstance(p, Literal))
            before = [p.text for p in self.parts[: last + 1] if isinstance(p, Literal)]
            stops = [tail + e for e in endings]
            if holes and tail and tail[0] in ",]}\n" and not any(tail[0] in t for t in before):
                return stops, False
        elif len(holes) == 1 and getattr(self.parts[holes[0]], "string", False):
            before = [p.text for p in self.parts[: holes[0]] if isinstance(p, Literal)]
            tail = "".join(p.text for p in self.parts[holes[0] + 1 :] if isinstance(p, Literal))
            stops = ['"' + tail + e for e in endings]
            if not any(s in t + '"' for s in stops for t in before):
                return stops, True
        return [], False

    def run(self) -> Iterator[str]:
        """Send the segments; yield the answer so far after each."""
        walk = any_layout(self.skels)
        answer: int | None = None
        pending = ""
        try:
            while (step := _next(walk, answer)) is not None:
                answer = None
                if isinstance(step, Literal):
                    pending += step.text
                    continue
                self.tail(pending, last=False, start=isinstance(step, Hole))
                pending = ""
                self.free(step)
                if isinstance(step, Choice):
                    done = self.flush(step.options)
                    content = done.content + (done.stopping_word if done.stop_type is StopType.WORD else "")
                    answer = next((i for i, o in enumerate(step.options) if content.endswith(o)), None)
                    if answer is None:
                        raise FastForwardUnavailable(f"a choice came back as {content[-20:]!r}")
                if self.progressed:
                    self.progressed = False
                    yield self.text
            self.tail(pending, last=True)
            if self.items:
                self.flush(())
        except _Truncated:
            pass


def _batches_too_slow(timings: Timings | None, decode_ms: float) -> bool:
    """The server evaluated a batch more than twice as slowly as it decodes the same tokens one by one:
    its batch threads are starved (``--threads-batch`` above ``--threads`` on a busy machine), not
    merely held up once."""
    if timings is None or not timings.prompt_n or timings.prompt_n < 2 or decode_ms <= 0:
        return False
    return (timings.prompt_ms or 0.0) > 2 * timings.prompt_n * decode_ms


def _next(walk: Generator[Step, int | None, None], answer: int | None) -> Step | None:
    """The walk's next step (``answer``: the option taken at the last choice), None at its end."""
    try:
        return walk.send(answer)
    except StopIteration:
        return None


def _starts(schema: Any) -> tuple[str, ...]:
    """Texts a value of ``schema`` (a number, boolean, null or scalar enum) can start with; empty for any
    other value (a string: the forced text before it is always held back)."""
    if not isinstance(schema, Mapping):
        return ()
    values = schema.get("enum")
    if isinstance(values, list):
        scalar = len(values) <= 8 and not any(isinstance(v, (dict, list)) for v in values)
        return tuple(json.dumps(v, ensure_ascii=False) for v in values) if scalar else ()
    return _STARTS.get(str(schema.get("type")), ())


_STARTS = {
    "integer": ("0", "12", "-1"),
    "number": ("0", "12", "-1", "0.5"),
    "boolean": ("true", "false"),
    "null": ("null",),
}


def _front(text: str) -> str:
    """The delimiters ``text`` starts with (at least its first character): the most :meth:`_Run.front`
    can take."""
    rest = text[1:].lstrip(_DELIMITERS)
    return text[: len(text) - len(rest)]


_DELIMITERS = ',:"[]{} \n'


def _escaped(text: str) -> bool:
    """``text`` ends in an odd number of backslashes (a quote after it would be escaped)."""
    return (len(text) - len(text.rstrip("\\"))) % 2 == 1


class _Truncated(Exception):
    pass


def complete(steps: Generator[Any, Any, R]) -> R:
    """Run a generator to its end without looking at what it yields: its return value (for
    :func:`segments`, the whole answer)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            result: R = done.value
            return result


def segments(
    client: LlamaClient,
    output: Output[Any],
    prompt: str,
    params: Mapping[str, Any],
    *,
    hold_back: int = HOLD_BACK,
) -> Generator[str, None, Segmented]:
    """Generate ``output``'s JSON for ``prompt`` by fast-forward: yield the answer so far after each
    segment, and return the whole.

    Raises :class:`FastForwardUnavailable` (the caller then generates plainly) when the type forces too
    little, or the server takes no token-id prompts or does not reuse its cache.
    """
    with _lock:
        reason = _unsupported.get(client.base_url)
    if reason is not None:
        raise FastForwardUnavailable(reason)
    skels = skeleton_of(output)
    if not skels or skels[0].forced_chars < MIN_FORCED_CHARS:
        raise FastForwardUnavailable("the type forces too little text to skip")
    if skels[0].forced_share < MIN_FORCED_SHARE:
        share = f"{skels[0].forced_share:.0%}"
        raise FastForwardUnavailable(f"the type's forced share ({share}) is too small to be worth segments")
    try:
        context = client.tokenize(prompt, add_special=True)
        costs = server_costs(client)
        _prefetch(client, skels)
        run = _Run(
            client, skels, context, dict(params), hold_back, costs.fold_tokens(hold_back), costs.decode_ms
        )
        yield from run.run()
    except FastForwardUnavailable as exc:
        if exc.permanent:
            with _lock:
                _unsupported[client.base_url] = str(exc)
        raise
    except ClientError as exc:
        if getattr(exc, "status", None) in (404, 405, 501):
            message = f"the server has no token endpoints: {exc.message}"
            with _lock:
                _unsupported[client.base_url] = message
            raise FastForwardUnavailable(message, permanent=True) from None
        raise
    return _merged(run)


def _merged(run: _Run) -> Segmented:
    last = run.completions[-1] if run.completions else Completion(slot_id=-1)
    completion = last.model_copy(
        update={
            "content": run.text,
            "stop_type": StopType.LIMIT if run.truncated else StopType.EOS,
            "truncated": run.truncated,
            "tokens_predicted": sum(c.tokens_predicted for c in run.completions),
            "tokens_evaluated": sum(c.tokens_evaluated for c in run.completions),
        }
    )
    return Segmented(
        completion,
        len(run.completions),
        run.forced_tokens,
        tuple(run.reused),
        tuple(c.prompt_tokens_processed for c in run.completions),
        sum(_server_ms(c) for c in run.completions),
    )


def _server_ms(done: Completion) -> float:
    timings = done.timings
    return (timings.prompt_ms or 0.0) + (timings.predicted_ms or 0.0) if timings else 0.0
