"""SQLite backend connections per thread: a thread that ended leaves its connection to the next new thread, so a
server whose worker threads come and go holds as many connections as it had threads at once (each holds a
page cache of up to 64 MiB), not one for every thread it ever had."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from indexer.backends.base import SearchQuery
from indexer.backends.sqlite import SqliteBackend
from indexer.record import Record


def course(source_id: str, title: str) -> Record:
    record = Record(
        uid=f"t:{source_id}", source="t", source_id=source_id, url=f"https://example.edu.cn/{source_id}",
        title=title, platform="t", platform_name="测试平台", fetched_at=datetime(2026, 11, 1, tzinfo=UTC),
    )  # fmt: skip
    record.content_hash = record.compute_hash()
    return record


def in_threads(count: int, work: Callable[[], sqlite3.Connection]) -> list[sqlite3.Connection]:
    """Run `work` in `count` threads alive at the same time: the connection each one returned."""
    used: list[sqlite3.Connection] = []
    barrier = threading.Barrier(count)
    lock = threading.Lock()

    def run() -> None:
        conn = work()
        barrier.wait(timeout=30)  # every thread holds its connection at once
        with lock:
            used.append(conn)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return used


def test_threads_one_after_another_reuse_one_connection(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([course("1", "书法入门"), course("2", "太极拳入门")])
        opened = len(backend._connections)
        for n in range(20):
            thread = threading.Thread(target=lambda n=n: backend.search(SearchQuery(q="书法", size=1 + n)))
            thread.start()
            thread.join()
        assert len(backend._connections) <= opened + 1
        assert backend.search(SearchQuery(q="入门")).total == 2
    finally:
        backend.close()


def test_threads_at_once_each_have_their_own_and_the_next_ones_take_them_over(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        backend.upsert([course("1", "书法入门")])

        def search() -> sqlite3.Connection:
            assert backend.search(SearchQuery(q="书法")).total == 1
            return backend._conn()

        first = in_threads(4, search)
        assert len({id(c) for c in first}) == 4  # never shared while their threads live
        opened = len(backend._connections)
        second = in_threads(4, search)
        assert {id(c) for c in second} == {id(c) for c in first}
        assert len(backend._connections) == opened
    finally:
        backend.close()


def test_a_thread_ending_inside_a_transaction_leaves_no_lock_and_a_writer_cache_leaves_with_it(
    tmp_path: Path,
) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    try:
        held: list[sqlite3.Connection] = []

        def hold_write_lock() -> None:
            backend.upsert([course("1", "书法入门")])  # this thread's connection now has the writer's page cache
            held.append(backend._conn())
            held[0].execute("BEGIN IMMEDIATE")  # and the thread ends without committing

        thread = threading.Thread(target=hold_write_lock)
        thread.start()
        thread.join()
        assert not held[0].in_transaction
        assert held[0].execute("PRAGMA cache_size").fetchone()[0] == -65536
        backend.upsert([course("2", "太极拳入门")])  # would wait for the busy timeout if the lock were kept
        assert backend.count() == 2
    finally:
        backend.close()


def test_close_closes_the_idle_connections_too(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "index.sqlite3")
    (idle,) = in_threads(1, backend._conn)
    backend.close()
    try:
        idle.execute("SELECT 1")
    except sqlite3.ProgrammingError:
        return
    raise AssertionError("an idle connection stayed open after close")
