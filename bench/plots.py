"""PNG plots from the JSON results of compile_speed.py and decode_speed.py (needs matplotlib).

    python bench/plots.py [--results bench/results] [--docs docs/img]

Reads ``raw/compile_speed.json``, ``decode_speed.json`` and ``grammar_shapes.json`` from the results
folder (whichever exist) and writes ``compile_time.png``, ``grammar_size.png``, ``decode_speed.png``
and ``grammar_shapes.png`` there, with copies in ``--docs`` for the documentation site.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

from _common import RESULTS, ROOT

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # pragma: no cover - the message is the point
    raise SystemExit("bench/plots.py needs matplotlib: pip install matplotlib") from None

COLORS = {
    "structgen": "#1f77b4",
    "structgen-closed": "#6baed6",
    "llama-server": "#d62728",
    "llama-cpp-python": "#ff9896",
    "unconstrained": "#7f7f7f",
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _ecdf(ax: Any, values: list[float], label: str) -> None:
    xs = sorted(values)
    ys = [(i + 1) / len(xs) for i in range(len(xs))]
    ax.step(xs, ys, where="post", label=label, color=COLORS.get(label.split(" ")[0]))


def compile_plots(raw: dict[str, Any], out: Path) -> list[Path]:
    """Distribution (ECDF) of compile time and of grammar size per converter."""
    written = []
    for key, name, xlabel in (
        ("ms", "compile_time.png", "compile time per schema (ms, log scale)"),
        ("bytes", "grammar_size.png", "grammar size per schema (bytes, log scale)"),
    ):
        fig, ax = plt.subplots(figsize=(7, 4))
        for conv, values in raw[key].items():
            got = [v for v in values if v is not None and v > 0]
            if got:
                _ecdf(ax, got, f"{conv} ({len(got)})")
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of schemas")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="lower right")
        ax.set_title(f"{len(raw['files'])} corpus schemas")
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(out / name)
    return written


def decode_plots(data: dict[str, Any], out: Path) -> list[Path]:
    """Tokens per second per case and mode; tokens per second per grammar shape."""
    written = []
    if data.get("cases"):
        cases = list(dict.fromkeys(r["case"] for r in data["cases"]))
        modes = list(dict.fromkeys(r["mode"] for r in data["cases"]))
        rate = {(r["case"], r["mode"]): r["tok_s"] or 0 for r in data["cases"]}
        fig, ax = plt.subplots(figsize=(8, 4))
        width = 0.8 / len(modes)
        for i, mode in enumerate(modes):
            xs = [j + (i - (len(modes) - 1) / 2) * width for j in range(len(cases))]
            ax.bar(xs, [rate[c, mode] for c in cases], width, label=mode, color=COLORS.get(mode))
        ax.set_xticks(range(len(cases)), cases, rotation=20)
        ax.set_ylabel("tokens / s (llama.cpp timings)")
        ax.set_title(f"decode speed, {data.get('model', '')}, median of {data.get('reps')}")
        top = max(rate.values(), default=1.0)
        ax.set_ylim(0, top * 1.3)  # headroom: the legend sits above the bars, not over one
        ax.legend(loc="upper center", ncol=len(modes), frameon=False)
        ax.grid(True, axis="y", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "decode_speed.png", dpi=110)
        plt.close(fig)
        written.append(out / "decode_speed.png")
    if data.get("shapes"):
        rows = data["shapes"]
        fig, ax = plt.subplots(figsize=(8, 0.32 * len(rows) + 1.2))
        labels = [f"{r['family']}: {r['grammar_name']}" for r in rows]
        family_colors = {
            "none": "#7f7f7f",
            "letters": "#1f77b4",
            "words": "#2ca02c",
            "json strings": "#9467bd",
        }
        ax.barh(
            range(len(rows)),
            [r["tok_s"] or 0 for r in rows],
            color=[family_colors.get(r["family"]) for r in rows],
        )
        ax.set_yticks(range(len(rows)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("tokens / s (log scale; every sampled token, prompt cached)")
        fig.suptitle(
            "Grammar shape and llama.cpp's sampling speed\n(same language within a family)", fontsize=10
        )
        ax.grid(True, axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        fig.savefig(out / "grammar_shapes.png", dpi=110)
        plt.close(fig)
        written.append(out / "grammar_shapes.png")
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=RESULTS, help="results folder (default: %(default)s)")
    ap.add_argument(
        "--docs",
        default=str(ROOT / "docs" / "img"),
        help="also copy the plots here (default: %(default)s; '' for no copy)",
    )
    args = ap.parse_args(argv)
    written: list[Path] = []
    raw = _load(args.results / "raw" / "compile_speed.json")
    if raw:
        written += compile_plots(raw, args.results)
    decode = {
        **(_load(args.results / "decode_speed.json") or {}),
        **(_load(args.results / "grammar_shapes.json") or {}),
    }
    if decode:
        written += decode_plots(decode, args.results)
    if not written:
        print(f"no compile_speed or decode_speed results in {args.results}", file=sys.stderr)
        return 1
    if args.docs:
        docs = Path(args.docs)
        docs.mkdir(parents=True, exist_ok=True)
        for path in written:
            shutil.copy(path, docs / path.name)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
