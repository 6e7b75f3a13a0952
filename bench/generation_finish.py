"""Does typed generation finish? Wall time, attempts, tokens, validity and correctness of extractions
that a small model likes to loop on (phone numbers, addresses, notes, item lists, nested line items).

    python bench/generation_finish.py [--checkout DIR ...] [--url URL] [--cap 30] [--json out.json] [--limit N]

Each task goes through ``structgen.generate_result`` (chat prompt with the schema, temperature 0) on a
local llama-server with SmolLM2-135M-Instruct (``--threads 1``, one slot) unless ``--url`` is given.
``--cap`` bounds each task's wall time from outside: a task still running then is recorded as capped
and the local server is restarted, so that nothing queues behind it (for code without a time budget).
With several ``--checkout`` directories, each task runs on each checkout's structgen in turn (worker
processes, one server), so that the figures compare under the same machine load.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

import structgen

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, percentile, table

EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"


class Contact(BaseModel):
    name: str
    email: Annotated[str, Field(pattern=EMAIL)]
    phone: str | None


class PhoneRecord(BaseModel):
    person: str
    phone: str


class Flight(BaseModel):
    airline: str
    flight_number: Annotated[str, Field(pattern=r"^[A-Z]{2}[0-9]{1,4}$")]
    origin: str
    destination: str


class Address(BaseModel):
    street: str
    city: str
    postal_code: str
    country: str


class Note(BaseModel):
    title: str
    note: str
    priority: Literal["low", "medium", "high"]


class ShoppingList(BaseModel):
    items: list[str]


class Line(BaseModel):
    product: str
    quantity: int
    unit_price: float


class Invoice(BaseModel):
    customer: str
    lines: list[Line]


class Appointment(BaseModel):
    patient: str
    doctor: str
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    phone: str | None


class Contains:
    """An expected free-text value: correct when it contains every one of ``words`` (case-insensitive)."""

    def __init__(self, *words: str) -> None:
        self.words = words

    def __repr__(self) -> str:
        return f"Contains{self.words}"


TASKS: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    # contacts with a patterned e-mail and a phone (the looping case)
    (
        "Write to Maria Lopez at maria.lopez@example.com or call +56 9 8765 4321.",
        Contact,
        {"name": "Maria Lopez", "email": "maria.lopez@example.com", "phone": "+56 9 8765 4321"},
    ),
    (
        "Contact: John Smith, john.smith@mail.com, phone 555-0142.",
        Contact,
        {"name": "John Smith", "email": "john.smith@mail.com", "phone": "555-0142"},
    ),
    (
        "You can reach Aiko Tanaka by email (aiko@tanaka.jp). She has no phone.",
        Contact,
        {"name": "Aiko Tanaka", "email": "aiko@tanaka.jp", "phone": None},
    ),
    (
        "Peter Novak - peter.novak@firm.cz - tel. +420 601 234 567",
        Contact,
        {"name": "Peter Novak", "email": "peter.novak@firm.cz", "phone": "+420 601 234 567"},
    ),
    (
        "Please send the invoice to Lena Berg, lena.berg@shop.de, mobile 0151 2345678.",
        Contact,
        {"name": "Lena Berg", "email": "lena.berg@shop.de", "phone": "0151 2345678"},
    ),
    (
        "Omar Haddad (omar.haddad@web.org) asked us to call him at 212-555-0199.",
        Contact,
        {"name": "Omar Haddad", "email": "omar.haddad@web.org", "phone": "212-555-0199"},
    ),
    (
        "New member: Sofia Rossi, sofia.rossi@club.it, phone +39 347 123 4567.",
        Contact,
        {"name": "Sofia Rossi", "email": "sofia.rossi@club.it", "phone": "+39 347 123 4567"},
    ),
    (
        "From: Kwame Mensah <kwame@mensah.gh>. Call me on +233 24 123 4567.",
        Contact,
        {"name": "Kwame Mensah", "email": "kwame@mensah.gh", "phone": "+233 24 123 4567"},
    ),
    # phone numbers alone
    ("Call Dr. Weiss on 030 1234567 tomorrow.", PhoneRecord, {"person": "Dr. Weiss", "phone": "030 1234567"}),
    ("Anna's number is +44 20 7946 0958.", PhoneRecord, {"person": "Anna", "phone": "+44 20 7946 0958"}),
    ("Ring the plumber, Tom, at 0412 345 678.", PhoneRecord, {"person": "Tom", "phone": "0412 345 678"}),
    (
        "Carlos can be reached at (555) 123-4567.",
        PhoneRecord,
        {"person": "Carlos", "phone": "(555) 123-4567"},
    ),
    # flights with a patterned flight number
    (
        "I'm on Lufthansa LH400 from Frankfurt to New York.",
        Flight,
        {"airline": "Lufthansa", "flight_number": "LH400", "origin": "Frankfurt", "destination": "New York"},
    ),
    (
        "Booked: Air France AF1234, Paris to Rome.",
        Flight,
        {"airline": "Air France", "flight_number": "AF1234", "origin": "Paris", "destination": "Rome"},
    ),
    (
        "Delta flight DL55 leaves Atlanta for Lagos at 9pm.",
        Flight,
        {"airline": "Delta", "flight_number": "DL55", "origin": "Atlanta", "destination": "Lagos"},
    ),
    (
        "Your Iberia flight IB3166 from Madrid to London is on time.",
        Flight,
        {"airline": "Iberia", "flight_number": "IB3166", "origin": "Madrid", "destination": "London"},
    ),
    # addresses
    (
        "Ship it to 221B Baker Street, London NW1 6XE, United Kingdom.",
        Address,
        {
            "street": "221B Baker Street",
            "city": "London",
            "postal_code": "NW1 6XE",
            "country": "United Kingdom",
        },
    ),
    (
        "Our office: Hauptstrasse 5, 10115 Berlin, Germany.",
        Address,
        {"street": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115", "country": "Germany"},
    ),
    (
        "Deliver to 1600 Amphitheatre Parkway, Mountain View, CA 94043, USA.",
        Address,
        {
            "street": "1600 Amphitheatre Parkway",
            "city": "Mountain View",
            "postal_code": "94043",
            "country": "USA",
        },
    ),
    (
        "The shop is at 12 Rue de Rivoli, 75001 Paris, France.",
        Address,
        {"street": "12 Rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "France"},
    ),
    (
        "Send the parcel to Calle Mayor 10, 28013 Madrid, Spain.",
        Address,
        {"street": "Calle Mayor 10", "city": "Madrid", "postal_code": "28013", "country": "Spain"},
    ),
    (
        "Return address: 8 Queen St, Auckland 1010, New Zealand.",
        Address,
        {"street": "8 Queen St", "city": "Auckland", "postal_code": "1010", "country": "New Zealand"},
    ),
    # free-text notes
    (
        "URGENT: the server room is overheating, fix the air conditioning today.",
        Note,
        {"note": Contains("air conditioning"), "priority": "high"},
    ),
    (
        "Reminder, no rush: water the office plants sometime this week.",
        Note,
        {"note": Contains("plants"), "priority": "low"},
    ),
    (
        "Please review the quarterly budget draft before Friday's meeting.",
        Note,
        {"note": Contains("budget"), "priority": "medium"},
    ),
    (
        "Critical bug: customers cannot log in since the last release. Fix immediately.",
        Note,
        {"note": Contains("log in"), "priority": "high"},
    ),
    (
        "When you have a moment, tidy up the shared drive folders.",
        Note,
        {"note": Contains("shared drive"), "priority": "low"},
    ),
    (
        "Call the supplier about the delayed paper delivery this week.",
        Note,
        {"note": Contains("supplier"), "priority": "medium"},
    ),
    # item lists
    ("Buy milk, eggs and bread.", ShoppingList, {"items": ["milk", "eggs", "bread"]}),
    (
        "We need apples, bananas, rice and olive oil.",
        ShoppingList,
        {"items": ["apples", "bananas", "rice", "olive oil"]},
    ),
    ("Shopping: coffee and sugar.", ShoppingList, {"items": ["coffee", "sugar"]}),
    (
        "Get tomatoes, onions, garlic, basil and pasta for dinner.",
        ShoppingList,
        {"items": ["tomatoes", "onions", "garlic", "basil", "pasta"]},
    ),
    ("Only thing missing is toilet paper.", ShoppingList, {"items": ["toilet paper"]}),
    (
        "Pick up batteries, tape and a light bulb.",
        ShoppingList,
        {"items": ["batteries", "tape", "light bulb"]},
    ),
    # nested line items
    (
        "Invoice for ACME Corp: 3 widgets at 2.50 each and 1 gadget at 10.00.",
        Invoice,
        {
            "customer": "ACME Corp",
            "lines": [
                {"product": "widgets", "quantity": 3, "unit_price": 2.5},
                {"product": "gadget", "quantity": 1, "unit_price": 10.0},
            ],
        },
    ),
    (
        "Bill Jane Doe for 2 notebooks at 4.00.",
        Invoice,
        {"customer": "Jane Doe", "lines": [{"product": "notebooks", "quantity": 2, "unit_price": 4.0}]},
    ),
    (
        "Order from Bistro Luna: 10 kg flour at 1.20, 5 litres milk at 0.90.",
        Invoice,
        {
            "customer": "Bistro Luna",
            "lines": [
                {"product": "flour", "quantity": 10, "unit_price": 1.2},
                {"product": "milk", "quantity": 5, "unit_price": 0.9},
            ],
        },
    ),
    (
        "Globex bought 4 monitors at 199.99 each.",
        Invoice,
        {"customer": "Globex", "lines": [{"product": "monitors", "quantity": 4, "unit_price": 199.99}]},
    ),
    (
        "Charge Tom's Garage for 6 tyres at 80 and 2 wiper blades at 15.",
        Invoice,
        {
            "customer": "Tom's Garage",
            "lines": [
                {"product": "tyres", "quantity": 6, "unit_price": 80.0},
                {"product": "wiper blades", "quantity": 2, "unit_price": 15.0},
            ],
        },
    ),
    (
        "Receipt for Mia: 1 coffee at 3.20.",
        Invoice,
        {"customer": "Mia", "lines": [{"product": "coffee", "quantity": 1, "unit_price": 3.2}]},
    ),
    # appointments (a name, a weekday and an optional phone)
    (
        "Mr. Jensen sees Dr. Ortiz on Tuesday; his number is 555-0100.",
        Appointment,
        {"patient": "Mr. Jensen", "doctor": "Dr. Ortiz", "weekday": "tuesday", "phone": "555-0100"},
    ),
    (
        "Book Clara with Dr. Kim for Friday.",
        Appointment,
        {"patient": "Clara", "doctor": "Dr. Kim", "weekday": "friday", "phone": None},
    ),
    (
        "Appointment: Luis Perez with Dr. Adams, Monday, phone +1 415 555 2671.",
        Appointment,
        {"patient": "Luis Perez", "doctor": "Dr. Adams", "weekday": "monday", "phone": "+1 415 555 2671"},
    ),
    (
        "Dr. Chen will see Emma on Thursday. Emma's phone: 07700 900123.",
        Appointment,
        {"patient": "Emma", "doctor": "Dr. Chen", "weekday": "thursday", "phone": "07700 900123"},
    ),
]

SYSTEM = (
    "Extract the requested information from the user's text. Reply with JSON that follows this JSON Schema: "
)


def _norm(value: Any) -> Any:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, str):
        return re.sub(r"[^0-9a-z+]", "", value.lower())
    if isinstance(value, float):
        return round(value, 2)
    return value


def correct(value: Any, expected: Any) -> bool:
    """Every expected key matches (strings compared without case, spaces and punctuation)."""
    if isinstance(expected, Contains):
        return isinstance(value, str) and all(w.lower() in value.lower() for w in expected.words)
    if isinstance(expected, dict):
        data = value.model_dump() if isinstance(value, BaseModel) else value
        return isinstance(data, dict) and all(correct(data.get(k), v) for k, v in expected.items())
    if isinstance(expected, list):
        return (
            isinstance(value, list)
            and len(value) == len(expected)
            and all(correct(v, e) for v, e in zip(value, expected))
        )
    return bool(_norm(value) == _norm(expected))


def _tokens(attempts: Any) -> int:
    total = 0
    for a in attempts:
        count = getattr(a, "tokens_predicted", None)
        if count is None:
            count = a.completion.tokens_predicted if a.completion else 0
        total += count
    return total


def run_task(client: Any, text: str, model: type[BaseModel], options: dict[str, Any]) -> dict[str, Any]:
    schema = json.dumps(model.model_json_schema(), separators=(",", ":"))
    messages = [{"role": "system", "content": SYSTEM + schema}, {"role": "user", "content": text}]
    started = time.perf_counter()
    try:
        result = structgen.generate_result(messages, model, client=client, **options)
        value, attempts, error = result.value, result.attempts, None
    except structgen.GenerationError as exc:
        value, attempts, error = None, exc.attempts, f"{type(exc).__name__}: {str(exc)[:200]}"
    except structgen.ClientError as exc:  # the server restarted under an abandoned task
        value, attempts, error = None, [], f"{type(exc).__name__}: {str(exc)[:200]}"
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "attempts": len(attempts),
        "reasons": [str(getattr(a, "reason", None) and a.reason.value) for a in attempts],
        "tokens": _tokens(attempts),
        "valid": value is not None,
        "value": value.model_dump() if value is not None else None,
        "error": error,
    }


def capped_task(client: Any, index: int, cap: float, budget: float | None) -> dict[str, Any]:
    """Task ``index`` run in a thread; after ``cap`` seconds it is left behind and recorded as capped.

    ``budget`` is passed as ``timeout`` to code that has one."""
    text, model, expected = TASKS[index]
    options: dict[str, Any] = {"temperature": 0.0}
    if budget is not None and "timeout" in inspect.signature(structgen.generate_result).parameters:
        options["timeout"] = budget
    box: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: box.update(run_task(client, text, model, options)), daemon=True)
    began = time.perf_counter()
    worker.start()
    worker.join(cap)
    if worker.is_alive():
        row = {
            "seconds": time.perf_counter() - began,
            "attempts": None,
            "reasons": [],
            "tokens": None,
            "valid": False,
            "value": None,
            "error": f"capped at {cap:g} s",
        }
    else:
        row = box
    row.update(
        {
            "task": index,
            "type": model.__name__,
            "text": text,
            "correct": row["valid"] and correct(row["value"], expected),
        }
    )
    return row


def worker() -> None:
    """Serve tasks read from stdin (``{"url", "task", "cap"}`` lines), one JSON result a line."""
    from structgen.client import LlamaClient

    clients: dict[str, Any] = {}
    for line in sys.stdin:
        job = json.loads(line)
        client = clients.setdefault(
            job["url"], LlamaClient(job["url"], api_key=job.get("api_key"), timeout=(5.0, 300.0))
        )
        print(
            json.dumps(capped_task(client, job["task"], job["cap"], job["budget"]), default=str), flush=True
        )


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    times = [r["seconds"] for r in rows]
    return {
        "tasks": len(rows),
        "p50_s": percentile(times, 50),
        "p90_s": percentile(times, 90),
        "max_s": max(times),
        "over_20s": sum(t > 20 for t in times),
        "capped": sum(1 for r in rows if r["attempts"] is None),
        "valid": sum(r["valid"] for r in rows) / len(rows),
        "correct": sum(r["correct"] for r in rows),
        "attempts": sum(r["attempts"] or 0 for r in rows),
        "tokens": sum(r["tokens"] or 0 for r in rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="an already running server (default: start a local one)")
    ap.add_argument("--cap", type=float, default=30.0, help="seconds per task before it is abandoned")
    ap.add_argument("--limit", type=int, help="only the first N tasks")
    ap.add_argument("--timeout", type=float, help="the time budget per call, for code that has one")
    ap.add_argument(
        "--checkout",
        action="append",
        default=[],
        help="run the tasks with this checkout's structgen (repeat: alternately, task by task)",
    )
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker()
        return

    import subprocess

    from structgen.server import LocalServer

    checkouts = args.checkout or [str(Path(structgen.__file__).resolve().parents[1])]
    tasks = range(min(args.limit or len(TASKS), len(TASKS)))
    workers = {
        c: subprocess.Popen(
            [sys.executable, __file__, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": c},
        )
        for c in checkouts
    }

    key = os.environ.get("STRUCTGEN_API_KEY") if args.url else secrets.token_urlsafe(16)

    def start() -> Any:
        return LocalServer(threads=1, parallel=1, ctx_size=4096, api_key=key).start()

    server = None if args.url else start()
    rows: dict[str, list[dict[str, Any]]] = {c: [] for c in checkouts}
    load_before = os.getloadavg()
    try:
        for index in tasks:
            for c in checkouts if index % 2 == 0 else list(reversed(checkouts)):
                url = args.url or server.url
                pipe = workers[c]
                assert pipe.stdin is not None and pipe.stdout is not None
                pipe.stdin.write(
                    json.dumps(
                        {"url": url, "api_key": key, "task": index, "cap": args.cap, "budget": args.timeout}
                    )
                    + "\n"
                )
                pipe.stdin.flush()
                row = json.loads(pipe.stdout.readline())
                rows[c].append(row)
                print(
                    f"{index:2d} {Path(c).name:8s} {row['type']:12s} {row['seconds']:6.1f}s "
                    f"attempts={row['attempts']} {row['reasons']} valid={row['valid']} "
                    f"correct={row['correct']} {row['error'] or ''}",
                    flush=True,
                )
                if row["attempts"] is None and server is not None:
                    server.stop()  # drop the abandoned request and whatever queued behind it
                    server = start()
    finally:
        for pipe in workers.values():
            if pipe.stdin is not None:
                pipe.stdin.close()
            pipe.wait(30)
        if server is not None:
            server.stop()
    load_after = os.getloadavg()

    summaries = {c: summarize(rs) for c, rs in rows.items()}
    for c, rs in rows.items():
        print(f"\n{c}")
        per_type: dict[str, list[dict[str, Any]]] = {}
        for r in rs:
            per_type.setdefault(r["type"], []).append(r)
        print(
            table(
                ["type", "tasks", "p50 s", "max s", "valid", "correct", "attempts", "tokens"],
                [
                    [
                        name,
                        len(ts),
                        percentile([r["seconds"] for r in ts], 50),
                        max(r["seconds"] for r in ts),
                        sum(r["valid"] for r in ts),
                        sum(r["correct"] for r in ts),
                        sum(r["attempts"] or 0 for r in ts),
                        sum(r["tokens"] or 0 for r in ts),
                    ]
                    for name, ts in per_type.items()
                ],
            )
        )
    print()
    keys = list(next(iter(summaries.values())))
    print(table(["checkout", *keys], [[c, *(s[k] for k in keys)] for c, s in summaries.items()]))
    print(f"load average before {load_before}, after {load_after}")
    if args.json:
        Path(args.json).write_text(json.dumps(results(summaries, rows, load_before, load_after), indent=1))


def results(
    summaries: dict[str, Any], rows: dict[str, list[dict[str, Any]]], load_before: Any, load_after: Any
) -> dict[str, Any]:
    """The results file: the summary per checkout and one flat row per task and checkout."""
    return {
        "command": " ".join(sys.argv),
        "machine": machine(),
        "load_before": " ".join(f"{x:.1f}" for x in load_before),
        "load_after": " ".join(f"{x:.1f}" for x in load_after),
        "summary": {Path(c).name: s for c, s in summaries.items()},
        "tasks": [
            {
                "task": r["task"],
                "type": r["type"],
                "checkout": Path(c).name,
                "seconds": round(r["seconds"], 2),
                "attempts": r["attempts"],
                "reasons": " ".join(x for x in r["reasons"] if x != "None"),
                "tokens": r["tokens"],
                "valid": r["valid"],
                "correct": r["correct"],
                "error": (r["error"] or "")[:120],
            }
            for c, rs in rows.items()
            for r in rs
        ],
    }


if __name__ == "__main__":
    main()
