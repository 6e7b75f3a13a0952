"""Records per second of ``structgen.label`` next to the server's own throughput for the same requests.

For each llama-server ``--parallel`` P in 1, 2, 4 (a fresh local server each) and each concurrency C
in 1, 2, 4, it labels ``--records`` records twice (different ones each time, of the same shape):

* structgen: ``label(records, labels=..., template=..., concurrency=C)`` (the whole pipeline: reading,
  the chat template through ``/apply-template``, the grammar, validation, writing a JSON line each);
* bare: the same ``/completion`` requests (the same rendered prompt, grammar and options), sent by C
  threads with plain ``requests`` sessions, doing nothing with the answers.

``overhead`` is bare rate / structgen rate (1.00 = no overhead). ``--raw-prompt`` skips the chat
template (no ``/apply-template`` request).

    python bench/label_throughput.py [--records N] [--rounds R] [--json out.json] [--threads T] [--raw-prompt]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from structgen.client import LlamaClient
from structgen.label import label
from structgen.label.outputs import LabelsOutput
from structgen.label.prompts import Template
from structgen.server import LocalServer, known_key

LABELS = ["positive", "negative", "neutral"]
TEMPLATE = "Review: {text}"
WORDS = ["good", "bad", "great", "awful", "fine", "boring", "lovely", "dull", "okay", "superb"]
N_PREDICT = 8
LEVELS = (1, 2, 4)


def make_records(n: int, start: int = 0) -> list[dict[str, Any]]:
    """``n`` short reviews; ``start`` makes each set's texts new to the server's prompt cache."""
    return [{"id": i, "text": f"The film was {WORDS[i % len(WORDS)]}, part {start + i}."} for i in range(n)]


def bare_requests(client: LlamaClient, records: list[dict[str, Any]], *, chat: bool) -> list[dict[str, Any]]:
    """The /completion bodies structgen sends for ``records`` (prompts rendered beforehand)."""
    spec = LabelsOutput(LABELS)
    template = Template(TEMPLATE)
    bodies = []
    for record in records:
        user = str(template.render(record))
        prompt = user
        if chat:
            prompt = client.apply_template(
                [{"role": "system", "content": spec.system()}, {"role": "user", "content": user}]
            )
        bodies.append(
            {
                "prompt": prompt,
                "grammar": spec.output.grammar,
                "n_predict": N_PREDICT,
                "temperature": 0.0,
                "cache_prompt": True,
                "stream": False,
            }
        )
    return bodies


def run_bare(url: str, bodies: list[dict[str, Any]], concurrency: int) -> float:
    """Seconds for plain requests to send ``bodies``, ``concurrency`` threads with a session each."""
    local = threading.local()

    def send(body: dict[str, Any]) -> None:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
            key = known_key(url)  # the local server asks for its API key
            if key:
                session.headers["Authorization"] = f"Bearer {key}"
        response = session.post(f"{url}/completion", json=body, timeout=300)
        response.raise_for_status()
        response.json()

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(send, bodies))
    return time.perf_counter() - started


def run_structgen(
    urls: list[str], records: list[dict[str, Any]], concurrency: int | None, *, chat: bool, out: Path
) -> float:
    """Seconds for ``structgen.label`` to label ``records`` into ``out`` over the servers ``urls``."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    summary = label(
        records,
        labels=LABELS,
        template=TEMPLATE,
        id_field="id",
        urls=urls,
        out=out,
        concurrency=concurrency,
        n_predict=N_PREDICT,
        chat=chat,
        progress=False,
    )
    seconds = time.perf_counter() - started
    if summary.labelled != len(records):
        raise SystemExit(f"structgen labelled {summary.labelled} of {len(records)}: {summary.format()}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100, help="records per measurement (default 100)")
    ap.add_argument("--rounds", type=int, default=4, help="turns each side takes per measurement (default 4)")
    ap.add_argument("--threads", type=int, default=1, help="llama-server --threads (default 1)")
    ap.add_argument("--raw-prompt", action="store_true", help="no chat template (no /apply-template request)")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args()
    chat = not args.raw_prompt
    rows = []
    print(
        f"{args.records} records, labels {','.join(LABELS)}, n_predict {N_PREDICT}, "
        f"{'chat template' if chat else 'raw prompt'}, llama-server --threads {args.threads}"
    )
    print(f"{'parallel':>8} {'concurrency':>11} {'structgen rec/s':>15} {'bare rec/s':>10} {'overhead':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.jsonl"
        for parallel in LEVELS:
            server = LocalServer(ctx_size=512 * parallel, parallel=parallel, threads=args.threads)
            with server, server.client() as client:
                run_bare(server.url, bare_requests(client, make_records(8, 10**6), chat=chat), parallel)
                run_structgen([server.url], make_records(8, 2 * 10**6), parallel, chat=chat, out=out)
                for concurrency in LEVELS:
                    # Fresh records for every run (llama-server keeps old prompts in its cache); the two
                    # sides take turns in short rounds, so drifting load on the machine hits both alike.
                    bare_s = ours_s = 0.0
                    size = -(-args.records // args.rounds)
                    for start in range(0, args.records, size):
                        n = min(size, args.records - start)
                        first = 10**5 * (10 * parallel + concurrency) + start
                        ours_records = make_records(n, first)
                        bodies = bare_requests(client, make_records(n, first + 5 * 10**4), chat=chat)
                        if start // size % 2:
                            bare_s += run_bare(server.url, bodies, concurrency)
                            ours_s += run_structgen(
                                [server.url], ours_records, concurrency, chat=chat, out=out
                            )
                        else:
                            ours_s += run_structgen(
                                [server.url], ours_records, concurrency, chat=chat, out=out
                            )
                            bare_s += run_bare(server.url, bodies, concurrency)
                    bare, ours = args.records / bare_s, args.records / ours_s
                    row = {
                        "parallel": parallel,
                        "concurrency": concurrency,
                        "structgen_per_s": ours,
                        "bare_per_s": bare,
                        "overhead": bare / ours,
                    }
                    rows.append(row)
                    print(
                        f"{parallel:>8} {concurrency:>11} {ours:>15.2f} {bare:>10.2f} {bare / ours:>8.2f}",
                        flush=True,
                    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "records": args.records,
                    "chat": chat,
                    "threads": args.threads,
                    "n_predict": N_PREDICT,
                    "rows": rows,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
