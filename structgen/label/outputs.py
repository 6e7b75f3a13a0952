"""What each record is labelled with: one of a list of labels, a typed value, a JSON Schema value, or the
raw text a GBNF grammar allows."""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from structgen.client import LlamaClient
from structgen.errors import StructgenError
from structgen.gbnf.checker import validate
from structgen.generation import Output, Result, generate_result
from structgen.generation.checks import check_output_type, check_satisfiable
from structgen.generation.completion import complete
from structgen.generation.prompting import (
    PromptInput,
    labels_instructions,
    labels_schema,
    schema_instructions,
)
from structgen.label.errors import OutputSpecError

__all__ = [
    "GrammarOutput",
    "LabelsOutput",
    "Outcome",
    "OutputSpec",
    "TypedOutput",
    "check_labels",
    "load_type",
    "make_output",
    "parse_labels",
]

_TALLY_WIDTH = 80


@dataclass(frozen=True)
class Outcome:
    """One record's answer: a JSON-ready value and what it cost."""

    value: Any
    attempts: int
    tokens_predicted: int
    tokens_evaluated: int


class OutputSpec:
    """How to ask for one record's answer; subclasses say what the answer is."""

    description = "output"

    def system(self) -> str | None:
        """The system message for chat prompts (``None``: the user's template says it all)."""
        return None

    def signature(self) -> dict[str, Any]:
        """What this output is, as JSON: a resumed run must ask for the same (``description`` names it)."""
        return {"kind": type(self).__name__, "description": self.description}

    def run(
        self, client: LlamaClient, prompt: PromptInput, *, max_retries: int, sampling: Mapping[str, Any]
    ) -> Outcome:
        """Ask ``client`` for the answer to ``prompt``; raises a :class:`StructgenError` when there is none."""
        raise NotImplementedError

    def tally(self, value: Any) -> list[str]:
        """The keys this answer counts under in the label distribution (scalars only by default)."""
        if value is None or isinstance(value, (str, int, float, bool)):
            text = value if isinstance(value, str) else json.dumps(value)
            return [text if len(text) <= _TALLY_WIDTH else text[: _TALLY_WIDTH - 1] + "…"]
        return []


class TypedOutput(OutputSpec):
    """A value of a Python type (pydantic model, dataclass, Enum, ...) or of a JSON Schema (a dict)."""

    def __init__(self, output_type: Any, *, instructions: str | None = None):
        try:
            self.output: Output[Any] = Output(check_output_type(output_type))
            check_satisfiable(self.output)
        except StructgenError:
            raise
        except (pydantic.PydanticSchemaGenerationError, pydantic.PydanticUserError, TypeError) as exc:
            raise OutputSpecError(f"{output_type!r} cannot be used as an output type: {exc}") from None
        name = getattr(output_type, "__name__", None)
        self.description = f"type {name}" if name and not self.output.is_schema else "JSON Schema"
        self._system = schema_instructions(self.output.schema, instructions or "Answer the user's request.")

    def signature(self) -> dict[str, Any]:
        return {**super().signature(), "schema": self.output.schema}

    def system(self) -> str:
        return self._system

    def run(
        self, client: LlamaClient, prompt: PromptInput, *, max_retries: int, sampling: Mapping[str, Any]
    ) -> Outcome:
        result: Result[Any] = generate_result(
            prompt, self.output, client=client, max_retries=max_retries, **sampling
        )
        value = self.output.to_json(result.value)
        return Outcome(value, len(result.attempts), result.tokens_predicted, result.tokens_evaluated)


