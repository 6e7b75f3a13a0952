"""Schema compile speed and grammar size: structgen against llama.cpp's own converter, side by side.

    python bench/compile_speed.py [--corpus DIR] [--splits A,B] [--limit N] [--json out.json] [--raw raw.json]

For every ``maskbench-dev/<split>/*.json`` schema of the corpus (default ``../shared/corpus`` beside
the checkout), in one run and interleaved schema by schema:

- structgen: ``structgen.compile(schema)`` with default options, timed in this process;
- llama-server: the schema is sent as ``json_schema`` to a local llama-server (``/completion`` with
  ``n_predict`` 0); the converted grammar is read back from ``generation_settings.grammar``. The time is
  the one llama.cpp itself measures: the server runs with debug, timestamped JSON-lines logging, and
  logs "JSON schema: ..." right before and "Converted grammar: ..." right after its converter runs, so
  the difference of the two timestamps is the conversion time (plus formatting one log line), free of
  HTTP, prompt and sampling costs. The request's round trip is recorded too;
- llama-cpp-python's ``LlamaGrammar.from_json_schema``, when that package is importable.

Each converter's outcome per schema is ``ok``, ``refused`` (a clear error: structgen's typed errors,
the server's "json_schema" 400), ``bad-grammar`` (llama.cpp converted the schema but could not load
its own grammar) or ``crashed`` (any other exception, a timeout or a dead server).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, ClassVar

from _common import ROOT, machine, median, percentile, ratio, table, write_json

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SPLITS = ("Github_trivial", "Github_easy", "Glaiveai2K", "Handwritten", "Synthesized", "JME")
SPLIT_COLUMNS = ("schemas", "ok", "refused", "bad-grammar", "crashed", "ms_p50", "ms_p90", "bytes_p50")
RULE = re.compile(r"^[A-Za-z0-9_-]+\s*::=", re.MULTILINE)


@dataclass
class Outcome:
    """One converter on one schema."""

    status: str  # ok | refused | bad-grammar | crashed
    ms: float | None = None
    grammar: str = ""
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.ms is not None:
            out["ms"] = round(self.ms, 4)
        if self.status == "ok":
            out["bytes"] = len(self.grammar.encode())
            out["rules"] = len(RULE.findall(self.grammar))
        if self.message:
            out["message"] = self.message[:300]
        out.update(self.extra)
        return out


# -- structgen ------------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Timeout


class Structgen:
    """``structgen.compile`` with default options, in this process."""

    name = "structgen"
    options: ClassVar[dict[str, Any]] = {}

    def __init__(self, timeout: float) -> None:
        import structgen
        from structgen.errors import StructgenError

        self._compile = structgen.compile
        self._error = StructgenError
        self.timeout = timeout
        signal.signal(signal.SIGALRM, _alarm)
        self.convert({"type": "object", "properties": {"a": {"type": "string"}}})  # warm-up: lazy imports

    def convert(self, schema: Any) -> Outcome:
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        start = time.perf_counter()
        try:
            compiled = self._compile(schema, **self.options)
        except _Timeout:
            return Outcome("crashed", message=f"timeout after {self.timeout:g}s")
        except self._error as exc:
            return Outcome(
                "refused", (time.perf_counter() - start) * 1000, message=f"{type(exc).__name__}: {exc}"
            )
        except Exception as exc:  # noqa: BLE001 - a crash is a result here
            return Outcome("crashed", message=f"{type(exc).__name__}: {exc}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        ms = (time.perf_counter() - start) * 1000
        return Outcome("ok", ms, compiled.grammar, extra={"exact": compiled.exact})

    def close(self) -> None:
        pass


class StructgenClosed(Structgen):
    """``structgen.compile`` as the decode bench uses it: closed objects, compact whitespace."""

    name = "structgen-closed"
    options: ClassVar[dict[str, Any]] = {"additional_properties": False, "whitespace": "compact"}


# -- llama-server ---------------------------------------------------------------------------------

_LOG_FLAGS = ("--log-jsonl", "--log-timestamps", "--log-verbosity", "5")
_SCHEMA_LOG = "JSON schema:"
_GRAMMAR_LOG = "Converted grammar:"
_WARNING = "WARNING: JSON schema conversion was incomplete"


class _LogTail:
    """New lines of the server's log since the last read (a partial last line waits for its end)."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._file.seek(0, 2)
        self._partial = b""

    def lines(self) -> Iterator[str]:
        data = self._partial + self._file.read()
        *complete, self._partial = data.split(b"\n")
        for raw in complete:
            yield raw.decode("utf-8", errors="replace")

    def close(self) -> None:
        self._file.close()


