"""How compile time and grammar size grow with a schema, one axis at a time.

    python bench/compile_scaling.py [--axes properties,defs,...] [--reps 3] [--scale 1.0] [--json out.json]

Each axis is a family of generated schemas that grows along one dimension only:

- ``properties``: one object with N properties of mixed types, a third of them required;
- ``defs``: N ``$defs`` (small objects), each referenced from three places (the root and two other
  definitions);
- ``depth``: objects nested N deep;
- ``anyOf`` / ``oneOf``: N object alternatives, each with its own required key (``oneOf``: and a tag
  telling them apart; ``oneOf-overlapping``: without, so that each must exclude every other);
- ``allOf``: two objects of N properties each (half of them shared) intersected by ``allOf``;
- ``patterns``: N string properties with distinct patterns (and formats in turn).

Times are ``structgen.compile(schema, time_limit=None)`` in this process, the median of ``--reps``
compiles; each repetition renames keys and patterns so that no cache of the process answers from an
earlier repetition. ``ms`` is the CPU time of the process (the compile is single-threaded, and on a
shared machine the wall clock mostly measures the wait for a core); ``wall ms`` is shown beside it. The exponent is the slope of a least-squares line through (log size, log value);
1 is linear. ``combined`` is one schema with 500 definitions and 1,000 properties.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _common import ROOT, machine, median, table, write_json

sys.path.insert(0, str(ROOT))

FORMATS = ("date", "email", "uuid", "date-time", "ipv4", "hostname", "uri", "time")
TYPES = ({"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number", "minimum": 0})

Schema = dict[str, Any]


def _object(names: list[str], required_every: int = 3, first: int = 0) -> Schema:
    """Properties named ``names``, the i-th typed after ``first + i``."""
    return {
        "type": "object",
        "properties": {name: TYPES[(first + i) % len(TYPES)] for i, name in enumerate(names)},
        "required": names[::required_every],
    }


def properties(n: int, salt: str) -> Schema:
    return _object([f"field_{salt}_{i}" for i in range(n)])


def defs(n: int, salt: str) -> Schema:
    definitions = {}
    for i in range(n):
        item = _object([f"d{salt}_{i}_{j}" for j in range(3)])
        item["properties"]["next"] = {"$ref": f"#/$defs/def{(i + 1) % n}"}
        item["properties"]["other"] = {"$ref": f"#/$defs/def{(i * 7 + 3) % n}"}
        definitions[f"def{i}"] = item
    return {
        "type": "object",
        "properties": {f"use_{salt}_{i}": {"$ref": f"#/$defs/def{i}"} for i in range(n)},
        "$defs": definitions,
    }


def depth(n: int, salt: str) -> Schema:
    schema: Schema = {"type": "string"}
    for i in range(n):
        schema = {"type": "object", "properties": {f"level_{salt}_{i}": schema, "id": {"type": "integer"}}}
    return schema


def _alternatives(n: int, salt: str) -> list[Schema]:
    return [
        {
            "type": "object",
            "properties": {f"kind_{salt}_{i}": {"type": "integer"}, "name": {"type": "string"}},
            "required": [f"kind_{salt}_{i}"],
        }
        for i in range(n)
    ]


def any_of(n: int, salt: str) -> Schema:
    return {"anyOf": _alternatives(n, salt)}


def one_of(n: int, salt: str) -> Schema:
    """Alternatives told apart by a tag, as real ``oneOf`` unions mostly are."""
    alternatives = _alternatives(n, salt)
    for i, alternative in enumerate(alternatives):
        alternative["properties"]["tag"] = {"const": f"t{i}"}
        alternative["required"].append("tag")
    return {"oneOf": alternatives}


def one_of_overlapping(n: int, salt: str) -> Schema:
    """Alternatives that overlap (an object may hold two kinds): each must exclude every other."""
    return {"oneOf": _alternatives(n, salt)}


def all_of(n: int, salt: str) -> Schema:
    first = _object([f"a{salt}_{i}" for i in range(n)])
    second = _object([f"a{salt}_{i}" for i in range(n // 2, n + n // 2)], required_every=4, first=n // 2)
    return {"allOf": [first, second]}


def patterns(n: int, salt: str) -> Schema:
    props: Schema = {}
    for i in range(n):
        if i % 4 == 3:
            props[f"f{salt}_{i}"] = {"type": "string", "format": FORMATS[(i // 4) % len(FORMATS)]}
        else:
            props[f"p{salt}_{i}"] = {"type": "string", "pattern": f"^{salt}{i}-[a-z]{{2,8}}[0-9]*$"}
    return {"type": "object", "properties": props}


def combined(n: int, salt: str) -> Schema:
    """``n`` definitions and ``2 n`` properties: each root property refers to a definition."""
    schema = defs(n, salt)
    schema["properties"] = {f"use_{salt}_{i}": {"$ref": f"#/$defs/def{i % n}"} for i in range(2 * n)}
    return schema


AXES: dict[str, tuple[Callable[[int, str], Schema], tuple[int, ...]]] = {
    "properties": (properties, (62, 125, 250, 500, 1000)),
    "defs": (defs, (31, 62, 125, 250, 500)),
    "depth": (depth, (4, 8, 15, 30, 60)),
    "anyOf": (any_of, (12, 25, 50, 100, 200)),
    "oneOf": (one_of, (12, 25, 50, 100, 200)),
    "oneOf-overlapping": (one_of_overlapping, (3, 5, 8, 12, 16)),
    "allOf": (all_of, (62, 125, 250, 500, 1000)),
    "patterns": (patterns, (12, 25, 50, 100, 200)),
}


def exponent(sizes: list[float], values: list[float | None]) -> float | None:
    """Slope of the least-squares line through (log size, log value)."""
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values) if s > 0 and v]
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def measure(build: Callable[[int, str], Schema], size: int, reps: int) -> dict[str, Any]:
    """Median compile time, grammar size and rules at ``size`` (``refused``: the compiler's message)."""
    import structgen
    from structgen.errors import StructgenError

    times, walls, grammar = [], [], ""
    for rep in range(reps):
        schema = build(size, f"r{rep}")
        start, wall = time.process_time(), time.perf_counter()
        try:
            grammar = structgen.compile(schema, time_limit=None).grammar
        except StructgenError as error:
            return {
                "size": size,
                "ms": None,
                "wall_ms": None,
                "bytes": None,
                "rules": None,
                "refused": str(error),
            }
        times.append((time.process_time() - start) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return {
        "size": size,
        "ms": median(times),
        "wall_ms": median(walls),
        "bytes": len(grammar.encode()),
        "rules": grammar.count("::="),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--axes", default=",".join(AXES), help="comma-separated axes (default: all)")
    parser.add_argument("--reps", type=int, default=3, help="compiles per point (median kept)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="multiply every size (e.g. 0.25 for a quick look)"
    )
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    import structgen

    structgen.compile(
        {"type": "object", "properties": {"a": {"type": "string", "format": "date"}}}, time_limit=None
    )
    started = time.perf_counter()
    summary, points = [], {}
    for axis in args.axes.split(","):
        build, sizes = AXES[axis]
        rows = [measure(build, max(1, round(size * args.scale)), args.reps) for size in sizes]
        points[axis] = rows
        ms_exp = exponent([r["size"] for r in rows], [r["ms"] for r in rows])
        bytes_exp = exponent([r["size"] for r in rows], [r["bytes"] for r in rows])
        done = [r for r in rows if r["ms"] is not None] or rows
        summary.append(
            {
                "axis": axis,
                "sizes": f"{rows[0]['size']}-{rows[-1]['size']}",
                "largest_compiled": done[-1]["size"],
                "ms_there": done[-1]["ms"],
                "kb_there": None if done[-1]["bytes"] is None else done[-1]["bytes"] / 1000,
                "time_exponent": ms_exp,
                "size_exponent": bytes_exp,
            }
        )
        print(f"\n{axis}")
        print(
            table(
                ["size", "ms", "wall ms", "bytes", "rules", "refused"],
                [
                    [r["size"], r["ms"], r["wall_ms"], r["bytes"], r["rules"], r.get("refused", "")[:60]]
                    for r in rows
                ],
            )
        )
    big = measure(combined, max(1, round(500 * args.scale)), args.reps)
    print("\nsummary (exponent: slope of log value against log size; 1 = linear)")
    print(table(list(summary[0]), [list(row.values()) for row in summary]))
    print(
        f"\ncombined: {big['size']} definitions, {2 * big['size']} properties: {big['ms']:.1f} ms"
        f" (wall {big['wall_ms']:.1f} ms), {big['bytes']} bytes"
    )
    if args.json:
        write_json(
            args.json,
            {
                "bench": "compile_scaling",
                "command": "python bench/compile_scaling.py " + " ".join(sys.argv[1:]),
                "seconds": round(time.perf_counter() - started, 1),
                "machine": machine(),
                "summary": summary,
                "combined": {"definitions": big["size"], "properties": 2 * big["size"], **big},
                "points": points,
            },
        )


if __name__ == "__main__":
    main()
