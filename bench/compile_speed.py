"""Schema compile speed and grammar size: structgen against llama.cpp's own converter, side by side.

    python bench/compile_speed.py [--corpus DIR] [--splits A,B] [--limit N] [--json out.json]

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
import re
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from _common import ROOT, machine, median, percentile, ratio, table, write_json

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
SPLITS = ("Github_trivial", "Github_easy", "Glaiveai2K", "Handwritten", "Synthesized", "JME")
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
    options: dict[str, Any] = {}

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
            return Outcome("refused", (time.perf_counter() - start) * 1000, message=f"{type(exc).__name__}: {exc}")
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
    options = {"additional_properties": False, "whitespace": "compact"}


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
    """llama.cpp's C++ converter inside a local llama-server, timed by the server's own log clock."""

    name = "llama-server"

    def __init__(self, timeout: float) -> None:
        from structgen.client import ClientError, GrammarRejectedError, SchemaRejectedError
        from structgen.server import LocalServer

        self._errors = (ClientError, GrammarRejectedError, SchemaRejectedError)
        self.timeout = timeout
        self._server = LocalServer(ctx_size=512, threads=1, extra_args=_LOG_FLAGS)
        self._start()
        self.baseline_ms = self._baseline()

    def _start(self) -> None:
        self._server.start()
        assert self._server.log_path is not None
        self._client = self._server.client(timeout=(5.0, self.timeout), retry=0)
        self._tail = _LogTail(self._server.log_path)

    def _restart(self) -> None:
        self._tail.close()
        self._client.close()
        self._server.stop()
        self._start()

    def _request(self, extra: dict[str, Any]) -> Any:
        # An empty prompt with n_predict 0: the server parses the parameters (converting the schema) and
        # builds the sampler (loading the grammar), then answers without evaluating or sampling anything.
        return self._client.completion("", n_predict=0, extra=extra)

    def load(self, grammar: str) -> tuple[bool, float, str]:
        """Whether llama-server loads ``grammar`` (sent as ``grammar``), the round trip in ms, its error."""
        grammar_rejected = self._errors[1]
        start = time.perf_counter()
        try:
            self._request({"grammar": grammar})
        except grammar_rejected as exc:
            return False, (time.perf_counter() - start) * 1000, exc.message
        except self._errors[0] as exc:
            message = f"{type(exc).__name__}: {exc}"
            self._restart()
            return False, (time.perf_counter() - start) * 1000, message
        return True, (time.perf_counter() - start) * 1000, ""

    def _baseline(self, n: int = 20) -> float:
        """Median round trip of the same request without a schema."""
        times = []
        for _ in range(n + 2):
            start = time.perf_counter()
            self._request({})
            times.append((time.perf_counter() - start) * 1000)
        return float(median(times[2:]) or 0.0)

    def convert(self, schema: Any) -> Outcome:
        client_error, grammar_rejected, schema_rejected = self._errors
        start = time.perf_counter()
        try:
            result = self._request({"json_schema": schema})
        except grammar_rejected as exc:
            return Outcome("bad-grammar", message=exc.message)
        except schema_rejected as exc:
            warned = self._read_log(wait=False)[1]
            return Outcome("refused", message=exc.message, extra={"warned": warned} if warned else {})
        except client_error as exc:
            message = f"{type(exc).__name__}: {exc}"
            self._restart()
            return Outcome("crashed", message=message)
        request_ms = (time.perf_counter() - start) * 1000
        grammar = result.generation_settings.get("grammar")
        if not isinstance(grammar, str):
            raise SystemExit("this llama-server does not report generation_settings.grammar")
        conv_ms, warned = self._read_log(wait=True)
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
        self._client.close()
        self._server.stop()


# -- llama-cpp-python -----------------------------------------------------------------------------


class LlamaCppPython:
    """``llama_cpp.LlamaGrammar.from_json_schema`` (llama.cpp's converter ported to Python)."""

    name = "llama-cpp-python"

    def __init__(self, timeout: float) -> None:
        from llama_cpp import LlamaGrammar

        self._from_json_schema = LlamaGrammar.from_json_schema
        try:
            from llama_cpp.llama_grammar import json_schema_to_gbnf
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
            found.append((split, path.name, data["schema"] if isinstance(data, dict) and "schema" in data else data))
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
        "times_ms": sorted(round(t, 4) for t in times),
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
        "request_ratio_p50": percentile(
            [r[a]["request_ms"] / r[b]["request_ms"] for r in both if "request_ms" in r[a] and "request_ms" in r[b]],
            50,
        ),
    }


