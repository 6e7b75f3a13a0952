"""Named definitions: recursion through ``$ref``, memoized lazy intersections, and the work budget."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Hashable

from structgen.errors import InvalidSchemaError

from .model import Node
from .regular.deadline import TimeLimitExceeded, check_time


class CycleError(Exception):
    """A definition needs its own content before any structure guards the recursion."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class WorkBudgetExceeded(TimeLimitExceeded):
    """Internal: the compile spent its work budget (refused, like the time limit, by ``compile``)."""


class Definitions:
    """Definitions by name, computed at most once; tracks which are used recursively.

    ``depth`` counts structural descents (into items or property values); a definition whose content
    is requested at the structural depth where it started has no base case.
    """

    def __init__(self, budget: int = 200_000):
        self._ticks = 0
        self.nodes: dict[str, Node] = {}
        self.pointers: dict[str, str] = {}
        self.recursive: set[str] = set()
        self.pending: deque[tuple[str, Callable[[], Node]]] = deque()
        self.memo: dict[Hashable, str] = {}
        self._names: set[str] = set()
        self._active: dict[str, int] = {}
        self.depth = 0
        self.budget = budget

    def tick(self, cost: int = 1) -> None:
        """Spend work; a schema that needs too much work or time is refused instead of hanging."""
        self.budget -= cost
        if self.budget < 0:
            raise WorkBudgetExceeded()
        self._ticks += 1
        if self._ticks % 8 == 0:
            self.check_time()

    def check_time(self) -> None:
        """Refuse once the compile time limit is over."""
        check_time()

    def new_name(self, hint: str) -> str:
        """A fresh rule name derived from ``hint`` (letters, digits and dashes only)."""
        base = re.sub(r"[^A-Za-z0-9-]+", "-", hint).strip("-") or "def"
        if base[0].isdigit():
            base = "d" + base
        base = base[:60].rstrip("-")
        name = base
        counter = 1
        while name in self._names:
            counter += 1
            name = f"{base}-{counter}"
        self._names.add(name)
        return name

    def in_progress(self, name: str) -> bool:
        return name in self._active

    def unguarded(self, name: str) -> bool:
        """True when ``name`` is being computed and no structure was entered since it started."""
        frame_depth = self._active.get(name)
        return frame_depth is not None and frame_depth == self.depth

    def content(self, name: str) -> Node | None:
        """The finished content of ``name``, or None while it is being computed or deferred."""
        return self.nodes.get(name)

    def compute(self, name: str, thunk: Callable[[], Node]) -> Node:
        """Compute and store the content of ``name``."""
        self._active[name] = self.depth
        try:
            node = thunk()
        finally:
            del self._active[name]
        self.nodes[name] = node
        return node

    def defer(self, name: str, thunk: Callable[[], Node]) -> None:
        """Compute ``name`` later (after the definitions it depends on are finished)."""
        self.pending.append((name, thunk))
        self.recursive.add(name)

    def finish(self) -> None:
        """Compute every deferred definition."""
        while self.pending:
            name, thunk = self.pending.popleft()
            if name not in self.nodes:
                self.compute(name, thunk)

    class Descend:
        """Context manager: one level of structure (array items, property values)."""

        def __init__(self, defs: Definitions):
            self.defs = defs

        def __enter__(self) -> None:
            self.defs.depth += 1

        def __exit__(self, *exc: object) -> None:
            self.defs.depth -= 1

    def descend(self) -> Definitions.Descend:
        return Definitions.Descend(self)


def cycle_error(name: str, pointer: str) -> InvalidSchemaError:
    return InvalidSchemaError(f"$ref cycle without a base case through {name!r}", pointer, "$ref")
