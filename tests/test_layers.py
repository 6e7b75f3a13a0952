"""The package's layers look only downward, and no module imports itself back through others."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from structgen.gbnf.analysis import strongly_connected

PACKAGE = Path(__file__).resolve().parent.parent / "structgen"

# Each layer may import the layers listed for it (and itself); `errors` and `grammars` are shared leaves.
LAYERS: dict[str, set[str]] = {
    "errors": set(),
    "grammars": {"errors"},
    "gbnf": {"errors"},
    "schema": {"errors", "gbnf"},
    "client": {"errors", "gbnf"},
    "server": {"errors", "client"},
    "generation": {"errors", "gbnf", "schema", "client", "server"},
    "label": {"errors", "gbnf", "schema", "client", "server", "generation", "grammars"},
    "integrations": {"errors", "gbnf", "schema", "client", "server", "generation", "label"},
    "cli": {
        "errors",
        "gbnf",
        "schema",
        "client",
        "server",
        "generation",
        "label",
        "integrations",
        "grammars",
    },
    "__main__": {"cli"},
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """The structgen modules `module` imports (typing-only imports left out)."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = ".".join([*base, *([node.module] if node.module else [])])
            targets = [
                f"{prefix}.{a.name}" if f"{prefix}.{a.name}" in MODULES else prefix for a in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "structgen"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in LAYERS))
def test_a_module_imports_only_its_own_and_lower_layers(module: str) -> None:
    layer = _layer(module)
    allowed = LAYERS[layer] | {layer, "structgen"}
    upward = sorted(t for t in _imports(module, top_level_only=False) if _layer(t) not in allowed)
    assert not upward, f"{module} ({layer}) imports {upward}"


def test_no_import_cycle_between_modules() -> None:
    names = sorted(MODULES)
    number = {name: i for i, name in enumerate(names)}
    edges = [
        {number[t]: True for t in _imports(name, top_level_only=False) if t != "structgen"} for name in names
    ]
    cycles = [sorted(names[i] for i in c) for c in strongly_connected(edges) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"
