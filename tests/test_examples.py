"""Every script in examples/ runs against the local llama-server (a smoke run with a small n_predict)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from structgen.server import LocalServer

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))


def test_there_are_examples() -> None:
    assert {p.stem for p in EXAMPLES} >= {"extract", "classify", "decorator", "streaming"}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(script: Path, llama_server: LocalServer) -> None:
    env = {**os.environ, "STRUCTGEN_URL": llama_server.url}
    done = subprocess.run(
        [sys.executable, str(script), "--n-predict", "96"],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=850,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
