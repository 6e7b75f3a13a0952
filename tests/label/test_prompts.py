"""Prompt templates: fields, rendering, and errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from structgen.label.errors import TemplateError
from structgen.label.prompts import Template, make_template


def test_fields_are_the_placeholders_by_their_root_name() -> None:
    template = Template("Review by {user.name}: {text!r} ({score:.1f}) {{literal}}")
    assert template.fields == frozenset({"user", "text", "score"})


def test_render_fills_the_fields_objects_as_json() -> None:
    template = Template("{text} | {meta} | {score:.1f} | {none}")
    data = {"text": "ok", "meta": {"a": [1, "é"]}, "score": 2, "none": None}
    assert template.render(data) == 'ok | {"a":[1,"é"]} | 2.0 | '


def test_a_record_without_the_field_is_a_template_error_naming_it() -> None:
    with pytest.raises(TemplateError, match="missing field 'title'") as info:
        Template("{title}: {text}").render({"text": "x"})
    assert info.value.field == "title"


def test_check_names_the_first_field_the_data_lacks() -> None:
    with pytest.raises(
        TemplateError,
        match=r"uses \{body\} but the header of x.csv has no field 'body' "
        r"\(fields: id, text\)",
    ) as info:
        Template("{text} {body}").check(["id", "text"], "the header of x.csv")
    assert info.value.field == "body"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{text", "malformed"),
        ("text}", "malformed"),
        ("{} and {text}", "positional placeholder {}"),
        ("{0}", "positional placeholder {0}"),
    ],
)
def test_malformed_templates_are_refused_up_front(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        Template(text)


def test_a_callable_template_gets_the_fields_and_may_return_messages() -> None:
    def messages(data: Mapping[str, Any]) -> list[dict[str, str]]:
        return [{"role": "user", "content": data["text"].upper()}]

    template = make_template(messages)
    assert template.fields is None
    assert template.render({"text": "hi"}) == [{"role": "user", "content": "HI"}]


def test_a_failing_callable_is_a_template_error() -> None:
    template = make_template(lambda data: data["missing"])
    with pytest.raises(TemplateError, match="the template function failed: KeyError: 'missing'"):
        template.render({})
    with pytest.raises(TemplateError, match="returned int"):
        make_template(lambda data: 3).render({})  # type: ignore[arg-type,return-value]


def test_template_file_and_default(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("Classify: {text}\n", encoding="utf-8")
    assert make_template(template_file=path).render({"text": "x"}) == "Classify: x"
    assert make_template().render({"text": "x"}) == "x"
    with pytest.raises(TemplateError, match="cannot read the template file"):
        make_template(template_file=tmp_path / "missing.txt")
    with pytest.raises(TemplateError, match="not both"):
        make_template("{text}", template_file=path)