class LlamaServer:
    """llama.cpp's C++ converter inside local llama-servers.

    Two servers run: one logs at debug level with timestamps, to time the conversion by the server's own
    clock; a quiet one (default logging) times whole round trips, so that debug logging costs nothing there.
    """

    name = "llama-server"

    def __init__(self, timeout: float) -> None:
        from structgen.client import ClientError, GrammarRejectedError, SchemaRejectedError
        from structgen.server import LocalServer

        self._errors = (ClientError, GrammarRejectedError, SchemaRejectedError)
        self.timeout = timeout
        self._timed = LocalServer(ctx_size=256, threads=1, extra_args=_LOG_FLAGS)
        self._quiet = LocalServer(ctx_size=256, threads=1)
        self._start()
        self.baseline_ms = self._baseline()

    def _start(self) -> None:
        for server in (self._timed, self._quiet):
            server.start()
        assert self._timed.log_path is not None
        self._timed_client = self._timed.client(timeout=(5.0, self.timeout), retry=0)
        self._quiet_client = self._quiet.client(timeout=(5.0, self.timeout), retry=0)
        self._tail = _LogTail(self._timed.log_path)

    def _restart(self) -> None:
        self.close()
        self._start()

    @staticmethod
    def _request(client: Any, extra: dict[str, Any]) -> Any:
        # An empty prompt with n_predict 0: the server parses the parameters (converting the schema) and
        # builds the sampler (loading the grammar), then answers without evaluating or sampling anything.
        return client.completion("", n_predict=0, extra=extra)

    def _round_trip(self, extra: dict[str, Any]) -> tuple[float, str]:
        """Milliseconds of one request to the quiet server, and its error message ("" when it succeeded)."""
        start = time.perf_counter()
        try:
            self._request(self._quiet_client, extra)
        except self._errors[0] as exc:
            return (time.perf_counter() - start) * 1000, exc.message
        return (time.perf_counter() - start) * 1000, ""

    def load(self, grammar: str) -> tuple[bool | None, float, str]:
        """Whether llama-server loads ``grammar`` (None: the request failed otherwise), the round trip in ms,
        the server's error message."""
        grammar_rejected = self._errors[1]
        start = time.perf_counter()
        try:
            self._request(self._quiet_client, {"grammar": grammar})
        except grammar_rejected as exc:
            return False, (time.perf_counter() - start) * 1000, exc.message
        except self._errors[0] as exc:
            if not self._quiet.running:
                self._restart()
            return None, (time.perf_counter() - start) * 1000, f"{type(exc).__name__}: {exc}"
        return True, (time.perf_counter() - start) * 1000, ""

    def _baseline(self, n: int = 20) -> float:
        """Median round trip of the same request without a schema."""
        times = [self._round_trip({})[0] for _ in range(n + 2)]
        return float(median(times[2:]) or 0.0)

    def convert(self, schema: Any) -> Outcome:
        client_error, grammar_rejected, schema_rejected = self._errors
        try:
            result = self._request(self._timed_client, {"json_schema": schema})
        except grammar_rejected as exc:
            return Outcome("bad-grammar", message=exc.message)
        except schema_rejected as exc:
            warned = self._read_log(wait=False)[1]
            return Outcome("refused", message=exc.message, extra={"warned": warned} if warned else {})
        except client_error as exc:
            message = f"{type(exc).__name__}: {exc}"
            self._restart()
            return Outcome("crashed", message=message)
        grammar = result.generation_settings.get("grammar")
        if not isinstance(grammar, str):
            raise SystemExit("this llama-server does not report generation_settings.grammar")
        conv_ms, warned = self._read_log(wait=True)
        request_ms, _ = self._round_trip({"json_schema": schema})
        extra: dict[str, Any] = {"request_ms": round(request_ms, 3)}
        if warned:
            extra["warned"] = True
        return Outcome("ok", conv_ms, grammar, extra=extra)

    def _read_log(self, *, wait: bool) -> tuple[float | None, bool]:
        """(conversion ms from the log timestamps, whether the converter warned) of the last request."""
        deadline = time.monotonic() + 2.0
        began: int | None = None
        warned = False
        while True:
            for line in self._tail.lines():
                if line.startswith(_WARNING):
                    warned = True
                    continue
                if _SCHEMA_LOG not in line and _GRAMMAR_LOG not in line:
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                msg = str(entry.get("msg", ""))
                if _SCHEMA_LOG in msg.split("\n", 1)[0]:
                    began = int(entry["time"])
                elif _GRAMMAR_LOG in msg.split("\n", 1)[0] and began is not None:
                    return (int(entry["time"]) - began) / 1000, warned
            if not wait or time.monotonic() > deadline:
                return None, warned
            time.sleep(0.001)

    def close(self) -> None:
        self._tail.close()
        for client in (self._timed_client, self._quiet_client):
            client.close()
        for server in (self._timed, self._quiet):
            server.stop()


