"""The grammar library in grammars/: every grammar loads, and its examples match or not as their names say."""

from __future__ import annotations

from pathlib import Path

import pytest

from structgen.gbnf import Matcher, Sampler

GRAMMARS_DIR = Path(__file__).resolve().parents[2] / "grammars"
GRAMMAR_FILES = sorted(GRAMMARS_DIR.glob("*.gbnf"))


def test_library_has_at_least_twelve_grammars() -> None:
    assert len(GRAMMAR_FILES) >= 12


@pytest.mark.parametrize("path", GRAMMAR_FILES, ids=lambda p: p.stem)
def test_examples(path: Path) -> None:
    matcher = Matcher(path.read_text(encoding="utf-8"), str(path))
    examples = sorted((GRAMMARS_DIR / "examples" / path.stem).glob("*.txt"))
    good = [p for p in examples if p.name.startswith("match-")]
    bad = [p for p in examples if p.name.startswith("nomatch-")]
    assert len(good) >= 3 and len(bad) >= 3
    for p in good:
        result = matcher.match(p.read_text(encoding="utf-8"))
        assert result.matched, f"{p.name}: {result.describe()}"
    for p in bad:
        assert not matcher.fullmatch(p.read_text(encoding="utf-8")), p.name


@pytest.mark.parametrize("path", GRAMMAR_FILES, ids=lambda p: p.stem)
def test_header_comment(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# {path.stem}:")


@pytest.mark.parametrize("path", GRAMMAR_FILES, ids=lambda p: p.stem)
def test_samples_match(path: Path) -> None:
    matcher = Matcher(path.read_text(encoding="utf-8"))
    for text in Sampler(matcher, seed=5, max_length=300).sample(10):
        assert matcher.fullmatch(text)
