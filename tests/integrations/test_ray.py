"""Labeling on a local Ray (two CPUs) with real llama-servers (SmolLM2, one thread each): two actors with a
server each, an actor killed mid-run, and shared URLs with one server stopped mid-run."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import ray

from structgen.integrations.ray import LocalServers, label_dataset
from structgen.label.errors import LabelError
from structgen.server import LocalServer
from tests.conftest import MISSING

pytestmark = pytest.mark.server

WORDS = ["good", "bad", "great", "awful", "fine", "nice", "poor", "okay"]
OPTIONS: dict[str, Any] = {
    "labels": "pos,neg",
    "template": "{text}",
    "chat": False,
    "n_predict": 6,
    "seed": 7,
}
SMALL = {"batch_size": 10}


def records(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "text": f"{WORDS[i % len(WORDS)]} {i}"} for i in range(n)]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    if MISSING is not None:
        pytest.skip(f"no local llama-server: {MISSING}")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


def children(pid: int) -> list[int]:
    """Process ids of ``pid``'s llama-server children."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == pid and b"llama-server" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not), waiting up to 10 s for it to end."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        if state == "Z":
            return False
        time.sleep(0.1)
    return True


def restarts() -> int:
    from ray._private import state

    return sum(a["NumRestarts"] for a in state.actors().values() if "MapWorker" in a["ActorClassName"])


def labeler_pids() -> list[int]:
    """Process ids of the live Ray Data map actors (the labelers; ray.util.state needs the dashboard)."""
    from ray._private import state

    return [
        a["Pid"]
        for a in state.actors().values()
        if a["State"] == "ALIVE" and "MapWorker" in a["ActorClassName"]
    ]


def test_two_actors_each_with_its_own_server_label_every_row(local_ray: None) -> None:
    too_long = {"id": "long", "text": "word " * 700}  # more tokens than a slot's context holds
    no_id = {"id": None, "text": "good"}
    ds = ray.data.from_items(records(200) + [too_long, no_id])
    servers = LocalServers(slots=2, ctx_size=1024)

    rows = label_dataset(ds, servers=servers, actors=2, **SMALL, **OPTIONS).take_all()

    assert len(rows) == 202
    by_id = {row["id"]: row for row in rows}
    assert sorted(k for k in by_id if k is not None) == sorted([f"r{i}" for i in range(200)] + ["long"])
    for i in range(200):
        row = by_id[f"r{i}"]
        assert row["value"] in ("pos", "neg") and row["error"] is None and row["attempts"] >= 1
        assert row["text"] == records(200)[i]["text"]  # the input columns are kept
    assert by_id["long"]["value"] is None and by_id["long"]["error"]
    assert by_id[None]["value"] is None and by_id[None]["error"].startswith("MalformedRow: id field 'id'")


def test_an_actor_killed_mid_run_leaves_every_id_exactly_once_in_the_output(
    local_ray: None, tmp_path: Path
) -> None:
    out = tmp_path / "out.parquet"
    labeled = label_dataset(
        ray.data.from_items(records(300)),
        servers=LocalServers(slots=2, ctx_size=1024),
        actors=2,
        **SMALL,
        **OPTIONS,
    )
    failed: list[BaseException] = []

    def write() -> None:
        try:
            labeled.write_parquet(str(out))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failed.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 240
    while not (out.exists() and any(out.iterdir())):
        assert writer.is_alive() and time.monotonic() < deadline, "no output appeared"
        time.sleep(0.05)
    pids = labeler_pids()
    assert pids, "no labeling actor is alive"
    servers = children(pids[0])
    assert len(servers) == 1, "each actor runs one llama-server"
    before = restarts()
    os.kill(pids[0], signal.SIGKILL)
    writer.join(timeout=300)
    assert not writer.is_alive() and not failed, failed
    assert restarts() > before  # Ray started the actor again, mid-run
    assert not alive(servers[0])  # the killed actor's server went with it

    written = pq.read_table(out).to_pylist()
    assert sorted(row["id"] for row in written) == sorted(f"r{i}" for i in range(300))  # each exactly once
    assert all(row["value"] in ("pos", "neg") and row["error"] is None for row in written)


def test_shared_urls_fail_over_when_a_server_stops_mid_run(local_ray: None) -> None:
    key = secrets.token_urlsafe(16)  # shared servers protected by one key, which the actors send
    with (
        LocalServer(ctx_size=1024, parallel=2, threads=1, api_key=key) as first,
        LocalServer(ctx_size=1024, parallel=2, threads=1, api_key=key) as second,
    ):
        labeled = label_dataset(
            ray.data.from_items(records(200)),
            urls=[first.url, second.url],
            actors=2,
            api_key=key,
            **SMALL,
            **OPTIONS,
        )
        rows: list[dict[str, Any]] = []
        for batch in labeled.iter_rows():
            rows.append(batch)
            if len(rows) == 1:
                second.stop()  # the other batches are still being labeled
        assert not second.running

    assert sorted(row["id"] for row in rows) == sorted(f"r{i}" for i in range(200))
    assert all(row["value"] in ("pos", "neg") and row["error"] is None for row in rows), [
        row["error"] for row in rows if row["error"]
    ][:3]


def test_a_dataset_that_cannot_be_labeled_is_refused_before_any_actor_starts(local_ray: None) -> None:
    ds = ray.data.from_items([{"key": 1, "text": "good"}])
    with pytest.raises(LabelError, match="no id column 'id'"):
        label_dataset(ds, urls="http://127.0.0.1:9", **OPTIONS)
    with pytest.raises(LabelError, match="has no field 'body'"):
        label_dataset(ds, urls="http://127.0.0.1:9", id_field="key", labels="a,b", template="{body}")
    with pytest.raises(LabelError, match="already has the column"):
        label_dataset(ray.data.from_items([{"id": 1, "text": "x", "value": 2}]), urls="http://x", **OPTIONS)


def test_structgen_label_ray_reads_and_writes_with_ray_and_says_how_it_went(
    local_ray: None, tmp_path: Path
) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records(40)), encoding="utf-8")
    address = ray.get_runtime_context().gcs_address
    base = [
        sys.executable,
        "-m",
        "structgen.cli",
        "label",
        str(source),
        "--labels",
        "pos,neg",
        "-t",
        "{text}",
    ]
    base += ["--raw-prompt", "--n-predict", "6", "--progress", "off", "-o", str(out), "--ray", address]
    with LocalServer(ctx_size=1024, parallel=2, threads=1) as server:
        env = {**os.environ, "STRUCTGEN_API_KEY": server.api_key}
        done = subprocess.run(
            [*base, "--url", server.url, "--json"],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            env=env,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        assert report["rows"] == report["labelled"] == 40 and report["failed"] == 0
        written = [json.loads(line) for f in sorted(out.iterdir()) for line in f.read_text().splitlines()]
        assert sorted(r["id"] for r in written) == sorted(f"r{i}" for i in range(40))
        assert {r["value"] for r in written} <= {"pos", "neg"}

        again = subprocess.run(
            [*base, "--url", server.url], check=False, capture_output=True, text=True, timeout=120, env=env
        )
        assert again.returncode == 2 and "already holds results: --overwrite" in again.stderr
        resume = subprocess.run([*base, "--resume"], check=False, capture_output=True, text=True, timeout=120)
        assert resume.returncode == 2 and "--resume does not apply with --ray" in resume.stderr
