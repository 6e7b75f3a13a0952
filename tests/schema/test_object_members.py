"""Objects accept exactly their members in schema order, with extra keys anywhere when allowed, and the
member counts of minProperties/maxProperties (the uncounted and the counted writers agree)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from .compiling import accepts_text


@st.composite
def _cases(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], str]:
    n = draw(st.integers(1, 5))
    names = [f"p{i}" for i in range(n)]
    required = [name for name in names if draw(st.booleans())]
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: {"type": "integer"} for name in names},
        "required": required,
        "additionalProperties": draw(st.booleans()),
    }
    if draw(st.booleans()):
        schema["minProperties"] = draw(st.integers(0, n + 1))
    if draw(st.booleans()):
        schema["maxProperties"] = draw(st.integers(0, n + 2))
    present = [name for name in names if draw(st.booleans())]
    keys = list(present)
    for extra in range(draw(st.integers(0, 2))):
        keys.insert(draw(st.integers(0, len(keys))), f"x{extra}")
    whitespace = draw(st.sampled_from(["compact", "flexible"]))
    return schema, keys, whitespace


def _valid(schema: dict[str, Any], keys: list[str]) -> bool:
    if not set(schema["required"]) <= set(keys):
        return False
    if not schema["additionalProperties"] and any(key not in schema["properties"] for key in keys):
        return False
    return schema.get("minProperties", 0) <= len(keys) <= schema.get("maxProperties", len(keys))


@settings(max_examples=150, deadline=None)
@given(_cases())
def test_members_in_schema_order_are_accepted_exactly_when_valid(
    case: tuple[dict[str, Any], list[str], str],
) -> None:
    schema, keys, whitespace = case
    text = json.dumps({key: 1 for key in keys}, separators=(",", ":"))
    assert accepts_text(schema, text, whitespace=whitespace) == _valid(schema, keys), text
    declared = [key for key in keys if key in schema["properties"]]
    if len(declared) > 1:
        swapped = [
            declared[-1] if key == declared[0] else declared[0] if key == declared[-1] else key
            for key in keys
        ]
        text = json.dumps({key: 1 for key in swapped}, separators=(",", ":"))
        assert not accepts_text(schema, text, whitespace=whitespace), text
