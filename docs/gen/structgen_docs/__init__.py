"""Generators for the structgen documentation site, run by the mkdocs hook in ``docs/gen/hooks.py``.

Every page may hold directives, one per line: ``<!-- gen:NAME ARG... -->``. The hook replaces each
with markdown generated from the code at build time (see :mod:`structgen_docs.directives`), so the
schema support matrix, the CLI reference, signatures, docstrings and embedded files never go stale.
A directive may also be a block holding its output, so the page reads in the repository; the
block is regenerated at build time, and ``docs/gen/refresh.py`` rewrites the committed output.
"""
