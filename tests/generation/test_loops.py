"""The loop detector: repetitions are found, with the field they are in; ordinary JSON is left alone."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from structgen.generation import LoopDetector
from structgen.generation.loops import path_at, pointer, trimmed
from structgen.generation.output import Output
from structgen.generation.pipeline import fewer_items

DETECTOR = LoopDetector()


def test_a_phone_number_that_repeats_is_named_with_its_field() -> None:
    text = '{"name": "Ann", "phone": "+56 123 456 1234, 98765' + ", 12345" * 12
    loop = DETECTOR.find(text)
    assert loop is not None
    assert loop.pointer == "/phone"
    assert loop.unit == "12345, "
    assert loop.repeats >= 10
    assert str(loop) == '/phone: "12345, " repeated 12 times'


def test_items_written_again_and_again_are_named_by_their_array() -> None:
    item = '{"name": "apple", "qty": 1}'
    loop = DETECTOR.find('{"order": {"items": [' + ", ".join([item] * 5))
    assert loop is not None
    assert loop.pointer == "/order/items"
    assert loop.unit == item + ", "


def test_one_character_over_and_over_is_a_loop() -> None:
    loop = DETECTOR.find('{"note": "' + "a" * 80)
    assert loop is not None and loop.unit == "a" and loop.pointer == "/note"


def test_counting_is_not_a_loop() -> None:
    assert DETECTOR.find("[" + ", ".join(str(i) for i in range(60))) is None


def test_a_short_repetition_is_not_a_loop_yet() -> None:
    assert DETECTOR.find('{"a": "ha ha ha ha ha"') is None


def test_path_follows_keys_indexes_and_escapes() -> None:
    assert path_at('{"a": {"b\\"c": [1, {"d": "x') == ["a", 'b"c', 1, "d"]
    assert path_at('{"a": 1, "b') == []
    assert pointer(["a/b", "c~d", 2]) == "/a~1b/c~0d/2"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(json_values, st.text(min_size=1, max_size=12), st.integers(min_value=0, max_value=60))
def test_a_unit_repeated_long_enough_is_found_after_any_prefix(value: object, unit: str, extra: int) -> None:
    times = max(DETECTOR.min_span // len(unit), DETECTOR.min_repeats) + 1 + extra
    text = json.dumps(value)[:-1] + unit * times
    loop = DETECTOR.find(text)
    assert loop is not None
    assert len(loop.unit) <= len(unit)
    tail = text[loop.start :]
    assert tail == (loop.unit * (len(tail) // len(loop.unit) + 1))[: len(tail)]


@given(json_values)
def test_path_at_the_end_of_a_whole_value_is_the_root(value: object) -> None:
    assert path_at(json.dumps(value)) == []


@given(st.dictionaries(st.text(max_size=8), st.text(max_size=8), min_size=1, max_size=4))
def test_path_inside_the_last_string_value_is_its_key(value: dict[str, str]) -> None:
    text = json.dumps(value)[:-2]  # cut inside the last value's closing quote
    assert path_at(text) == [list(value)[-1]]


def test_items_written_again_say_how_many_came_before_the_repetition() -> None:
    loop = DETECTOR.find('{"items": ["milk", "eggs", ' + '"bread", "jam", ' * 8)
    assert loop is not None and loop.pointer == "/items"
    assert loop.items == 4  # milk, eggs, and one period: bread, jam
    inside = DETECTOR.find('{"items": ["milk", "' + "ab" * 40)
    assert inside is not None and inside.pointer == "/items/1" and inside.items is None


def _line(quantity: int) -> str:
    return f'{{"product": "coffee", "quantity": {quantity}, "unit_price": {quantity * 1.5:.2f}}}, '


def test_the_same_item_with_other_numbers_again_and_again_is_a_loop() -> None:
    text = '{"customer": "Mia", "lines": [' + "".join(_line(q) for q in range(1, 5))
    loop = DETECTOR.find(text)
    assert loop is not None and loop.varying
    assert loop.pointer == "/lines" and loop.items == 1
    assert loop.unit == _line(1)
    assert str(loop).startswith('/lines: "{\\"product\\": \\"coffee\\"') and "with other numbers" in str(loop)
    assert DETECTOR.find('{"customer": "Mia", "lines": [' + "".join(_line(q) for q in range(1, 3))) is None


def test_lists_of_numbers_and_points_are_not_loops() -> None:
    assert DETECTOR.find("[" + ", ".join(f'{{"x": {i}, "y": {i * i}}}' for i in range(40))) is None
    assert DETECTOR.find('{"readings": [' + ", ".join(f"{i * 0.37:.2f}" for i in range(60))) is None
    people = ", ".join(f'{{"name": "{n}", "age": {a}}}' for n, a in [("Ann", 3), ("Bob", 40), ("Cy", 7)] * 3)
    assert DETECTOR.find("[" + people) is not None  # the same three people again: a loop after all
    assert DETECTOR.find("[" + people[: len(people) // 3]) is None


def test_records_alike_but_for_numbers_that_do_not_count_on_are_not_loops() -> None:
    readings = [
        {"sensor": "temp", "unit": "celsius", "value": v, "hour": h}
        for h, v in enumerate([20.5, 21, 20.8, 22, 21.4])
    ]
    text = json.dumps({"readings": readings})
    assert all(DETECTOR.find(text[:end]) is None for end in range(1, len(text) + 1))
    seats = json.dumps({"tickets": [{"show": "Hamlet", "seat": seat} for seat in (1, 2, 3)]})
    assert all(DETECTOR.find(seats[:end]) is None for end in range(1, len(seats) + 1))


def test_a_loop_of_items_alike_but_for_their_numbers_is_never_cut_to_fewer_items() -> None:
    text = '{"customer": "Mia", "lines": [' + "".join(_line(q) for q in range(1, 6))
    loop = DETECTOR.find(text)
    assert loop is not None and loop.varying and loop.items == 1
    assert trimmed(text, loop) is None
    output = Output(dict[str, list[dict[str, float]]])
    assert fewer_items(output, loop, None) == (output, None)
