"""mkdocs hooks: expand ``<!-- gen:... -->`` directives from structgen's own code at build time.

Registered in ``mkdocs.yml`` (``hooks: [docs/gen/hooks.py]``). The generators live in the package
``structgen_docs`` beside this file; see its ``directives`` module for the list.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.dont_write_bytecode = True

from structgen_docs import directives
from structgen_docs.context import DirectiveError


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    try:
        return directives.expand(markdown, page.file.src_uri)
    except DirectiveError as error:
        raise PluginError(str(error)) from None
