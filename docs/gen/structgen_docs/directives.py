"""The directives pages may use, ``<!-- gen:NAME ARG... -->`` on a line of its own, and their expansion.

A directive is either bare (the build replaces the line with its output) or a block: the directive
line, the output as it was generated when the page was last refreshed, and a line ``<!-- /gen -->``.
A block keeps the output readable in the repository; the build replaces the whole block with fresh
output, and ``docs/gen/refresh.py`` rewrites the committed output (:func:`refresh`, :func:`stale`).

=================== =====================================================================================
``schema-matrix``    the schema support matrix (:mod:`structgen_docs.matrix`)
``cli-status``       the CLI's exit statuses and its commands, linked to their sections
``cli-help CMD..``   ``structgen CMD.. --help`` at 80 columns (:mod:`structgen_docs.cli_reference`)
``cli-run ARG..``    ``structgen ARG..`` run at build time, with its output (``stdin=TEXT`` feeds it)
``readme-section T`` the section of README.md under the heading ``## T``, verbatim
``readme-commands N T`` the N-th sh block of README.md's section ``## T``, wrapped at 80 columns
``file PATH [LANG]`` a repository file as a code block
``grammar NAME``     a library grammar (``grammars/NAME.gbnf``) as a code block
``grammar-examples`` the example texts of a library grammar, each checked with the matcher
``grammar-list``     the library grammars with their one-line descriptions
``docstring DOTTED`` the docstring of a module, class or function (read from source)
``signature DOTTED`` the signature of a function or class
``members DOTTED``   the public methods and properties of a class, with signatures and docstrings
``endpoints DOTTED`` a table: each public method of a client class and the HTTP endpoint it calls
``fields DOTTED``    a table of the fields and properties of a dataclass or model
``errors DOTTED``    the tree of exception classes under a base class (read from source)
``compile 'JSON' ..`` the grammar and report of a schema, compiled at build time (options as key=JSON)
``checker-codes``    every diagnostic code of the GBNF checker, read from its source
``bench-results``    each JSON file under bench/results/: its command, and the file itself, collapsed
=================== =====================================================================================
"""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import cli_reference, matrix
from .context import ROOT, DirectiveError, warn
from .source import class_signature, fields, find, members, rst_to_md, signature, summary

DIRECTIVE = re.compile(r"^<!-- gen:(?P<name>[a-z-]+)(?P<args>[^\n]*?)\s*-->[ \t]*$", re.MULTILINE)

Handler = Callable[[list[str]], str]
HANDLERS: dict[str, Handler] = {}


