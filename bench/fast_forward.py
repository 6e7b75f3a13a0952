"""Fast-forward against one grammar request and against unconstrained decoding.

    python bench/fast_forward.py [--reps 1] [--json out.json] [--raw raw.json] [--url URL] [--hold-back N]
        [--whitespace compact|flexible|pretty] [--sets key-heavy ...] [--from-raw raw.json]
        [--server-args ARGS ...]

A local llama-server (SmolLM2-135M-Instruct, ``--threads 1``, one slot) answers the same chat prompts,
greedy, three ways (with several ``--server-args``, one server per set of extra arguments, all three
modes on each in turn, case by case, so their figures are side by side): (U) no grammar, (G) structgen's grammar in one request, (F) fast-forward (falling
back to G's request when fast-forward declines the type, as ``generate(..., fast_forward=True)`` does).
Types are compiled with ``--whitespace`` (default compact) for G and F alike: a key-heavy set (objects
of 10 to 40 required int/bool/enum/short-string fields, nested objects, a list of such objects) and a
control set (objects of a few long free-text strings). Reported per set and mode: wall time per valid object,
answer tokens per second (the answer's text tokenized, over the wall time; for U the server's own decode
rate, prompt evaluation not counted),
validity, request overhead (wall time beyond the server's own prompt and decode time, per request); for
F also the forced share of the answer tokens, segments per object, prompt tokens evaluated per resume,
F/G of the server's own time (what the wall ratio tends to on an idle machine), and how often F's value
equals G's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from collections.abc import Generator
from dataclasses import asdict
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from _common import machine, median, ratio, table, write_json
from pydantic import BaseModel, Field, create_model

from structgen.client import LlamaClient
from structgen.generation import Output, fastforward
from structgen.generation.prompting import describe_schema, render
from structgen.server import LocalServer, LocalServerError


class Color(str, Enum):
    red = "red"
    green = "green"
    blue = "blue"


class Address(BaseModel):
    street: str = Field(max_length=40)
    city: str = Field(max_length=30)
    zip_code: str = Field(max_length=10)
    country: Literal["US", "UK", "FR", "DE"]


class Person(BaseModel):
    first_name: str = Field(max_length=20)
    last_name: str = Field(max_length=20)
    age: int
    height_cm: int
    is_student: bool
    is_employed: bool
    favorite_color: Color
    city: str = Field(max_length=30)
    pets: int
    siblings: int
    married: bool
    blood_type: Literal["A", "B", "AB", "O"]


class Order(BaseModel):
    order_id: int
    customer: Person
    shipping: Address
    billing: Address
    total_cents: int
    paid: bool
    priority: Literal["low", "normal", "high"]


class Item(BaseModel):
    sku: str = Field(max_length=12)
    quantity: int
    price_cents: int
    in_stock: bool
    color: Color


class Inventory(BaseModel):
    warehouse: str = Field(max_length=20)
    items: list[Item] = Field(min_length=1, max_length=4)
    audited: bool


def _wide(name: str, n: int) -> type[BaseModel]:
    kinds: list[Any] = [int, bool, Color, (str, Field(max_length=16))]
    fields: dict[str, Any] = {}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        fields[f"field_{i + 1}"] = kind if isinstance(kind, tuple) else (kind, ...)
    return create_model(name, **fields)


Wide20 = _wide("Settings", 20)
Wide40 = _wide("Record", 40)


class Article(BaseModel):
    title: str = Field(max_length=80)
    summary: str = Field(max_length=200)
    body: str = Field(max_length=600)


class Review(BaseModel):
    review: str = Field(max_length=400)
    reply: str = Field(max_length=300)


def describe(value: Any, prefix: str = "") -> list[str]:
    """A value as plain-text facts, one a line (the source text of an extraction prompt)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in describe(v, f"{prefix}{k.replace('_', ' ')} ")]
    if isinstance(value, list):
        return [line for i, v in enumerate(value) for line in describe(v, f"{prefix}{i + 1}: ")]
    shown = ("yes" if value else "no") if isinstance(value, bool) else value
    return [f"{prefix.strip()}: {shown}"]


def extraction(kind: type[BaseModel], data: dict[str, Any]) -> tuple[str, Any, str]:
    kind.model_validate(data)
    facts = "\n".join(describe(data))
    return (kind.__name__.lower(), kind, f"Extract the record from this text:\n{facts}")


