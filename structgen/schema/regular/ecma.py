"""A parser for ECMA-262 regular expressions (JSON Schema's ``pattern`` dialect) into :mod:`.rx` trees.

Follows the ``u``-flag grammar, as JSON Schema recommends, with Annex B's leniency for identity
escapes of punctuation (``\\/``, ``\\-``) and for braces that do not form a quantifier.
ECMA-262 semantics, not Python's: ``\\d``/``\\w`` are ASCII, ``\\s`` includes Unicode spaces, ``.``
excludes only line terminators, ``$`` is the end of input, ``[^]`` is any character, ``[]`` none.
Lookaround and backreferences raise :class:`UnsupportedSchemaError`; syntax errors raise
:class:`InvalidSchemaError`; both with ``keyword="pattern"``.
"""

from __future__ import annotations

from ...errors import InvalidSchemaError, UnsupportedSchemaError
from .charset import DIGIT, EMPTY, LINE_TERMINATORS, SPACE, WORD, CharSet, unicode_property
from .rx import Alt, Assert, Chars, Node, Repeat, Seq

MAX_REPEAT = 100_000
MAX_GROUP_DEPTH = 100
_SYNTAX = set("^$\\.*+?()[]{}|/")
_CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}
_CLASS_ESCAPES = {
    "d": DIGIT,
    "D": ~DIGIT,
    "w": WORD,
    "W": ~WORD,
    "s": SPACE,
    "S": ~SPACE,
}
_FOREIGN = {
    "A": "\\A (start of input) is not ECMA-262; use ^",
    "Z": "\\Z (end of input) is not ECMA-262; use $",
    "z": "\\z (end of input) is not ECMA-262; use $",
    "h": "\\h is not ECMA-262",
    "R": "\\R is not ECMA-262",
    "Q": "\\Q...\\E quoting is not ECMA-262",
    "G": "\\G is not ECMA-262",
    "K": "\\K is not ECMA-262",
    "X": "\\X is not ECMA-262",
}


def parse(pattern: str, pointer: str = "") -> Node:
    """Parse an ECMA-262 pattern into a syntax tree."""
    return _Parser(pattern, pointer).parse()


