"""The documentation site builds with no warning in strict mode, its generated pages have content, and it
reads: filled reference tables, code that fits 80 columns where readers copy it, each image once, no dead link."""

from __future__ import annotations

import hashlib
import html as html_lib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

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
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--config-file",
            str(ROOT / "mkdocs.yml"),
            "--site-dir",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
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


def test_cli_reference_has_the_help_and_an_example_of_every_command(site: Path) -> None:
    from structgen.cli import COMMANDS

    text = _text(_page(site, "reference/cli"))
    assert "usage: structgen" in text
    for name in COMMANDS:
        assert f"usage: structgen {name}" in text, f"no help for structgen {name}"
        assert re.search(rf"^\$ (echo .* \| )?structgen {name}\b", text, re.MULTILINE), (
            f"no example of structgen {name}"
        )


PAGES = (
    "getting-started",
    "guide/gbnf",
    "guide/schemas",
    "guide/client",
    "guide/generation",
    "guide/decorator",
    "guide/labeling",
    "guide/langchain",
    "reference/errors",
    "reference/cli",
    "reference/schema-support",
    "comparison",
    "benchmarks",
    "benchmark-files",
    "contributing",
)


def test_every_page_of_the_nav_is_built(site: Path) -> None:
    for page in PAGES:
        html = _page(site, page)
        for marker in ("<!-- gen:", "<!-- /gen", "&lt;!-- gen:", "&lt;!-- /gen"):
            assert marker not in html, f"a directive is left in {page}"


def _text(html: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", html))


def _code_blocks(html: str) -> list[str]:
    return [_text(block) for block in re.findall(r"<pre[^>]*>(.*?)</pre>", html, flags=re.DOTALL)]


def _unwrap(command: str) -> str:
    """A shell command wrapped with backslash-newlines, on one line, whitespace runs as one space."""
    return " ".join(re.sub(r"\\\n", " ", command).split())


def _bash_function(body: str) -> str:
    """How bash parses ``body``: the text of a function holding it, as ``declare -f`` prints it."""
    script = f"f() {{\n{body}\n}}\ndeclare -f f\n"
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30, check=True)
    return " ".join(result.stdout.split())


def test_getting_started_wraps_the_readme_commands_without_changing_them(site: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", setup, flags=re.DOTALL)
    assert len(commands) == 2
    blocks = {_unwrap(block): block for block in _code_blocks(_page(site, "getting-started"))}
    for command in commands:
        wrapped = blocks.get(_unwrap(command))
        assert wrapped is not None, f"the page does not show the README command:\n{command}"
        assert "\\\n" in wrapped, "the command is not wrapped"
        if shutil.which("bash"):
            assert _bash_function(wrapped) == _bash_function(command)


@pytest.mark.parametrize("page", ["getting-started", "reference/cli"])
def test_code_on_the_pages_readers_copy_from_fits_80_columns(site: Path, page: str) -> None:
    blocks = _code_blocks(_page(site, page))
    assert blocks
    long = [line for block in blocks for line in block.splitlines() if len(line) > 80]
    assert not long, f"{page}: {len(long)} code lines over 80 columns, e.g. {long[0]!r}"


def _table_rows(html: str) -> list[tuple[list[str], list[list[str]]]]:
    tables = []
    for table in re.findall(r"<table>(.*?)</table>", html, flags=re.DOTALL):
        head = [_text(cell).strip() for cell in re.findall(r"<th[^>]*>(.*?)</th>", table, flags=re.DOTALL)]
        rows = [
            [_text(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.DOTALL)
        ]
        tables.append((head, [row for row in rows if row]))
    return tables


def test_every_reference_table_row_says_what_the_field_means(site: Path) -> None:
    found = 0
    for path in sorted(site.rglob("index.html")):
        for head, rows in _table_rows(path.read_text(encoding="utf-8")):
            if head != ["Field", "Type", "Default", "Meaning"]:
                continue
            for row in rows:
                found += 1
                assert all(row), f"{path.relative_to(site)}: an empty cell in {row}"
    assert found > 100


def _import_generators() -> None:
    """Make ``structgen_docs`` (the package under docs/gen, not installed) importable."""
    sys.path.insert(0, str(ROOT / "docs" / "gen"))
    try:
        import structgen_docs.directives  # noqa: F401
    finally:
        sys.path.remove(str(ROOT / "docs" / "gen"))


def test_an_undocumented_field_stops_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _import_generators()
    from structgen_docs import directives, source
    from structgen_docs.context import DirectiveError

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mod.py").write_text(
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Settings:\n"
        '    retries: int = 3\n    """How many times."""\n    backoff: float = 0.5\n'
    )
    monkeypatch.setattr(source, "ROOT", tmp_path)
    with pytest.raises(DirectiveError, match=r"pkg\.mod\.Settings\.backoff has no docstring"):
        directives.HANDLERS["fields"](["pkg.mod.Settings"])
    (tmp_path / "pkg" / "documented.py").write_text(
        "from dataclasses import dataclass\n\n\n@dataclass\nclass Settings:\n"
        '    retries: int = 3\n    """How many times."""\n'
    )
    table = directives.HANDLERS["fields"](["pkg.documented.Settings"])
    assert "| `retries` | `int` | `3` | How many times. |" in table


def _pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if p.name != "404.html")


