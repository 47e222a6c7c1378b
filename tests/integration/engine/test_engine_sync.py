"""The derived tantivy index follows its SQLite file: writes of other processes, rebuilds, the writer lock."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from engine_child import record
from engine_support import Child, assert_agrees_with_sqlite

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.backends.tantivy_index import _SELECT, LOCK_TIMEOUT_SECONDS, STATE_FILE, EngineBusyError
from indexer.errors import IndexBackendError

VISIBLE_WITHIN_SECONDS = 2.0


def _state(path: Path) -> dict[str, object]:
    result: dict[str, object] = json.loads((Path(f"{path}.tantivy") / STATE_FILE).read_text("utf-8"))
    return result


def _found_after(backend: SqliteBackend, query: SearchQuery, uid: str, *, since: float) -> float:
    """Seconds from `since` until a search finds `uid`, searching over and over; fails after 10 s."""
    while time.monotonic() - since < 10:
        if uid in {hit.record.uid for hit in backend.search(query).hits}:
            return time.monotonic() - since
    raise AssertionError(f"{uid} not found within 10 s")


@pytest.mark.parametrize("writer_engine", ["tantivy", "fts5"])
def test_a_record_another_process_writes_is_searchable_within_two_seconds(
    tmp_path: Path, children: list[Child], writer_engine: str
) -> None:
    path = tmp_path / "index.sqlite3"
    reader = SqliteBackend(path, search_engine="tantivy")
    try:
        assert reader.search(SearchQuery(q="围棋")).total == 0
        child = Child("write", str(path), writer_engine, "0", "1", "1")
        children.append(child)
        child.wait_for("wrote 1")  # printed once the write is committed
        took = _found_after(reader, SearchQuery(q="围棋"), record(0).uid, since=time.monotonic())
        assert child.finish() == 0
        assert took < VISIBLE_WITHIN_SECONDS
    finally:
        reader.close()
    assert_agrees_with_sqlite(path)


def test_a_deleted_directory_is_rebuilt_from_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(record(n) for n in range(40))
        build = _state(path)["build"]
        shutil.rmtree(f"{path}.tantivy")
        assert backend.search(SearchQuery(q="围棋", size=100)).total > 0
        assert _state(path)["build"] != build
    finally:
        backend.close()
    assert_agrees_with_sqlite(path)


@pytest.mark.parametrize("field, value", [("version", "0:old"), ("instance", "another-file")])
def test_a_directory_of_another_version_or_file_is_rebuilt(tmp_path: Path, field: str, value: str) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    backend = SqliteBackend(path, search_engine="fts5")  # writes the file without touching the directory
    try:
        backend.upsert(record(n) for n in range(40))
    finally:
        backend.close()
    state = _state(path)
    (Path(f"{path}.tantivy") / STATE_FILE).write_text(json.dumps({**state, field: value}), "utf-8")
    assert_agrees_with_sqlite(path)
    assert _state(path)[field] != value and _state(path)["build"] != state["build"]


def test_a_corrupt_directory_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(record(n) for n in range(40))
    finally:
        backend.close()
    (Path(f"{path}.tantivy") / "meta.json").write_text("not json", "utf-8")
    assert_agrees_with_sqlite(path)


def test_changes_applied_again_after_a_crash_before_the_state_file_leave_no_duplicates(tmp_path: Path) -> None:
    """A kill between the tantivy commit and the state file leaves a directory holding more than its state
    says: the next sync applies those changes again, and each record stays once."""
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(record(n) for n in range(30))
        behind = _state(path)
        backend.upsert(record(n) for n in range(20, 60))
        backend.upsert([record(5).model_copy(update={"title": "茶艺 新编", "content_hash": "changed"})])
        backend.withdraw([record(1).uid, record(25).uid])
        (Path(f"{path}.tantivy") / STATE_FILE).write_text(json.dumps(behind), "utf-8")
    finally:
        backend.close()
    assert_agrees_with_sqlite(path)


def test_a_write_waits_for_the_engine_lock_another_process_holds(tmp_path: Path, children: list[Child]) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert([record(1)])
        holder = Child("hold", str(path))
        children.append(holder)
        holder.wait_for("held")
        writing = threading.Thread(target=backend.upsert, args=([record(0)],))
        writing.start()
        writing.join(timeout=0.5)
        assert writing.is_alive(), "the write went past a lock another process holds"
        assert backend.count() == 2  # the SQLite write is committed meanwhile; only the engine waits
        holder.tell("release")
        writing.join(timeout=30)
        assert not writing.is_alive() and holder.finish() == 0
        assert record(0).uid in {hit.record.uid for hit in backend.search(SearchQuery(q="围棋")).hits}
    finally:
        backend.close()


def test_two_writing_processes_at_once_both_land(tmp_path: Path, children: list[Child]) -> None:
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    writers = [Child("write", str(path), "tantivy", str(start), "200", "20") for start in (0, 1000)]
    children.extend(writers)
    assert [writer.finish() for writer in writers] == [0, 0]
    assert_agrees_with_sqlite(path)


def test_the_fts5_engine_leaves_no_directory(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path, search_engine="fts5")
    try:
        backend.upsert(record(n) for n in range(5))
        assert backend.search(SearchQuery(q="围棋")).total > 0
    finally:
        backend.close()
    assert not Path(f"{path}.tantivy").exists()


def test_text_searches_fail_clearly_while_the_engine_index_cannot_be_updated_and_browsing_still_answers(
    tmp_path: Path,
) -> None:
    """The tantivy engine keeps no FTS5 index to fall back on: while its derived index cannot be brought up to
    date, a text query raises IndexBackendError naming the directory (the API answers 503 with Retry-After),
    browsing and filters still answer from SQLite, and once the obstacle is gone the same search answers."""
    path = tmp_path / "index.sqlite3"
    writer = SqliteBackend(path, search_engine="fts5")
    try:
        writer.upsert(record(n) for n in range(40))
    finally:
        writer.close()
    lock = Path(f"{path}.tantivy.lock")
    lock.mkdir()  # the lock file cannot be opened: no sync can run
    engine = SqliteBackend(path, search_engine="tantivy")
    try:
        with pytest.raises(IndexBackendError, match="search engine index"):
            engine.search(SearchQuery(q="围棋"))
        browsed = engine.search(SearchQuery(q="", themes=("闲暇生活",), size=100))
        assert browsed.total == len([n for n in range(40) if record(n).themes == ["闲暇生活"]]) > 0
        lock.rmdir()
        assert engine.search(SearchQuery(q="围棋")).total > 0
    finally:
        engine.close()
    assert_agrees_with_sqlite(path)


def test_a_catch_up_reads_only_the_rows_written_since_its_generation(tmp_path: Path) -> None:
    """The rows a catch-up re-adds are sought by write generation, each text by rowid: SQLite's planner, left to
    itself, scanned all of the text for a write of one record (0.66 s of every write at 1M records)."""
    path = tmp_path / "index.sqlite3"
    SqliteBackend(path).close()
    with sqlite3.connect(path) as conn:
        plan = " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + _SELECT + "WHERE d.gen > ?", (0,)))
    assert plan.startswith("SEARCH d USING INDEX docs_gen"), plan
    assert "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan  # one stored text by rowid per docs row


def test_a_search_while_another_process_holds_the_engine_tells_to_try_again_instead_of_waiting(
    tmp_path: Path, children: list[Child]
) -> None:
    """A catch-up or rebuild of another process holds the writer lock: a search that needs the index brought up
    to date waits only its short search wait (a write waits minutes), then raises EngineBusyError (the API's 503
    with Retry-After); once the lock is released the same search answers with the new record."""
    path = tmp_path / "index.sqlite3"
    backend = SqliteBackend(path)
    try:
        backend.upsert(record(n) for n in range(10))
        assert backend.engine is not None
        backend.engine.search_wait = 0.3
        holder = Child("hold", str(path))
        children.append(holder)
        holder.wait_for("held")
        writer = SqliteBackend(path, search_engine="fts5")  # a write the engine index has not caught up with
        try:
            writer.upsert([record(10)])
        finally:
            writer.close()
        started = time.monotonic()
        with pytest.raises(EngineBusyError, match="being updated or rebuilt"):
            backend.search(SearchQuery(q="围棋", size=100))
        assert time.monotonic() - started < LOCK_TIMEOUT_SECONDS / 4  # not the write's long wait
        holder.tell("release")
        assert holder.finish() == 0
        found = backend.search(SearchQuery(q="太极拳 书法", size=100)).hits  # record 10: 太极拳书法课程 第10讲
        assert record(10).uid in {hit.record.uid for hit in found}
    finally:
        backend.close()