class LabelsOutput(TypedOutput):
    """One of a fixed list of labels (several with ``multi``); the grammar admits nothing else."""

    def __init__(self, labels: Sequence[str], *, multi: bool = False, instructions: str | None = None):
        self.labels = check_labels(labels)
        self.multi = multi
        super().__init__(labels_schema(self.labels, multi))
        self.description = f"labels {', '.join(self.labels)}"
        self._system = labels_instructions(self.labels, multi, instructions)

    def signature(self) -> dict[str, Any]:
        return {"kind": "labels", "description": self.description, "labels": self.labels, "multi": self.multi}

    def tally(self, value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class GrammarOutput(OutputSpec):
    """The raw text a GBNF grammar allows (no JSON, no re-asks)."""

    def __init__(self, grammar: str, *, name: str = "grammar"):
        validate(grammar, name)  # a GrammarError says where, before the first request
        self.grammar = grammar
        self.description = name

    def signature(self) -> dict[str, Any]:
        return {**super().signature(), "grammar": self.grammar}

    def run(
        self, client: LlamaClient, prompt: PromptInput, *, max_retries: int, sampling: Mapping[str, Any]
    ) -> Outcome:
        params = dict(sampling)
        params.pop("fast_forward", None)  # a grammar of the user's: nothing known to force
        completion = complete(client, prompt, self.grammar, **params)
        return Outcome(completion.content, 1, completion.tokens_predicted, completion.tokens_evaluated)


def check_labels(labels: Sequence[str]) -> list[str]:
    """``labels`` as a list; :class:`OutputSpecError` unless there are two or more, all different strings."""
    if isinstance(labels, (str, bytes)) or not all(isinstance(label, str) for label in labels):
        raise OutputSpecError(f"labels must be a list of strings, got {labels!r}")
    found = list(labels)
    repeated = sorted({label for label in found if found.count(label) > 1})
    if repeated:
        raise OutputSpecError(f"label {repeated[0]!r} is given twice; each label must be different")
    if len(found) < 2:
        raise OutputSpecError(
            f"give at least two labels to choose from, got {found!r} (e.g. positive,negative)"
        )
    return found


def parse_labels(text: str) -> list[str]:
    """The labels of ``a,b,c`` (spaces around each trimmed, empty ones dropped); fewer than two or a repeat
    is an :class:`OutputSpecError`."""
    labels = [part.strip() for part in text.split(",") if part.strip()]
    if not labels:
        raise OutputSpecError(f"no labels in {text!r}; write them comma-separated, e.g. positive,negative")
    return check_labels(labels)


def load_type(spec: str) -> Any:
    """The object named by ``module:Name`` (``Name`` may be dotted: ``module:Outer.Inner``)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise OutputSpecError(f"--type needs module:Type (e.g. mypackage.models:Review), got {spec!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - importing runs arbitrary code; any failure means the type cannot be had
        raise OutputSpecError(f"cannot import module {module_name!r}: {type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise OutputSpecError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


def _read(path: str | os.PathLike[str], what: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise OutputSpecError(f"{path}: cannot read the {what}: {reason}") from None


def make_output(
    *,
    output_type: Any = None,
    type_name: str | None = None,
    labels: Sequence[str] | str | None = None,
    multi: bool = False,
    schema_file: str | os.PathLike[str] | None = None,
    grammar: str | None = None,
    grammar_file: str | os.PathLike[str] | None = None,
    instructions: str | None = None,
) -> OutputSpec:
    """The output spec from exactly one of: a type or schema, ``module:Type``, labels, a schema file or a grammar."""
    given = [
        name
        for name, value in (
            ("an output type", output_type),
            ("--type", type_name),
            ("--labels", labels),
            ("--schema", schema_file),
            ("a grammar", grammar),
            ("--grammar", grammar_file),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise OutputSpecError(
            "say what to label with: one of labels, an output type, a JSON Schema or a grammar"
            + (f" (got {' and '.join(given)})" if given else "")
        )
    if isinstance(output_type, OutputSpec):
        return output_type
    if labels is not None:
        return LabelsOutput(
            parse_labels(labels) if isinstance(labels, str) else list(labels),
            multi=multi,
            instructions=instructions,
        )
    if type_name is not None:
        return TypedOutput(load_type(type_name), instructions=instructions)
    if schema_file is not None:
        text = _read(schema_file, "JSON Schema")
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise OutputSpecError(f"{schema_file}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
        return TypedOutput(schema, instructions=instructions)
    if grammar_file is not None:
        return GrammarOutput(_read(grammar_file, "grammar"), name=str(grammar_file))
    if grammar is not None:
        return GrammarOutput(grammar)
    return TypedOutput(output_type, instructions=instructions)
