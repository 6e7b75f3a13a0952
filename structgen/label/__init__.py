"""Data labeling: run a model over JSONL/CSV/text records, concurrently, resumably, with progress.

``structgen.label.label(path, labels=["positive", "negative"], template="Review: {text}",
out="labels.jsonl")`` returns a :class:`Summary`; ``structgen label`` is the command line.
Names load on first use, so the command line's ``--help`` does not import the HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from structgen.label.errors import InputError, LabelError, OutputSpecError, TemplateError
    from structgen.label.outputs import GrammarOutput, LabelsOutput, Outcome, OutputSpec, TypedOutput
    from structgen.label.pool import AllServersDownError
    from structgen.label.prompts import Template
    from structgen.label.runner import LabelInterrupted, label, record_seed
    from structgen.label.sources import BadRow, Record, Source
    from structgen.label.summary import Failure, Summary

__all__ = [
    "AllServersDownError",
    "BadRow",
    "Failure",
    "GrammarOutput",
    "InputError",
    "LabelError",
    "LabelInterrupted",
    "LabelsOutput",
    "Outcome",
    "OutputSpec",
    "OutputSpecError",
    "Record",
    "Source",
    "Summary",
    "Template",
    "TemplateError",
    "TypedOutput",
    "label",
    "record_seed",
]

_LAZY = {
    "InputError": "errors",
    "LabelError": "errors",
    "OutputSpecError": "errors",
    "TemplateError": "errors",
    "GrammarOutput": "outputs",
    "LabelsOutput": "outputs",
    "Outcome": "outputs",
    "OutputSpec": "outputs",
    "TypedOutput": "outputs",
    "AllServersDownError": "pool",
    "Template": "prompts",
    "LabelInterrupted": "runner",
    "label": "runner",
    "record_seed": "runner",
    "BadRow": "sources",
    "Record": "sources",
    "Source": "sources",
    "Failure": "summary",
    "Summary": "summary",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'structgen.label' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"structgen.label.{module}"), name)
    globals()[name] = value
    return value