# -- llama-cpp-python -----------------------------------------------------------------------------


class LlamaCppPython:
    """``llama_cpp.LlamaGrammar.from_json_schema`` (llama.cpp's converter ported to Python)."""

    name = "llama-cpp-python"

    def __init__(self, timeout: float) -> None:
        from llama_cpp import LlamaGrammar  # type: ignore[import-not-found]

        self._from_json_schema = LlamaGrammar.from_json_schema
        try:
            from llama_cpp.llama_grammar import json_schema_to_gbnf  # type: ignore[import-not-found]
        except ImportError:
            json_schema_to_gbnf = None
        self._to_gbnf = json_schema_to_gbnf
        self.timeout = timeout
        signal.signal(signal.SIGALRM, _alarm)

    def convert(self, schema: Any) -> Outcome:
        text = json.dumps(schema)
        signal.setitimer(signal.ITIMER_REAL, self.timeout)
        start = time.perf_counter()
        try:
            self._from_json_schema(text, verbose=False)
            ms = (time.perf_counter() - start) * 1000
            grammar = self._to_gbnf(text) if self._to_gbnf is not None else ""
        except _Timeout:
            return Outcome("crashed", message=f"timeout after {self.timeout:g}s")
        except (ValueError, KeyError, TypeError, NotImplementedError) as exc:
            return Outcome("refused", message=f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001
            return Outcome("crashed", message=f"{type(exc).__name__}: {exc}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        return Outcome("ok", ms, grammar)

    def close(self) -> None:
        pass


# -- the run --------------------------------------------------------------------------------------


def load_corpus(corpus: Path, splits: list[str], limit: int | None) -> list[tuple[str, str, Any]]:
    """``(split, file name, schema)`` of the first ``limit`` files (by name) of each split."""
    found = []
    for split in splits:
        folder = corpus / "maskbench-dev" / split
        if not folder.is_dir():
            folder = corpus / split  # a flat folder of schema files (the smoke test's)
        files = sorted(folder.glob("*.json"))[:limit]
        if not files:
            raise SystemExit(f"no schemas in {folder}")
        for path in files:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append(
                (split, path.name, data["schema"] if isinstance(data, dict) and "schema" in data else data)
            )
    return found


def summarise(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts, time percentiles and grammar-size percentiles of one converter."""
    counts = {s: sum(r["status"] == s for r in records) for s in ("ok", "refused", "bad-grammar", "crashed")}
    ok = [r for r in records if r["status"] == "ok"]
    times = [r["ms"] for r in ok if r.get("ms") is not None]
    sizes = [r["bytes"] for r in ok]
    rules = [r["rules"] for r in ok]
    out: dict[str, Any] = {
        "schemas": len(records),
        **counts,
        "timed": len(times),
        "ms_p50": percentile(times, 50),
        "ms_p90": percentile(times, 90),
        "ms_p99": percentile(times, 99),
        "ms_mean": sum(times) / len(times) if times else None,
        "ms_total": sum(times),
        "bytes_p50": percentile(sizes, 50),
        "bytes_p90": percentile(sizes, 90),
        "rules_p50": percentile(rules, 50),
        "rules_p90": percentile(rules, 90),
        "warned": sum(bool(r.get("warned")) for r in records),
        "inexact": sum(r.get("exact") is False for r in records),
    }
    request = [r["request_ms"] for r in ok if "request_ms" in r]
    out["request_ms_p50"] = percentile(request, 50)
    out["request_ms_p90"] = percentile(request, 90)
    return out


def paired(rows: list[dict[str, Any]], a: str, b: str) -> dict[str, Any]:
    """Per-schema ratios a/b over the schemas both converters compiled (and timed)."""
    both = [r for r in rows if r[a]["status"] == "ok" and r[b]["status"] == "ok"]
    timed = [r for r in both if r[a].get("ms") and r[b].get("ms")]
    t = [r[a]["ms"] / r[b]["ms"] for r in timed]
    s = [r[a]["bytes"] / r[b]["bytes"] for r in both if r[b]["bytes"]]
    return {
        "schemas": len(both),
        "time_ratio_p50": percentile(t, 50),
        "time_ratio_p10": percentile(t, 10),
        "time_ratio_p90": percentile(t, 90),
        "faster_share": sum(x < 1 for x in t) / len(t) if t else None,
        "bytes_ratio_p50": percentile(s, 50),
        "total_ms_ratio": ratio(sum(r[a]["ms"] for r in timed), sum(r[b]["ms"] for r in timed)),
        "end_to_end_ratio_p50": percentile(
            [
                (r[a]["ms"] + r[a]["request_ms"]) / r[b]["request_ms"]
                for r in timed
                if "request_ms" in r[a] and "request_ms" in r[b]
            ],
            50,
        ),
        "request_ratio_p50": percentile(
            [
                r[a]["request_ms"] / r[b]["request_ms"]
                for r in both
                if "request_ms" in r[a] and "request_ms" in r[b]
            ],
            50,
        ),
    }


def pairs(names: list[str]) -> list[tuple[str, str]]:
    """Each structgen variant against each other converter (or against the first variant, when alone)."""
    ours = [n for n in names if n.startswith("structgen")]
    theirs = [n for n in names if n not in ours] or ours[:1]
    return [(a, b) for a in ours for b in theirs if a != b]


def b_name(pair: str) -> str:
    return pair.split("/", 1)[1]


def report(result: dict[str, Any]) -> str:
    conv = result["converters"]
    rows = [
        [
            name,
            s["schemas"],
            s["ok"],
            s["refused"],
            s["bad-grammar"],
            s["crashed"],
            s["ms_p50"],
            s["ms_p90"],
            s["ms_p99"],
            s["request_ms_p50"],
            s["bytes_p50"],
            s["bytes_p90"],
            s["rules_p50"],
            s["rules_p90"],
        ]
        for name, s in conv.items()
    ]
    text = [
        table(
            [
                "converter",
                "schemas",
                "ok",
                "refused",
                "bad grammar",
                "crashed",
                "ms p50",
                "ms p90",
                "ms p99",
                "server ms p50",
                "bytes p50",
                "bytes p90",
                "rules p50",
                "rules p90",
            ],
            rows,
            digits=3,
        )
    ]
    for key, p in result["paired"].items():
        text.append(
            f"\n{key} on the {p['schemas']} schemas both compiled: time ratio p50 {p['time_ratio_p50'] or 0:.2f} "
            f"(p10 {p['time_ratio_p10'] or 0:.2f}, p90 {p['time_ratio_p90'] or 0:.2f}), "
            f"total time ratio {p['total_ms_ratio'] or 0:.2f}, grammar bytes ratio p50 {p['bytes_ratio_p50'] or 0:.2f}, "
            f"server round trip ratio p50 {p['request_ratio_p50'] or 0:.2f}, "
            f"compile + round trip vs {b_name(key)} round trip p50 {p['end_to_end_ratio_p50'] or 0:.2f}"
        )
    split_rows = [
        [
            r["split"],
            r["converter"],
            r["ok"],
            r["refused"] + r["bad-grammar"] + r["crashed"],
            r["ms_p50"],
            r["ms_p90"],
            r["bytes_p50"],
        ]
        for r in result["per_split"]
    ]
    text.append(
        "\n"
        + table(["split", "converter", "ok", "not ok", "ms p50", "ms p90", "bytes p50"], split_rows, digits=3)
    )
    if "baseline_request_ms" in result:
        text.append(
            f"\nllama-server round trip without a schema (median): {result['baseline_request_ms']:.2f} ms"
        )
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: %(default)s)"
    )
    ap.add_argument("--splits", default=",".join(SPLITS), help="comma-separated splits (default: all)")
    ap.add_argument(
        "--limit", type=int, default=None, help="at most N schemas per split (first by file name)"
    )
    ap.add_argument(
        "--converters",
        default="structgen,structgen-closed,llama-server,llama-cpp-python",
        help="which to run; unavailable ones are skipped with a note (default: %(default)s)",
    )
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per schema and converter")
    ap.add_argument("--json", type=Path, help="write the summary here")
    ap.add_argument("--raw", type=Path, help="write per-schema times and sizes here (for bench/plots.py)")
    ap.add_argument("--details", action="store_true", help="also write every schema's outcome to --raw")
    args = ap.parse_args(argv)

    schemas = load_corpus(args.corpus, [s for s in args.splits.split(",") if s], args.limit)
    factories: dict[str, Any] = {
        "structgen": Structgen,
        "structgen-closed": StructgenClosed,
        "llama-server": LlamaServer,
        "llama-cpp-python": LlamaCppPython,
    }
    converters = []
    skipped: dict[str, str] = {}
    for name in args.converters.split(","):
        if name not in factories:
            raise SystemExit(f"unknown converter {name!r}; choose from {', '.join(factories)}")
        try:
            converters.append(factories[name](args.timeout))
        except ImportError as exc:
            skipped[name] = f"not installed ({exc.name})"
        except Exception as exc:  # noqa: BLE001 - e.g. no llama-server binary or model
            skipped[name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
    for name, why in skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    if not converters:
        raise SystemExit("no converter available")

    server = next((c for c in converters if isinstance(c, LlamaServer)), None)
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    try:
        for i, (split, name, schema) in enumerate(schemas, 1):
            row: dict[str, Any] = {"split": split, "file": name}
            for conv in converters:
                outcome = conv.convert(schema)
                if server is not None and isinstance(conv, Structgen) and outcome.status == "ok":
                    loaded, ms, message = server.load(outcome.grammar)
                    if loaded:
                        outcome.extra["request_ms"] = round(ms, 3)
                    elif loaded is False:
                        outcome.status, outcome.message = "bad-grammar", message
                    else:
                        outcome.extra["load_error"] = message
                row[conv.name] = outcome.record()
            rows.append(row)
            if i % 250 == 0:
                print(f"{i}/{len(schemas)} schemas", file=sys.stderr, flush=True)
    finally:
        for conv in converters:
            conv.close()
    names = [c.name for c in converters]
    per_split = []
    for split in dict.fromkeys(r["split"] for r in rows):
        for n in names:
            summary = summarise([r[n] for r in rows if r["split"] == split])
            per_split.append({"split": split, "converter": n, **{k: summary[k] for k in SPLIT_COLUMNS}})
    result: dict[str, Any] = {
        "bench": "compile_speed",
        "command": "python bench/compile_speed.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "corpus": os.path.relpath(args.corpus, ROOT),
        "splits": ", ".join(dict.fromkeys(r["split"] for r in rows)),
        "limit": args.limit,
        "seconds": round(time.perf_counter() - started, 1),
        "skipped": "; ".join(f"{n}: {why}" for n, why in skipped.items()),
        "machine": machine(),
        "converters": {n: summarise([r[n] for r in rows]) for n in names},
        "paired": {f"{a}/{b}": paired(rows, a, b) for a, b in pairs(names)},
        "per_split": per_split,
        "failures": [
            {
                "converter": n,
                "file": f"{r['split']}/{r['file']}",
                "status": r[n]["status"],
                "message": r[n].get("message", "")[:160],
            }
            for n in names
            for r in rows
            if r[n]["status"] != "ok"
        ],
    }
    if server is not None:
        result["baseline_request_ms"] = server.baseline_ms
    print(report(result))
    if args.json:
        write_json(args.json, result)
    if args.raw:
        raw: dict[str, Any] = {
            "bench": "compile_speed",
            "command": result["command"],
            "note": "per schema (same order as files); null where the converter did not compile it",
            "ms": {n: [r[n].get("ms") if r[n]["status"] == "ok" else None for r in rows] for n in names},
            "bytes": {n: [r[n].get("bytes") for r in rows] for n in names},
            "files": [f"{r['split']}/{r['file']}" for r in rows],
        }
        if args.details:
            raw["schemas"] = rows
        write_json(args.raw, raw, indent=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
