"""The schema support matrix, from the compiler's own keyword table and its compile reports.

Rows are the keywords of ``structgen.schema.keywords.KEYWORDS`` (plus the sibling keywords read by
their parent). Each keyword's example cases (:mod:`structgen_docs.keyword_cases`) are compiled; every
instance is matched against the grammar and validated with python-jsonschema, so an example that
disagrees with the compiler fails the strict build. The status of a keyword:

- *enforced*: no example is reported and the compiler's source never reports the keyword;
- *partly*: enforced in the common cases, reported in some (an example shows it, or the source names it);
- *reported*: every example is reported (the grammar does not enforce it; validation does).

The places where the compiler may report a keyword are read from its source (calls that name a keyword
and a reason), so the limits listed on the page follow the code.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .context import ROOT, capture, warn
from .keyword_cases import CASES, FORMAT_EXAMPLES, Case, Keyword

DRAFT_NAMES = {4: "4", 6: "6", 7: "7", 2019: "2019-09", 2020: "2020-12"}
STATUS_TEXT = {
    "enforced": "enforced",
    "partly": "partly",
    "reported": "reported",
}
ICON = {True: "✓", False: "✗"}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _code(text: str) -> str:
    """An inline code span that survives backticks (pipes inside code spans do not split table cells)."""
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plain(text: str) -> str:
    """Prose from the compiler (reasons) with markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]<>{}#|])", r"\\\1", text)


def _slug(keyword: str) -> str:
    return "kw-" + "".join(ch if ch.isalnum() else "-" for ch in keyword.lstrip("$")).lower()


# -- the compiler's own tables ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    keywords: tuple[str, ...]
    siblings: frozenset[str]
    drafts: dict[int, frozenset[str]]
    standard_formats: frozenset[str]


def compiler_tables() -> Tables:
    from structgen.schema import keywords

    return Tables(
        tuple(keywords.KEYWORDS),
        frozenset(getattr(keywords, "SIBLING_KEYWORDS", frozenset())),
        dict(keywords.DRAFT_KEYWORDS),
        frozenset(getattr(keywords, "STANDARD_FORMATS", frozenset())),
    )


@dataclass(frozen=True)
class Site:
    """A place in the compiler's source that reports a keyword."""

    keyword: str
    severity: str
    reason: str
    where: str


_SEVERITY = {
    "loosened": "loosened",
    "add_constraint": "loosened",  # a step raising Inexpressible loosens its keyword
    "_dependencies": "loosened",
    "Inexpressible": "loosened",
    "add_step": "loosened",
    "add_late_step": "loosened",
    "restricted": "restricted",
    "ignored": "ignored",
}


def _reason_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("…")
        return "".join(parts)
    return None


