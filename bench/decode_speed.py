"""Decode speed with a grammar: structgen's, llama-server's own json_schema conversion, and none.

    python bench/decode_speed.py [--part schemas|shapes|all] [--reps 3] [--json out.json] [--raw raw.json]

Part "schemas": eight fixed schemas and prompts (flat object, nested, enum, array of objects, strings
with patterns, bounded numbers, array of strings, nullable union), sent to a local llama-server
(SmolLM2-135M-Instruct by default) with temperature 0, a fixed seed, ``n_predict`` 128 and no prompt
cache, three ways: structgen's grammar (``compile(schema, additional_properties=False,
whitespace="compact")``, sent as ``grammar``), the schema sent as ``json_schema`` (llama.cpp converts
it), and unconstrained. Reported per mode: tokens per second as llama.cpp measures generation
(``timings.predicted_per_second``), wall time of the request, tokens generated, and the share of
outputs that parse as JSON and validate against the schema (jsonschema). Each request is repeated
``--reps`` times (interleaved) and the median is kept.

Part "shapes": how much the *shape* of a grammar changes llama.cpp's sampling speed. Within a family
every grammar describes the same language (except the rows marked "other language"), so greedy
decoding must produce the same text and only the sampling cost differs; ``ignore_eos`` makes every
run generate exactly ``n_predict`` tokens. Reported: tokens per second and the ratio to the family's
first grammar; "same output" checks the text is identical to the first grammar's.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import machine, median, ratio, table, write_json

import structgen
from structgen.client import ClientError, LlamaClient
from structgen.server import LocalServer

SEED = 42
N_PREDICT = 128
SYSTEM = "Reply with one JSON object only, following this JSON Schema: {schema}"


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    schema: dict[str, Any]
    text: str


def _obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or list(properties)}


CASES = [
    Case(
        "person",
        "flat object",
        _obj({"name": {"type": "string"}, "age": {"type": "integer"}, "email": {"type": "string"}}),
        "Maria Lopez is 34 years old; write to her at maria.lopez@example.org.",
    ),
    Case(
        "order",
        "nested objects",
        _obj(
            {
                "id": {"type": "string"},
                "customer": _obj(
                    {
                        "name": {"type": "string"},
                        "address": _obj({"city": {"type": "string"}, "zip": {"type": "string"}}),
                    }
                ),
                "total": {"type": "number"},
            }
        ),
        "Order A-1043 for John Smith, 12 Elm Street, Springfield 62704, total 59.90 dollars.",
    ),
    Case(
        "sentiment",
        "enum",
        _obj(
            {
                "label": {"enum": ["positive", "negative", "neutral", "mixed"]},
                "topic": {"enum": ["food", "service", "price", "ambience", "other"]},
            }
        ),
        "The pasta was wonderful but the waiter ignored us for twenty minutes.",
    ),
    Case(
        "invoice",
        "array of objects",
        _obj(
            {
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 5,
                    "items": _obj(
                        {
                            "name": {"type": "string"},
                            "qty": {"type": "integer", "minimum": 1},
                            "price": {"type": "number", "minimum": 0},
                        }
                    ),
                }
            }
        ),
        "Invoice: 2 notebooks at 3.50 each, 1 pen at 1.20, 3 folders at 2.00 each.",
    ),
    Case(
        "contact",
        "strings with patterns",
        _obj(
            {
                "phone": {"type": "string", "pattern": "^[0-9]{3}-[0-9]{3}-[0-9]{4}$"},
                "date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                "code": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{4}$"},
            }
        ),
        "Call 555-123-4567 before 2024-03-15 and quote reference AB1234.",
    ),
    Case(
        "weather",
        "bounded numbers",
        _obj(
            {
                "temperature": {"type": "number", "minimum": -50, "maximum": 60},
                "humidity": {"type": "integer", "minimum": 0, "maximum": 100},
                "wind_kmh": {"type": "integer", "minimum": 0, "maximum": 400},
            }
        ),
        "Today: 23.5 degrees, humidity at 64 percent, wind 18 km/h from the west.",
    ),
    Case(
        "article",
        "array of strings",
        _obj(
            {
                "title": {"type": "string", "maxLength": 80},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
            }
        ),
        "New study shows coffee drinkers sleep less but feel more productive at work.",
    ),
    Case(
        "event",
        "union with null, boolean",
        _obj(
            {
                "name": {"type": "string"},
                "online": {"type": "boolean"},
                "room": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                "seats": {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]},
            }
        ),
        "The Python meetup is online this month, so there is no room and no seat limit.",
    ),
]


# -- grammar shapes -------------------------------------------------------------------------------

_WORDS = (
    "the a an and or but if then so of to in on at by for with from about into over after before under "
    "cat cats dog dogs bird birds fish mouse house home tree trees garden park river sea sky sun moon star "
    "day night morning evening time year old young little big small happy sad good bad new long "
    "was is are were be been had has have did do said saw went came found made took gave "
    "he she it they we you i his her its their our my your one two three many some all "
    "fly flew flying run ran jump jumped play played sleep slept eat ate look looked want wanted"
)
WORDS = sorted(set(_WORDS.split()))


def trie(words: list[str]) -> str:
    """The alternation of ``words`` with common prefixes factored out (a deterministic trie)."""
    groups: dict[str, list[str]] = {}
    ends = False
    for w in words:
        if w:
            groups.setdefault(w[0], []).append(w[1:])
        else:
            ends = True
    alts = []
    for first, rests in sorted(groups.items()):
        if len(rests) == 1:
            alts.append(f'"{first}{rests[0]}"')
        else:
            alts.append(f'"{first}" ({trie(rests)})')
    if ends:
        alts.append('""')
    return " | ".join(alts)


LETTERS = "abcdefghijklmnopqrstuvwxyz "
LLAMA_CHAR = r"""char ::= [^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4})"""
LIST = 'root ::= "[" string ("," " "? string)*\n'


def _structgen_string() -> str:
    grammar = structgen.compile({"type": "string"}, whitespace="compact").grammar
    return "\n".join(line for line in grammar.splitlines() if not line.startswith("root ::="))


@dataclass(frozen=True)
class Shape:
    family: str
    name: str
    grammar: str | None
    same_language: bool = True
    tokens: int | None = None
    """Fewer tokens than the others (for a very slow grammar); its output is compared as a prefix."""


def _classes(k: int) -> str:
    """``[a-z ]`` split into ``k`` alternated character classes (single-character literals when k = 27)."""
    chars = LETTERS
    size = -(-len(chars) // k)
    parts = [chars[i : i + size] for i in range(0, len(chars), size)]
    if all(len(p) == 1 for p in parts):
        return " | ".join(f'"{p}"' for p in parts)
    return " | ".join(f"[{p[0]}-{p[-1]}]" if p.strip() == p and len(p) > 1 else f"[{p}]" for p in parts)


def shapes() -> list[Shape]:
    flat = " | ".join(f'"{w}"' for w in WORDS)
    return [
        Shape("none", "unconstrained", None),
        Shape("letters", "[a-z ]*", "root ::= [a-z ]*"),
        Shape("letters", "alternation of 3 classes, starred", f"root ::= ({_classes(3)})*"),
        Shape("letters", "alternation of 9 classes, starred", f"root ::= ({_classes(9)})*"),
        Shape("letters", "alternation of 27 literals, starred", f"root ::= ({_classes(27)})*", tokens=12),
        Shape("letters", "ambiguous: [a-z ]* [a-z ]*", "root ::= [a-z ]* [a-z ]*"),
        Shape("letters", "ambiguous: 4 x [a-z ]*", "root ::= [a-z ]* [a-z ]* [a-z ]* [a-z ]*"),
        Shape("letters", "nested: ([a-z ]+)*", "root ::= ([a-z ]+)*"),
        Shape("letters", "ambiguous chunks: (c c{0,7} c{0,8})*", "root ::= (c c{0,7} c{0,8})*\nc ::= [a-z ]"),
        Shape("words", f"alternation of {len(WORDS)} literals", f'root ::= (word " ")*\nword ::= {flat}'),
        Shape("words", f"trie of the {len(WORDS)} words", f'root ::= (word " ")*\nword ::= {trie(WORDS)}'),
        Shape("words", "ambiguous: word list twice", f'root ::= (word " ")*\nword ::= {flat} | {flat}'),
        Shape("json strings", "llama.cpp string rule", LIST + 'string ::= "\\"" char* "\\""\n' + LLAMA_CHAR),
        Shape(
            "json strings",
            "ambiguous: char* char*",
            LIST + 'string ::= "\\"" char* char* "\\""\n' + LLAMA_CHAR,
        ),
        Shape(
            "json strings",
            "char inlined in the string rule",
            LIST
            + r'''string ::= "\"" ([^"\\\x7F\x00-\x1F] | [\\] (["\\bfnrt] | "u" [0-9a-fA-F]{4}))* "\""''',
        ),
        Shape(
            "json strings",
            "structgen string rule (other language: surrogates, \\/)",
            LIST + _structgen_string(),
            same_language=False,
        ),
        Shape(
            "json strings",
            "maxLength 64: char{0,64} (other language)",
            LIST + 'string ::= "\\"" char{0,64} "\\""\n' + LLAMA_CHAR,
            same_language=False,
        ),
        Shape(
            "json strings",
            "maxLength 512: char{0,512} (other language)",
            LIST + 'string ::= "\\"" char{0,512} "\\""\n' + LLAMA_CHAR,
            same_language=False,
        ),
    ]


STORY = "Write a long story about a cat who learns to fly."
SHAPE_PROMPTS = {
    "none": STORY,
    "letters": STORY,
    "words": STORY,
    "json strings": "List many short sentences about cats as a JSON array of strings.",
}


# -- running --------------------------------------------------------------------------------------


def run(
    client: LlamaClient,
    prompt: str,
    constraint: dict[str, Any],
    *,
    n_predict: int = N_PREDICT,
    cache_prompt: bool = False,
    ignore_eos: bool = False,
) -> dict[str, Any]:
    """One request; its text, tokens, llama.cpp's timings and the wall time."""
    start = time.perf_counter()
    result = client.completion(
        prompt,
        n_predict=n_predict,
        temperature=0.0,
        seed=SEED,
        cache_prompt=cache_prompt,
        ignore_eos=ignore_eos,
        extra=constraint,
    )
    wall = time.perf_counter() - start
    t = result.timings
    return {
        "content": result.content,
        "tokens": result.tokens_predicted,
        "tok_s": t.predicted_per_second if t else None,
        "predicted_ms": t.predicted_ms if t else None,
        "prompt_ms": t.prompt_ms if t else None,
        "prompt_n": t.prompt_n if t else None,
        "wall_s": wall,
        "stop": result.stop_type.value,
    }