class _Parser:
    def __init__(self, text: str, pointer: str) -> None:
        self.text = text
        self.pointer = pointer
        self.pos = 0
        self.groups = 0
        self.depth = 0

    # -- errors -----------------------------------------------------------------------------
    def invalid(self, message: str) -> InvalidSchemaError:
        return InvalidSchemaError(
            f"invalid regular expression {self.text!r} at offset {self.pos}: {message}",
            self.pointer,
            keyword="pattern",
        )

    def unsupported(self, message: str) -> UnsupportedSchemaError:
        return UnsupportedSchemaError(
            f"regular expression {self.text!r}: {message}", self.pointer, keyword="pattern"
        )

    # -- helpers ----------------------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.text[i] if i < len(self.text) else ""

    def eat(self, s: str) -> bool:
        if self.text.startswith(s, self.pos):
            self.pos += len(s)
            return True
        return False

    # -- grammar ----------------------------------------------------------------------------
    def parse(self) -> Node:
        node = self.disjunction()
        if self.pos < len(self.text):
            raise self.invalid("unmatched ')'")
        return node

    def disjunction(self) -> Node:
        options = [self.alternative()]
        while self.eat("|"):
            options.append(self.alternative())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def alternative(self) -> Node:
        parts: list[Node] = []
        while self.pos < len(self.text) and self.peek() not in "|)":
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Seq(tuple(parts))

    def term(self) -> Node:
        start = self.pos
        c = self.peek()
        if c == "^" or c == "$":
            self.pos += 1
            node: Node = Assert("^" if c == "^" else "$")
            self.no_quantifier("an assertion")
            return node
        if c == "\\" and self.peek(1) in ("b", "B"):
            self.pos += 2
            node = Assert("b" if self.text[start + 1] == "b" else "B")
            self.no_quantifier("an assertion")
            return node
        if c == "(" and self.peek(1) == "?":
            lookaround = next(
                (s for s in ("(?=", "(?!", "(?<=", "(?<!") if self.text.startswith(s, self.pos)), None
            )
            if lookaround is not None:
                raise self.unsupported(f"lookaround {lookaround}...) cannot be compiled to a grammar")
        atom = self.atom()
        return self.quantified(atom)

    def no_quantifier(self, what: str) -> None:
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.quantifier_ahead()):
            raise self.invalid(f"nothing to repeat ({what} cannot be quantified)")

    def quantifier_ahead(self) -> bool:
        save = self.pos
        try:
            return self.braces() is not None
        finally:
            self.pos = save

    def braces(self) -> tuple[int, int | None] | None:
        """Parse ``{n}``, ``{n,}`` or ``{n,m}`` at the cursor; None (cursor unchanged) if not one."""
        save = self.pos
        if not self.eat("{"):
            return None
        low = self.number()
        if low is None:
            self.pos = save
            return None
        high: int | None = low
        if self.eat(","):
            high = self.number()
        if not self.eat("}"):
            self.pos = save
            return None
        return low, high

    def number(self) -> int | None:
        start = self.pos
        while self.peek().isdigit() and self.peek().isascii():
            self.pos += 1
        return int(self.text[start : self.pos]) if self.pos > start else None

    def quantified(self, atom: Node) -> Node:
        c = self.peek()
        if c == "*":
            self.pos += 1
            low, high = 0, None
        elif c == "+":
            self.pos += 1
            low, high = 1, None
        elif c == "?":
            self.pos += 1
            low, high = 0, 1
        elif c == "{" and (b := self.braces()) is not None:
            low, high = b
            if high is not None and high < low:
                raise self.invalid(f"numbers out of order in {{{low},{high}}} quantifier")
            if max(low, high or 0) > MAX_REPEAT:
                raise self.unsupported(f"repetition count above {MAX_REPEAT}")
        else:
            return atom
        self.eat("?")  # lazy quantifiers match the same language
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.quantifier_ahead()):
            raise self.unsupported("possessive or doubled quantifiers are not ECMA-262")
        return Repeat(atom, low, high)

    def atom(self) -> Node:
        c = self.peek()
        if c == ".":
            self.pos += 1
            return Chars(~LINE_TERMINATORS)
        if c == "(":
            return self.group()
        if c == "[":
            return Chars(self.char_class())
        if c == "\\":
            return self.atom_escape()
        if c in ("*", "+", "?"):
            raise self.invalid("nothing to repeat")
        if c == "{" and self.quantifier_ahead():
            raise self.invalid("nothing to repeat")
        if c == ")":
            raise self.invalid("unmatched ')'")
        self.pos += 1
        return Chars(CharSet.of(c))

    def group(self) -> Node:
        open_at = self.pos
        self.depth += 1
        if self.depth > MAX_GROUP_DEPTH:
            raise self.unsupported(f"groups nested more than {MAX_GROUP_DEPTH} deep")
        self.pos += 1
        if self.eat("?"):
            if self.eat(":"):
                pass
            elif self.peek() == "<":
                self.pos += 1
                end = self.text.find(">", self.pos)
                name = self.text[self.pos : end] if end >= 0 else ""
                if (
                    end < 0
                    or not name
                    or not (name[0].isalpha() or name[0] in "_$")
                    or not all(ch.isalnum() or ch in "_$" for ch in name)
                ):
                    raise self.invalid("bad group name")
                self.pos = end + 1
                self.groups += 1
            elif self.peek() in ("P", ">", "|", "#", "i", "m", "s", "x", "-", "u"):
                raise self.unsupported(f"group syntax (?{self.peek()} is not ECMA-262")
            else:
                raise self.invalid("invalid group")
        else:
            self.groups += 1
        node = self.disjunction()
        if not self.eat(")"):
            self.pos = open_at
            raise self.invalid("unterminated group")
        self.depth -= 1
        return node

    # -- escapes ------------------------------------------------------------------------------
    def atom_escape(self) -> Node:
        start = self.pos
        self.pos += 1
        c = self.peek()
        if not c:
            raise self.invalid("\\ at end of pattern")
        if c.isdigit() and c != "0":
            raise self.unsupported(f"backreference \\{c} cannot be compiled to a grammar")
        if c == "k" and self.peek(1) == "<":
            raise self.unsupported("named backreference \\k<...> cannot be compiled to a grammar")
        if c in _CLASS_ESCAPES:
            self.pos += 1
            return Chars(_CLASS_ESCAPES[c])
        if c in ("p", "P"):
            return Chars(self.property_escape())
        self.pos = start
        cp = self.character_escape(in_class=False)
        return Chars(CharSet([(cp, cp)]))

    def property_escape(self) -> CharSet:
        negate = self.peek() == "P"
        self.pos += 1
        if not self.eat("{"):
            raise self.invalid("\\p needs {Property}")
        end = self.text.find("}", self.pos)
        if end < 0:
            raise self.invalid("unterminated \\p{")
        body = self.text[self.pos : end]
        self.pos = end + 1
        name, _, value = body.partition("=")
        chars = unicode_property(name, value or None)
        if chars is None:
            raise self.unsupported(f"Unicode property \\p{{{body}}} is not supported")
        return ~chars if negate else chars

    def hex_digits(self, count: int) -> int | None:
        digits = self.text[self.pos : self.pos + count]
        if len(digits) == count and all(ch in "0123456789abcdefABCDEF" for ch in digits):
            self.pos += count
            return int(digits, 16)
        return None

    def character_escape(self, in_class: bool) -> int:
        """Decode the escape at the cursor (which is on the backslash) to one code point."""
        self.pos += 1
        c = self.peek()
        self.pos += 1
        if c in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[c]
        if c == "b" and in_class:
            return 0x08
        if c == "c":
            letter = self.peek()
            if letter.isascii() and letter.isalpha():
                self.pos += 1
                return ord(letter) % 32
            raise self.invalid("\\c must be followed by a letter")
        if c == "0":
            if self.peek().isdigit():
                raise self.unsupported("octal escapes are not allowed in ECMA-262 unicode patterns")
            return 0
        if c == "x":
            value = self.hex_digits(2)
            if value is None:
                raise self.invalid("\\x needs two hex digits")
            return value
        if c == "u":
            return self.unicode_escape()
        if c in _SYNTAX or not c.isalnum():  # Annex B identity escapes of punctuation (\- \/ \_ ...)
            return ord(c)
        if c in _FOREIGN:
            raise self.unsupported(_FOREIGN[c])
        raise self.invalid(f"unknown escape \\{c}")

    def unicode_escape(self) -> int:
        if self.eat("{"):
            end = self.text.find("}", self.pos)
            digits = self.text[self.pos : end] if end >= 0 else ""
            if (
                not digits
                or not all(ch in "0123456789abcdefABCDEF" for ch in digits)
                or int(digits, 16) > 0x10FFFF
            ):
                raise self.invalid("bad \\u{...} escape")
            self.pos = end + 1
            return int(digits, 16)
        value = self.hex_digits(4)
        if value is None:
            raise self.invalid("\\u needs four hex digits")
        if 0xD800 <= value <= 0xDBFF and self.text.startswith("\\u", self.pos):
            save = self.pos
            self.pos += 2
            low = self.hex_digits(4)
            if low is not None and 0xDC00 <= low <= 0xDFFF:
                return 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            self.pos = save
        return value

    # -- character classes --------------------------------------------------------------------
    def char_class(self) -> CharSet:
        open_at = self.pos
        self.pos += 1
        negate = self.eat("^")
        result = EMPTY
        while True:
            if self.pos >= len(self.text):
                self.pos = open_at
                raise self.invalid("unterminated character class")
            if self.eat("]"):
                break
            first = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                second = self.class_atom()
                if isinstance(first, int) and isinstance(second, int):
                    if first > second:
                        raise self.invalid("range out of order in character class")
                    result = result | CharSet([(first, second)])
                    continue
                # Annex B: a range with a class escape at either end is the three parts, literally.
                result = result | _as_set(first) | CharSet.of("-") | _as_set(second)
                continue
            result = result | _as_set(first)
        return ~result if negate else result

    def class_atom(self) -> int | CharSet:
        c = self.peek()
        if c != "\\":
            self.pos += 1
            if 0xD800 <= ord(c) <= 0xDBFF and 0xDC00 <= ord(self.peek() or "\0") <= 0xDFFF:
                low = self.peek()
                self.pos += 1
                return 0x10000 + ((ord(c) - 0xD800) << 10) + (ord(low) - 0xDC00)
            return ord(c)
        nxt = self.peek(1)
        if nxt in _CLASS_ESCAPES:
            self.pos += 2
            return _CLASS_ESCAPES[nxt]
        if nxt in ("p", "P"):
            self.pos += 1
            return self.property_escape()
        if nxt.isdigit() and nxt != "0":
            raise self.unsupported(f"\\{nxt} in a character class (octal/backreference) is not supported")
        return self.character_escape(in_class=True)


def _as_set(atom: int | CharSet) -> CharSet:
    return CharSet([(atom, atom)]) if isinstance(atom, int) else atom