@lru_cache(maxsize=1)
def report_sites(known: frozenset[str]) -> tuple[Site, ...]:
    """Every call in ``structgen/schema`` that reports a keyword by name, with its reason."""
    sites: list[Site] = []
    for path in sorted((ROOT / "structgen" / "schema").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            severity = _SEVERITY.get(name)
            if severity is None:
                continue
            named: list[str] = []
            reasons: list[str] = []
            for arg in node.args:
                constants = [
                    c.value for c in ast.walk(arg) if isinstance(c, ast.Constant) and isinstance(c.value, str)
                ]
                keywords = [c for c in constants if c in known]
                if keywords and (isinstance(arg, (ast.Constant, ast.IfExp))):
                    named += keywords
                    continue
                text = _reason_text(arg)
                if text is not None:
                    reasons.append(text)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            if name in ("add_constraint", "_dependencies"):
                fallback = "when the combination cannot be expressed (see below)"
            else:
                fallback = "for a reason worked out while compiling (see the examples)"
            for keyword in named:
                reason = "; ".join(r for r in reasons if r not in known) or fallback
                sites.append(Site(keyword, severity, reason, where))
    return tuple(sites)


@lru_cache(maxsize=1)
def inexpressible_reasons() -> tuple[str, ...]:
    """The messages of ``Inexpressible``: combinations that applicators report instead of enforcing."""
    out: list[str] = []
    for path in sorted((ROOT / "structgen" / "schema").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Inexpressible"
                and node.args
            ):
                text = _reason_text(node.args[0])
                if text and text not in out:
                    out.append(text)
    return tuple(out)


# -- running the examples --------------------------------------------------------------------------


@dataclass
class Checked:
    """One instance of a case: what the grammar did, and whether that agrees with the schema."""

    text: str
    valid: bool
    accepted: bool


@dataclass
class CaseResult:
    case: Case
    report: list[Any] = field(default_factory=list)
    instances: list[Checked] = field(default_factory=list)
    error: str | None = None
    grammar_size: int = 0
    validator_mismatch: list[str] = field(default_factory=list)

    def items_for(self, keywords: tuple[str, ...], severity: str) -> list[Any]:
        return [i for i in self.report if i.keyword in keywords and i.severity == severity]


def _validator(schema: Any) -> Any:
    from jsonschema.validators import Draft202012Validator, validator_for  # type: ignore[import-untyped]

    cls = validator_for(schema, default=Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def run_case(keyword: str, case: Case) -> CaseResult:
    import structgen
    from structgen.gbnf import Matcher

    result = CaseResult(case)
    try:
        compiled = structgen.compile(case.schema)
    except Exception as error:  # noqa: BLE001 - shown on the page and warned about
        result.error = f"{type(error).__name__}: {error}"
        warn(f"matrix: the {keyword} example {case.title!r} does not compile: {result.error}")
        return result
    result.report = list(compiled.report)
    result.grammar_size = len(compiled.grammar)
    matcher = Matcher(compiled.grammar)
    validator = compiled.validator()  # the validation after generation
    for expected, texts in ((True, case.valid), (False, case.invalid)):
        for text in texts:
            valid = validator.is_valid(json.loads(text))
            if valid != expected:
                result.validator_mismatch.append(text)
            if valid != expected and case.plain_json_schema:
                warn(f"matrix: {keyword} example {case.title!r}: {text} is {'valid' if valid else 'invalid'} "
                     f"per python-jsonschema, but listed as {'valid' if expected else 'invalid'}")
            result.instances.append(Checked(text, expected, matcher.fullmatch(text)))
    return result


@dataclass
class Row:
    keyword: str
    spec: Keyword | None
    drafts: str
    results: list[CaseResult]
    sites: list[Site]
    status: str
    notes: list[str]


def _drafts(keyword: str, tables: Tables, spec: Keyword | None) -> str:
    if spec is not None and spec.drafts:
        return spec.drafts
    names = [DRAFT_NAMES.get(d, str(d)) for d in sorted(tables.drafts) if keyword in tables.drafts[d]]
    if len(names) == len(tables.drafts):
        return "all"
    return ", ".join(names) or "—"


def _disagreements(result: CaseResult) -> list[str]:
    """Where the grammar disagrees with the schema without the report saying so."""
    loosened = any(i.severity == "loosened" for i in result.report)
    restricted = any(i.severity == "restricted" for i in result.report)
    out = []
    for item in result.instances:
        if item.valid and not item.accepted and not restricted:
            out.append(f"the grammar rejects the valid {item.text}")
        if not item.valid and item.accepted and not loosened:
            out.append(f"the grammar accepts the invalid {item.text} and the report is silent")
    return out


def _check_agreement(keyword: str, result: CaseResult) -> None:
    problems = _disagreements(result)
    name = f"matrix: {keyword} example {result.case.title!r}"
    if result.case.known_issue is not None:
        if not problems and not result.validator_mismatch and result.error is None:
            warn(f"{name}: the known issue no longer shows; remove its note from keyword_cases.py")
        return
    for problem in problems:
        warn(f"{name}: {problem}")


def build_rows() -> tuple[list[Row], list[str]]:
    """The rows of the matrix, and keywords the examples cover that the compiler does not know."""
    tables = compiler_tables()
    names = list(tables.keywords) + sorted(tables.siblings - set(tables.keywords))
    known = frozenset(names)
    by_keyword: dict[str, list[Site]] = defaultdict(list)
    for site in report_sites(known):
        by_keyword[site.keyword].append(site)
    rows: list[Row] = []
    for keyword in names:
        spec = CASES.get(keyword)
        counted = (spec.reported_as if spec and spec.reported_as else (keyword,))
        results = [run_case(keyword, case) for case in spec.cases] if spec else []
        if spec is None:
            warn(f"matrix: the compiler knows {keyword!r} but docs/gen/structgen_docs/keyword_cases.py "
                 "has no example for it")
        for result in results:
            _check_agreement(keyword, result)
        sites = [s for k in counted for s in by_keyword.get(k, [])]
        loose = [bool(r.items_for(counted, "loosened")) for r in results if r.error is None]
        if loose and all(loose):
            status = "reported"
        elif any(loose) or any(s.severity == "loosened" for s in sites):
            status = "partly"
        elif results or spec is not None:
            status = "enforced"
        else:
            status = "partly" if sites else "enforced"
        notes: list[str] = []
        if any(r.items_for(counted, "restricted") for r in results) or any(s.severity == "restricted" for s in sites):
            notes.append("some valid spellings left out")
        if any(r.items_for(counted, "ignored") for r in results):
            notes.append("some values ignored")
        rows.append(Row(keyword, spec, _drafts(keyword, tables, spec), results, sites, status, notes))
    stray = sorted(set(CASES) - known)
    for keyword in stray:
        warn(f"matrix: keyword_cases.py has examples for {keyword!r}, which the compiler's table does not list")
    return rows, stray


# -- rendering -------------------------------------------------------------------------------------


def _headline(row: Row) -> str:
    if not row.results:
        return ""
    return _code(_json(row.results[0].case.schema))


def _summary_table(rows: list[Row]) -> list[str]:
    out = [
        "| Keyword | Drafts | Grammar | Headline example | Notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        notes = list(row.notes)
        if row.spec is not None and row.spec.see:
            notes.insert(0, f"read with [`{row.spec.see}`](#{_slug(row.spec.see)})")
        out.append(
            f"| [`{row.keyword}`](#{_slug(row.keyword)}) | {row.drafts} | **{STATUS_TEXT[row.status]}** | "
            f"{_headline(row)} | {'; '.join(notes)} |"
        )
    return out


def _case_block(result: CaseResult) -> list[str]:
    case = result.case
    out = [f"*{case.title}*", "", "```json", _json(case.schema), "```", ""]
    if result.error is not None:
        return out + [f"Compile error: {_code(result.error)}", ""]
    accepted = [i for i in result.instances if i.valid and i.accepted]
    refused_valid = [i for i in result.instances if i.valid and not i.accepted]
    rejected = [i for i in result.instances if not i.valid and not i.accepted]
    let_through = [i for i in result.instances if not i.valid and i.accepted]
    if accepted:
        out.append("- grammar accepts: " + ", ".join(_code(i.text) for i in accepted))
    if rejected:
        out.append("- grammar rejects: " + ", ".join(_code(i.text) for i in rejected))
    if let_through:
        out.append("- grammar accepts, validation after generation rejects: "
                   + ", ".join(_code(i.text) for i in let_through))
    if refused_valid:
        out.append("- valid, but this spelling is left out by the grammar: "
                   + ", ".join(_code(i.text) for i in refused_valid))
    if case.known_issue is not None:
        out.append(f"- **known issue**: {case.known_issue}")
    if result.report:
        out.append("- report: " + "; ".join(
            _code(f"{item.pointer or '/'}: {item.keyword}: {item.reason}") + f" ({item.severity})"
            for item in result.report))
    else:
        out.append("- report: empty (the grammar enforces the whole schema)")
    return out + [""]


def _details(row: Row) -> list[str]:
    out = [f"### `{row.keyword}` {{ #{_slug(row.keyword)} }}", ""]
    out.append(f"**{STATUS_TEXT[row.status]}** · drafts: {row.drafts}")
    out.append("")
    for result in row.results:
        out += _case_block(result)
    loosened = [s for s in row.sites if s.severity == "loosened"]
    restricted = [s for s in row.sites if s.severity == "restricted"]
    if loosened or restricted:
        out.append("Where the compiler reports it (from its source):")
        out.append("")
        seen: set[tuple[str, str]] = set()
        for site in loosened + restricted:
            if (site.keyword, site.reason) in seen:
                continue
            seen.add((site.keyword, site.reason))
            label = "left out spellings" if site.severity == "restricted" else "reported"
            out.append(f"- {label}: {_plain(site.reason)} (`{site.where.split(':')[0]}`)")
        out.append("")
    return out


def _formats() -> list[str]:
    tables = compiler_tables()
    try:
        from structgen.schema.regular import FORMAT_NOTES, FORMAT_SUPERSETS, KNOWN_FORMATS
    except ImportError:
        from structgen.schema.strings import format_known

        KNOWN_FORMATS = frozenset(f for f in tables.standard_formats if format_known(f))
        FORMAT_NOTES, FORMAT_SUPERSETS = {}, frozenset()
    from structgen.schema.regular import format_language

    out = [
        "| Format | Grammar | Accepts | Rejects | Notes |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in sorted(tables.standard_formats | set(KNOWN_FORMATS)):
        if name in KNOWN_FORMATS:
            status = "enforced, looser than the RFC" if name in FORMAT_SUPERSETS else "enforced"
        else:
            status = "reported"
        accepts = rejects = ""
        example = FORMAT_EXAMPLES.get(name)
        language = format_language(name) if name in KNOWN_FORMATS else None
        if example is not None and language is not None:
            validator = _validator({"type": "string", "format": name})
            good, bad = (_json(value) for value in example)
            if not language.matches(example[0]):
                warn(f"matrix: format {name}: its language rejects the example {good}")
            if language.matches(example[1]) and name not in FORMAT_SUPERSETS:
                warn(f"matrix: format {name}: its language accepts the bad example {bad}")
            checker = validator.format_checker
            judged = checker is not None and name in checker.checkers
            if judged and (not validator.is_valid(example[0]) or validator.is_valid(example[1])):
                warn(f"matrix: format {name}: python-jsonschema disagrees with the examples {example}")
            accepts, rejects = _code(good), _code(bad)
        elif example is None and name in KNOWN_FORMATS:
            warn(f"matrix: format {name} has a grammar but no example in keyword_cases.FORMAT_EXAMPLES")
        notes = _plain(FORMAT_NOTES.get(name, ""))
        if name not in KNOWN_FORMATS:
            notes = "no grammar: any string is accepted and validation checks it"
        out.append(f"| `{name}` | **{status}** | {accepts} | {rejects} | {notes} |")
    out += [
        "",
        (
            "The format examples are checked against each format's regular language, from which the compiler "
            "writes the grammar (the grammars of the URI and e-mail formats are too large to match quickly in "
            "Python); the [`format`](#kw-format) examples below go through the grammar itself. Any other "
            "format name is unknown: it is recorded in the report as *ignored* and not checked."
        ),
    ]
    return out


def _cache_key() -> str:
    """A digest of everything the matrix depends on: the compiler, the GBNF layer, the examples."""
    from importlib.metadata import version

    digest = hashlib.sha256(f"{sys.version}|{version('jsonschema')}|{version('pydantic')}".encode())
    package = ROOT / "structgen"
    sources = [
        *sorted((package / "schema").rglob("*.py")),
        *sorted(p for p in (package / "gbnf").rglob("*") if p.suffix in (".py", ".lark")),
        *sorted(package.glob("*.py")),
        *sorted(Path(__file__).parent.glob("*.py")),
    ]
    for path in sources:
        if path.parent.name == "__pycache__":
            continue
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:32]


def render() -> str:
    """The matrix, from a cache keyed by the sources when they have not changed since the last build.

    Warnings of the build that filled the cache are issued again. ``STRUCTGEN_DOCS_CACHE=0`` turns the
    cache off; ``STRUCTGEN_DOCS_CACHE=DIR`` puts it elsewhere than the temporary directory.
    """
    setting = os.environ.get("STRUCTGEN_DOCS_CACHE", "")
    if setting == "0":
        return _render()
    folder = Path(setting) if setting else Path(tempfile.gettempdir()) / "structgen-docs-cache"
    path = folder / f"matrix-{_cache_key()}.json"
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        for message in cached["warnings"]:
            warn(message)
        return str(cached["markdown"])
    except (OSError, ValueError, KeyError):
        pass
    with capture() as warnings:
        markdown = _render()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps({"markdown": markdown, "warnings": warnings}), encoding="utf-8")
        temporary.replace(path)
        for old in sorted(folder.glob("matrix-*.json"), key=lambda p: p.stat().st_mtime)[:-8]:
            old.unlink(missing_ok=True)
    except OSError:
        pass
    return markdown


def _render() -> str:
    """The markdown of the whole matrix (summary, formats, per-keyword details)."""
    rows, _ = build_rows()
    counts = {status: sum(1 for r in rows if r.status == status) for status in STATUS_TEXT}
    out = [
        (
            f"{len(rows)} keywords: **{counts['enforced']} enforced**, **{counts['partly']} partly**, "
            f"**{counts['reported']} reported**."
        ),
        "",
        *_summary_table(rows),
        "",
        "## Formats",
        "",
        *_formats(),
        "",
        "## Combinations the grammar cannot express",
        "",
        (
            "Applicators (`allOf`, `anyOf`, `oneOf`, `not`, `if`, the dependency keywords) intersect and "
            "subtract whole sub-schemas. When the result cannot be written as a grammar, the compiler keeps "
            "the looser side and reports the keyword. These are the cases its source names:"
        ),
        "",
        *[f"- {_plain(reason)}" for reason in inexpressible_reasons()],
        "",
        "## Keyword by keyword",
        "",
    ]
    for row in rows:
        out += _details(row)
    return "\n".join(out) + "\n"
