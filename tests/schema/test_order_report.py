"""Property order: objects whose declared properties can only come in schema order are reported as restricted."""

from __future__ import annotations

from typing import Any

from structgen.schema import compile
from structgen.schema.emit import MAX_ANY_ORDER_REQUIRED

from .compiling import accepts, compiled

PAIR = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}}


def _order_items(schema: Any, **options: Any) -> list[tuple[str, str]]:
    return [
        (item.pointer, item.severity)
        for item in compiled(schema, **options).report
        if item.keyword == "properties" and "schema order" in item.reason
    ]


def test_two_properties_in_schema_order_are_reported_as_restricted() -> None:
    assert accepts(PAIR, {"a": 1, "b": 2}) and not accepts(PAIR, {"b": 2, "a": 1})
    assert _order_items(PAIR) == [("", "restricted")]
    assert any(
        "any_order=True" in item.reason for item in compiled(PAIR).report if item.keyword == "properties"
    )
    assert compiled(PAIR).exact


def test_strict_does_not_refuse_the_order() -> None:
    assert compile(PAIR, strict=True).report == compiled(PAIR).report


def test_objects_with_fewer_than_two_properties_are_not_reported() -> None:
    assert _order_items({"type": "object"}) == []
    assert _order_items({"type": "object", "properties": {"a": {}}}) == []
    assert (
        _order_items({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}})
        == []
    )
    assert _order_items({**PAIR, "maxProperties": 1}) == []


def test_each_object_is_reported_at_its_pointer() -> None:
    schema = {
        "$defs": {"pair": PAIR},
        "type": "object",
        "properties": {"inner": {"$ref": "#/$defs/pair"}, "one": {"type": "object", "properties": {"x": {}}}},
    }
    assert sorted(_order_items(schema)) == [("", "restricted"), ("/$defs/pair", "restricted")]


def test_any_order_is_not_reported_unless_the_object_is_too_large() -> None:
    assert _order_items(PAIR, any_order=True) == []
    assert accepts(PAIR, {"b": 2, "a": 1}, any_order=True)
    names = [f"p{i}" for i in range(MAX_ANY_ORDER_REQUIRED + 2)]
    large = {"type": "object", "properties": {name: {"type": "integer"} for name in names}, "required": names}
    items = [item for item in compiled(large, any_order=True).report if item.keyword == "properties"]
    assert [(item.pointer, item.severity) for item in items] == [("", "restricted")]
    assert "too many" in items[0].reason
