"""Read structgen's own source with ``ast`` (no import): docstrings, signatures, methods, fields.

Reading instead of importing keeps the build independent of optional extras (the LangChain
integration needs ``langchain-core``) and of import-time side effects.
"""

from __future__ import annotations

import ast
import inspect
import re
import textwrap
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .context import ROOT, DirectiveError

Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class Found:
    """A module, and optionally a definition inside it, found by dotted name."""

    module: str
    path: Path
    tree: ast.Module
    text: str
    node: Definition | None

    @property
    def docstring(self) -> str | None:
        return ast.get_docstring(self.node if self.node is not None else self.tree)

    def segment(self) -> str:
        """The source text of the definition (of the whole module when there is none)."""
        if self.node is None:
            return self.text
        return ast.get_source_segment(self.text, self.node) or ""


def _module_file(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _parse(path: Path) -> tuple[ast.Module, str]:
    text = path.read_text(encoding="utf-8")
    return ast.parse(text, str(path)), text


def _is_overload(node: Definition) -> bool:
    return any(
        (isinstance(d, ast.Name) and d.id == "overload") or (isinstance(d, ast.Attribute) and d.attr == "overload")
        for d in node.decorator_list
    )


def _child(body: list[ast.stmt], name: str) -> Definition | None:
    """The last non-overload definition of ``name`` in ``body`` (the implementation)."""
    found: Definition | None = None
    for stmt in body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or stmt.name != name:
            continue
        if found is None or not _is_overload(stmt):
            found = stmt
    return found


def find(dotted: str) -> Found:
    """The module or definition ``dotted`` names (``structgen.client.client.LlamaClient.completion``)."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        path = _module_file(module)
        if path is None:
            continue
        tree, text = _parse(path)
        node: Definition | None = None
        body: list[ast.stmt] = tree.body
        for name in parts[cut:]:
            node = _child(body, name)
            if node is None:
                raise DirectiveError(f"{dotted}: no definition {name!r} in {path.relative_to(ROOT)}")
            body = node.body
        return Found(module, path, tree, text, node)
    raise DirectiveError(f"{dotted}: no such module under {ROOT}")


# -- docstrings ------------------------------------------------------------------------------------

_ROLE = re.compile(r":(?:class|meth|func|attr|data|mod|exc|obj):`~?([^`]+)`")


def _inline(line: str) -> str:
    line = re.sub(r"``([^`]+?)``", lambda m: "`" + " ".join(m.group(1).split()) + "`", line)
    return _ROLE.sub(lambda m: "`" + (m.group(1).rsplit(".", 1)[-1] if "~" in m.group(0) else m.group(1)) + "`", line)


def rst_to_md(text: str) -> str:
    """Docstring text (reStructuredText habits) as markdown: literals, roles and ``::`` blocks."""
    lines = inspect.cleandoc(text).splitlines()
    out: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        # Literals may run over a line break, so convert the paragraph text as a whole.
        if prose:
            out.append(_inline("\n".join(line.strip() if line[:1] in (" ", "\t") else line for line in prose)))
            prose.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        if line.rstrip().endswith("::"):
            lead = line.rstrip()[:-2].rstrip()
            if lead:
                prose.append(lead + ":")
            flush()
            i += 1
            block: list[str] = []
            while i < len(lines) and (not lines[i].strip() or lines[i][:1] in (" ", "\t")):
                block.append(lines[i])
                i += 1
            code = textwrap.dedent("\n".join(block)).strip("\n")
            language = "python" if re.search(r"^\s*(def |import |from |@)", code, re.MULTILINE) else "text"
            out += ["", f"```{language}", *code.splitlines(), "```", ""]
            continue
        prose.append(line)
        i += 1
    flush()
    return "\n".join(out).strip() + "\n"


def summary(text: str | None) -> str:
    """The first paragraph of a docstring, on one line, as markdown."""
    if not text:
        return ""
    first = inspect.cleandoc(text).split("\n\n", 1)[0]
    return _inline(" ".join(part.strip() for part in first.splitlines()))


# -- signatures ------------------------------------------------------------------------------------


def _arguments(args: ast.arguments) -> list[str]:
    def one(arg: ast.arg, default: ast.expr | None, prefix: str = "") -> str:
        text = prefix + arg.arg
        if arg.annotation is not None:
            text += ": " + ast.unparse(arg.annotation)
        if default is not None:
            text += (" = " if arg.annotation is not None else "=") + ast.unparse(default)
        return text

    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    out = [one(arg, default) for arg, default in zip(positional, defaults)]
    if args.posonlyargs:
        out.insert(len(args.posonlyargs), "/")
    if args.vararg is not None:
        out.append(one(args.vararg, None, "*"))
    elif args.kwonlyargs:
        out.append("*")
    out += [one(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg is not None:
        out.append(one(args.kwarg, None, "**"))
    if out and out[0].split(":")[0] in ("self", "cls"):
        out = out[1:]
    return out


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef, name: str | None = None, width: int = 88) -> str:
    """``name(arguments) -> return`` as Python text, one argument per line when it is long."""
    params = _arguments(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
    title = name or node.name
    flat = f"{title}({', '.join(params)}){returns}"
    if len(flat) <= width:
        return flat
    body = "".join(f"    {param},\n" for param in params)
    return f"{title}(\n{body}){returns}"


def class_signature(node: ast.ClassDef, name: str | None = None) -> str:
    """A class as its constructor call (``__init__``), or its fields for dataclasses and models."""
    init = _child(node.body, "__init__")
    if isinstance(init, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return signature(init, name or node.name).replace(" -> None", "")
    return name or node.name


@dataclass(frozen=True)
class Member:
    """A public method or property of a class."""

    name: str
    kind: str  # "method" or "property"
    signature: str
    doc: str | None
    source: str


def members(found: Found) -> list[Member]:
    """Public methods and properties of the class ``found`` names, in source order."""
    node = found.node
    if not isinstance(node, ast.ClassDef):
        raise DirectiveError(f"{found.module}: not a class")
    out: list[Member] = []
    seen: set[str] = set()
    for stmt in node.body:
        if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) or stmt.name.startswith("_"):
            continue
        impl = _child(node.body, stmt.name)
        if stmt.name in seen or impl is None or not isinstance(impl, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        seen.add(stmt.name)
        is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in impl.decorator_list)
        text = ast.get_source_segment(found.text, impl) or ""
        if is_property:
            returns = f": {ast.unparse(impl.returns)}" if impl.returns is not None else ""
            out.append(Member(impl.name, "property", impl.name + returns, ast.get_docstring(impl), text))
        else:
            out.append(Member(impl.name, "method", signature(impl), ast.get_docstring(impl), text))
    return out


@dataclass(frozen=True)
class FieldInfo:
    name: str
    annotation: str
    default: str | None
    doc: str | None


def fields(found: Found) -> list[FieldInfo]:
    """Annotated class attributes (dataclass / pydantic fields) and properties, in source order."""
    node = found.node
    if not isinstance(node, ast.ClassDef):
        raise DirectiveError(f"{found.module}: not a class")
    out: list[FieldInfo] = []
    for index, stmt in enumerate(node.body):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name = stmt.target.id
            if name.startswith("_") or "ClassVar" in ast.unparse(stmt.annotation):
                continue
            default = ast.unparse(stmt.value) if stmt.value is not None else None
            after = node.body[index + 1] if index + 1 < len(node.body) else None
            doc = (
                after.value.value
                if isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
                else None
            )
            out.append(FieldInfo(name, ast.unparse(stmt.annotation), default, doc))
        elif (
            isinstance(stmt, ast.FunctionDef)
            and not stmt.name.startswith("_")
            and any(isinstance(d, ast.Name) and d.id == "property" for d in stmt.decorator_list)
        ):
            annotation = ast.unparse(stmt.returns) if stmt.returns is not None else ""
            out.append(FieldInfo(stmt.name, annotation, "(property)", ast.get_docstring(stmt)))
    return out