def pairs(names: list[str]) -> list[tuple[str, str]]:
    """Each structgen variant against each other converter (or against the first variant, when alone)."""
    ours = [n for n in names if n.startswith("structgen")]
    theirs = [n for n in names if n not in ours] or ours[:1]
    return [(a, b) for a in ours for b in theirs if a != b]


def report(result: dict[str, Any]) -> str:
    conv = result["converters"]
    rows = [
        [name, s["schemas"], s["ok"], s["refused"], s["bad-grammar"], s["crashed"], s["ms_p50"], s["ms_p90"],
         s["ms_p99"], s["request_ms_p50"], s["bytes_p50"], s["bytes_p90"], s["rules_p50"], s["rules_p90"]]
        for name, s in conv.items()
    ]
    text = [table(["converter", "schemas", "ok", "refused", "bad grammar", "crashed", "ms p50", "ms p90",
                   "ms p99", "server ms p50", "bytes p50", "bytes p90", "rules p50", "rules p90"], rows, digits=3)]
    for key, p in result["paired"].items():
        text.append(
            f"\n{key} on the {p['schemas']} schemas both compiled: time ratio p50 {p['time_ratio_p50'] or 0:.2f} "
            f"(p10 {p['time_ratio_p10'] or 0:.2f}, p90 {p['time_ratio_p90'] or 0:.2f}), "
            f"total time ratio {p['total_ms_ratio'] or 0:.2f}, grammar bytes ratio p50 {p['bytes_ratio_p50'] or 0:.2f}, "
            f"server round trip ratio p50 {p['request_ratio_p50'] or 0:.2f}"
        )
    split_rows = [
        [split] + [x for name in conv for x in (d[name]["ok"], d[name]["ms_p50"])]
        for split, d in result["per_split"].items()
    ]
    headers = ["split"] + [h for name in conv for h in (f"{name} ok", f"{name} ms p50")]
    text.append("\n" + table(headers, split_rows, digits=3))
    if "baseline_request_ms" in result:
        text.append(f"\nllama-server round trip without a schema (median): {result['baseline_request_ms']:.2f} ms")
    return "\n".join(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="corpus folder (default: %(default)s)")
    ap.add_argument("--splits", default=",".join(SPLITS), help="comma-separated splits (default: all)")
    ap.add_argument("--limit", type=int, default=None, help="at most N schemas per split (first by file name)")
    ap.add_argument("--converters", default="structgen,structgen-closed,llama-server,llama-cpp-python",
                    help="which to run; unavailable ones are skipped with a note (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds per schema and converter")
    ap.add_argument("--details", action="store_true", help="also write every schema's outcome to the JSON")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)

    schemas = load_corpus(args.corpus, [s for s in args.splits.split(",") if s], args.limit)
    factories: dict[str, Any] = {
        "structgen": Structgen, "structgen-closed": StructgenClosed,
        "llama-server": LlamaServer, "llama-cpp-python": LlamaCppPython,
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
                    outcome.extra["request_ms"] = round(ms, 3)
                    if not loaded:
                        outcome.status, outcome.message = "bad-grammar", message
                row[conv.name] = outcome.record()
            rows.append(row)
            if i % 250 == 0:
                print(f"{i}/{len(schemas)} schemas", file=sys.stderr, flush=True)
    finally:
        for conv in converters:
            conv.close()
    names = [c.name for c in converters]
    result: dict[str, Any] = {
        "bench": "compile_speed",
        "command": "python bench/compile_speed.py " + shlex.join(sys.argv[1:] if argv is None else argv),
        "machine": machine(),
        "corpus": str(args.corpus),
        "splits": sorted({r["split"] for r in rows}, key=lambda s: SPLITS.index(s) if s in SPLITS else 99),
        "limit": args.limit,
        "seconds": round(time.perf_counter() - started, 1),
        "skipped": skipped,
        "converters": {n: summarise([r[n] for r in rows]) for n in names},
        "paired": {f"{a}/{b}": paired(rows, a, b) for a, b in pairs(names)},
        "per_split": {
            split: {n: summarise([r[n] for r in rows if r["split"] == split]) for n in names}
            for split in dict.fromkeys(r["split"] for r in rows)
        },
    }
    for conv in converters:
        if isinstance(conv, LlamaServer):
            result["baseline_request_ms"] = conv.baseline_ms
    for split_summary in result["per_split"].values():
        for s in split_summary.values():
            del s["times_ms"]
    print(report(result))
    if args.details:
        result["schemas"] = rows
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