def _wide_data(n: int, seed: int) -> dict[str, Any]:
    colors = ["red", "green", "blue"]
    words = ["alpha", "delta", "omega", "kappa", "sigma"]
    values: list[Any] = []
    for i in range(n):
        values.append(
            [(seed * 7 + i * 13) % 97, (seed + i) % 3 == 0, colors[(seed + i) % 3], words[(seed + i) % 5]][
                i % 4
            ]
        )
    return {f"field_{i + 1}": v for i, v in enumerate(values)}


PEOPLE = [
    {
        "first_name": "Marie",
        "last_name": "Curie",
        "age": 34,
        "height_cm": 160,
        "is_student": False,
        "is_employed": True,
        "favorite_color": "blue",
        "city": "Paris",
        "pets": 2,
        "siblings": 4,
        "married": True,
        "blood_type": "A",
    },
    {
        "first_name": "Tom",
        "last_name": "Baker",
        "age": 19,
        "height_cm": 185,
        "is_student": True,
        "is_employed": False,
        "favorite_color": "green",
        "city": "Leeds",
        "pets": 0,
        "siblings": 1,
        "married": False,
        "blood_type": "O",
    },
]
ADDRESS = {"street": "12 High Street", "city": "London", "zip_code": "SW1A 1AA", "country": "UK"}
ORDER = {
    "order_id": 88123,
    "customer": PEOPLE[1],
    "shipping": ADDRESS,
    "billing": {**ADDRESS, "street": "4 Mill Lane"},
    "total_cents": 4599,
    "paid": True,
    "priority": "high",
}
INVENTORY = {
    "warehouse": "Berlin North",
    "items": [
        {"sku": "SH-100", "quantity": 12, "price_cents": 5999, "in_stock": True, "color": "red"},
        {"sku": "SH-205", "quantity": 0, "price_cents": 7450, "in_stock": False, "color": "blue"},
        {"sku": "BT-007", "quantity": 3, "price_cents": 12900, "in_stock": True, "color": "green"},
    ],
    "audited": False,
}

KEY_HEAVY: list[tuple[str, Any, str]] = [
    extraction(Person, PEOPLE[0]),
    extraction(Person, PEOPLE[1]),
    extraction(Order, ORDER),
    extraction(Inventory, INVENTORY),
    extraction(Wide20, _wide_data(20, 1)),
    extraction(Wide40, _wide_data(40, 2)),
]
GENERATIVE: list[tuple[str, Any, str]] = [
    ("person", Person, "Make up a person living in Paris: a 30 year old engineer with two cats."),
    ("inventory", Inventory, "List the stock of a small shoe warehouse in Berlin."),
]
CONTROL: list[tuple[str, Any, str]] = [
    ("article", Article, "Write a short article about the history of tea."),
    ("review", Review, "Write a restaurant review of a pizza place and the owner's reply."),
]


