"""Prompt templates: a text with ``{field}`` placeholders, a template file, or a Python callable."""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from structgen.generation.prompting import PromptInput
from structgen.label.errors import TemplateError

__all__ = ["DEFAULT_TEMPLATE", "Template", "TemplateFunction", "make_template"]

DEFAULT_TEMPLATE = "{text}"

TemplateFunction = Callable[[Mapping[str, Any]], PromptInput]
"""A function from a record's fields to the user message (a string) or to whole chat messages."""

_ROOT = re.compile(r"[^.\[]*")


class _Fields(Mapping[str, Any]):
    """A record's fields as ``str.format_map`` sees them: objects and lists as compact JSON."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return "" if value is None else value

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Template:
    """Turns a record's fields into a prompt.

    ``fields`` are the names a text template needs (``None`` for a callable, which may need anything).
    """

    def __init__(self, source: str | TemplateFunction, *, name: str = "template"):
        self.name = name
        self._func: TemplateFunction | None = None
        self.text: str | None = None
        if callable(source):
            self._func = source
            self.fields: frozenset[str] | None = None
            return
        self.text = source
        self.fields = frozenset(_fields(source, name))

    def check(self, available: Collection[str], where: str) -> None:
        """Raise :class:`TemplateError` naming the first field of the template that ``available`` lacks."""
        for field in sorted(self.fields or ()):
            if field not in available:
                have = ", ".join(sorted(available)) or "none"
                raise TemplateError(
                    f"the {self.name} uses {{{field}}} but {where} has no field {field!r} (fields: {have})",
                    field=field,
                )

    def render(self, data: Mapping[str, Any]) -> PromptInput:
        """The prompt for one record; :class:`TemplateError` when this record lacks a field or a callable fails."""
        if self._func is not None:
            try:
                prompt = self._func(data)
            except Exception as exc:  # the caller's code: any failure is this record's problem
                raise TemplateError(f"the template function failed: {type(exc).__name__}: {exc}") from exc
            if isinstance(prompt, str) or _is_messages(prompt):
                return prompt
            raise TemplateError(
                f"the template function returned {type(prompt).__name__}, not a str or messages"
            )
        assert self.text is not None
        try:
            return self.text.format_map(_Fields(data))
        except KeyError as exc:
            field = str(exc.args[0]) if exc.args else "?"
            raise TemplateError(f"missing field {field!r}", field=field) from None
        except (AttributeError, IndexError, TypeError, ValueError) as exc:
            raise TemplateError(f"cannot fill the {self.name}: {exc}") from None


def _is_messages(value: Any) -> bool:
    return isinstance(value, Sequence) and all(isinstance(m, Mapping) and "role" in m for m in value)


def _fields(text: str, name: str) -> list[str]:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"the {name} is malformed: {exc} (write {{{{ and }}}} for literal braces)"
        ) from None
    fields = []
    for _, field_name, _, _ in parts:
        if field_name is None:
            continue
        root = _ROOT.match(field_name)
        if root is None or not root.group(0) or root.group(0).isdigit():
            raise TemplateError(
                f"the {name} has a positional placeholder {{{field_name}}}; name a field instead, e.g. {{text}}"
            )
        if "__" in field_name[root.end() :]:
            raise TemplateError(
                f"the {name} reaches into {{{field_name}}}: only fields and their items, please"
            )
        fields.append(root.group(0))
    return fields


def make_template(
    template: str | TemplateFunction | None = None, *, template_file: str | os.PathLike[str] | None = None
) -> Template:
    """The template from text, a callable or a file (at most one of them; ``{text}`` when none)."""
    if template is not None and template_file is not None:
        raise TemplateError("give a template or a template file, not both")
    if template_file is not None:
        path = Path(template_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise TemplateError(f"{path}: cannot read the template file: {reason}") from None
        return Template(text.rstrip("\n"), name=f"template file {path}")
    return Template(DEFAULT_TEMPLATE if template is None else template)