def directive(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


CLOSE = "<!-- /gen -->"
_CLOSE = re.compile(r"^<!-- /gen -->[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class Found:
    """A directive in a page: bare, or a block with the output committed between it and ``CLOSE``."""

    line: str
    """The directive's line, as written."""
    name: str
    """The directive's name, ``cli-help`` in ``<!-- gen:cli-help check -->``."""
    args: str
    """The rest of the directive, unsplit."""
    start: int
    """Where the directive's line starts in the page."""
    end: int
    """Where the directive ends: after its line when bare, after ``CLOSE`` for a block."""
    body: str | None
    """The committed output of a block, without the blank lines around it; None when bare."""


def find_all(markdown: str, page: str) -> list[Found]:
    """The directives of a page, in order; a ``CLOSE`` ends the directive right before it."""
    marks = sorted([*DIRECTIVE.finditer(markdown), *_CLOSE.finditer(markdown)], key=lambda m: m.start())
    found: list[Found] = []
    for index, mark in enumerate(marks):
        if mark.re is _CLOSE:
            if index == 0 or marks[index - 1].re is _CLOSE:
                line = markdown.count("\n", 0, mark.start()) + 1
                raise DirectiveError(f"{page}:{line}: {CLOSE} with no gen: directive before it")
            continue
        after = marks[index + 1] if index + 1 < len(marks) else None
        block = after is not None and after.re is _CLOSE
        found.append(
            Found(
                line=mark.group(0),
                name=mark.group("name"),
                args=mark.group("args"),
                start=mark.start(),
                end=after.end() if after is not None and block else mark.end(),
                body=markdown[mark.end() : after.start()].strip("\n") if after is not None and block else None,
            )
        )
    return found


def generate(found: Found, page: str) -> str:
    """The output of a directive now."""
    handler = HANDLERS.get(found.name)
    if handler is None:
        raise DirectiveError(f"{page}: unknown directive gen:{found.name} (known: {', '.join(sorted(HANDLERS))})")
    try:
        args = shlex.split(found.args)
    except ValueError as error:
        raise DirectiveError(f"{page}: gen:{found.name}: {error}") from None
    try:
        return handler(args).rstrip("\n")
    except DirectiveError as error:
        raise DirectiveError(f"{page}: gen:{found.name}: {error}") from None


def _rewrite(markdown: str, page: str, text: Callable[[Found], str | None]) -> str:
    """``markdown`` with each directive for which ``text`` gives a string replaced by that string."""
    out: list[str] = []
    done = 0
    for found in find_all(markdown, page):
        replacement = text(found)
        if replacement is not None:
            out += [markdown[done : found.start], replacement]
            done = found.end
    return "".join(out) + markdown[done:]


def expand(markdown: str, page: str) -> str:
    """``markdown`` with every directive, bare or block, replaced by its output now (for the site)."""
    return _rewrite(markdown, page, lambda found: generate(found, page))


def block(found: Found, output: str) -> str:
    """A directive as a block holding ``output``, blank lines around it so that any markdown renders it."""
    return f"{found.line}\n\n{output.strip(chr(10))}\n\n{CLOSE}"


def refresh(markdown: str, page: str, fill: bool = False, keep: frozenset[str] = frozenset()) -> str:
    """``markdown`` with the output of every block generated again; ``fill`` makes bare directives blocks.
    Directives named in ``keep`` are left as they are."""

    def text(found: Found) -> str | None:
        if found.name in keep or not (fill or found.body is not None):
            return None
        return block(found, generate(found, page))

    return _rewrite(markdown, page, text)


def stale(markdown: str, page: str, keep: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    """``(directive line, committed output, output now)`` for each block whose two outputs differ
    (directives named in ``keep`` left out)."""
    out: list[tuple[str, str, str]] = []
    for found in find_all(markdown, page):
        if found.body is not None and found.name not in keep:
            now = generate(found, page).strip("\n")
            if now != found.body:
                out.append((found.line, found.body, now))
    return out


def _one(args: list[str], what: str) -> str:
    if len(args) != 1:
        raise DirectiveError(f"expects one argument ({what}), got {args}")
    return args[0]


def _fence(text: str, language: str = "text", title: str | None = None) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    head = f'{ticks}{language}' + (f' title="{title}"' if title else "")
    return f"{head}\n{text.rstrip()}\n{ticks}"


def _code(text: str) -> str:
    return matrix._code(text)


def _esc(text: str) -> str:
    """Text for a table cell."""
    return text.replace("|", "\\|")


def _plain(text: str) -> str:
    """Prose from the code (messages, reasons) with markdown's special characters escaped."""
    return re.sub(r"([\\`*_\[\]<>{}#|])", r"\\\1", text)


# -- generated reference pages ---------------------------------------------------------------------


@directive("schema-matrix")
def _schema_matrix(args: list[str]) -> str:
    return matrix.render()


@directive("cli-status")
def _cli_status(args: list[str]) -> str:
    names = cli_reference.commands()
    links = ", ".join(f"[`{name}`](#structgen-{name})" for name in names)
    return f"{cli_reference.exit_status()}\n\nCommands: {links}."


@directive("cli-help")
def _cli_help(args: list[str]) -> str:
    return cli_reference.help_text(args)


@directive("cli-run")
def _cli_run(args: list[str]) -> str:
    stdin = None
    if args and args[0].startswith("stdin="):
        stdin = args.pop(0)[len("stdin="):] + "\n"
    return cli_reference.run(args, stdin)


# -- files -----------------------------------------------------------------------------------------


def _read(relative: str) -> str:
    path = (ROOT / relative).resolve()
    if ROOT not in path.parents or not path.is_file():
        raise DirectiveError(f"no file {relative} in the repository")
    return path.read_text(encoding="utf-8")


@directive("readme-section")
def _readme_section(args: list[str]) -> str:
    title = " ".join(args)
    lines = _read("README.md").splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == f"## {title}"), None)
    if start is None:
        raise DirectiveError(f"README.md has no section '## {title}'")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1 : end]).strip("\n")


