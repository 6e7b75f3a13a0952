"""The result file: whole lines from many threads and across kill -9, and repair of an unfinished last line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from structgen.label.writer import JsonlWriter, encode_line, read_done

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=4))
def test_an_encoded_line_is_one_line_that_decodes_to_the_entry(entry: dict[str, Any]) -> None:
    line = encode_line(entry)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line) == entry


def test_lines_written_from_many_threads_are_each_whole(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    big = "x" * 70_000  # larger than a pipe buffer: still one write

    def write(worker: int) -> None:
        for n in range(50):
            writer.write({"id": f"{worker}-{n}", "result": big if n % 10 == 0 else n})

    with JsonlWriter(path, fsync_every=0.01) as writer:
        threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    ids = [json.loads(line)["id"] for line in lines[:-1]]
    assert sorted(ids) == sorted(f"{w}-{n}" for w in range(8) for n in range(50))
    assert writer.lines == 400


WRITER_SCRIPT = """
import sys
from structgen.label.writer import JsonlWriter
w = JsonlWriter(sys.argv[1], fsync_every=None)
n = 0
while True:
    w.write({"id": n, "result": "y" * (n % 5000) * 20})
    n += 1
    if n == 200:
        print("ready", flush=True)
"""


def test_kill_9_loses_no_written_line_and_a_line_in_flight_is_cut_on_resume(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        time.sleep(0.05)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    data = path.read_bytes()
    whole, _, tail = data.rpartition(b"\n")
    ids = [json.loads(line)["id"] for line in whole.splitlines()]
    assert ids == list(range(len(ids))) and len(ids) >= 200
    # a large write killed half-way (Linux stops it at the fatal signal) leaves part of the next line
    assert encode_line({"id": len(ids), "result": "y" * (len(ids) % 5000) * 20}).startswith(tail)
    assert read_done(path).truncated_bytes == len(tail)
    assert path.read_bytes() == whole + b"\n"


def test_read_done_cuts_an_unfinished_last_line_and_ignores_foreign_lines(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "a", "result": 1}\nnot json\n{"no": "id"}\n\n{"id": 2}\n{"id": "c", "res')
    done = read_done(path)
    assert done.ids == {"a", 2}
    assert done.truncated_bytes == len(b'{"id": "c", "res')
    assert done.ignored == ("line 2: not JSON", "line 3: no record id")
    assert path.read_bytes().endswith(b'{"id": 2}\n')
    with JsonlWriter(path) as writer:  # appending after the repair gives whole lines again
        writer.write({"id": "c", "result": 3})
    assert read_done(path).ids == {"a", 2, "c"}


def test_read_done_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_done(tmp_path / "none.jsonl").ids == frozenset()


def test_lazy_writer_creates_the_file_only_with_a_line(tmp_path: Path) -> None:
    path = tmp_path / "errors.jsonl"
    JsonlWriter(path, lazy=True).close()
    assert not path.exists()
    path.write_text("old\n")
    with JsonlWriter(path, lazy=True, truncate=True) as writer:
        writer.write({"id": 1})
    assert path.read_text() == '{"id":1}\n'
