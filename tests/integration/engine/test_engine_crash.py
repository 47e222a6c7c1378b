"""kill -9 of a process writing or catching up the tantivy index: a reader afterwards converges to SQLite."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
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


@pytest.fixture(scope="module")
def unseen_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 records written on the FTS5 engine alone, a file the tantivy engine has not seen: written once (9 s of
    CPU), copied by each test that kills a catch-up."""
    path = tmp_path_factory.mktemp("catch-up") / "index.sqlite3"
    written = SqliteBackend(path, search_engine="fts5")
    try:
        written.upsert(record(n) for n in range(3000))
    finally:
        written.close()
    return path


@pytest.mark.xdist_group("engine-catch-up")  # one worker writes unseen_file once for the three
@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_a_process_killed_mid_catch_up_converges(
    tmp_path: Path, children: list[Child], delay: float, unseen_file: Path
) -> None:
    path = tmp_path / "index.sqlite3"
    with closing(sqlite3.connect(unseen_file)) as source, closing(sqlite3.connect(path)) as target:
        source.backup(target)  # a full build ahead
    child = Child("sync", str(path))
    children.append(child)
    child.wait_for("syncing")
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:  # kill at different points of the build
        pass
    child.kill()
    assert_agrees_with_sqlite(path)
