"""Records per second of labeling on Ray Data against ``structgen label``, on the same two servers and records.

Two local llama-servers (``--threads`` each, ``--parallel`` slots each) serve both sides:

* label: ``structgen.label.label(records, urls=[a, b], out=FILE)``, the engine of ``structgen label``
  (one process balancing over both servers, concurrency = their slots together);
* ray: ``label_dataset(ray.data.from_items(records), urls=[a, b], actors=A).write_json(DIR)`` on a local
  Ray started once beforehand (as a cluster is, where this runs): each run starts its actors, labels and
  writes. With its defaults each actor works on 2 batches at once, each with as many requests in flight
  as the servers have slots together, so the servers queue requests;
* ray-matched: the same with ``concurrency`` cut so that all actors together have as many requests in
  flight as ``label`` has (the servers' slots together).

Each round labels fresh records (llama-server caches prompts) on both sides, in alternating order, so
drifting load on the machine hits all alike. ``ratio`` is the rate / label's rate (1.00 = no overhead).

    python bench/ray_label.py [--records N] [--rounds R] [--actors A] [--parallel P] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import ray
from _common import machine, table
from label_throughput import LABELS, N_PREDICT, TEMPLATE, make_records, run_structgen  # the same workload

from structgen.integrations.ray import label_dataset
from structgen.server import LocalServer

KEY = secrets.token_urlsafe(16)
"""One API key for both servers (label sends the keys of servers this process runs; actors get it)."""


def run_ray(
    urls: list[str],
    records: list[dict[str, Any]],
    out: Path,
    actors: int,
    batch: int,
    concurrency: int | None,
) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    labeled = label_dataset(
        ray.data.from_items(records),
        labels=LABELS,
        template=TEMPLATE,
        urls=urls,
        actors=actors,
        batch_size=batch,
        n_predict=N_PREDICT,
        concurrency=concurrency,
        api_key=KEY,  # the actors run in other processes
    )
    labeled.write_json(str(out))
    seconds = time.perf_counter() - started
    rows = [json.loads(line) for f in out.iterdir() for line in f.read_text().splitlines()]
    bad = [r for r in rows if r["error"] is not None]
    if len(rows) != len(records) or len({r["id"] for r in rows}) != len(records) or bad:
        raise SystemExit(f"ray wrote {len(rows)} rows for {len(records)} records, {len(bad)} failed")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=400, help="records per side and round (default 400)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds (default 2)")
    ap.add_argument("--actors", type=int, default=2, help="Ray actors (default 2)")
    ap.add_argument("--batch-size", type=int, default=32, help="rows per Ray batch (default 32)")
    ap.add_argument("--parallel", type=int, default=2, help="slots per llama-server (default 2)")
    ap.add_argument("--threads", type=int, default=1, help="llama-server --threads (default 1)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()

    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    # ray-matched: actors x 2 batches at once x concurrency = the slots of both servers together
    sides = {"label": None, "ray": None, "ray-matched": max(1, 2 * args.parallel // (2 * args.actors))}
    times = dict.fromkeys(sides, 0.0)
    servers = [
        LocalServer(ctx_size=512 * args.parallel, parallel=args.parallel, threads=args.threads, api_key=KEY)
        for _ in range(2)
    ]
    try:
        for server in servers:
            server.start()
        urls = [s.url for s in servers]
        with tempfile.TemporaryDirectory() as tmp:
            jsonl, folder = Path(tmp) / "out.jsonl", Path(tmp) / "out"
            run_structgen(
                urls, make_records(16, 10**7), None, chat=True, out=jsonl
            )  # warm-up: both servers, both paths
            run_ray(urls, make_records(16, 2 * 10**7), folder, args.actors, args.batch_size, None)
            for round_ in range(args.rounds):
                for n, name in enumerate(list(sides) if round_ % 2 == 0 else list(sides)[::-1]):
                    records = make_records(args.records, 10**5 * (round_ + 1) + 10**4 * n)
                    if name == "label":
                        seconds = run_structgen(urls, records, None, chat=True, out=jsonl)
                    else:
                        seconds = run_ray(urls, records, folder, args.actors, args.batch_size, sides[name])
                    times[name] += seconds
                    print(f"round {round_ + 1} {name}: {args.records / seconds:.2f} rec/s", flush=True)
    finally:
        for server in servers:
            server.stop()
        ray.shutdown()

    total = args.records * args.rounds
    rates = {name: total / seconds for name, seconds in times.items()}
    headers = ["path", "servers", "slots each", "actors", "records", "rec/s", "ratio to label"]
    rows = [
        [name, 2, args.parallel, args.actors if name != "label" else "-", total, rate, rate / rates["label"]]
        for name, rate in rates.items()
    ]
    print(table(headers, rows))
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "command": " ".join(["python", *sys.argv]),
                    "machine": machine(),
                    "actors": args.actors,
                    "batch_size": args.batch_size,
                    "threads": args.threads,
                    "n_predict": N_PREDICT,
                    "rows": [
                        dict(zip(["path", "servers", "slots", "actors", "records", "per_s", "ratio"], r))
                        for r in rows
                    ],
                },
                indent=2,
            )
            + "\n"
        )


if __name__ == "__main__":
    main()
