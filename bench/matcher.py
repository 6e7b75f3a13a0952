"""Matcher and sampler throughput on the bundled JSON grammar.

    python bench/matcher.py [--json out.json]

Prints the time to check a ~10 KB and a ~1 MB JSON document (cold: a fresh Matcher; warm: a second
document through the same Matcher) and the sampler's strings per second.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from structgen.gbnf import Matcher, Sampler

GRAMMAR = Path(__file__).resolve().parents[1] / "grammars" / "json.gbnf"


def document(n: int, seed: int) -> str:
    rng = random.Random(seed)
    doc = {
        f"key{i}": [rng.random() * 1000, f'text {i} \u00e9 "q"', {"n": i, "ok": i % 2 == 0, "z": None}]
        for i in range(n)
    }
    return json.dumps(doc, indent=1)


def timed(matcher: Matcher, text: str) -> float:
    start = time.perf_counter()
    assert matcher.fullmatch(text)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    grammar = GRAMMAR.read_text(encoding="utf-8")
    rows = []
    for label, n in (("10 KB", 110), ("1 MB", 11_000)):
        text = document(n, 1)
        cold = timed(Matcher(grammar), text)
        m = Matcher(grammar)
        m.fullmatch(document(n, 2))
        warm = timed(m, text)
        rows.append(
            {
                "document": label,
                "bytes": len(text.encode()),
                "cold_s": cold,
                "warm_s": warm,
                "warm_mb_per_s": len(text.encode()) / warm / 1e6,
            }
        )
    sampler = Sampler(grammar, seed=0, max_length=300)
    start = time.perf_counter()
    count = len(sampler.sample(200))
    rate = count / (time.perf_counter() - start)
    print(f"{'document':10} {'bytes':>10} {'cold s':>8} {'warm s':>8} {'MB/s warm':>10}")
    for r in rows:
        print(
            f"{r['document']:10} {r['bytes']:>10} {r['cold_s']:>8.3f} {r['warm_s']:>8.3f} {r['warm_mb_per_s']:>10.2f}"
        )
    print(f"sampler: {rate:.0f} strings/s (json grammar, max_length 300)")
    if args.json:
        args.json.write_text(json.dumps({"matcher": rows, "sampler_per_s": rate}, indent=2))


if __name__ == "__main__":
    main()