def wrap_command(command: str, width: int = 80) -> str:
    """A one-line shell command as lines of at most ``width`` columns ending in `` \\``: a break after
    every ``&&``, more between words where needed (inside double quotes too: sh removes the break)."""
    if "'" in command:
        raise DirectiveError(f"cannot wrap a command with single quotes: {command}")
    out: list[str] = []
    line = ""
    assignment = False  # inside VAR="...": the command after it starts a line of its own
    for word in command.split(" "):
        assignment = assignment or bool(re.match(r'[A-Za-z_]+="', word))
        if line and len(line) + 1 + len(word) + 2 > width:
            out.append(line + " \\")
            line = "    " + word
        else:
            line = f"{line} {word}" if line.strip() else line + word
        if word == "&&" or (assignment and word.endswith('"')):
            out.append(line + " \\")
            line = "  "
            assignment = False
    out.append(line)
    too_long = [text for text in out if len(text) > width]
    if too_long:
        raise DirectiveError(f"a word of the command is longer than {width} columns: {too_long[0]}")
    return "\n".join(out)


@directive("readme-commands")
def _readme_commands(args: list[str]) -> str:
    if len(args) < 2 or not args[0].isdigit():
        raise DirectiveError("expects N TITLE: the N-th sh block (1-based) of README.md's section ## TITLE")
    section = _readme_section(args[1:])
    blocks = re.findall(r"```sh\n(.+?)\n```", section, flags=re.DOTALL)
    number = int(args[0])
    if not 1 <= number <= len(blocks):
        raise DirectiveError(f"README.md's section {' '.join(args[1:])!r} has {len(blocks)} sh blocks, not {number}")
    # 76, not 80: the copy button sits at the right end of the block
    return _fence("\n".join(wrap_command(line, 76) for line in blocks[number - 1].splitlines()), "sh")


@directive("file")
def _file(args: list[str]) -> str:
    if not 1 <= len(args) <= 2:
        raise DirectiveError("expects PATH [LANGUAGE]")
    language = args[1] if len(args) > 1 else {".py": "python", ".gbnf": "ebnf", ".json": "json"}.get(
        Path(args[0]).suffix, "text"
    )
    return _fence(_read(args[0]), language, args[0])


@directive("grammar")
def _grammar(args: list[str]) -> str:
    name = _one(args, "a library grammar name")
    return _fence(_read(f"grammars/{name}.gbnf"), "ebnf", f"grammars/{name}.gbnf")


@directive("grammar-list")
def _grammar_list(args: list[str]) -> str:
    from structgen import grammars

    rows = ["| Name | What it accepts |", "| --- | --- |"]
    for name in grammars.names():
        rows.append(f"| `{name}` | {_esc(grammars.describe(name))} |")
    return "\n".join(rows)


@directive("grammar-examples")
def _grammar_examples(args: list[str]) -> str:
    from structgen.gbnf import Matcher

    name = _one(args, "a library grammar name")
    folder = ROOT / "grammars" / "examples" / name
    if not folder.is_dir():
        raise DirectiveError(f"no examples folder grammars/examples/{name}")
    matcher = Matcher(_read(f"grammars/{name}.gbnf"))
    table = ["| Example | Text | Matcher |", "| --- | --- | --- |"]
    blocks: list[str] = []
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        expected = path.name.startswith("match-")
        result = matcher.match(text)
        if result.matched != expected:
            warn(f"grammar {name}: the matcher {'rejects' if expected else 'accepts'} examples/{path.name}")
        verdict = "accepted" if result.matched else f"rejected: {_code(result.describe())}"
        if "\n" in text or len(text) > 70:
            blocks += [f"`{path.name}`: {verdict}", "", _fence(text), ""]
        else:
            table.append(f"| `{path.name}` | {_code(text) if text else '(empty)'} | {_esc(verdict)} |")
    out = table if len(table) > 2 else []
    return "\n".join(out + [""] + blocks)


# -- source ----------------------------------------------------------------------------------------


@directive("docstring")
def _docstring(args: list[str]) -> str:
    if not args or len(args) > 2 or (len(args) == 2 and args[1] != "summary"):
        raise DirectiveError("expects DOTTED [summary]")
    doc = find(args[0]).docstring
    if not doc:
        raise DirectiveError(f"{args[0]} has no docstring")
    return summary(doc) if len(args) == 2 else rst_to_md(doc)


def _signature_of(dotted: str) -> str:
    found = find(dotted)
    node = found.node
    if isinstance(node, ast.ClassDef):
        return class_signature(node)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return signature(node)
    raise DirectiveError(f"{dotted} is a module, not a function or class")


@directive("signature")
def _signature(args: list[str]) -> str:
    return _fence(_signature_of(_one(args, "a function or class")), "python")


