"""What ``LlamaClient`` adds to one request: median latency of a one-token completion sent three ways.

* ``requests.post``: a new connection per call;
* ``session.post``: plain ``requests`` on a kept-alive session (the floor for any Python client);
* ``LlamaClient.completion``: structgen's client (session, retry policy, typed ``Completion``).

The calls are interleaved so that load on the machine hits all three alike. It also times parsing
one answer into ``Completion`` on its own.

    python bench/client_overhead.py [--calls N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from structgen.client import Completion
from structgen.client.params import completion_body
from structgen.server import LocalServer

PROMPT = "Hello"
PARAMS: dict[str, Any] = {"n_predict": 1, "temperature": 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=150, help="calls of each kind (default 150)")
    ap.add_argument("--threads", type=int, default=1, help="llama-server --threads (default 1)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    with LocalServer(ctx_size=512, threads=args.threads) as server, server.client() as client:
        session = requests.Session()
        auth = {"Authorization": f"Bearer {server.api_key}"}
        session.headers.update(auth)
        body = completion_body(PROMPT, PARAMS, stream=False)
        url = f"{server.url}/completion"

        def requests_post() -> Any:
            return requests.post(url, json=body, headers=auth, timeout=60).json()

        def session_post() -> Any:
            return session.post(url, json=body, timeout=60).json()

        def llama_client() -> Any:
            return client.completion(PROMPT, **PARAMS)

        kinds: dict[str, Callable[[], Any]] = {
            "requests.post": requests_post,
            "session.post": session_post,
            "LlamaClient.completion": llama_client,
        }
        for call in kinds.values():
            call()
        times: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(args.calls):
            for name, call in kinds.items():
                started = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - started)
        raw = session_post()
        session.close()
    parse_runs = 2000
    started = time.perf_counter()
    for _ in range(parse_runs):
        Completion.model_validate(raw)
    parse_us = (time.perf_counter() - started) / parse_runs * 1e6

    medians = {name: statistics.median(t) * 1e3 for name, t in times.items()}
    floor = medians["session.post"]
    print(f"{args.calls} calls each, one-token completion, llama-server --threads {args.threads}")
    print(f"{'client':<24} {'median ms':>10} {'vs session':>10}")
    for name, ms in medians.items():
        print(f"{name:<24} {ms:>10.3f} {ms / floor:>10.3f}")
    print(f"parsing one answer into Completion: {parse_us:.1f} us")
    if args.json:
        args.json.write_text(
            json.dumps({"calls": args.calls, "median_ms": medians, "parse_us": parse_us}, indent=2)
        )


if __name__ == "__main__":
    main()
