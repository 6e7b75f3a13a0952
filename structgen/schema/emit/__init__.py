"""Nodes to GBNF: one rule per composite node, named from its schema path, equal rules shared.

Output is deterministic (no set iteration), free of left recursion, and uses only unambiguous
constructions for objects (an ordered automaton over declared keys), arrays and repetition.

- :mod:`.rules`: options, separator tokens, rule naming and sharing;
- :mod:`.primitives`: the shared JSON building blocks and numbers;
- :mod:`.states`: the one state-machine builder (counted members, any order, ``contains``, distinct items);
- :mod:`.strings`, :mod:`.arrays`, :mod:`.objects`: one node kind each;
- :mod:`.emitter`: the dispatch over nodes, references and unions.
"""

from .emitter import Emitter
from .objects import MAX_ANY_ORDER_REQUIRED
from .rules import Options, Whitespace

__all__ = ["MAX_ANY_ORDER_REQUIRED", "Emitter", "Options", "Whitespace"]