def drain(steps: Generator[str, None, Any]) -> Any:
    """Run a ``fastforward.segments`` generator to its end (as ``fastforward.complete`` does; kept here so
    the script also runs against older checkouts)."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


SETS = {"key-heavy": KEY_HEAVY, "key-heavy, made up": GENERATIVE, "control": CONTROL}


def messages(output: Output[Any], task: str) -> list[dict[str, str]]:
    system = "Reply with JSON that follows this JSON Schema: " + describe_schema(output.schema)
    return [{"role": "system", "content": system}, {"role": "user", "content": task}]


def run_set(
    clients: dict[str, LlamaClient], cases: list[tuple[str, Any, str]], args: argparse.Namespace
) -> dict[str, list[dict[str, Any]]]:
    """U, G and F on every case, on each server in turn (rows carry the server's extra arguments)."""
    rows: dict[str, list[dict[str, Any]]] = {"U": [], "G": [], "F": []}
    for _ in range(args.reps):
        for name, kind, task in cases:
            output: Output[Any] = Output(kind, whitespace=args.whitespace)
            for server_args, client in clients.items():
                for mode, row in run_case(client, name, output, task, args).items():
                    rows[mode].append({**row, "server": server_args})
    return rows


def run_case(
    client: LlamaClient, name: str, output: Output[Any], task: str, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    n_predict, hold_back = args.n_predict, args.hold_back
    text = render(messages(output, task), client)
    # U: no grammar
    started = time.perf_counter()
    plain = client.completion(text, temperature=0.0, n_predict=min(n_predict, 256))
    wall = time.perf_counter() - started
    timings = plain.timings
    decode_s = (timings.predicted_ms or 0.0) / 1000 if timings else wall
    # U's rate is the server's pure decode rate (its prompt evaluation is not counted against it)
    rows["U"] = {
        "case": name,
        "wall": wall,
        "decode_s": decode_s,
        "tokens": plain.tokens_predicted,
        "valid": False,
    }
    for mode in ("G", "F"):
        started = time.perf_counter()
        done = None
        if mode == "F":
            params = {"temperature": 0.0, "n_predict": n_predict}
            try:
                done = drain(fastforward.segments(client, output, text, params, hold_back=hold_back))
            except fastforward.FastForwardUnavailable as exc:  # generate plainly, as generate() does
                print(f"F falls back for {name}: {exc}", file=sys.stderr)
        if done is not None:
            completion, segments, forced = done.completion, done.segments, done.forced_tokens
            reused, evaluated, server_ms = done.reused, done.evaluated, done.server_ms
        else:
            completion = client.completion(text, grammar=output.grammar, temperature=0.0, n_predict=n_predict)
            segments, forced, reused, evaluated = 1, 0, (), (completion.prompt_tokens_processed,)
            t = completion.timings
            server_ms = ((t.prompt_ms or 0.0) + (t.predicted_ms or 0.0)) if t else 0.0
        wall = time.perf_counter() - started
        _, errors = output.parse(completion.content)
        answer_tokens = len(client.tokenize(completion.content))
        print(
            f"{name} {mode}: {wall:.2f} s, {answer_tokens} tokens, valid {not errors}, {segments} segments",
            file=sys.stderr,
            flush=True,
        )
        rows[mode] = {
            "case": name,
            "wall": wall,
            "tokens": answer_tokens,
            "valid": not errors,
            "value": json.loads(completion.content) if not errors else None,
            "segments": segments,
            "forced": forced,
            "evaluated_per_resume": list(evaluated[1:]),
            "reused": list(reused),
            "raw": completion.content,
            "server_s": server_ms / 1000,
        }
    return rows


def summarize(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode, runs in rows.items():
        total = sum(r["wall"] for r in runs)
        valid = sum(r["valid"] for r in runs)
        tokens = sum(r["tokens"] for r in runs)
        timed = sum(r.get("decode_s", r["wall"]) for r in runs)
        out[mode] = {
            "runs": len(runs),
            "valid": valid,
            "wall_per_valid": total / valid if valid else None,
            "wall_per_object": total / len(runs) if runs else None,
            "tokens_per_s": tokens / timed if timed else None,
        }
        if runs and mode != "U":
            out[mode]["server_s_per_valid"] = sum(r["server_s"] for r in runs) / valid if valid else None
            requests = sum(r["segments"] for r in runs)
            out[mode]["overhead_per_request_ms"] = (
                1000 * sum(r["wall"] - r["server_s"] for r in runs) / requests
            )
    f, g = rows["F"], rows["G"]
    if f:
        resumes = [e for r in f for e in r["evaluated_per_resume"]]
        out["F"].update(
            forced_share=sum(r["forced"] for r in f) / max(sum(r["tokens"] for r in f), 1),
            segments_per_object=sum(r["segments"] for r in f) / len(f),
            evaluated_per_resume=median(resumes),
        )
        same = [a["value"] == b["value"] for a, b in zip(f, g) if b["valid"]]
        out["F"]["same_value_as_G"] = sum(same) / len(same) if same else None
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--n-predict", type=int, default=768)
    parser.add_argument("--hold-back", type=int, default=fastforward.HOLD_BACK)
    parser.add_argument(
        "--whitespace",
        choices=["compact", "flexible", "pretty"],
        default="compact",
        help="the output types' whitespace, for G's grammar and F's forced text alike (default: compact)",
    )
    parser.add_argument("--sets", nargs="+", choices=list(SETS), default=list(SETS), help="the sets to run")
    parser.add_argument("--url", help="an already running server (default: start SmolLM2, --threads 1)")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--raw", type=Path, help="write every run (texts, segments) here")
    parser.add_argument("--from-raw", type=Path, help="no run: the table of the runs in this --raw file")
    parser.add_argument(
        "--server-args",
        action="append",
        metavar="ARGS",
        help="extra llama-server arguments, one string (e.g. '--threads-batch 2'); given several times, one "
        "server each, run side by side (default: none)",
    )
    args = parser.parse_args(argv)
    command = " ".join(
        ["python bench/fast_forward.py", *map(_quoted, sys.argv[1:] if argv is None else argv)]
    )
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text(encoding="utf-8"))
        costs = raw.get("server_costs")
        if costs is None and args.json and args.json.exists():  # a raw file written before they were kept
            costs = json.loads(args.json.read_text(encoding="utf-8")).get("server_costs")
        report(raw["runs"], _per_server(costs), args, command)
        return
    configs = args.server_args or [""]
    servers: list[LocalServer] = []
    clients: dict[str, LlamaClient] = {}
    try:
        if args.url:
            configs = [""]
            clients[""] = LlamaClient(args.url, api_key=os.environ.get("STRUCTGEN_API_KEY"))
        for extra in configs if not args.url else ():
            server = LocalServer(ctx_size=4096, parallel=1, threads=1, extra_args=shlex.split(extra))
            try:
                servers.append(server.start())
            except LocalServerError as exc:
                raise SystemExit(f"fast_forward.py: --server-args {extra!r}: {exc}") from None
            clients[extra] = server.client(timeout=(5.0, 600.0))
        costs = {extra: fastforward.server_costs(client) for extra, client in clients.items()}
        results = {name: run_set(clients, SETS[name], args) for name in args.sets}
    finally:
        for server in servers:
            server.stop()
    measured = {
        extra: {**asdict(c), "fold_tokens": c.fold_tokens(args.hold_back)} for extra, c in costs.items()
    }
    if args.raw:
        write_json(
            args.raw, {"bench": "fast_forward", "command": command, "server_costs": measured, "runs": results}
        )
    report(results, measured, args, command)


def _quoted(arg: str) -> str:
    """``arg`` for sh, in double quotes when it needs quoting (the docs wrap commands without single quotes)."""
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    return '"' + re.sub(r'(["\\$`])', r"\\\1", arg) + '"'


def _per_server(costs: dict[str, Any] | None) -> dict[str, Any]:
    """Server costs by server arguments (a file written before ``--server-args`` holds one server's)."""
    if not costs:
        return {}
    return {"": costs} if "decode_ms" in costs else costs


def _label(extra: str) -> str:
    return f"--threads 1 {extra}".strip()


def report(results: dict[str, Any], costs: dict[str, Any], args: argparse.Namespace, command: str) -> None:
    """Print the table (and write the summary file) of a run's results."""
    for extra, c in costs.items():
        print(
            f"server costs ({_label(extra)}): overhead {c['overhead_ms']:.1f} ms/request, decode "
            f"{c['decode_ms']:.1f} ms/token, prompt {c.get('prompt_token_ms', 0.0):.1f} ms/token, resume "
            f"{c['resume_ms']:.1f} ms -> forced spans of <= {c['fold_tokens']} tokens folded"
        )
    rows_out: list[dict[str, Any]] = []
    for set_name, all_rows in results.items():
        configs = list(dict.fromkeys(r.get("server", "") for r in all_rows["F"]))
        for extra in configs:
            rows = {
                mode: [r for r in runs if r.get("server", "") == extra] for mode, runs in all_rows.items()
            }
            rows_out += _rows(set_name, _label(extra), summarize(rows))
    headers = list(dict.fromkeys(k for r in rows_out for k in r))
    print(table(headers, [[r.get(h) for h in headers] for r in rows_out]))
    if args.json:
        write_json(
            args.json,
            {
                "bench": "fast_forward",
                "command": command,
                "threads": 1,
                "temperature": 0,
                "hold_back": args.hold_back,
                "whitespace": args.whitespace,
                "server_costs": {_label(extra): c for extra, c in costs.items()},
                "table": rows_out,
                "machine": machine(),
            },
        )


def _rows(set_name: str, server: str, s: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for mode in ("U", "G", "F"):
        m = s[mode]
        row: dict[str, Any] = {
            "set": set_name,
            "server": server,
            "mode": mode,
            "runs": m["runs"],
            "valid": m["valid"] if mode != "U" else None,
            "s_per_valid_object": m["wall_per_valid"] if mode != "U" else None,
            "tokens_per_s": m["tokens_per_s"],
            "overhead_ms_per_request": m.get("overhead_per_request_ms"),
        }
        if mode == "F":
            row.update(
                {
                    "F/G_wall": ratio(m["wall_per_valid"], s["G"]["wall_per_valid"]),
                    "F/G_server_time": ratio(m.get("server_s_per_valid"), s["G"].get("server_s_per_valid")),
                    "F_rate/U_rate": ratio(m["tokens_per_s"], s["U"]["tokens_per_s"]),
                    "forced_share": m.get("forced_share"),
                    "segments_per_object": m.get("segments_per_object"),
                    "evaluated_per_resume": m.get("evaluated_per_resume"),
                    "F_value==G_value": m.get("same_value_as_G"),
                }
            )
        out.append(row)
    return out


if __name__ == "__main__":
    main()
