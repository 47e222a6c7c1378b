"""kill -9 of a process writing or catching up the tantivy index: a reader afterwards converges to SQLite."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from engine_child import record
from engine_support import Child, assert_agrees_with_sqlite

from indexer.backends.sqlite import SqliteBackend


@pytest.mark.parametrize("batches_before_kill", [1, 3, 6])
def test_a_writer_killed_mid_write_converges(tmp_path: Path, children: list[Child], batches_before_kill: int) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    child = Child("write", str(path), "tantivy", "0", "4000", "50")
    children.append(child)
    child.wait_for(f"wrote {50 * batches_before_kill}")
    child.kill()  # lands in the next batch: its SQLite write or its engine sync
    assert_agrees_with_sqlite(path)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_a_process_killed_mid_catch_up_converges(tmp_path: Path, children: list[Child], delay: float) -> None:
    path = tmp_path / "index.sqlite3"
    written = SqliteBackend(path, search_engine="fts5")  # a file the engine has not seen: a full build
    try:
        written.upsert(record(n) for n in range(3000))
    finally:
        written.close()
    child = Child("sync", str(path))
    children.append(child)
    child.wait_for("syncing")
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:  # kill at different points of the build
        pass
    child.kill()
    assert_agrees_with_sqlite(path)
