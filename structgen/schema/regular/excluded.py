"""GBNF for "any JSON string but these few" (an open object's extra keys), without automata.

The strings are kept as a trie written as nested groups: at each node, one alternative per next
character of an excluded string, and one for any other character followed by anything. Characters are
spelled through rules named after their code points (``kc-61``: every JSON spelling of ``a``; ``kx-61``:
any character but ``a``, then any characters), and the ``\\uXXXX`` spellings behind them through rules
named after a digest of their bodies. Names depend only on content, so every text is built once per
process and shared by all grammars and key sets. Escapes of a trie character and of "any other"
character share their first few characters (a few characters of two parse stacks).
"""

from __future__ import annotations

from functools import cache, lru_cache
from hashlib import blake2b

from structgen.gbnf.formatter import format_literal

from .charset import MAX_CP, SURROGATES, CharSet
from .to_gbnf import (
    _RAW,
    _SHORT_ESCAPES,
    _escape_rule,
    _hex_node,
    _high_surrogates,
    _seq,
    char_class,
)
from .to_gbnf import (
    SHARED as _SHARED,
)
from .to_gbnf import (
    named as _named,
)
from .to_gbnf import (
    names_in as _names_in,
)
from .to_gbnf import (
    shared_closure as _closure,
)

CHAR = "char"
"""The rule for one JSON string character (any spelling); the caller defines it."""
NEST = 24
"""Trie depth after which a subtree becomes its own rule (keeps groups shallowly nested)."""
_Trie = dict[str, "_Trie"]
_LATIN1 = CharSet([(0, 0xFF)])
PLAIN = CharSet([(0x20, 0x7E)]) - CharSet.of('"\\')
"""Printable ASCII but the quote and the backslash: characters JSON encoders never escape (``/`` aside)."""
_PLAIN_CHARS = frozenset(chr(cp) for lo, hi in PLAIN.ranges for cp in range(lo, hi + 1))
_BEYOND_LATIN1 = CharSet([(0x100, MAX_CP)])


@cache
def _one_char(chars: CharSet, name: str, tail: str, escapable: CharSet | None = None) -> str:
    """A rule ``name``: one character of ``chars`` in any JSON spelling (escapes only for those also in
    ``escapable``, when given), then ``tail``."""
    alternatives = []
    raw = chars & _RAW
    if raw:
        alternatives.append(char_class(raw))
    if escapable is not None:
        chars = chars & escapable
    if not _BEYOND_LATIN1 - chars:
        alternatives.append(_seq('"\\\\"', _escape_beyond_latin1(chars)))
    else:
        escaped = [(lo, hi, "") for lo, hi in (chars - SURROGATES).ranges]
        if escaped:
            alternatives.append(_seq('"\\\\"', _escape_rule(_SHARED, escaped)))
    body = " | ".join(alternatives)
    return _named(name, _seq(f"({body})" if tail else body, tail))


def _escape_beyond_latin1(chars: CharSet) -> str:
    """What may follow a backslash to spell a character of ``chars`` (which holds all above U+00FF):
    the spellings above U+00FF come from one rule shared by all such sets."""
    letters = CharSet((ord(letter), ord(letter)) for letter, cp in _SHORT_ESCAPES.items() if cp in chars)
    alternatives = [char_class(letters)] if letters else []
    alternatives.append(_seq('"u"', _beyond_latin1()))
    low = [(lo, hi, "") for lo, hi in (chars & _LATIN1).ranges]
    if low:
        alternatives.append(_seq('"u00"', _hex_node(_SHARED, low, 0, 2)))
    return _SHARED.shared_rule(" | ".join(alternatives), "e")


@lru_cache(maxsize=1)
def _beyond_latin1() -> str:
    """Four hex digits (or a surrogate pair) spelling a character above U+00FF."""
    items = [(0x100, 0xD7FF, ""), (0xE000, 0xFFFF, "")]
    items += _high_surrogates(_SHARED, [(0x10000, MAX_CP, "")])
    return _hex_node(_SHARED, sorted(items), 0, 4)


def _code(cp: int) -> str:
    return f"{cp:x}"


@cache
def _char(cp: int) -> str:
    return _one_char(CharSet([(cp, cp)]), f"kc-{_code(cp)}", "")