def check(content: str, validator: Any) -> tuple[bool, bool]:
    """(the whole output is JSON that validates, the first JSON object in it validates)."""

    def ok(value: Any) -> bool:
        return not any(True for _ in validator.iter_errors(value))

    strict = lenient = False
    try:
        strict = ok(json.loads(content))
    except json.JSONDecodeError:
        pass
    start = content.find("{")
    if start >= 0:
        try:
            lenient = ok(json.JSONDecoder().raw_decode(content[start:])[0])
        except json.JSONDecodeError:
            pass
    return strict, strict or lenient


MODES: dict[str, Callable[[Case], dict[str, Any]]] = {
    "structgen": lambda c: {
        "grammar": structgen.compile(c.schema, additional_properties=False, whitespace="compact").grammar
    },
    "llama-server": lambda c: {"json_schema": c.schema},
    "unconstrained": lambda c: {},
}


def bench_schemas(client: LlamaClient, reps: int) -> dict[str, Any]:
    prompts = {
        c.name: client.apply_template(
            [
                {
                    "role": "system",
                    "content": SYSTEM.format(schema=json.dumps(c.schema, separators=(",", ":"))),
                },
                {"role": "user", "content": c.text},
            ]
        )
        for c in CASES
    }
    constraints = {(c.name, m): make(c) for c in CASES for m, make in MODES.items()}
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {k: [] for k in constraints}
    for rep in range(reps):
        for case in CASES:
            for mode in MODES:
                runs[case.name, mode].append(run(client, prompts[case.name], constraints[case.name, mode]))
        print(f"schemas: repetition {rep + 1}/{reps} done", file=sys.stderr, flush=True)
    rows = []
    for case in CASES:
        validator = structgen.compile(case.schema).validator()
        for mode in MODES:
            got = runs[case.name, mode]
            strict, lenient = check(got[0]["content"], validator)
            rows.append(
                {
                    "case": case.name,
                    "kind": case.kind,
                    "mode": mode,
                    "tok_s": median([r["tok_s"] for r in got if r["tok_s"]]),
                    "wall_s": median([r["wall_s"] for r in got]),
                    "tokens": median([r["tokens"] for r in got]),
                    "valid": strict,
                    "valid_lenient": lenient,
                    "deterministic": len({r["content"] for r in got}) == 1,
                    "output": got[0]["content"],
                }
            )
    modes = {}
    for mode in MODES:
        mine = [r for r in rows if r["mode"] == mode]
        modes[mode] = {
            "tok_s_median": median([r["tok_s"] for r in mine if r["tok_s"]]),
            "wall_s_total": sum(r["wall_s"] for r in mine),
            "tokens_total": sum(r["tokens"] for r in mine),
            "valid_share": sum(r["valid"] for r in mine) / len(mine),
            "valid_lenient_share": sum(r["valid_lenient"] for r in mine) / len(mine),
        }
    paired = [
        (a["tok_s"] / b["tok_s"], a["wall_s"] / b["wall_s"])
        for a in rows
        if a["mode"] == "structgen"
        for b in rows
        if b["mode"] == "llama-server" and b["case"] == a["case"] and a["tok_s"] and b["tok_s"]
    ]
    ratios = {
        "structgen/llama-server tok_s (median of per-case ratios)": median([p[0] for p in paired]),
        "structgen/llama-server wall (median of per-case ratios)": median([p[1] for p in paired]),
        "structgen/unconstrained tok_s": ratio(
            modes["structgen"]["tok_s_median"], modes["unconstrained"]["tok_s_median"]
        ),
        "llama-server/unconstrained tok_s": ratio(
            modes["llama-server"]["tok_s_median"], modes["unconstrained"]["tok_s_median"]
        ),
    }
    return {"cases": rows, "modes": modes, "ratios": ratios}


