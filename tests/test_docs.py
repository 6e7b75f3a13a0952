"""The documentation site builds with no warning in strict mode, and its generated pages have content."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MISSING = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING), reason=f"the docs need {', '.join(MISSING)} (pip install -e '.[dev]')"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module with ``mkdocs build --strict`` into a temporary directory."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
         "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    assert "WARNING" not in result.stderr, result.stderr
    return out


def _page(site: Path, name: str) -> str:
    path = site / name / "index.html"
    assert path.is_file(), f"{name} was not built"
    return path.read_text(encoding="utf-8")


def test_schema_matrix_lists_every_keyword_of_the_compiler(site: Path) -> None:
    from structgen.schema.keywords import KEYWORDS

    html = _page(site, "reference/schema-support")
    assert "<table>" in html
    for keyword in KEYWORDS:
        slug = "kw-" + "".join(ch if ch.isalnum() else "-" for ch in keyword.lstrip("$")).lower()
        assert f'id="{slug}"' in html, f"no section for {keyword}"
    assert "enforced" in html and "grammar accepts" in html


def test_cli_reference_has_the_help_of_every_command(site: Path) -> None:
    from structgen.cli import COMMANDS

    html = _page(site, "reference/cli")
    assert "usage: structgen" in html
    for name in COMMANDS:
        assert f"usage: structgen {name}" in html, f"no help for structgen {name}"


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    for page in ("getting-started", "guide/gbnf", "guide/schemas", "guide/client", "guide/generation",
                 "guide/decorator", "guide/labeling", "guide/langchain", "reference/errors",
                 "comparison", "benchmarks"):
        html = _page(site, page)
        assert "<!-- gen:" not in html and "&lt;!-- gen:" not in html, f"a directive is left in {page}"


def test_getting_started_shows_the_readme_commands_verbatim(site: Path) -> None:
    import html as html_lib
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", setup, flags=re.DOTALL)
    page = _page(site, "getting-started")
    text = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    assert len(commands) == 2
    for command in commands:
        assert command in text