def _label(cps: tuple[int, ...]) -> str:
    label = "-".join(_code(cp) for cp in cps)
    return blake2b(label.encode(), digest_size=5).hexdigest() if len(label) > 24 else label


@cache
def _other(cps: tuple[int, ...]) -> str:
    """Any character not in ``cps``, then any characters."""
    if not cps:
        return f"{CHAR}+"
    return _one_char(~CharSet((cp, cp) for cp in cps), f"kx-{_label(cps)}", f"{CHAR}*")


@cache
def _plain_char(cp: int) -> str:
    return format_literal((cp,), raw_space=False)


@cache
def _plain_other(cps: tuple[int, ...]) -> str:
    """Like :func:`_other` where escapes may only spell characters outside :data:`PLAIN`."""
    if not cps:
        return f"{CHAR}+"
    return _one_char(~CharSet((cp, cp) for cp in cps), f"kr-{_label(cps)}", f"{CHAR}*", ~PLAIN)


def _tail(low: int, high: int | None) -> str:
    """Between ``low`` and ``high`` (None: any number of) characters."""
    if high is None:
        return f"{CHAR}*" if low == 0 else _named(f"kl-{low}", f"{CHAR}{{{low},}}")
    if high == 0:
        return ""
    return _named(f"kl-{low}-{high}", f"{CHAR}{{{low},{high}}}")


@lru_cache(maxsize=4096)
def _other_at(
    cps: tuple[int, ...], depth: int, min_length: int, max_length: int | None, restricted: bool
) -> str | None:
    """A character not in ``cps`` at position ``depth`` of a key, then what may follow it."""
    if max_length is not None and depth + 1 > max_length:
        return None
    low = max(min_length - depth - 1, 0)
    if max_length is None and low == 0:
        return _plain_other(cps) if restricted else _other(cps)
    if not cps:
        first = CHAR
    elif restricted:
        first = _one_char(~CharSet((cp, cp) for cp in cps), f"kq-{_label(cps)}", "", ~PLAIN)
    else:
        first = _one_char(~CharSet((cp, cp) for cp in cps), f"kn-{_label(cps)}", "")
    return _seq(first, _tail(low, None if max_length is None else max_length - depth - 1))


def excluded_content(
    keys: frozenset[str], min_length: int = 0, max_length: int | None = None
) -> tuple[str | None, tuple[str, ...], bool]:
    """(expression, rule names, restricted) for the text between the quotes of a JSON string whose value
    is not in ``keys`` and has ``min_length`` to ``max_length`` characters; :func:`rules` gives the
    bodies (the expression also uses :data:`CHAR`). The expression is None when no string qualifies.

    When every character of ``keys`` is in :data:`PLAIN`, a string is written with these characters
    raw until it leaves every key's prefix (``restricted``: ``\\u0061`` there is refused), as JSON
    encoders write them; the rules are then much smaller. Otherwise every spelling is accepted.
    """
    restricted = all(_PLAIN_CHARS.issuperset(key) for key in keys)
    char = _plain_char if restricted else _char
    trie: _Trie = {}
    ends: set[int] = set()
    for key in keys:
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        ends.add(id(node))

    def fits(length: int) -> bool:
        return max_length is None or length <= max_length

    def expression(node: _Trie, depth: int) -> str | None:
        kids = sorted(node, key=ord) if fits(depth + 1) else []
        alternatives = []
        for ch in kids:
            rest = expression(node[ch], depth + 1)
            if rest is not None:
                alternatives.append(char(ord(ch)) if rest == '""' else f"{char(ord(ch))} {rest}")
        last = _other_at(tuple(ord(ch) for ch in kids), depth, min_length, max_length, restricted)
        if last is not None:
            alternatives.append(last)
        final = id(node) not in ends and min_length <= depth and fits(depth)
        if not alternatives:
            return '""' if final else None
        body = " | ".join(alternatives)
        text = f"({body})?" if final else f"({body})" if len(alternatives) > 1 else body
        if depth % NEST == NEST - 1:
            return _SHARED.shared_rule(text, "t")
        return text

    root = expression(trie, 0)
    used: set[str] = set()
    for name in _names_in(root or ""):
        used |= _closure(name)
    return root, tuple(sorted(used)), restricted