def bench_shapes(client: LlamaClient, reps: int, n_predict: int, slow: float) -> dict[str, Any]:
    """Every shape ``reps`` times (once when the first run takes over ``slow`` seconds), each repetition
    in a rotated order within the family.

    The prompt is cached, so each request evaluates one prompt token and then samples ``n_predict``
    tokens; llama.cpp counts the first sampling step in ``prompt_ms``, so the rate reported here is
    ``tokens / (prompt_ms + predicted_ms)``: every sampled token, each with one decode step.
    """
    prompts = {
        family: client.apply_template([{"role": "user", "content": text}])
        for family, text in SHAPE_PROMPTS.items()
    }
    todo = shapes()
    runs: dict[str, list[dict[str, Any]]] = {s.name: [] for s in todo}
    families = list(dict.fromkeys(s.family for s in todo))
    for rep in range(reps):
        cached = None
        order = []
        for family in families:  # the prompt cache needs a family's runs together; rotate to spread drift
            members = [s for s in todo if s.family == family]
            order += members[rep % len(members) :] + members[: rep % len(members)]
        for shape in order:
            if rep and runs[shape.name][0]["wall_s"] > slow:
                continue
            prompt = prompts[shape.family]
            if prompt != cached:  # fill the prompt cache so no shape pays for the whole prompt
                run(client, prompt, {}, n_predict=1, cache_prompt=True)
                cached = prompt
            got = run(
                client,
                prompt,
                {"grammar": shape.grammar} if shape.grammar is not None else {},
                n_predict=min(n_predict, shape.tokens or n_predict),
                cache_prompt=True,
                ignore_eos=True,
            )
            busy_ms = (got["prompt_ms"] or 0) + (got["predicted_ms"] or 0)
            got["rate"] = got["tokens"] / busy_ms * 1000 if busy_ms else None
            runs[shape.name].append(got)
        print(f"shapes: repetition {rep + 1}/{reps} done", file=sys.stderr, flush=True)
    rows = []
    first: dict[str, dict[str, Any]] = {}
    for shape in todo:
        done = runs[shape.name]
        row = {
            "family": shape.family,
            "grammar_name": shape.name,
            "same_language": shape.same_language,
            "grammar_bytes": len(shape.grammar.encode()) if shape.grammar else 0,
            "reps": len(done),
            "tok_s": median([r["rate"] for r in done if r["rate"]]),
            "llama_tok_s": median([r["tok_s"] for r in done if r["tok_s"]]),
            "wall_s": median([r["wall_s"] for r in done]),
            "tokens": median([r["tokens"] for r in done]),
            "prompt_n": max(r["prompt_n"] or 0 for r in done),
            "grammar": shape.grammar,
            "output": done[0]["content"],
        }
        base = first.setdefault(shape.family, row)
        row["ratio_to_first"] = ratio(row["tok_s"], base["tok_s"])
        row["same_output"] = (
            base["output"].startswith(row["output"]) if shape.tokens else row["output"] == base["output"]
        )
        rows.append(row)
    unconstrained = first["none"]["tok_s"]
    for row in rows:
        row["ratio_to_unconstrained"] = ratio(row["tok_s"], unconstrained)
    return {"prompts": SHAPE_PROMPTS, "n_predict": n_predict, "rows": rows}


