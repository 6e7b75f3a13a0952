"""Extraction quality with and without the grammar, on tasks with known answers (SmolLM2, temperature 0).

    python bench/extraction_eval.py [--url URL] [--json out.json]

For each task the same chat prompt is sent twice: once through structgen.generate_result (grammar,
validation, re-ask) and once plain (no grammar; the first JSON value in the text is parsed and validated).
Prints the share of valid objects, the share of correct answers and the mean number of attempts.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

import structgen


class Person(BaseModel):
    name: str
    age: int


class City(BaseModel):
    city: str
    country: str


class Product(BaseModel):
    product: str
    price: float


class Meeting(BaseModel):
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    hour: int


Sentiment = Literal["positive", "negative"]

TASKS: list[tuple[str, Any, Any]] = [
    ("Alice is 31 years old.", Person, {"name": "Alice", "age": 31}),
    ("Bob turned 45 last week.", Person, {"name": "Bob", "age": 45}),
    ("My neighbour Carla is 27.", Person, {"name": "Carla", "age": 27}),
    ("David, aged 60, retired in May.", Person, {"name": "David", "age": 60}),
    ("Eva is a 19 year old student.", Person, {"name": "Eva", "age": 19}),
    ("Frank is 52 and lives alone.", Person, {"name": "Frank", "age": 52}),
    ("The twins are 8; the older one, Gina, likes maths.", Person, {"name": "Gina", "age": 8}),
    ("Hiro is 33 years old.", Person, {"name": "Hiro", "age": 33}),
    ("I live in Paris, France.", City, {"city": "Paris", "country": "France"}),
    ("We moved to Berlin, Germany in 2019.", City, {"city": "Berlin", "country": "Germany"}),
    ("The conference is held in Tokyo, Japan.", City, {"city": "Tokyo", "country": "Japan"}),
    ("She was born in Toronto, Canada.", City, {"city": "Toronto", "country": "Canada"}),
    ("Our office is in Madrid, Spain.", City, {"city": "Madrid", "country": "Spain"}),
    ("He studied in Rome, Italy.", City, {"city": "Rome", "country": "Italy"}),
    ("A coffee costs 3.5 dollars.", Product, {"product": "coffee", "price": 3.5}),
    ("The lamp is on sale for 20 dollars.", Product, {"product": "lamp", "price": 20}),
    ("I bought a book for 12.99.", Product, {"product": "book", "price": 12.99}),
    ("The bike costs 450 euros.", Product, {"product": "bike", "price": 450}),
    ("Tickets: 15 dollars for the concert.", Product, {"product": "concert ticket", "price": 15}),
    ("A sandwich is 6 dollars.", Product, {"product": "sandwich", "price": 6}),
    ("Let's meet on Monday at 10.", Meeting, {"weekday": "monday", "hour": 10}),
    ("The call is on Friday at 15 o'clock.", Meeting, {"weekday": "friday", "hour": 15}),
    ("See you Wednesday at 9.", Meeting, {"weekday": "wednesday", "hour": 9}),
    ("Dinner is on Saturday at 19.", Meeting, {"weekday": "saturday", "hour": 19}),
    ("The review is Tuesday at 14.", Meeting, {"weekday": "tuesday", "hour": 14}),
    ("I love this phone, it is wonderful!", Sentiment, "positive"),
    ("Terrible service, I will never come back.", Sentiment, "negative"),
    ("The food was delicious and the staff friendly.", Sentiment, "positive"),
    ("It broke after two days. Awful.", Sentiment, "negative"),
    ("Best holiday of my life, thank you!", Sentiment, "positive"),
    ("The movie was boring and too long.", Sentiment, "negative"),
    ("What a great, happy day.", Sentiment, "positive"),
]

SYSTEM = "Extract the answer from the user's text. Reply with JSON only, following this JSON Schema: {schema}"


def _messages(text: str, output_type: Any) -> list[dict[str, str]]:
    schema = json.dumps(TypeAdapter(output_type).json_schema())
    return [{"role": "system", "content": SYSTEM.format(schema=schema)}, {"role": "user", "content": text}]


def _norm(value: Any) -> Any:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _first_json(text: str) -> Any:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"[\[{\"0-9tfn-]", text):
        try:
            return decoder.raw_decode(text[m.start() :])[0]
        except json.JSONDecodeError:
            continue
    raise ValueError("no JSON value")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url")
    ap.add_argument("--n-predict", type=int, default=96)
    ap.add_argument("--json")
    args = ap.parse_args()
    client = structgen.default_client(args.url)
    rows = []
    start = time.perf_counter()
    for text, output_type, expected in TASKS:
        messages = _messages(text, output_type)
        adapter = TypeAdapter(output_type)
        try:
            result = structgen.generate_result(messages, output_type, client=client, n_predict=args.n_predict)
            g_valid, g_value, g_attempts = True, result.value, len(result.attempts)
        except structgen.GenerationError as exc:
            g_valid, g_value, g_attempts = False, None, len(exc.attempts)
        plain = client.completion(
            structgen.generation.prompting.render(messages, client), temperature=0.0, n_predict=args.n_predict
        ).content
        try:
            p_value: Any = adapter.validate_python(_first_json(plain))
            p_valid = True
        except (ValueError, ValidationError):
            p_value, p_valid = None, False
        rows.append(
            {
                "text": text,
                "expected": expected,
                "grammar": {
                    "valid": g_valid,
                    "correct": g_valid and _norm(g_value) == _norm(expected),
                    "attempts": g_attempts,
                    "value": _norm(g_value),
                },
                "plain": {
                    "valid": p_valid,
                    "correct": p_valid and _norm(p_value) == _norm(expected),
                    "raw": plain[:200],
                },
            }
        )
    n = len(rows)
    summary = {
        "tasks": n,
        "grammar_valid": sum(r["grammar"]["valid"] for r in rows) / n,
        "grammar_correct": sum(r["grammar"]["correct"] for r in rows) / n,
        "plain_valid": sum(r["plain"]["valid"] for r in rows) / n,
        "plain_correct": sum(r["plain"]["correct"] for r in rows) / n,
        "mean_attempts": sum(r["grammar"]["attempts"] for r in rows) / n,
        "seconds": time.perf_counter() - start,
    }
    print(f"{'':16} {'valid':>7} {'correct':>8}")
    print(f"{'with grammar':16} {summary['grammar_valid']:>7.0%} {summary['grammar_correct']:>8.0%}")
    print(f"{'without grammar':16} {summary['plain_valid']:>7.0%} {summary['plain_correct']:>8.0%}")
    print(
        f"tasks: {n}, mean attempts with grammar: {summary['mean_attempts']:.2f}, {summary['seconds']:.0f} s"
    )
    for r in rows:
        if not r["grammar"]["correct"]:
            print(f"  grammar miss: {r['text']!r} -> {r['grammar']['value']!r}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"summary": summary, "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
