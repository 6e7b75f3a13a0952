"""structgen: typed, grammar-constrained output from llama.cpp-style servers."""

# No `from __future__ import annotations` and only private helper names: `dir(structgen)` lists the API.
import importlib as _importlib
import typing as _typing

from .errors import (
    ArgumentError,
    GrammarError,
    InvalidSchemaError,
    SchemaError,
    StructgenError,
    UnsupportedSchemaError,
)

if _typing.TYPE_CHECKING:
    from .client import ClientError, Completion, LlamaClient
    from .gbnf import Matcher, Sampler, parse_grammar
    from .generation import (
        GenerationError,
        OutputTruncatedError,
        Result,
        ValidationFailedError,
        classify,
        extract,
        fn,
        generate,
        generate_result,
        stream,
    )
    from .schema import CompiledSchema, compile, to_gbnf
    from .server import LocalServer, default_client

__version__ = "0.1.0"

# Public names and the submodule each lives in; loaded on first use so `import structgen.gbnf`
# does not pull in the HTTP client or the compiler.
_LAZY = {
    "ClientError": "client",
    "Completion": "client",
    "LlamaClient": "client",
    "Matcher": "gbnf",
    "Sampler": "gbnf",
    "parse_grammar": "gbnf",
    "GenerationError": "generation",
    "OutputTruncatedError": "generation",
    "Result": "generation",
    "ValidationFailedError": "generation",
    "classify": "generation",
    "extract": "generation",
    "fn": "generation",
    "generate": "generation",
    "generate_result": "generation",
    "stream": "generation",
    "CompiledSchema": "schema",
    "compile": "schema",
    "to_gbnf": "schema",
    "LocalServer": "server",
    "default_client": "server",
}


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'structgen' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, "__version__", *(n for n in globals() if n.startswith("__"))})


__all__ = [
    "ArgumentError",
    "ClientError",
    "CompiledSchema",
    "Completion",
    "GenerationError",
    "GrammarError",
    "InvalidSchemaError",
    "LlamaClient",
    "LocalServer",
    "Matcher",
    "OutputTruncatedError",
    "Result",
    "Sampler",
    "SchemaError",
    "StructgenError",
    "UnsupportedSchemaError",
    "ValidationFailedError",
    "classify",
    "compile",
    "default_client",
    "extract",
    "fn",
    "generate",
    "generate_result",
    "parse_grammar",
    "stream",
    "to_gbnf",
]