def report(result: dict[str, Any]) -> str:
    out = []
    if "cases" in result:
        rows = [
            [
                r["case"],
                r["kind"],
                r["mode"],
                r["tok_s"],
                r["wall_s"],
                r["tokens"],
                "yes" if r["valid"] else "no",
            ]
            for r in result["cases"]
        ]
        out.append(table(["case", "kind", "mode", "tok/s", "wall s", "tokens", "valid"], rows))
        rows = [
            [
                m,
                d["tok_s_median"],
                d["wall_s_total"],
                d["tokens_total"],
                d["valid_share"],
                d["valid_lenient_share"],
            ]
            for m, d in result["modes"].items()
        ]
        out.append(
            "\n"
            + table(
                [
                    "mode",
                    "tok/s (median)",
                    "wall s (sum)",
                    "tokens (sum)",
                    "valid share",
                    "valid share (first object)",
                ],
                rows,
            )
        )
        out.append(
            "\n" + table(["ratio", "value"], [[r["ratio"], r["value"]] for r in result["ratios"]], digits=3)
        )
    if "shapes" in result:
        rows = [
            [
                r["family"],
                r["grammar_name"],
                r["grammar_bytes"],
                r["tok_s"],
                r["ratio_to_first"],
                r["ratio_to_unconstrained"],
                r["wall_s"],
                r["reps"],
                "yes" if r["same_output"] else "no",
            ]
            for r in result["shapes"]
        ]
        out.append(
            "\n"
            + table(
                [
                    "family",
                    "grammar",
                    "bytes",
                    "tok/s",
                    "vs first",
                    "vs unconstrained",
                    "wall s",
                    "reps",
                    "same output",
                ],
                rows,
                digits=3,
            )
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", choices=("schemas", "shapes", "all"), default="all")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of every request (median kept)")
    ap.add_argument(
        "--shape-tokens", type=int, default=48, help="tokens per shape run (default: %(default)s)"
    )
    ap.add_argument(
        "--slow",
        type=float,
        default=20.0,
        help="a shape whose first run takes longer (seconds) is not repeated (default: %(default)s)",
    )
    ap.add_argument("--url", help="an already running llama-server (default: start a local one)")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="llama-server --threads (default: %(default)s; steadier than more on a busy machine)",
    )
    ap.add_argument("--json", type=Path, help="write the summary here")
    ap.add_argument("--raw", type=Path, help="write every output and grammar here")
    args = ap.parse_args(argv)
    started = time.perf_counter()
    server = None
    if args.url:
        client = LlamaClient(args.url, api_key=os.environ.get("STRUCTGEN_API_KEY"), timeout=(5.0, 900.0))
    else:
        server = LocalServer(ctx_size=2048, threads=args.threads).start()
        client = server.client(timeout=(5.0, 900.0))
    command = "python bench/decode_speed.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    model = str(server.model_path) if server else (client.props().model_path or "")
    result: dict[str, Any] = {
        "bench": "decode_speed",
        "command": command,
        "model": Path(model).name,
        "n_predict": N_PREDICT,
        "temperature": 0,
        "seed": SEED,
        "reps": args.reps,
        "threads": args.threads,
    }
    raw: dict[str, Any] = {"bench": "decode_speed", "command": command}
    try:
        client.completion("Hello", n_predict=8)  # warm-up
        if args.part in ("schemas", "all"):
            part = bench_schemas(client, args.reps)
            raw["cases"] = part["cases"]
            result["modes"] = part["modes"]
            result["ratios"] = [{"ratio": k, "value": v} for k, v in part["ratios"].items()]
            result["cases"] = [{k: v for k, v in r.items() if k != "output"} for r in part["cases"]]
        if args.part in ("shapes", "all"):
            part = bench_shapes(client, args.reps, args.shape_tokens, args.slow)
            raw["shape_prompts"] = part["prompts"]
            raw["shapes"] = part["rows"]
            result["shape_tokens"] = part["n_predict"]
            result["shapes"] = [
                {k: v for k, v in r.items() if k not in ("output", "grammar")} for r in part["rows"]
            ]
    except ClientError as exc:
        raise SystemExit(f"llama-server failed: {exc}") from None
    finally:
        client.close()
        if server is not None:
            server.stop()
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["machine"] = machine()
    print(report(result))
    if args.json:
        write_json(args.json, result)
    if args.raw:
        write_json(args.raw, raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
