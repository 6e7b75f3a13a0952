"""Conformance of the schema compiler on the shared corpora (MaskBench dev splits, JSON-Schema-Test-Suite).

Scored as the corpus README says: every instance is serialised with ``json.dumps(data,
ensure_ascii=False)``; a schema passes when its grammar compiles (within the time limit), accepts
every valid instance and rejects every invalid one; a schema without tests passes when it compiles.

    python bench/conformance.py [--corpus DIR] [--split NAME ...] [--json out.json] [--limit N]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import signal
import sys
import time
import traceback
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from structgen.errors import StructgenError
from structgen.gbnf import Matcher
from structgen.schema import compile as compile_schema

MASKBENCH_SPLITS = ["Github_trivial", "Github_easy", "Glaiveai2K", "JME", "Handwritten", "Synthesized"]
SUITE_SPLITS = ["draft2020-12", "draft7"]
LLGUIDANCE = {
    "Github_trivial": "407/444 (91.7%)",
    "Github_easy": "1831/1943 (94.2%)",
    "Glaiveai2K": "1639/1707 (96.0%)",
    "JME": "98/100",
    "Handwritten": "1/147",
    "Synthesized": "0/413",
}


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout()


@dataclass
class Case:
    name: str
    schema: Any
    tests: list[dict[str, Any]]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    name: str
    status: str  # pass, compile-error, timeout, crash, validation-error, invalidation-error
    compile_seconds: float | None = None
    detail: str = ""
    rejected_valid: int = 0
    accepted_invalid: int = 0


@dataclass
class SplitResult:
    split: str
    total: int = 0
    passes: int = 0
    compile_errors: int = 0
    validation_errors: int = 0
    invalidation_errors: int = 0
    timeouts: int = 0
    crashes: int = 0
    compile_times: list[float] = field(default_factory=list)
    failures: list[Outcome] = field(default_factory=list)
    errors_by_kind: Counter[str] = field(default_factory=Counter)


def maskbench_cases(corpus: Path, split: str) -> list[Case]:
    cases = []
    for path in sorted(glob.glob(str(corpus / "maskbench-dev" / split / "*.json"))):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        cases.append(Case(f"{split}/{os.path.basename(path)}", data["schema"], data.get("tests") or []))
    return cases


def suite_cases(corpus: Path, split: str) -> list[Case]:
    cases = []
    for path in sorted(glob.glob(str(corpus / "json-schema-test-suite" / split / "*.json"))):
        with open(path, encoding="utf-8") as handle:
            groups = json.load(handle)
        stem = os.path.basename(path)[:-5]
        # from draft 2019-09 on, format is an annotation unless a vocabulary asks for assertion
        options = {"formats": False} if split == "draft2020-12" and stem == "format" else {}
        for index, group in enumerate(groups):
            name = f"{split}/{stem}#{index} {group['description']}"
            cases.append(Case(name, group["schema"], group["tests"], options))
    return cases


def run_case(case: Case, options: dict[str, Any], limit: float, draft: int | None) -> Outcome:
    signal.signal(signal.SIGALRM, _alarm)
    start = time.perf_counter()
    failure: BaseException | None = None
    try:
        signal.setitimer(signal.ITIMER_REAL, limit)
        try:
            compiled = compile_schema(
                case.schema, draft=draft, time_limit=0.85 * limit, **{**options, **case.options}
            )
        except Exception as error:  # noqa: BLE001 - classified below, once the timer is off
            failure = error
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except Timeout as late:  # the alarm rang between the compile's end and the timer's stop
        failure = failure or late
    elapsed = time.perf_counter() - start
    if isinstance(failure, Timeout):
        return Outcome(case.name, "timeout", None, f"compile exceeded {limit}s")
    if isinstance(failure, StructgenError):
        return Outcome(case.name, "compile-error", elapsed, f"{type(failure).__name__}: {failure}")
    if failure is not None:  # a bug: reported, not fatal for the run
        detail = "".join(traceback.format_exception_only(type(failure), failure)).strip()
        return Outcome(case.name, "crash", elapsed, detail)
    outcome = Outcome(case.name, "pass", elapsed)
    if not case.tests:
        return outcome
    try:
        signal.setitimer(signal.ITIMER_REAL, max(10.0, 20 * limit))
        matcher = Matcher(compiled.grammar)
        for test in case.tests:
            text = json.dumps(test["data"], ensure_ascii=False)
            accepted = matcher.fullmatch(text)
            if test["valid"] and not accepted:
                outcome.rejected_valid += 1
                if not outcome.detail:
                    outcome.detail = f"rejected valid {text[:200]}"
            elif not test["valid"] and accepted:
                outcome.accepted_invalid += 1
                if not outcome.detail:
                    outcome.detail = f"accepted invalid {text[:200]}"
    except Timeout:
        return Outcome(case.name, "crash", elapsed, "matching timed out")
    except Exception as error:  # noqa: BLE001 - a grammar the matcher refuses counts as a crash
        detail = "".join(traceback.format_exception_only(type(error), error)).strip()
        return Outcome(case.name, "crash", elapsed, f"matching failed: {detail}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    if outcome.rejected_valid:
        outcome.status = "validation-error"
    elif outcome.accepted_invalid:
        outcome.status = "invalidation-error"
    return outcome


def score(
    split: str, cases: list[Case], options: dict[str, Any], limit: float, draft: int | None
) -> SplitResult:
    result = SplitResult(split)
    for case in cases:
        outcome = run_case(case, options, limit, draft)
        result.total += 1
        if outcome.compile_seconds is not None:
            result.compile_times.append(outcome.compile_seconds)
        if outcome.status == "pass":
            result.passes += 1
            continue
        result.failures.append(outcome)
        if outcome.status in ("compile-error", "timeout", "crash"):
            result.compile_errors += 1
            result.timeouts += outcome.status == "timeout"
            result.crashes += outcome.status == "crash"
            result.errors_by_kind[outcome.detail.split(":", 1)[0]] += 1
        if outcome.rejected_valid:
            result.validation_errors += 1
        if outcome.accepted_invalid:
            result.invalidation_errors += 1
    return result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=HERE.parent.parent / "shared" / "corpus")
    parser.add_argument("--split", action="append", help="a split name (repeatable); default: all")
    parser.add_argument("--json", type=Path, help="write the full results here")
    parser.add_argument("--limit", type=int, help="only the first N schemas of each split")
    parser.add_argument("--timeout", type=float, default=1.0, help="per-schema compile time limit (s)")
    parser.add_argument("--whitespace", default="flexible", choices=["compact", "flexible", "pretty"])
    parser.add_argument("--any-order", action="store_true", help="let small objects take any key order")
    parser.add_argument("--failures", type=int, default=0, help="print up to N failures per split")
    args = parser.parse_args(argv)
    corpus: Path = args.corpus
    if not corpus.is_dir():
        corpus = Path("/work/shared/corpus")
    if not corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    options = {"whitespace": args.whitespace, "any_order": args.any_order}
    splits = args.split or MASKBENCH_SPLITS + SUITE_SPLITS
    results: list[SplitResult] = []
    header = (
        f"{'split':<16}{'schemas':>8}{'pass':>7}{'pass%':>7}{'compile':>8}{'valid':>7}{'invalid':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}  LLGuidance"
    )
    print(header)
    all_times: list[float] = []
    for split in splits:
        if split in SUITE_SPLITS:
            cases = suite_cases(corpus, split)
            draft = 2020 if split == "draft2020-12" else 7
        else:
            cases = maskbench_cases(corpus, split)
            draft = None
        if args.limit:
            cases = cases[: args.limit]
        result = score(split, cases, options, args.timeout, draft)
        results.append(result)
        all_times.extend(result.compile_times)
        share = 100 * result.passes / result.total if result.total else 0.0
        print(
            f"{split:<16}{result.total:>8}{result.passes:>7}{share:>6.1f}%{result.compile_errors:>8}"
            f"{result.validation_errors:>7}{result.invalidation_errors:>8}"
            f"{1000 * percentile(result.compile_times, 50):>8.1f}{1000 * percentile(result.compile_times, 99):>8.1f}"
            f"  {LLGUIDANCE.get(split, '')}",
            flush=True,
        )
        for failure in result.failures[: args.failures]:
            print(f"    {failure.status:<19} {failure.name}: {failure.detail[:300]}")
    print(
        f"compile time over all schemas: p50 {1000 * percentile(all_times, 50):.1f} ms, "
        f"p99 {1000 * percentile(all_times, 99):.1f} ms, max {1000 * max(all_times or [0]):.1f} ms"
    )
    if args.json:
        payload = []
        for result in results:
            data = asdict(result)
            data["p50_ms"] = 1000 * percentile(result.compile_times, 50)
            data["p99_ms"] = 1000 * percentile(result.compile_times, 99)
            data["compile_times"] = None
            data["errors_by_kind"] = dict(result.errors_by_kind)
            payload.append(data)
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
