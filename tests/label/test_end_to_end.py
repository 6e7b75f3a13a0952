"""End to end against real llama-servers (SmolLM2): Ctrl-C and kill -9 of `structgen label`, then --resume;
a server killed mid-run (failover to the other, or clear per-record errors when it was the only one)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from structgen.label import Summary, label
from structgen.label.runner import default_errors_path
from structgen.server import LocalServer, LocalServerNotInstalledError, locate

pytestmark = pytest.mark.server

WORDS = ["good", "bad", "great", "awful", "fine", "nice", "poor", "okay"]
MALFORMED = {7: "{not json", 60: '{"text": "no id"}', 130: '{"id": 1.5, "text": "float id"}'}


def skip_without_local_server() -> None:
    try:
        locate()
    except LocalServerNotInstalledError as exc:
        pytest.skip(f"no local llama-server: {exc}")


def write_input(path: Path, n: int) -> list[str]:
    """``n`` short records (ids r0..), with MALFORMED rows at their line numbers; returns the ids."""
    out, ids, line = [], [], 1
    for i in range(n):
        while line in MALFORMED:
            out.append(MALFORMED[line])
            line += 1
        out.append(json.dumps({"id": f"r{i}", "text": f"{WORDS[i % len(WORDS)]} {i}"}))
        ids.append(f"r{i}")
        line += 1
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return ids


def result_lines(path: Path) -> list[dict[str, Any]]:
    data = path.read_bytes() if path.exists() else b""
    assert not data or data.endswith(b"\n"), "the last line is unfinished"
    return [json.loads(line) for line in data.splitlines()]


def wait_for_lines(
    path: Path, n: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 180
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"structgen label ended early with {proc.returncode}")
        time.sleep(0.02)
    raise AssertionError(f"{path} did not reach {n} lines in {timeout}s")


def command(path: Path, out: Path, url: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "structgen.cli",
        "label",
        str(path),
        "--labels",
        "pos,neg",
        "--template",
        "{text}",
        "--raw-prompt",
        "-o",
        str(out),
        "--id-field",
        "id",
        "--url",
        url,
        "--n-predict",
        "6",
        "--progress",
        "lines",
        *extra,
    ]


KEY = "structgen-label-tests"
"""The API key of this module's servers (a pool sends one key to all of its servers)."""


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRUCTGEN_API_KEY", KEY)


@pytest.fixture(scope="module")
def labeling_server() -> Iterator[LocalServer]:
    """A llama-server with one thread: on a small, busy machine that is several times faster than two."""
    skip_without_local_server()
    with LocalServer(ctx_size=1024, parallel=2, threads=1, api_key=KEY) as server:
        yield server


def test_ctrl_c_then_kill_9_then_resume_labels_every_id_exactly_once(
    labeling_server: LocalServer, tmp_path: Path
) -> None:
    llama_server = labeling_server
    path, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_input(path, 200)

    first = subprocess.Popen(
        command(path, out, llama_server.url), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wait_for_lines(out, 15, first)
    first.send_signal(signal.SIGINT)
    stdout, _ = first.communicate(timeout=60)
    assert first.returncode == 130
    assert b"interrupted:" in stdout and b"not started" in stdout
    after_ctrl_c = result_lines(out)

    second = subprocess.Popen(
        command(path, out, llama_server.url, "--resume"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_lines(out, len(after_ctrl_c) + 15, second)
    os.kill(second.pid, signal.SIGKILL)
    second.wait()
    after_kill = result_lines(out)
    assert len({line["id"] for line in after_kill}) == len(after_kill) > len(after_ctrl_c)

    final = subprocess.run(
        command(path, out, llama_server.url, "--resume", "--json"),
        check=False,
        capture_output=True,
        timeout=300,
    )
    assert final.returncode == 1, final.stderr  # 1: malformed rows were reported
    summary = json.loads(final.stdout)
    lines = result_lines(out)
    assert sorted(line["id"] for line in lines) == sorted(ids)  # every id, each exactly once
    assert {line["result"] for line in lines} <= {"pos", "neg"}
    assert summary["skipped"] == len(after_kill) and summary["labelled"] == 200 - len(after_kill)
    assert summary["failed"] == 0 and summary["not_started"] == 0
    assert summary["malformed"] == [
        f"{path}:7: bad JSON: Expecting property name enclosed in double quotes (column 2)",
        f"{path}:60: missing id field 'id'",
        f"{path}:130: id field 'id' is a float, not a string or integer",
    ]
    errors = result_lines(default_errors_path(out))
    assert [(e["line"], e["error"]) for e in errors] == [(n, "MalformedRow") for n in sorted(MALFORMED)]


@pytest.fixture()
def servers(request: pytest.FixtureRequest) -> Iterator[list[LocalServer]]:
    """``request.param`` extra llama-servers of their own (one thread each: the machine is small)."""
    skip_without_local_server()
    started = [LocalServer(ctx_size=1024, parallel=2, threads=1, api_key=KEY) for _ in range(request.param)]
    try:
        for server in started:
            server.start()
        yield started
    finally:
        for server in started:
            server.stop()


def label_in_background(
    path: Path, out: Path, urls: list[str], **kwargs: Any
) -> tuple[threading.Thread, list[Any]]:
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(
                label(
                    path,
                    labels="pos,neg",
                    template="{text}",
                    chat=False,
                    out=out,
                    id_field="id",
                    urls=urls,
                    n_predict=6,
                    progress=False,
                    **kwargs,
                )
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def kill(server: LocalServer) -> None:
    assert server.pid is not None
    os.kill(server.pid, signal.SIGKILL)
    server.stop()


@pytest.mark.parametrize("servers", [2], indirect=True)
def test_a_server_killed_mid_run_fails_over_to_the_other(servers: list[LocalServer], tmp_path: Path) -> None:
    path, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_input(path, 60)
    dying, staying = servers
    thread, outcome = label_in_background(path, out, [dying.url, staying.url], concurrency=4)
    wait_for_lines(out, 12)
    kill(dying)
    thread.join(timeout=300)
    summary = outcome[0]
    assert isinstance(summary, Summary), summary
    assert sorted(line["id"] for line in result_lines(out)) == sorted(ids)
    assert summary.failed == 0 and summary.labelled == 60
    assert summary.server_downs == {dying.url: 1}
    assert summary.servers[staying.url] > summary.servers.get(dying.url, 0) > 0
    assert not default_errors_path(out).exists() or all(
        e["error"] == "MalformedRow" for e in result_lines(default_errors_path(out))
    )


@pytest.mark.parametrize("servers", [1], indirect=True)
def test_the_only_server_killed_mid_run_gives_each_remaining_record_an_error(
    servers: list[LocalServer], tmp_path: Path
) -> None:
    path, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    ids = write_input(path, 40)
    (server,) = servers
    thread, outcome = label_in_background(path, out, [server.url], down_grace=1.0)
    wait_for_lines(out, 8)
    kill(server)
    thread.join(timeout=300)
    summary = outcome[0]
    assert isinstance(summary, Summary), summary
    done = [line["id"] for line in result_lines(out)]
    failed = [e for e in result_lines(default_errors_path(out)) if e["error"] != "MalformedRow"]
    assert sorted(done + [e["id"] for e in failed]) == sorted(ids)  # nothing dropped, nothing twice
    assert summary.labelled == len(done) >= 8 and summary.failed == len(failed) > 0
    assert all(e["reason"].startswith(f"every server is down: {server.url} (") for e in failed)
    assert failed[0]["error"] == "AllServersDownError"
