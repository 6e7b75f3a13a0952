"""Run every benchmark script, write its JSON under bench/results/, then draw the plots.

    python bench/run_all.py [--full] [--only NAME,...] [--results DIR]

Small defaults keep the whole run to a few minutes per script on a 2-core machine; ``--full`` uses
each script's own (larger) defaults instead: the whole corpus, all records, more calls. Scripts that
are missing are skipped with a note. ``run_all.json`` in the results folder records what ran, how
long it took, its exit status and the machine. Plots need matplotlib (``pip install matplotlib``).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from _common import RESULTS, ROOT, machine, table, write_json

BENCH = ROOT / "bench"

# result name: (script, arguments for the small run, arguments for --full); {out} is the results folder.
SCRIPTS: dict[str, tuple[str, list[str], list[str]]] = {
    "matcher": ("matcher", [], []),
    "compile_speed": (
        "compile_speed",
        ["--limit", "100", "--raw", "{out}/raw/compile_speed.json"],
        ["--raw", "{out}/raw/compile_speed.json"],
    ),
    "conformance": ("conformance", ["--limit", "100"], []),
    "decode_speed": (
        "decode_speed",
        ["--part", "schemas", "--reps", "1", "--raw", "{out}/raw/decode_speed.json"],
        ["--part", "schemas", "--raw", "{out}/raw/decode_speed.json"],
    ),
    "grammar_shapes": (
        "decode_speed",
        ["--part", "shapes", "--reps", "1", "--raw", "{out}/raw/grammar_shapes.json"],
        ["--part", "shapes", "--raw", "{out}/raw/grammar_shapes.json"],
    ),
    "client_overhead": ("client_overhead", ["--calls", "50"], []),
    "label_throughput": ("label_throughput", ["--records", "20"], []),
    "extraction_eval": ("extraction_eval", [], []),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--full", action="store_true", help="each script's own defaults instead of small runs")
    ap.add_argument("--only", help=f"comma-separated subset of: {', '.join(SCRIPTS)}")
    ap.add_argument(
        "--results", type=Path, default=RESULTS, help="where the JSON goes (default: %(default)s)"
    )
    ap.add_argument("--no-plots", action="store_true", help="do not run bench/plots.py afterwards")
    args = ap.parse_args(argv)
    names = list(SCRIPTS) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        raise SystemExit(f"unknown script(s): {', '.join(unknown)}; choose from {', '.join(SCRIPTS)}")
    out = Path(os.path.relpath(args.results.resolve(), ROOT))  # scripts run in ROOT, commands stay short
    (ROOT / out).mkdir(parents=True, exist_ok=True)
    runs = []
    for name in names:
        script_name, small, full = SCRIPTS[name]
        script = BENCH / f"{script_name}.py"
        if not script.is_file():
            print(f"== {name}: skipped ({script.relative_to(ROOT)} does not exist)", flush=True)
            runs.append({"result": name, "status": "missing"})
            continue
        extra = [a.format(out=out) for a in (full if args.full else small)]
        cmd = [sys.executable, str(script.relative_to(ROOT)), *extra, "--json", str(out / f"{name}.json")]
        shown = shlex.join(["python", *cmd[1:]])
        print(f"== {name}: {shown}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(cmd, cwd=ROOT)
        seconds = round(time.perf_counter() - start, 1)
        runs.append({"result": name, "command": shown, "exit_status": code, "seconds": seconds})
        print(f"== {name}: exit status {code} after {seconds:.0f} s", flush=True)
    if not args.no_plots:
        docs = (
            [] if (ROOT / out).resolve() == RESULTS.resolve() else ["--docs", ""]
        )  # docs/img: default results only
        code = subprocess.call([sys.executable, "bench/plots.py", "--results", str(out), *docs], cwd=ROOT)
        runs.append(
            {"result": "plots", "command": "python bench/plots.py --results " + str(out), "exit_status": code}
        )
    write_json(ROOT / out / "run_all.json", {"full": args.full, "runs": runs, "machine": machine()})
    print()
    print(
        table(
            ["result", "exit status", "seconds"],
            [[r["result"], r.get("exit_status", r.get("status", "-")), r.get("seconds")] for r in runs],
            digits=0,
        )
    )
    return 1 if any(r.get("exit_status") for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