@directive("members")
def _members(args: list[str]) -> str:
    if not args:
        raise DirectiveError("expects DOTTED [level=N] [skip=a,b]")
    options = dict(arg.split("=", 1) for arg in args[1:])
    level = "#" * int(options.get("level", "3"))
    skip = set(filter(None, options.get("skip", "").split(",")))
    out: list[str] = []
    for member in members(find(args[0])):
        if member.name in skip:
            continue
        out += [f"{level} `{member.name}`", "", _fence(member.signature, "python"), ""]
        if member.doc:
            out += [rst_to_md(member.doc), ""]
    return "\n".join(out)


_PATH = re.compile(r"""["'](/[a-z][a-z-]*)["']""")


def _http(member_source: str, by_name: dict[str, str]) -> str:
    """The HTTP method and path a client method calls, read from its body."""
    paths = _PATH.findall(member_source)
    if paths:
        verb = "GET" if re.search(r"""["']GET["']""", member_source) else "POST"
        return f"`{verb} {paths[0]}`"
    for name, endpoint in by_name.items():
        if endpoint and re.search(rf"\.{name}\(", member_source):
            return endpoint
    return ""


@directive("endpoints")
def _endpoints(args: list[str]) -> str:
    found = find(_one(args, "a client class"))
    found_members = [m for m in members(found) if m.kind == "method"]
    by_name: dict[str, str] = {}
    for _ in range(2):  # methods that call other methods take their endpoint
        for member in found_members:
            by_name[member.name] = _http(member.source, by_name)
    rows = ["| Method | Endpoint | What it does |", "| --- | --- | --- |"]
    for member in found_members:
        rows.append(f"| `{member.name}` | {by_name[member.name] or '—'} | {_esc(summary(member.doc))} |")
    return "\n".join(rows)


def _short_default(text: str) -> str:
    """A field default as a reader thinks of it: ``Field(default_factory=list)`` is ``[]``."""
    made = re.search(r"default_factory=lambda:\s*(.+)\)$", text)
    if made:
        return made.group(1)
    factory = re.search(r"default_factory=(\w+)", text)
    if factory:
        return {"list": "[]", "dict": "{}", "set": "set()", "tuple": "()"}.get(factory.group(1), factory.group(1) + "()")
    positional = re.match(r"Field\(([^,=()]+)[,)]", text)
    return positional.group(1) if positional else text


@directive("fields")
def _fields(args: list[str]) -> str:
    found = find(_one(args, "a dataclass or model"))
    rows = ["| Field | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    typed_dict = isinstance(found.node, ast.ClassDef) and any(
        ast.unparse(base).endswith("TypedDict") for base in found.node.bases
    )
    for item in fields(found):
        if typed_dict:
            default = "optional"
        elif item.default == "(property)":
            default = "(property)"
        elif item.default is None:
            default = "required"
        else:
            default = _code(_short_default(item.default))
        meaning = summary(item.doc)
        if not meaning.strip():
            raise DirectiveError(
                f"{found.module}.{found.node.name}.{item.name} has no docstring: put a string literal on the"  # type: ignore[union-attr]
                " line after the field (a docstring for a property)"
            )
        rows.append(f"| `{item.name}` | {_code(item.annotation) if item.annotation else ''} | {default} | {_esc(meaning)} |")
    return "\n".join(['<div class="fields" markdown>', "", *rows, "", "</div>"])


@directive("compile")
def _compile(args: list[str]) -> str:
    """``compile 'SCHEMA-JSON' [option=JSON-value ...]``: the grammar and report structgen makes of it."""
    import structgen

    if not args:
        raise DirectiveError("expects a schema as JSON text, then option=value pairs")
    try:
        schema = json.loads(args[0])
    except ValueError as error:
        raise DirectiveError(f"the schema is not JSON: {error}") from None
    options: dict[str, Any] = {}
    for arg in args[1:]:
        key, _, value = arg.partition("=")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value  # a bare word: a string option such as whitespace=compact
    compiled = structgen.compile(schema, **options)
    call = ", ".join([json.dumps(schema)] + [f"{key}={value!r}" for key, value in options.items()])
    report = "\n".join(str(item) + f"  ({item.severity})" for item in compiled.report) or "(empty: fully enforced)"
    return "\n".join([
        _fence(f"structgen.compile({call})", "python"),
        "",
        _fence(compiled.grammar, "ebnf", "grammar"),
        "",
        _fence(report, "text", "report"),
    ])


