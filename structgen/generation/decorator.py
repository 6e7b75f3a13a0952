"""@fn: a typed Python function whose body is a prompt; calling it runs a grammar-constrained generation."""

from __future__ import annotations

import functools
import inspect
import json
import string
import typing
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar, overload

from ..client import LlamaClient
from .output import Output, output_options
from .pipeline import generate
from .prompting import describe_schema

P = ParamSpec("P")
R = TypeVar("R")


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except TypeError:
        return repr(value)


class StructuredFunction(Generic[P, R]):
    """A function turned into an extraction: its signature, docstring and arguments become the prompt."""

    def __init__(self, func: Callable[P, R], options: dict[str, Any]) -> None:
        self.func = func
        self.options = options
        self.signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        if "return" not in hints:
            raise TypeError(f"@structgen.fn needs a return annotation on {func.__qualname__}")
        self.return_type = hints["return"]
        self.output: Output[R] = Output(self.return_type, **output_options(dict(options)))
        functools.update_wrapper(self, func)

    def prompt(self, *args: P.args, **kwargs: P.kwargs) -> list[dict[str, str]]:
        """The chat messages a call with these arguments sends (no server involved)."""
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {k: _show(v) for k, v in bound.arguments.items()}
        doc = inspect.getdoc(self.func) or f"Compute {self.func.__name__}."
        fields = {f for _, f, _, _ in string.Formatter().parse(doc) if f}
        if fields and fields <= values.keys():
            task = doc.format(**values)
            user = task
        else:
            task = doc
            user = "\n".join(f"{k}: {v}" for k, v in values.items())
        system = (
            f"You are the function {self.func.__name__}{self.signature}. {task if user != task else doc}\n"
            f"Reply with JSON that follows this JSON Schema: {describe_schema(self.output.schema)}"
        )
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.call(self.prompt(*args, **kwargs))

    def call(self, messages: list[dict[str, str]], **overrides: Any) -> R:
        options = {**self.options, **overrides}
        output_options(options)  # already in self.output
        value: R = generate(messages, self.output, **options)
        return value

    def with_options(self, *, client: LlamaClient | None = None, **options: Any) -> StructuredFunction[P, R]:
        """A copy with other call options (``client``, ``temperature``, ``max_retries``, sampling...)."""
        merged = {**self.options, **options}
        if client is not None:
            merged["client"] = client
        return StructuredFunction(self.func, merged)


@overload
def fn(func: Callable[P, R], /) -> StructuredFunction[P, R]: ...
@overload
def fn(
    *, client: LlamaClient | None = ..., max_retries: int = ..., **sampling: Any
) -> Callable[[Callable[P, R]], StructuredFunction[P, R]]: ...
def fn(func: Callable[P, R] | None = None, /, **options: Any) -> Any:
    """Decorate a typed function so that calling it asks the model for its return value.

    ``@structgen.fn`` or ``@structgen.fn(client=..., temperature=..., max_retries=...)``. Use
    ``f.prompt(...)`` to see the messages without calling the server and ``f.with_options(...)``
    for per-call overrides.
    """
    if func is not None:
        return StructuredFunction(func, options)
    return lambda f: StructuredFunction(f, options)
