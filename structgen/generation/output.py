"""The output side of a generation: the compiled grammar for a type and validation of raw text into it."""

from __future__ import annotations

import json
import threading
from typing import Any, Generic, Literal, TypeVar

import pydantic

from ..schema import CompiledSchema
from ..schema import compile as compile_schema

T = TypeVar("T")
Whitespace = Literal["compact", "flexible", "pretty"]
# Digits allowed in integer and fraction parts: without a bound a small model can write digits forever.
MAX_DIGITS = 15
# Output types come from the program, not from untrusted input: a slow machine must not refuse them.
COMPILE_TIME_LIMIT = 10.0
# Generation bounds of strings and arrays the schema leaves unbounded (its own maxLength/maxItems win).
MAX_STRING_LENGTH = 300
MAX_ITEMS = 32
GENERATION_SETTINGS: dict[str, Any] = {
    "additional_properties": False,
    "max_digits": MAX_DIGITS,
    "time_limit": COMPILE_TIME_LIMIT,
}
"""What every generation's compile sets besides whitespace and bounds: objects closed (a model should not
invent keys), digits bounded, a generous time limit."""


def _key(output: Any) -> Any:
    if isinstance(output, (dict, list, bool)):
        return ("schema", json.dumps(output, sort_keys=True, default=str))
    try:
        hash(output)
    except TypeError:
        return ("repr", repr(output))
    return ("type", output)


def output_options(options: dict[str, Any]) -> dict[str, Any]:
    """Take the options of :class:`Output` (bounds, whitespace) out of call ``options``."""
    return {
        key: options.pop(key) for key in ("max_string_length", "max_items", "whitespace") if key in options
    }


_cache: dict[Any, CompiledSchema] = {}
_cache_lock = threading.Lock()


def compile_output(
    output: Any,
    whitespace: Whitespace = "flexible",
    max_string_length: int | None = MAX_STRING_LENGTH,
    max_items: int | None = MAX_ITEMS,
) -> CompiledSchema:
    """The grammar generation sends for ``output`` (a type, a JSON Schema or its JSON text): objects
    closed, digits bounded, unbounded strings and arrays given generation bounds. Cached by type or by
    the schema's JSON text; every typed-output path (generation, labeling, LangChain, ``structgen run
    --schema``) compiles through here."""
    key = (_key(output), whitespace, max_string_length, max_items)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is None:
        bounds: dict[str, Any] = {"max_string_length": max_string_length, "max_items": max_items}
        hit = compile_schema(output, whitespace=whitespace, **bounds, **GENERATION_SETTINGS)
        with _cache_lock:
            if len(_cache) > 512:
                _cache.clear()
            _cache[key] = hit
    return hit


class Output(Generic[T]):
    """A type (or JSON Schema) to generate: its grammar (cached) and a validator for raw text.

    Whitespace is ``flexible`` by default: chat models like to break lines in JSON, and a grammar that
    forbids it pushes them into garbage (and into llama.cpp's slow path, which checks the whole
    vocabulary whenever the model's first choice is refused).

    Strings and arrays the type leaves unbounded get at most
    ``max_string_length`` characters and ``max_items`` items in generation (None: no bound); the
    compile report lists each bound as a restriction."""

    def __init__(
        self,
        output_type: Any,
        *,
        whitespace: Whitespace = "flexible",
        max_string_length: int | None = MAX_STRING_LENGTH,
        max_items: int | None = MAX_ITEMS,
    ) -> None:
        self.output_type = output_type
        self.is_schema = isinstance(output_type, (dict, bool))
        self.compiled = compile_output(output_type, whitespace, max_string_length, max_items)
        self._adapter: pydantic.TypeAdapter[Any] | None = (
            None if self.is_schema else pydantic.TypeAdapter(output_type)
        )
        self._validator = self.compiled.validator()

    @property
    def grammar(self) -> str:
        """The GBNF grammar sent to the server."""
        return self.compiled.grammar

    @property
    def schema(self) -> Any:
        """The JSON Schema of the output type."""
        return self.compiled.schema

    def to_json(self, value: T) -> Any:
        """``value`` as JSON-ready data (lists, dicts, strings, numbers; a schema's value as it is)."""
        return value if self._adapter is None else self._adapter.dump_python(value, mode="json")

    def parse(self, text: str) -> tuple[T | None, list[str]]:
        """The validated value of ``text``, or None and the list of what is wrong with it."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, [f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"]
        errors = [
            f"{'/' + '/'.join(str(p) for p in e.absolute_path) if e.absolute_path else '(root)'}: {e.message}"
            for e in sorted(self._validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
        ]
        if errors:
            return None, errors[:10]
        if self._adapter is None:
            return data, []
        try:
            return self._adapter.validate_json(text), []
        except pydantic.ValidationError as exc:
            return None, [
                f"{'/' + '/'.join(str(p) for p in err['loc']) if err['loc'] else '(root)'}: {err['msg']}"
                for err in exc.errors()[:10]
            ]