@directive("checker-codes")
def _checker_codes(args: list[str]) -> str:
    """Every diagnostic the checker can give, read from structgen/gbnf/checker.py and lower.py."""
    from .matrix import _reason_text

    found: dict[tuple[str, str], list[str]] = {}
    lowering = ast.parse(_read("structgen/gbnf/lower.py"))
    for node in ast.walk(lowering):  # llama.cpp's own refusals, found while lowering: self.error(span, code, msg)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "error"
            and len(node.args) >= 3
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            message = _reason_text(node.args[2])
            messages = found.setdefault(("error", node.args[1].value), [])
            if message and message not in messages:
                messages.append(message)
    tree = ast.parse(_read("structgen/gbnf/checker.py"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for index, arg in enumerate(node.args[:-1]):
            code = node.args[index + 1]
            if not (isinstance(arg, ast.Name) and arg.id in ("ERROR", "WARNING")):
                continue
            if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                continue
            message = _reason_text(node.args[index + 2]) if index + 2 < len(node.args) else None
            messages = found.setdefault((arg.id.lower(), code.value), [])
            if message and message not in messages:
                messages.append(message)
    if not found:
        raise DirectiveError("no diagnostics found in structgen/gbnf/checker.py")
    rows = ["| Code | Severity | Message |", "| --- | --- | --- |"]
    for (severity, name), messages in sorted(found.items()):
        text = "<br>".join(_plain(m) for m in messages) or "the parser's message, with line and column"
        rows.append(f"| `{name}` | {severity} | {text} |")
    return "\n".join(rows)


# -- exception classes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Class:
    module: str
    name: str
    doc: str | None
    bases: tuple[str, ...]  # "module.Name" of the bases defined in structgen (others left out)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve_from(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _classes(package: str) -> dict[str, _Class]:
    """Every class of ``package`` by ``module.Name``, with its bases resolved through the imports (no import)."""
    raw: dict[str, tuple[str, ast.ClassDef, dict[str, str]]] = {}
    for path in sorted(ROOT.joinpath(*package.split(".")).rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _resolve_from(module, node, path.name == "__init__.py")
                for alias in node.names:
                    imported[alias.asname or alias.name] = f"{source}.{alias.name}"
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                raw[f"{module}.{node.name}"] = (module, node, imported)
    out: dict[str, _Class] = {}
    for key, (module, node, imported) in raw.items():
        bases = []
        for base in node.bases:
            name = base.id if isinstance(base, ast.Name) else ast.unparse(base)
            for candidate in (f"{module}.{name}", imported.get(name, "")):
                if candidate in raw:
                    bases.append(candidate)
                    break
        out[key] = _Class(module, node.name, ast.get_docstring(node), tuple(bases))
    return out


def _tree(classes: dict[str, _Class], parent: str, depth: int, out: list[str]) -> None:
    children = sorted((k for k, c in classes.items() if parent in c.bases), key=lambda k: (classes[k].module, k))
    for key in children:
        cls = classes[key]
        doc = summary(cls.doc)
        out.append(f"{'    ' * depth}- `{cls.name}` (`{cls.module}`){' — ' + doc if doc else ''}")
        _tree(classes, key, depth + 1, out)


@directive("errors")
def _errors(args: list[str]) -> str:
    """The exception classes under a base, found by reading structgen's source."""
    dotted = _one(args, "the dotted name of a base exception class")
    classes = _classes("structgen")
    base = classes.get(dotted)
    if base is None:
        raise DirectiveError(f"{dotted}: no such class in structgen")
    out = [f"- `{base.name}` (`{base.module}`) — {summary(base.doc)}"]
    _tree(classes, dotted, 1, out)
    return "\n".join(out)


# -- benchmarks ------------------------------------------------------------------------------------

BENCH_RESULTS = "bench/results"


@directive("bench-results")
def _bench_results(args: list[str]) -> str:
    """Each JSON file under bench/results/: the command that wrote it, then the whole file, collapsed."""
    folder = ROOT / BENCH_RESULTS
    out: list[str] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            warn(f"{BENCH_RESULTS}/{path.name} is not JSON: {error}")
            continue
        command = data.get("command") if isinstance(data, dict) else None
        out += [f"## `{path.stem}`", ""]
        if command:
            text = command if isinstance(command, str) else shlex.join(command)
            out += [_fence(wrap_command(text), "console"), ""]
        size = path.stat().st_size
        body = _fence(json.dumps(data, indent=1, ensure_ascii=False), "json")
        out += [f'??? note "`{BENCH_RESULTS}/{path.name}` ({size / 1024:.0f} KB)"', ""]
        out += ["    " + line if line else "" for line in body.splitlines()]
        out.append("")
    return "\n".join(out)
