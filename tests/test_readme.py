"""The README's two set-up commands: .ci/run runs the test command verbatim, and the main job exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", setup, flags=re.DOTALL)


def test_exactly_two_setup_commands() -> None:
    assert len(_commands()) == 2


def test_ci_runs_the_readme_test_command() -> None:
    test_command = _commands()[1]
    assert "pytest" in test_command
    ci_lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def test_main_job_script_exists() -> None:
    main_job = _commands()[0]
    script = re.search(r"python (examples/\S+\.py)", main_job)
    assert script and (ROOT / script.group(1)).is_file()