def _local_target(site: Path, page: Path, url: str) -> tuple[Path, str] | None:
    """The file and fragment a link of ``page`` points to inside the site; None for other sites."""
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:")):
        return None
    base = page if not parts.path else (page.parent / unquote(parts.path))
    target = base.resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, parts.fragment


def test_no_image_is_shown_twice(site: Path) -> None:
    seen: dict[str, str] = {}
    for page in _pages(site):
        for src in re.findall(r"<img[^>]+src=\"([^\"]+)\"", page.read_text(encoding="utf-8")):
            found = _local_target(site, page, src)
            if found is None:
                continue
            image, _ = found
            assert image.is_file(), f"{page.relative_to(site)}: no image {src}"
            digest = hashlib.sha256(image.read_bytes()).hexdigest()
            where = f"{page.relative_to(site)}: {src}"
            assert digest not in seen, f"the same image twice: {seen[digest]} and {where}"
            seen[digest] = where
    assert len(seen) >= 4


def test_every_link_inside_the_site_reaches_a_page_and_its_anchor(site: Path) -> None:
    ids: dict[Path, set[str]] = {}
    checked = 0
    for page in _pages(site):
        html = page.read_text(encoding="utf-8")
        for href in re.findall(r"<a[^>]+href=\"([^\"]+)\"", html):
            found = _local_target(site, page, html_lib.unescape(href))
            if found is None:
                continue
            target, fragment = found
            assert target.is_file(), f"{page.relative_to(site)}: a link to {href}, which does not exist"
            checked += 1
            if fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = set(re.findall(r"\bid=\"([^\"]+)\"", target.read_text(encoding="utf-8")))
                assert unquote(fragment) in ids[target], f"{page.relative_to(site)}: no anchor {href}"
    assert checked > 50


REFRESH = "python docs/gen/refresh.py"


def test_the_generated_blocks_committed_in_the_pages_are_current() -> None:
    """The reference pages hold their generated output between ``<!-- gen:... -->`` and ``<!-- /gen -->``
    so that they read in the repository; that output must be what the generators make now."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen" / "refresh.py"), "--check"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"stale generated blocks (run `{REFRESH}` and commit the pages):\n{result.stdout}{result.stderr}"
    )
    for page in ("cli", "errors", "schema-support"):
        markdown = (ROOT / "docs" / "reference" / f"{page}.md").read_text(encoding="utf-8")
        opened = len(re.findall(r"^<!-- gen:", markdown, re.MULTILINE))
        closed = len(re.findall(r"^<!-- /gen -->$", markdown, re.MULTILINE))
        assert opened == closed, (
            f"reference/{page}.md: a bare directive (run `{REFRESH} docs/reference/{page}.md`)"
        )


def test_a_block_is_refreshed_found_stale_and_expanded_like_a_bare_directive() -> None:
    _import_generators()
    from structgen_docs import directives
    from structgen_docs.context import DirectiveError

    line = "<!-- gen:docstring structgen.errors.GrammarError -->"
    bare = f"# Page\n\n{line}\n\nText.\n"
    filled = directives.refresh(bare, "page.md", fill=True)
    assert directives.refresh(bare, "page.md") == bare, "a bare directive stays bare unless asked"
    assert filled.startswith(f"# Page\n\n{line}\n\nA GBNF grammar text")
    assert filled.endswith("\n\n<!-- /gen -->\n\nText.\n")
    assert directives.stale(filled, "page.md") == []
    assert directives.expand(filled, "page.md") == directives.expand(bare, "page.md")
    assert "<!--" not in directives.expand(filled, "page.md")
    old = filled.replace("A GBNF grammar text", "An old text")
    assert [found[0] for found in directives.stale(old, "page.md")] == [line]
    assert directives.refresh(old, "page.md") == filled
    assert directives.stale(old, "page.md", keep=frozenset({"docstring"})) == []
    assert directives.refresh(old, "page.md", keep=frozenset({"docstring"})) == old
    assert directives.expand(old, "page.md") == directives.expand(bare, "page.md")
    with pytest.raises(DirectiveError, match=r"page\.md:3: <!-- /gen --> with no gen: directive"):
        directives.find_all("# Page\n\n<!-- /gen -->\n", "page.md")
