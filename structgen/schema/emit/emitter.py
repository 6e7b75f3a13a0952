"""The emitter: one rule per composite node, named from its schema path, equal rules shared."""

from __future__ import annotations

from .. import model
from ..leftrec import is_productive, prepare
from ..model import AnyOf, Node, Ref, kind_of
from .arrays import Arrays
from .objects import Objects
from .primitives import MIN_COMPACT_INTEGERS, integer_point
from .rules import EMPTY, NOTHING, Atom, either
from .strings import Strings

NULL, TRUE, FALSE = Atom('"null"'), Atom('"true"'), Atom('"false"')

MAX_NESTED_RULES = 24
"""Rules written inside one another before the next one is left for later (stack depth)."""

_COMPOSITE = (model.ObjectNode, model.ArrayNode, AnyOf)


class Emitter(Strings, Arrays, Objects):
    """Turns the root node and its definitions into grammar text."""

    satisfiable = True
    """False when the root matches nothing (known once :meth:`emit` has run)."""
    _productive: dict[str, bool]
    _nested = 0
    _later: list[tuple[str, Node]]

    def emit(self, root: Node) -> str:
        """The grammar whose ``root`` rule matches exactly the JSON texts of ``root``."""
        self._productive = prepare(root, self.definitions, self.pointers)
        self._later = []
        self.names.add("root")
        self.rules["root"] = ""
        content = root
        while isinstance(content, Ref) and content not in self._by_node:
            self._by_node[content] = Atom("root")
            content = self.definitions[content.name]
        self._by_node[content] = Atom("root")
        body = self._body_uncached(content, "root") if self.productive(content) else None
        self.rules["root"] = NOTHING if body is None else body
        self.satisfiable = body is not None
        while self._later:  # long chains of references, written from a shallow stack
            rule, content = self._later.pop()
            self._define_rule(rule, content)
        if self.uses_tokens and self.options.whitespace != "compact":
            self.primitive("ws" if self.options.whitespace == "flexible" else "nl")
        # an empty body would let llama.cpp read the next line as this rule's body
        lines = [f"{name} ::= {body if body.strip() else EMPTY}" for name, body in self.rules.items()]
        return "\n".join(lines) + "\n"

    def productive(self, node: Node) -> bool:
        return is_productive(node, self._productive)

    def expr(self, node: Node, hint: str) -> str | None:
        self.algebra.defs.check_time()
        existing = self._by_node.get(node)  # only nodes that match something are here
        if existing is not None:
            return existing
        if not self.productive(node):
            return None
        if isinstance(node, Ref):
            return self._ref(node, hint)
        if self._nested >= MAX_NESTED_RULES and isinstance(node, _COMPOSITE):
            rule = self.fresh(hint)
            self._by_node[node] = rule
            self._write(rule, node)
            return rule
        self._nested += 1
        try:
            body = self._body_uncached(node, hint)  # known productive and not yet written
        finally:
            self._nested -= 1
        if body is None:
            return None
        result = body if isinstance(body, Atom) else self.define(hint, body)
        self._by_node[node] = result
        return result

    def body(self, node: Node, hint: str) -> str | None:
        """A rule body for ``node``; None when it matches nothing."""
        if not self.productive(node):
            return None
        if isinstance(node, model.AnyValue):
            return self.primitive("value")
        if isinstance(node, model.NullNode):
            return NULL
        if isinstance(node, model.BooleanNode):
            if len(node.values) == 2:
                return self.primitive("boolean")
            return TRUE if True in node.values else FALSE
        if isinstance(node, Ref):
            return self._ref(node, hint)
        existing = self._by_node.get(node)
        if existing is not None:
            return existing
        return self._body_uncached(node, hint)

    def _body_uncached(self, node: Node, hint: str) -> str | None:
        if isinstance(node, (model.AnyValue, model.NullNode, model.BooleanNode, Ref)):
            return self.body(node, hint)
        if isinstance(node, model.StringNode):
            return self.string(node, hint)
        if isinstance(node, model.NumberNode):
            return self.number(node, hint)
        if isinstance(node, AnyOf):
            return self._any_of(node, hint)
        if isinstance(node, model.ArrayNode):
            return self.array(node, hint)
        if isinstance(node, model.ObjectNode):
            return self.object(node, hint)
        raise AssertionError(node)  # pragma: no cover

    def _ref(self, ref: Ref, hint: str = "") -> str | None:
        existing = self._by_node.get(ref)
        if existing is not None:
            return existing
        content = self.definitions[ref.name]
        seen = {ref.name}
        while isinstance(content, Ref) and content.name not in seen:
            seen.add(content.name)
            content = self.definitions[content.name]
        if not self.productive(content):
            return None
        if not isinstance(content, (model.ObjectNode, model.ArrayNode, AnyOf, Ref)):
            return self.expr(content, ref.name)
        known = self._by_node.get(content)
        if known is not None:
            self._by_node[ref] = known
            return known
        # definitions from $ref keep their name; those made by allOf/not take the path's
        rule = self.fresh(ref.name if ref.name in self.pointers or not hint else hint)
        self._by_node[ref] = rule
        self._by_node[content] = rule
        self._write(rule, content)
        return rule

    def _write(self, rule: str, content: Node) -> None:
        """Writes ``rule`` for ``content`` now, or later from a shallow stack when nested deeply."""
        self.rules[rule] = ""
        if self._nested >= MAX_NESTED_RULES:
            self._later.append((rule, content))
        else:
            self._define_rule(rule, content)

    def _define_rule(self, rule: str, content: Node) -> None:
        self._nested += 1
        try:
            body = self._body_uncached(content, rule)
        finally:
            self._nested -= 1
        self.rules[rule] = body if body is not None else NOTHING

    def _any_of(self, node: AnyOf, hint: str) -> str | None:
        parts: list[str] = []
        kinds = [
            kind_of(alt) if not isinstance(alt, (Ref, AnyOf, model.AnyValue, model.Never)) else ""
            for alt in node.alternatives
        ]
        values = {id(alt): value for alt in node.alternatives if (value := integer_point(alt)) is not None}
        points = [alt for alt in node.alternatives if id(alt) in values]
        compact = (
            self.integers(points, set(values.values()), hint) if len(values) >= MIN_COMPACT_INTEGERS else None
        )
        for index, alt in enumerate(node.alternatives):
            if compact is not None and id(alt) in values:
                if alt is points[0]:
                    parts.append(compact)
                continue
            kind = kinds[index]
            suffix = kind if kind and kinds.count(kind) == 1 else str(index)
            expr = self.expr(alt, f"{hint}-{suffix}")
            if expr is not None and expr not in parts:
                parts.append(expr)
        return either(parts) if parts else None
